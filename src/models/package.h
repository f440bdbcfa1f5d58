#pragma once

// The model package: a folder that MLflow tools recognise and LibTorch loads
// without Python.
//
//   model/
//     MLmodel              YAML: flavors (torchscript), signature, run_id,
//                          utc_time_created, model_uuid, mlforge_version,
//                          saved_input_example_info
//     model.pt             TorchScript archive (torch.jit.load in Python)
//     input_example.json   a few input rows, as MLflow saves examples
//
// Packages are written into a temporary folder and renamed into place, so a
// crash never leaves a half-written package under the final name.

#include <torch/script.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "models/zoo.h"

namespace mlforge::models {

// One input column of a tabular model (MLflow's column-based signature).
struct ColumnSpec {
  std::string name;
  std::string type = "double";
};

// The model's inputs and outputs. A model takes either one tensor
// (`input_shape`, batch dimension -1) or named columns (`input_columns`,
// stacked in order into a [rows, columns] tensor).
struct Signature {
  std::vector<int64_t> input_shape;
  std::vector<ColumnSpec> input_columns;
  std::vector<int64_t> output_shape;
};

struct PackageInfo {
  std::string run_id;
  std::string model_uuid;        // filled by WritePackage when empty
  std::string utc_time_created;  // filled by WritePackage when empty
  std::string mlforge_version = MLFORGE_VERSION;
  std::string model_file = "model.pt";
  std::string model_kind;  // "cnn", "torchscript", ...
  Task task = Task::kClassification;
  std::vector<std::string> class_names;  // classification only; may be empty
  Signature signature;
  nlohmann::json input_example;  // rows of raw input values; may be null
};

struct Package {
  PackageInfo info;
  torch::jit::Module module;  // in evaluation mode
};

// Writes `module` (switched to evaluation mode) and `info` as a package at
// `folder`, replacing an existing package there atomically.
core::Status WritePackage(const std::filesystem::path& folder, torch::jit::Module module,
                          PackageInfo info);

// Reads the MLmodel file and loads the TorchScript weights.
// NotFound when `folder` holds no MLmodel; InvalidArgument when MLmodel or the
// weights are malformed, naming the file.
core::Result<Package> LoadPackage(const std::filesystem::path& folder);

// Only the MLmodel description, without loading weights.
core::Result<PackageInfo> ReadPackageInfo(const std::filesystem::path& folder);

// Runs the model on a float batch shaped like the signature ([rows, ...]) and
// returns its raw outputs, without gradient tracking. A batch of the wrong
// shape is InvalidArgument. Thread-safe: a module in evaluation mode may run
// from several threads at once.
core::Result<torch::Tensor> RunModel(const Package& package, const torch::Tensor& batch);

}  // namespace mlforge::models
