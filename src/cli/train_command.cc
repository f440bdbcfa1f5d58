// mlforge train CONFIG.yaml [--set key=value]... [--run-dir D] [--resume RUN_DIR]

#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "core/config.h"
#include "core/ids.h"
#include "train/trainer.h"

namespace mlforge::cli {

void AddTrainCommand(CLI::App& app) {
  struct Flags {
    std::string config;
    std::vector<std::string> overrides;
    std::string run_dir;
    std::string resume;
    std::string data_dir;
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
  train->add_option("--threads", flags->threads, "Intra-op threads (default: all cores)");
  train->add_flag("--no-progress", flags->no_progress, "Log lines instead of a progress bar");
  train->callback([flags] {
    train::RunOptions options;
    std::filesystem::path config_path = flags->config;
    if (!flags->resume.empty()) {
      options.resume = true;
      options.run_dir = flags->resume;
      // A resumed run continues with the config it started with.
      if (config_path.empty()) config_path = options.run_dir / "config.yaml";
    } else if (config_path.empty()) {
      throw CLI::RuntimeError(Fail("give a config file: mlforge train CONFIG.yaml"));
    }
    auto config = core::Config::Load(config_path, flags->overrides);
    if (!config.ok()) throw CLI::RuntimeError(Fail(config.status().message()));
    if (options.run_dir.empty()) {
      options.run_dir = flags->run_dir.empty() ? Home() / "runs" / core::NewId()
                                               : std::filesystem::path(flags->run_dir);
    }
    options.data_dir =
        flags->data_dir.empty() ? Home() / "data" : std::filesystem::path(flags->data_dir);
    options.threads = flags->threads;
    options.interactive = !flags->no_progress && isatty(STDERR_FILENO);
    auto sink = train::JsonLinesSink::Open(options.run_dir / "metrics.jsonl");
    if (!sink.ok()) throw CLI::RuntimeError(Fail(sink.status().message()));
    auto result = train::Train(*config, options, **sink);
    if (!result.ok()) throw CLI::RuntimeError(Fail(result.status().message()));
    std::printf(
        "run %s finished: val_accuracy %.4f, val_loss %.4f, %lld steps, %.0f samples/s\n"
        "model package: %s\n",
        options.run_dir.filename().c_str(), result->val_accuracy, result->val_loss,
        static_cast<long long>(result->global_step), result->samples_per_second,
        result->model_dir.c_str());
  });
}

}  // namespace mlforge::cli
