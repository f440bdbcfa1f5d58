// mlforge serve-check MODEL_URI --input FILE [--format F] [--labels IDX] [--limit N]
//
// Starts the serving stack in this process on a loopback port, scores the
// first N rows through POST /invocations, prints the predictions (and the
// accuracy against --labels), drains and stops; exits 1 on any failure.

#include <cstdio>

#include "cli/commands.h"
#include "serving/torch/serve_check.h"
#include "train/threads.h"

namespace mlforge::cli {

void AddServeCheckCommand(CLI::App& app) {
  struct Flags {
    std::string uri;
    std::string input;
    std::string format = "auto";
    std::string labels;
    std::string tracking_uri;
    int64_t limit = 100;
    int64_t rows_per_request = 32;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "serve-check", "Serve a model on a loopback port, score rows through HTTP, stop");
  command->add_option("model", flags->uri, "Model URI, as mlforge serve takes")->required();
  command->add_option("--input,-i", flags->input, "Rows to score (CSV, JSON or IDX)")->required();
  command->add_option("--format", flags->format, "csv, json, idx or auto (by extension)");
  command->add_option("--labels", flags->labels, "IDX label file: also report accuracy");
  command->add_option("--limit", flags->limit, "Score the first N rows (0: all)")
      ->capture_default_str();
  command->add_option("--rows-per-request", flags->rows_per_request, "Rows per POST /invocations")
      ->capture_default_str();
  command->add_option("--tracking-uri", flags->tracking_uri,
                      "Tracking server or store for runs:/ and models:/ (default: "
                      "$MLFLOW_TRACKING_URI, else the local store)");
  command->callback([flags] {
    serving::ServeCheckOptions options;
    auto format = models::ParseInputFormat(flags->format);
    if (!format.ok()) throw CLI::RuntimeError(Fail(format.status().message()));
    options.model_uri = flags->uri;
    options.stores.tracking_uri = TrackingUriFrom(flags->tracking_uri);
    options.stores.registry_uri = EnvOr("MLFLOW_REGISTRY_URI", "");
    options.cache_root = Home() / "models";
    options.input = flags->input;
    options.format = *format;
    options.labels = flags->labels;
    options.limit = flags->limit;
    options.rows_per_request = flags->rows_per_request;
    train::ConfigureThreads(1, 1, 1);  // as mlforge serve runs a model by default
    auto report = serving::RunServeCheck(options);
    if (!report.ok()) throw CLI::RuntimeError(Fail("serve-check: " + report.status().message()));
    nlohmann::json result = {{"model", report->model_name},
                             {"version", report->version},
                             {"rows", report->rows},
                             {"predictions", report->predictions}};
    if (report->accuracy) result["accuracy"] = *report->accuracy;
    std::fprintf(stderr,
                 "serve-check: model '%s' version %lld served %lld rows in %lld requests on "
                 "http://%s, all equal to the model's own output",
                 report->model_name.c_str(), static_cast<long long>(report->version),
                 static_cast<long long>(report->rows), static_cast<long long>(report->requests),
                 report->address.c_str());
    if (report->accuracy) std::fprintf(stderr, "; accuracy %.4f", *report->accuracy);
    std::fprintf(stderr, "\n");
    std::printf("%s\n", result.dump().c_str());
  });
}

}  // namespace mlforge::cli
