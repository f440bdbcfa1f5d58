#include "serving/torch/torch_model.h"

#include <fmt/format.h>

#include <cstring>

#include "serving/rows.h"

namespace mlforge::serving {

TorchModel::TorchModel(models::Package package, ModelSignature signature)
    : package_(std::move(package)), signature_(std::move(signature)) {}

core::Result<std::shared_ptr<TorchModel>> TorchModel::Load(const std::filesystem::path& folder) {
  MLFORGE_ASSIGN_OR_RETURN(models::Package package, models::LoadPackage(folder));
  const models::Signature& stored = package.info.signature;
  ModelSignature signature;
  if (!stored.input_columns.empty()) {
    for (const auto& column : stored.input_columns) signature.columns.push_back(column.name);
    signature.input = {"input", "FP32", {-1, static_cast<int64_t>(stored.input_columns.size())}};
  } else if (!stored.input_shape.empty()) {
    signature.input = {"input", "FP32", stored.input_shape};
    signature.input.shape[0] = -1;
    for (size_t axis = 1; axis < signature.input.shape.size(); ++axis) {
      if (signature.input.shape[axis] < 1) {
        return core::InvalidArgumentError(fmt::format(
            "{}: the signature's input shape has a free dimension after the batch; serving needs "
            "fixed row sizes",
            folder.string()));
      }
    }
  } else {
    return core::InvalidArgumentError(fmt::format(
        "{}: MLmodel has no input signature (columns or tensor shape)", folder.string()));
  }
  signature.classifier = package.info.task == models::Task::kClassification;
  signature.output = {signature.classifier ? "scores" : "output", "FP32", {-1, 1}};
  std::shared_ptr<TorchModel> model(new TorchModel(std::move(package), signature));
  // Warm up on one zero row; this also measures the output width when
  // MLmodel does not state it.
  core::Result<Matrix> warm = [&]() -> core::Result<Matrix> {
    Matrix row(1, model->signature_.row_width());
    model->signature_.output.shape = {-1, -1};
    return model->Predict(row);
  }();
  if (!warm.ok()) {
    return core::InvalidArgumentError(fmt::format("{}: the model failed its warm-up call: {}",
                                                  folder.string(), warm.status().message()));
  }
  model->signature_.output.shape = {-1, warm->cols};
  return model;
}

core::Result<Matrix> TorchModel::Predict(const Matrix& rows) const {
  if (rows.cols != signature_.row_width()) {
    return core::InvalidArgumentError(
        fmt::format("rows have {} values, the model takes {}", rows.cols, signature_.row_width()));
  }
  std::vector<int64_t> shape = signature_.input.shape;
  shape[0] = rows.rows;
  try {
    // The tensor borrows the request's values; RunModel only reads them.
    torch::Tensor batch = torch::from_blob(const_cast<float*>(rows.values.data()), shape,
                                           torch::TensorOptions().dtype(torch::kFloat32));
    MLFORGE_ASSIGN_OR_RETURN(torch::Tensor outputs, models::RunModel(package_, batch));
    torch::Tensor flat = outputs.to(torch::kFloat32).contiguous().reshape({rows.rows, -1});
    Matrix result(rows.rows, flat.size(1));
    std::memcpy(result.values.data(), flat.data_ptr<float>(), result.values.size() * sizeof(float));
    return result;
  } catch (const std::exception& error) {
    return core::InternalError(std::string("running the model: ") + error.what());
  }
}

Matrix TorchModel::WarmupRows() const {
  const nlohmann::json& example = package_.info.input_example;
  if (!example.is_null()) {
    // MLflow stores examples as rows, or as a split frame.
    core::Result<Matrix> rows = core::InvalidArgumentError("no example");
    if (example.is_object() && example.contains("data")) {
      rows = RowsFromSplit(example.contains("columns") ? &example["columns"] : nullptr,
                           example["data"], signature_);
    } else {
      rows = RowsFromJson(example, signature_);
    }
    if (rows.ok() && rows->rows > 0) return std::move(*rows);
  }
  return Model::WarmupRows();
}

ModelLoader TorchModelLoader() {
  return [](const std::filesystem::path& folder) -> core::Result<std::shared_ptr<const Model>> {
    MLFORGE_ASSIGN_OR_RETURN(std::shared_ptr<TorchModel> model, TorchModel::Load(folder));
    return std::shared_ptr<const Model>(std::move(model));
  };
}

}  // namespace mlforge::serving
