// mlforge train CONFIG.yaml [--set key=value]... [--run-dir D] [--resume RUN_DIR]
//   [--tracking-uri URI] [--experiment NAME] [--run-name NAME]

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "core/config.h"
#include "train/tracked_run.h"

namespace mlforge::cli {
namespace {

// Set by SIGTERM / SIGINT: training checkpoints, the run is marked KILLED.
std::atomic<bool> stop_requested{false};

void RequestStop(int) { stop_requested.store(true); }

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
    int threads = 0;
    bool no_progress = false;
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
  train->add_option("--threads", flags->threads,
                    "Intra-op threads (default: 1, with the BLAS on every core)");
  train->add_flag("--no-progress", flags->no_progress, "Log lines instead of a progress bar");
  train->callback([flags] {
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
    options.default_tracking_uri = "sqlite:///" + (Home() / "mlruns.db").string();
    options.default_artifact_root = (Home() / "artifacts").string();
    options.experiment = flags->experiment;
    options.run_name = flags->run_name;
    options.runs_dir = Home() / "runs";
    options.data_dir =
        flags->data_dir.empty() ? Home() / "data" : std::filesystem::path(flags->data_dir);
    options.threads = flags->threads;
    options.interactive = !flags->no_progress && isatty(STDERR_FILENO);
    options.stop_requested = &stop_requested;
    std::signal(SIGTERM, RequestStop);
    std::signal(SIGINT, RequestStop);
    auto result = train::RunTracked(config, options);
    if (!result.ok()) throw CLI::RuntimeError(Fail(result.status().message()));
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
