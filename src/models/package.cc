#include "models/package.h"

#include <torch/version.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

#include "core/file.h"
#include "core/ids.h"
#include "models/torch_status.h"

namespace mlforge::models {
namespace {

constexpr char kMlmodel[] = "MLmodel";
constexpr char kInputExample[] = "input_example.json";

nlohmann::json TensorSpecJson(const std::vector<int64_t>& shape) {
  return nlohmann::json::array(
      {{{"type", "tensor"}, {"tensor-spec", {{"dtype", "float32"}, {"shape", shape}}}}});
}

// MLflow stores a signature's inputs and outputs as JSON text inside YAML.
std::string InputsJson(const Signature& signature) {
  if (signature.input_columns.empty()) return TensorSpecJson(signature.input_shape).dump();
  nlohmann::json columns = nlohmann::json::array();
  for (const ColumnSpec& column : signature.input_columns) {
    columns.push_back({{"type", column.type}, {"name", column.name}, {"required", true}});
  }
  return columns.dump();
}

core::Result<Signature> ParseSignature(const YAML::Node& node, const std::string& file) {
  Signature signature;
  try {
    auto inputs = nlohmann::json::parse(node["inputs"].as<std::string>());
    for (const auto& entry : inputs) {
      if (entry.value("type", "") == "tensor") {
        signature.input_shape = entry.at("tensor-spec").at("shape").get<std::vector<int64_t>>();
      } else {
        signature.input_columns.push_back(
            {entry.at("name").get<std::string>(), entry.value("type", "double")});
      }
    }
    auto outputs = nlohmann::json::parse(node["outputs"].as<std::string>());
    if (!outputs.empty() && outputs[0].value("type", "") == "tensor") {
      signature.output_shape = outputs[0].at("tensor-spec").at("shape").get<std::vector<int64_t>>();
    }
  } catch (const std::exception& error) {
    return core::InvalidArgumentError(file + ": malformed signature: " + error.what());
  }
  return signature;
}

std::string RenderMlmodel(const PackageInfo& info) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "artifact_path" << YAML::Value << "model";
  out << YAML::Key << "flavors" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "torchscript" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "model_file" << YAML::Value << info.model_file;
  out << YAML::Key << "torch_version" << YAML::Value << TORCH_VERSION;
  out << YAML::Key << "model_kind" << YAML::Value << info.model_kind;
  out << YAML::Key << "task" << YAML::Value
      << (info.task == Task::kClassification ? "classification" : "regression");
  if (!info.class_names.empty()) {
    out << YAML::Key << "class_names" << YAML::Value << YAML::Flow << info.class_names;
  }
  out << YAML::EndMap << YAML::EndMap;
  out << YAML::Key << "mlforge_version" << YAML::Value << info.mlforge_version;
  out << YAML::Key << "model_uuid" << YAML::Value << info.model_uuid;
  out << YAML::Key << "run_id" << YAML::Value << info.run_id;
  if (!info.input_example.is_null()) {
    out << YAML::Key << "saved_input_example_info" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "artifact_path" << YAML::Value << kInputExample;
    out << YAML::Key << "type" << YAML::Value
        << (info.signature.input_columns.empty() ? "ndarray" : "dataframe");
    out << YAML::Key << "format" << YAML::Value
        << (info.signature.input_columns.empty() ? "tf-serving" : "pandas_split");
    out << YAML::EndMap;
  }
  out << YAML::Key << "signature" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "inputs" << YAML::Value << YAML::SingleQuoted << InputsJson(info.signature);
  out << YAML::Key << "outputs" << YAML::Value << YAML::SingleQuoted
      << TensorSpecJson(info.signature.output_shape).dump();
  out << YAML::Key << "params" << YAML::Value << YAML::Null;
  out << YAML::EndMap;
  out << YAML::Key << "utc_time_created" << YAML::Value << YAML::SingleQuoted
      << info.utc_time_created;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

// The example in the form MLflow saves for the signature's kind: tensor
// inputs as {"inputs": rows}, columns as a pandas split.
nlohmann::json ExampleFile(const PackageInfo& info) {
  if (info.signature.input_columns.empty()) return {{"inputs", info.input_example}};
  nlohmann::json columns = nlohmann::json::array();
  for (const ColumnSpec& column : info.signature.input_columns) columns.push_back(column.name);
  return {{"columns", columns}, {"data", info.input_example}};
}

}  // namespace

core::Status WritePackage(const std::filesystem::path& folder, torch::jit::Module module,
                          PackageInfo info) {
  if (info.model_uuid.empty()) info.model_uuid = core::NewId();
  if (info.utc_time_created.empty()) info.utc_time_created = core::UtcTimestamp();
  std::filesystem::path staging = folder;
  staging += ".staging-" + core::NewId().substr(0, 12);
  std::error_code error;
  std::filesystem::create_directories(staging, error);
  if (error)
    return core::InternalError("cannot create " + staging.string() + ": " + error.message());

  module.eval();
  MLFORGE_ASSIGN_OR_RETURN(std::string weights, CatchTorch("saving TorchScript", [&] {
                             std::ostringstream buffer;
                             module.save(buffer);
                             return buffer.str();
                           }));
  core::Status status = core::WriteFileAtomic(staging / info.model_file, weights);
  if (status.ok()) status = core::WriteFileAtomic(staging / kMlmodel, RenderMlmodel(info));
  if (status.ok() && !info.input_example.is_null()) {
    status = core::WriteFileAtomic(staging / kInputExample, ExampleFile(info).dump() + "\n");
  }
  // Swap the finished folder in: the old package (if any) moves aside first,
  // so at every moment the final name holds a complete package or nothing.
  std::filesystem::path retired = folder;
  retired += ".retired-" + core::NewId().substr(0, 12);
  bool had_old = std::filesystem::exists(folder);
  if (status.ok() && had_old) status = core::RenameDurably(folder, retired);
  if (status.ok()) status = core::RenameDurably(staging, folder);
  std::filesystem::remove_all(had_old && status.ok() ? retired : staging, error);
  return status;
}

core::Result<PackageInfo> ReadPackageInfo(const std::filesystem::path& folder) {
  std::filesystem::path file = folder / kMlmodel;
  auto text = core::ReadFile(file);
  if (!text.ok()) {
    return core::NotFoundError(folder.string() + " is not a model package (no MLmodel file there)");
  }
  PackageInfo info;
  try {
    YAML::Node root = YAML::Load(*text);
    YAML::Node flavor = root["flavors"]["torchscript"];
    if (!flavor) {
      return core::InvalidArgumentError(file.string() +
                                        " has no torchscript flavor; mlforge cannot load it");
    }
    info.model_file = flavor["model_file"].as<std::string>();
    info.model_kind = flavor["model_kind"].as<std::string>("");
    info.task = flavor["task"].as<std::string>("classification") == "regression"
                    ? Task::kRegression
                    : Task::kClassification;
    if (flavor["class_names"]) {
      info.class_names = flavor["class_names"].as<std::vector<std::string>>();
    }
    info.run_id = root["run_id"].as<std::string>("");
    info.model_uuid = root["model_uuid"].as<std::string>("");
    info.utc_time_created = root["utc_time_created"].as<std::string>("");
    info.mlforge_version = root["mlforge_version"].as<std::string>("");
    if (root["signature"]) {
      MLFORGE_ASSIGN_OR_RETURN(info.signature, ParseSignature(root["signature"], file.string()));
    }
  } catch (const YAML::Exception& error) {
    return core::InvalidArgumentError(file.string() + ": " + error.what());
  }
  auto example = core::ReadFile(folder / kInputExample);
  if (example.ok()) {
    auto parsed = nlohmann::json::parse(*example, nullptr, false);
    if (!parsed.is_discarded()) {
      info.input_example =
          parsed.contains("inputs") ? parsed["inputs"] : parsed.value("data", nlohmann::json());
    }
  }
  return info;
}

core::Result<Package> LoadPackage(const std::filesystem::path& folder) {
  MLFORGE_ASSIGN_OR_RETURN(PackageInfo info, ReadPackageInfo(folder));
  std::filesystem::path weights = folder / info.model_file;
  if (!std::filesystem::exists(weights)) {
    return core::NotFoundError("model weights " + weights.string() + " are missing");
  }
  MLFORGE_ASSIGN_OR_RETURN(
      torch::jit::Module module,
      CatchTorch("loading " + weights.string(), [&] { return torch::jit::load(weights); }));
  module.eval();
  return Package{std::move(info), std::move(module)};
}

core::Result<torch::Tensor> RunModel(const Package& package, const torch::Tensor& batch) {
  const Signature& signature = package.info.signature;
  if (!signature.input_shape.empty()) {
    bool matches = batch.dim() == static_cast<int64_t>(signature.input_shape.size());
    for (size_t axis = 1; matches && axis < signature.input_shape.size(); ++axis) {
      matches = signature.input_shape[axis] < 0 ||
                batch.size(static_cast<int64_t>(axis)) == signature.input_shape[axis];
    }
    if (!matches) {
      std::ostringstream want;
      want << c10::IntArrayRef(signature.input_shape);
      std::ostringstream got;
      got << batch.sizes();
      return core::InvalidArgumentError("input shaped " + got.str() +
                                        " does not match the model's signature " + want.str());
    }
  } else if (!signature.input_columns.empty()) {
    if (batch.dim() != 2 || batch.size(1) != static_cast<int64_t>(signature.input_columns.size())) {
      return core::InvalidArgumentError(
          "the model takes " + std::to_string(signature.input_columns.size()) + " columns per row");
    }
  }
  return CatchTorch("running the model", [&] {
    torch::NoGradGuard no_grad;
    // forward() is const on the underlying object; the copy shares it.
    torch::jit::Module module = package.module;
    return module.forward({batch}).toTensor();
  });
}

}  // namespace mlforge::models
