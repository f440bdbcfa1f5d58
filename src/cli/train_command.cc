// mlforge train CONFIG.yaml [--set key=value]... [--run-dir D] [--resume RUN_DIR]
//   [--tracking-uri URI] [--experiment NAME] [--run-name NAME]
//   [--nproc N [--max-restarts R]] [--print-env]
//   [--nnodes MIN:MAX --rdzv-endpoint HOST:PORT [--nproc-per-node N] [--rdzv-id ID]
//    [--rdzv-last-call S] [--rdzv-timeout S] [--heartbeat-timeout S] [--max-restarts R]]

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "cli/commands.h"
#include "core/config.h"
#include "core/ids.h"
#include "dist/elastic_agent.h"
#include "dist/launch_env.h"
#include "dist/launcher.h"
#include "dist/strategy.h"
#include "train/tracked_run.h"

namespace mlforge::cli {
namespace {

// Set by SIGTERM / SIGINT: training checkpoints, the run is marked KILLED.
std::atomic<bool> stop_requested{false};

void RequestStop(int) { stop_requested.store(true); }

// This process's command line (from /proc/self/cmdline).
std::vector<std::string> CommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string current;
  for (char character : text) {
    if (character == '\0') {
      args.push_back(current);
      current.clear();
    } else {
      current += character;
    }
  }
  return args;
}

// The flags of the launcher and agent, which the workers do not get.
constexpr const char* kLauncherFlags[] = {
    "--nproc",   "--max-restarts",   "--nnodes",       "--nproc-per-node",   "--rdzv-endpoint",
    "--rdzv-id", "--rdzv-last-call", "--rdzv-timeout", "--heartbeat-timeout"};

// The workers' command: this one without the launcher's own flags, with
// argv[0] the binary's real path and a --run-dir all of them share.
std::vector<std::string> WorkerCommand(const std::filesystem::path& run_dir, bool has_run_dir) {
  std::vector<std::string> args = CommandLine();
  std::vector<std::string> worker = {std::filesystem::read_symlink("/proc/self/exe").string()};
  for (size_t index = 1; index < args.size(); ++index) {
    const std::string& arg = args[index];
    bool launcher_flag = false;
    bool with_value = false;
    for (const char* flag : kLauncherFlags) {
      const std::string name = flag;
      if (arg == name) launcher_flag = with_value = true;
      if (arg.rfind(name + "=", 0) == 0) launcher_flag = true;
    }
    if (launcher_flag) {
      if (with_value) ++index;  // and its value
      continue;
    }
    worker.push_back(arg);
  }
  if (!has_run_dir) {
    worker.push_back("--run-dir");
    worker.push_back(run_dir.string());
  }
  return worker;
}

}  // namespace

void AddTrainCommand(CLI::App& app) {
  struct Flags {
    std::string config;
    std::vector<std::string> overrides;
    std::string run_dir;
    std::string resume;
    std::string data_dir;
    std::string tracking_uri;
    std::string experiment;
    std::string run_name;
    std::vector<std::string> tags;
    int threads = 0;
    bool no_progress = false;
    int nproc = 0;
    int max_restarts = 0;
    bool print_env = false;
    std::string nnodes;
    int nproc_per_node = 1;
    std::string rdzv_endpoint;
    std::string rdzv_id;
    double rdzv_last_call_s = 3;
    double rdzv_timeout_s = 300;
    double heartbeat_timeout_s = 15;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* train = app.add_subcommand("train", "Train a model from a YAML config");
  train->add_option("config", flags->config, "Training config (YAML)");
  train->add_option("--set", flags->overrides, "Override a config key: --set optimizer.lr=0.1");
  train->add_option("--run-dir", flags->run_dir,
                    "Folder for this run (default: $MLFORGE_HOME/runs/<run id>)");
  train->add_option("--resume", flags->resume,
                    "Continue the run in this folder from its last checkpoint");
  train->add_option("--data-dir", flags->data_dir, "Datasets folder (default: $MLFORGE_HOME/data)");
  train->add_option("--tracking-uri", flags->tracking_uri,
                    "http://host:port or sqlite:///path.db (default: $MLFLOW_TRACKING_URI, "
                    "else $MLFORGE_HOME/mlruns.db)");
  train->add_option("--experiment", flags->experiment, "Experiment name (default: config's)");
  train->add_option("--run-name", flags->run_name, "Run name (default: config's or generated)");
  train->add_option("--tag", flags->tags,
                    "Set a tag on the new run: --tag mlflow.parentRunId=ID (repeatable)");
  train->add_option("--threads", flags->threads,
                    "Intra-op threads (default: 1, with the BLAS on every core)");
  train->add_flag("--no-progress", flags->no_progress, "Log lines instead of a progress bar");
  train->add_option(
      "--nproc", flags->nproc,
      "Start N worker processes on this host (dist.strategy ddp or ps) and supervise them");
  train->add_option("--max-restarts", flags->max_restarts,
                    "With --nproc: restart the group from its latest checkpoint up to R times "
                    "when a worker dies (default 0)");
  train->add_option("--nnodes", flags->nnodes,
                    "Elastic training over hosts: N or MIN:MAX nodes, one agent per host, which "
                    "meet at --rdzv-endpoint");
  train->add_option("--nproc-per-node", flags->nproc_per_node,
                    "With --nnodes: worker processes this agent starts (default 1)");
  train->add_option("--rdzv-endpoint", flags->rdzv_endpoint,
                    "With --nnodes: HOST:PORT of the rendezvous store; the first agent on that "
                    "host hosts it");
  train->add_option(
      "--rdzv-id", flags->rdzv_id,
      "With --nnodes: the job's name at the endpoint (default: the run folder's name)");
  train->add_option(
      "--rdzv-last-call", flags->rdzv_last_call_s,
      "With --nnodes: seconds a round waits for more nodes once MIN joined (default 3)");
  train->add_option(
      "--rdzv-timeout", flags->rdzv_timeout_s,
      "With --nnodes: seconds a round waits for MIN nodes before failing (default 300)");
  train->add_option("--heartbeat-timeout", flags->heartbeat_timeout_s,
                    "With --nnodes: seconds without an agent's heartbeat before its node counts as "
                    "lost (default 15)");
  train->add_flag("--print-env", flags->print_env,
                  "Print the distributed launch environment this process detects, and exit");
  train->callback([flags, train] {
    if (flags->nnodes.empty()) {
      for (const char* flag : {"--nproc-per-node", "--rdzv-id", "--rdzv-last-call",
                               "--rdzv-timeout", "--heartbeat-timeout"}) {
        if (train->count(flag) > 0) {
          throw CLI::RuntimeError(Fail(std::string(flag) + " goes with --nnodes MIN:MAX"));
        }
      }
    }
    auto launch = dist::DetectLaunchEnv(dist::ProcessEnvironment(), dist::Hostname());
    if (flags->print_env) {
      if (!launch.ok()) throw CLI::RuntimeError(Fail(launch.status().message()));
      std::printf("%s", dist::Describe(*launch).c_str());
      return;
    }
    if (!launch.ok()) throw CLI::RuntimeError(Fail(launch.status().message()));
    if (!flags->nnodes.empty() || !flags->rdzv_endpoint.empty()) {
      if (flags->nproc > 0) throw CLI::RuntimeError(Fail("give --nproc or --nnodes, not both"));
      if (flags->config.empty() && flags->resume.empty()) {
        throw CLI::RuntimeError(Fail(
            "give a config file: mlforge train CONFIG.yaml --nnodes MIN:MAX --rdzv-endpoint H:P"));
      }
      if (flags->nnodes.empty() || flags->rdzv_endpoint.empty()) {
        throw CLI::RuntimeError(Fail("--nnodes and --rdzv-endpoint go together"));
      }
      auto range = dist::ParseNodeRange(flags->nnodes);
      if (!range.ok()) throw CLI::RuntimeError(Fail(range.status().message()));
      auto endpoint = dist::ParseEndpoint(flags->rdzv_endpoint);
      if (!endpoint.ok()) throw CLI::RuntimeError(Fail(endpoint.status().message()));
      if (!flags->config.empty()) {
        auto loaded = core::Config::Load(flags->config, flags->overrides);
        if (!loaded.ok()) throw CLI::RuntimeError(Fail(loaded.status().message()));
        auto strategy = dist::ReadStrategy(*loaded);
        if (!strategy.ok()) throw CLI::RuntimeError(Fail(strategy.status().message()));
      }
      // Every node's workers read and write one run folder (shared storage
      // across hosts), named by --run-dir or by the job's id.
      const bool has_run_dir = !flags->run_dir.empty() || !flags->resume.empty();
      if (!has_run_dir && flags->rdzv_id.empty()) {
        throw CLI::RuntimeError(
            Fail("give --run-dir (a folder every node shares) or --rdzv-id (then the run folder is "
                 "$MLFORGE_HOME/runs/elastic-<id>)"));
      }
      const std::string run_path = !flags->resume.empty() ? flags->resume : flags->run_dir;
      const std::filesystem::path run_dir = has_run_dir
                                                ? std::filesystem::path(run_path)
                                                : Home() / "runs" / ("elastic-" + flags->rdzv_id);
      dist::ElasticOptions agent;
      agent.argv = WorkerCommand(run_dir, has_run_dir);
      agent.min_nodes = range->first;
      agent.max_nodes = range->second;
      agent.nproc_per_node = flags->nproc_per_node;
      agent.endpoint_host = endpoint->first;
      agent.endpoint_port = endpoint->second;
      agent.rdzv_id =
          !flags->rdzv_id.empty()
              ? flags->rdzv_id
              : std::filesystem::absolute(run_dir).lexically_normal().filename().string();
      agent.max_restarts = flags->max_restarts;
      agent.threads_per_worker = flags->threads > 0 ? flags->threads : 1;
      agent.last_call_ms = static_cast<int>(flags->rdzv_last_call_s * 1000);
      agent.join_timeout_ms = static_cast<int>(flags->rdzv_timeout_s * 1000);
      agent.heartbeat_timeout_ms = static_cast<int>(flags->heartbeat_timeout_s * 1000);
      agent.stop_requested = &stop_requested;
      std::signal(SIGTERM, RequestStop);
      std::signal(SIGINT, RequestStop);
      auto outcome = dist::RunElasticAgent(agent);
      if (!outcome.ok()) throw CLI::RuntimeError(Fail(outcome.status().message()));
      std::printf("agent: %d round(s), %d restart(s), last world size %d, exit code %d\n",
                  outcome->rounds, outcome->restarts, outcome->world_size, outcome->exit_code);
      if (outcome->exit_code != 0) {
        Fail(outcome->message);
        throw CLI::RuntimeError(outcome->exit_code);
      }
      return;
    }
    if (flags->nproc > 0) {
      if (flags->config.empty() && flags->resume.empty()) {
        throw CLI::RuntimeError(Fail("give a config file: mlforge train CONFIG.yaml --nproc N"));
      }
      if (!flags->config.empty()) {
        // A bad dist.* key is one clear error here, not one per worker.
        auto loaded = core::Config::Load(flags->config, flags->overrides);
        if (!loaded.ok()) throw CLI::RuntimeError(Fail(loaded.status().message()));
        auto strategy = dist::ReadStrategy(*loaded);
        if (!strategy.ok()) throw CLI::RuntimeError(Fail(strategy.status().message()));
      }
      const bool has_run_dir = !flags->run_dir.empty() || !flags->resume.empty();
      const std::filesystem::path run_dir = Home() / "runs" / ("dist-" + core::NewId());
      dist::LauncherOptions launcher;
      launcher.argv = WorkerCommand(run_dir, has_run_dir);
      launcher.nproc = flags->nproc;
      launcher.max_restarts = flags->max_restarts;
      launcher.threads_per_worker = flags->threads > 0 ? flags->threads : 1;
      launcher.stop_requested = &stop_requested;
      std::signal(SIGTERM, RequestStop);
      std::signal(SIGINT, RequestStop);
      auto outcome = dist::LaunchAndSupervise(launcher);
      if (!outcome.ok()) throw CLI::RuntimeError(Fail(outcome.status().message()));
      std::printf("launcher: %d worker(s), %d restart(s), exit code %d\n", flags->nproc,
                  outcome->restarts, outcome->exit_code);
      if (outcome->exit_code != 0) {
        Fail("worker rank " + std::to_string(outcome->failed_rank) + " failed with exit code " +
             std::to_string(outcome->exit_code));
        throw CLI::RuntimeError(outcome->exit_code);
      }
      return;
    }
    train::TrackedRunOptions options;
    core::Config config;
    if (!flags->resume.empty()) {
      options.resume = true;
      options.run_dir = flags->resume;
    } else {
      if (flags->config.empty()) {
        throw CLI::RuntimeError(Fail("give a config file: mlforge train CONFIG.yaml"));
      }
      auto loaded = core::Config::Load(flags->config, flags->overrides);
      if (!loaded.ok()) throw CLI::RuntimeError(Fail(loaded.status().message()));
      config = *loaded;
      options.run_dir = flags->run_dir;
    }
    options.tracking_uri = flags->tracking_uri;
    // A pipeline step (or any MLflow tool) names the run to log into.
    options.existing_run_id = EnvOr("MLFLOW_RUN_ID", "");
    options.default_tracking_uri = "sqlite:///" + (Home() / "mlruns.db").string();
    options.default_artifact_root = (Home() / "artifacts").string();
    options.experiment = flags->experiment;
    options.run_name = flags->run_name;
    for (const std::string& tag : flags->tags) {
      const size_t equals = tag.find('=');
      if (equals == std::string::npos || equals == 0) {
        throw CLI::RuntimeError(Fail("--tag '" + tag + "' must be KEY=VALUE"));
      }
      options.extra_tags.emplace_back(tag.substr(0, equals), tag.substr(equals + 1));
    }
    options.runs_dir = Home() / "runs";
    options.data_dir =
        flags->data_dir.empty() ? Home() / "data" : std::filesystem::path(flags->data_dir);
    options.threads = flags->threads;
    options.interactive = !flags->no_progress && isatty(STDERR_FILENO);
    options.stop_requested = &stop_requested;
    options.launch = *launch;
    std::signal(SIGTERM, RequestStop);
    std::signal(SIGINT, RequestStop);
    auto result = train::RunTracked(config, options);
    if (!result.ok()) throw CLI::RuntimeError(Fail(result.status().message()));
    if (launch->rank != 0) {
      std::printf("rank %d finished: val_accuracy %.4f, %lld steps\n", launch->rank,
                  result->train.val_accuracy, static_cast<long long>(result->train.global_step));
      return;
    }
    std::printf(
        "run %s finished: val_accuracy %.4f, val_loss %.4f, %lld steps, %.0f samples/s\n"
        "model package: %s\ntracking: %s (experiment %s)\n",
        result->run_id.c_str(), result->train.val_accuracy, result->train.val_loss,
        static_cast<long long>(result->train.global_step), result->train.samples_per_second,
        result->train.model_dir.c_str(), result->tracking_uri.c_str(),
        result->experiment_id.c_str());
  });
}

}  // namespace mlforge::cli
