#pragma once

// `mlforge serve-check`: proves that a model URI serves. It starts the whole
// serving stack (ModelServer with the TorchScript loader) in this process on
// an ephemeral loopback port, sends the first rows of an input file to
// POST /invocations as dataframe_split bodies over real HTTP, checks every
// answer against the loaded model called directly, optionally scores the
// answers against IDX labels, then drains and stops the server. A
// pipeline's final "serve" step calls it.
//
//   ServeCheckOptions options;
//   options.model_uri = "models:/mnist@champion";
//   options.input = "t10k-images-idx3-ubyte";
//   MLFORGE_ASSIGN_OR_RETURN(ServeCheckReport report, RunServeCheck(options));
//
// Errors: whatever the model fails to fetch or load with; InvalidArgument
// for input that does not fit the model; Internal when an answer is not 200,
// has the wrong number of predictions, or differs from the model's own
// output (naming the row).

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"
#include "models/predict.h"
#include "registry/model_fetch.h"

namespace mlforge::serving {

struct ServeCheckOptions {
  // A folder, runs:/ or models:/ URI (as mlforge serve takes).
  std::string model_uri;
  registry::ModelStores stores;
  std::filesystem::path cache_root;
  // The rows: CSV, JSON or IDX (models::ReadInputs).
  std::filesystem::path input;
  models::InputFormat format = models::InputFormat::kAuto;
  // An IDX label file; empty for none. Needs a classifier.
  std::filesystem::path labels;
  // How many rows to score (0: all). Default 100.
  int64_t limit = 100;
  // Rows per HTTP request. Default 32.
  int64_t rows_per_request = 32;
};

struct ServeCheckReport {
  std::string model_name;
  int64_t version = 0;
  std::string address;         // where the server listened
  nlohmann::json predictions;  // every row's prediction, as /invocations answered
  int64_t rows = 0;
  int64_t requests = 0;
  std::optional<double> accuracy;  // with labels
};

core::Result<ServeCheckReport> RunServeCheck(const ServeCheckOptions& options);

}  // namespace mlforge::serving
