// mlforge evaluate MODEL_URI --data mnist|fashion-mnist|DIR [--split test]
//   [--output metrics.json] [--tracking-uri URI] [--batch-size N] [--data-dir D]

#include <cstdio>

#include "cli/commands.h"
#include "train/evaluate_run.h"

namespace mlforge::cli {

void AddEvaluateCommand(CLI::App& app) {
  struct Flags {
    std::string model;
    std::string data;
    std::string split = "test";
    std::string output;
    std::string tracking_uri;
    std::string data_dir;
    int64_t batch_size = 1000;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "evaluate", "Score a model on a dataset split: accuracy, loss, per-class accuracy");
  command
      ->add_option("model", flags->model,
                   "Package folder, runs:/RUN_ID/model, models:/NAME/VERSION or models:/NAME@ALIAS")
      ->required();
  command->add_option("--data", flags->data, "mnist, fashion-mnist, or a folder of IDX files")
      ->required();
  command->add_option("--split", flags->split, "test (default) or train");
  command->add_option("--output,-o", flags->output, "Write the metrics here as JSON");
  command->add_option("--tracking-uri", flags->tracking_uri,
                      "Where runs:/ and models:/ resolve and MLFLOW_RUN_ID is logged to (default: "
                      "$MLFLOW_TRACKING_URI, else $MLFORGE_HOME/mlruns.db)");
  command->add_option("--data-dir", flags->data_dir,
                      "Datasets folder (default: $MLFORGE_HOME/data)");
  command->add_option("--batch-size", flags->batch_size, "Rows per forward pass (default 1000)");
  command->callback([flags] {
    train::EvaluateOptions options;
    options.model_uri = flags->model;
    options.data = flags->data;
    options.split = flags->split;
    options.output = flags->output;
    options.data_dir =
        flags->data_dir.empty() ? Home() / "data" : std::filesystem::path(flags->data_dir);
    options.tracking_uri = TrackingUriFrom(flags->tracking_uri);
    options.registry_uri = EnvOr("MLFLOW_REGISTRY_URI", "");
    options.model_cache = Home() / "models";
    options.default_artifact_root = (Home() / "artifacts").string();
    options.run_id = EnvOr("MLFLOW_RUN_ID", "");
    options.batch_size = flags->batch_size;
    auto report = train::EvaluateModel(options);
    if (!report.ok()) throw CLI::RuntimeError(Fail(report.status().message()));
    const models::EvaluationResult& result = report->result;
    std::printf("%s on %s (%s, %lld rows, digest %.16s)\n", report->model_uri.c_str(),
                report->dataset_name.c_str(), report->split.c_str(),
                static_cast<long long>(result.samples), report->dataset_digest.c_str());
    if (result.classification) std::printf("accuracy  %.4f\n", result.accuracy);
    std::printf("loss      %.4f\n", result.loss);
    if (!result.per_class.empty()) {
      std::printf("%-16s %8s %9s\n", "CLASS", "ROWS", "ACCURACY");
      for (const models::ClassAccuracy& entry : result.per_class) {
        std::printf("%-16s %8lld %9.4f\n", entry.name.c_str(),
                    static_cast<long long>(entry.samples), entry.accuracy());
      }
    }
    if (!report->run_id.empty()) {
      std::printf("logged %s_accuracy and %s_loss to run %s\n", report->split.c_str(),
                  report->split.c_str(), report->run_id.c_str());
    }
    if (!flags->output.empty()) std::printf("wrote %s\n", flags->output.c_str());
  });
}

}  // namespace mlforge::cli
