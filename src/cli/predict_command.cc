// mlforge predict MODEL_DIR --input FILE [--format F] [--output FILE] [--raw]

#include <cstdio>

#include "cli/commands.h"
#include "core/file.h"
#include "data/idx.h"
#include "models/predict.h"

namespace mlforge::cli {

void AddPredictCommand(CLI::App& app) {
  struct Flags {
    std::string model;
    std::string input;
    std::string format = "auto";
    std::string output;
    std::string labels;
    int64_t limit = 0;
    bool raw = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* predict = app.add_subcommand("predict", "Score a CSV, JSON or IDX file with a model");
  predict->add_option("model", flags->model, "Model package folder")->required();
  predict->add_option("--input,-i", flags->input, "Rows to score")->required();
  predict->add_option("--format", flags->format, "csv, json, idx or auto (by extension)");
  predict->add_option("--output,-o", flags->output, "Write predictions here (default: stdout)");
  predict->add_option("--limit", flags->limit, "Score only the first N rows");
  predict->add_option("--labels", flags->labels, "IDX label file: also report accuracy against it");
  predict->add_flag("--raw", flags->raw, "Output scores instead of class indices");
  predict->callback([flags] {
    auto format = models::ParseInputFormat(flags->format);
    if (!format.ok()) throw CLI::RuntimeError(Fail(format.status().message()));
    auto package = models::LoadPackage(flags->model);
    if (!package.ok()) throw CLI::RuntimeError(Fail(package.status().message()));
    auto inputs = models::ReadInputs(flags->input, *format, package->info, flags->limit);
    if (!inputs.ok()) throw CLI::RuntimeError(Fail(inputs.status().message()));
    auto outputs = models::RunModel(*package, *inputs);
    if (!outputs.ok()) throw CLI::RuntimeError(Fail(outputs.status().message()));
    nlohmann::json result = models::FormatPredictions(package->info, *outputs, flags->raw);
    if (!flags->labels.empty()) {
      auto labels = data::ReadIdx(flags->labels);
      if (!labels.ok()) throw CLI::RuntimeError(Fail(labels.status().message()));
      const nlohmann::json classes = models::FormatPredictions(package->info, *outputs, false);
      const nlohmann::json& predictions = classes["predictions"];
      int64_t correct = 0;
      for (size_t row = 0; row < predictions.size() && row < labels->data.size(); ++row) {
        correct += predictions[row].get<int64_t>() == labels->data[row];
      }
      double accuracy = static_cast<double>(correct) / static_cast<double>(predictions.size());
      std::fprintf(stderr, "accuracy on %zu rows: %.4f\n", predictions.size(), accuracy);
      result["accuracy"] = accuracy;
    }
    std::string text = result.dump() + "\n";
    if (flags->output.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
    } else {
      auto status = core::WriteFileAtomic(flags->output, text);
      if (!status.ok()) throw CLI::RuntimeError(Fail(status.message()));
      std::fprintf(stderr, "wrote %zu predictions to %s\n", result["predictions"].size(),
                   flags->output.c_str());
    }
  });
}

}  // namespace mlforge::cli
