// mlforge runs reproduce RUN_ID [--tracking-uri URI] [--tolerance T]
//   [--data-dir D] [--threads N]

#include <cstdio>

#include "cli/commands.h"
#include "core/config.h"
#include "lineage/reproduce.h"
#include "tracking/store_factory.h"
#include "train/tracked_run.h"

namespace mlforge::cli {

void AddReproduceCommand(CLI::App& app) {
  struct Flags {
    std::string run_id;
    std::string tracking_uri;
    std::string data_dir;
    double tolerance = lineage::kDefaultTolerance;
    int threads = 0;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* runs = app.get_subcommand("runs");
  CLI::App* command = runs->add_subcommand(
      "reproduce", "Re-run a training run with its config, data and seed; compare the metrics");
  command->add_option("run_id", flags->run_id, "The run to reproduce")->required();
  command->add_option("--tracking-uri", flags->tracking_uri,
                      "Tracking server or store (default: $MLFLOW_TRACKING_URI, else "
                      "$MLFORGE_HOME/mlruns.db)");
  command->add_option("--tolerance", flags->tolerance,
                      "Largest accepted difference, relative to max(1, |value|) (default 1e-6)");
  command->add_option("--data-dir", flags->data_dir,
                      "Datasets folder (default: $MLFORGE_HOME/data)");
  command->add_option(
      "--threads", flags->threads,
      "Intra-op threads (default: what the source run recorded, else train's default)");
  command->callback([flags] {
    const std::string tracking_uri = TrackingUriFrom(flags->tracking_uri);
    const std::filesystem::path data_dir =
        flags->data_dir.empty() ? Home() / "data" : std::filesystem::path(flags->data_dir);
    auto store = tracking::OpenStore(tracking_uri, (Home() / "artifacts").string());
    if (!store.ok()) {
      throw CLI::RuntimeError(
          Fail("tracking store " + tracking_uri + ": " + store.status().message()));
    }
    lineage::Trainer trainer =
        [&](const lineage::TrainRequest& request) -> core::Result<std::string> {
      MLFORGE_ASSIGN_OR_RETURN(core::Config config,
                               core::Config::Parse(request.config_yaml, request.config_source));
      train::TrackedRunOptions options;
      options.tracking_uri = tracking_uri;
      options.default_tracking_uri = DefaultTrackingUri();
      options.default_artifact_root = (Home() / "artifacts").string();
      options.experiment = request.experiment_name;
      for (const auto& tag : request.tags) options.extra_tags.emplace_back(tag.key, tag.value);
      options.runs_dir = Home() / "runs";
      options.data_dir = data_dir;
      options.threads = request.intra_op_threads;
      std::fprintf(stderr, "reproducing run %s in experiment %s with %d intra-op thread(s)\n",
                   flags->run_id.c_str(), request.experiment_name.c_str(),
                   request.intra_op_threads > 0 ? request.intra_op_threads : 1);
      MLFORGE_ASSIGN_OR_RETURN(train::TrackedRunResult result, train::RunTracked(config, options));
      return result.run_id;
    };
    auto report = lineage::Reproduce(**store, flags->run_id, tracking_uri, data_dir,
                                     flags->tolerance, flags->threads, trainer);
    if (!report.ok()) throw CLI::RuntimeError(Fail(report.status().message()));
    const std::string text = lineage::FormatReport(*report, flags->tolerance);
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (!report->matches()) throw CLI::RuntimeError(1);
  });
}

}  // namespace mlforge::cli
