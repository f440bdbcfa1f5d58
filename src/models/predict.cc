#include "models/predict.h"

#include <numeric>

#include "core/file.h"
#include "data/csv.h"
#include "data/idx.h"
#include "models/torch_status.h"

namespace mlforge::models {
namespace {

int64_t RowSize(const PackageInfo& info) {
  if (!info.signature.input_columns.empty()) {
    return static_cast<int64_t>(info.signature.input_columns.size());
  }
  int64_t size = 1;
  for (size_t axis = 1; axis < info.signature.input_shape.size(); ++axis) {
    size *= std::max<int64_t>(info.signature.input_shape[axis], 1);
  }
  return size;
}

// Shapes `values` (rows * RowSize) as the model's input.
core::Result<torch::Tensor> Shape(const std::vector<float>& values, int64_t rows,
                                  const PackageInfo& info, const std::string& source) {
  int64_t row_size = RowSize(info);
  if (rows == 0) return core::InvalidArgumentError(source + " holds no rows to score");
  if (static_cast<int64_t>(values.size()) != rows * row_size) {
    return core::InvalidArgumentError(source + ": each row must have " + std::to_string(row_size) +
                                      " values for this model");
  }
  std::vector<int64_t> shape{rows};
  if (info.signature.input_columns.empty() && info.signature.input_shape.size() > 1) {
    shape.insert(shape.end(), info.signature.input_shape.begin() + 1,
                 info.signature.input_shape.end());
  } else {
    shape.push_back(row_size);
  }
  auto tensor = torch::tensor(values, torch::kFloat32);
  return tensor.reshape(shape);
}

void Flatten(const nlohmann::json& value, std::vector<float>& out, bool& ok) {
  if (value.is_array()) {
    for (const auto& item : value) Flatten(item, out, ok);
  } else if (value.is_number()) {
    out.push_back(value.get<float>());
  } else {
    ok = false;
  }
}

core::Result<torch::Tensor> FromCsv(const std::filesystem::path& path, const PackageInfo& info,
                                    int64_t limit) {
  MLFORGE_ASSIGN_OR_RETURN(data::Dataset table, data::ReadCsv(path, ""));
  int64_t rows = limit > 0 ? std::min(limit, table.rows()) : table.rows();
  const auto& wanted = info.signature.input_columns;
  if (wanted.empty()) {
    table.features.resize(static_cast<size_t>(rows * table.row_size()));
    return Shape(table.features, rows, info, path.string());
  }
  std::vector<int64_t> positions;
  for (const ColumnSpec& column : wanted) {
    auto found = std::find(table.feature_names.begin(), table.feature_names.end(), column.name);
    if (found == table.feature_names.end()) {
      return core::InvalidArgumentError(path.string() + " has no column '" + column.name +
                                        "', which the model's signature needs");
    }
    positions.push_back(found - table.feature_names.begin());
  }
  std::vector<float> values;
  values.reserve(static_cast<size_t>(rows) * positions.size());
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t position : positions) {
      values.push_back(table.features[static_cast<size_t>(row * table.row_size() + position)]);
    }
  }
  return Shape(values, rows, info, path.string());
}

core::Result<torch::Tensor> FromIdx(const std::filesystem::path& path, const PackageInfo& info,
                                    int64_t limit) {
  MLFORGE_ASSIGN_OR_RETURN(data::IdxArray array, data::ReadIdx(path));
  if (array.dims.empty()) return core::InvalidArgumentError(path.string() + " holds no rows");
  int64_t rows = limit > 0 ? std::min(limit, array.dims[0]) : array.dims[0];
  int64_t row_size = 1;
  for (size_t axis = 1; axis < array.dims.size(); ++axis) row_size *= array.dims[axis];
  std::vector<float> values(array.data.begin(),
                            array.data.begin() + static_cast<std::ptrdiff_t>(rows * row_size));
  return Shape(values, rows, info, path.string());
}

}  // namespace

core::Result<InputFormat> ParseInputFormat(const std::string& name) {
  if (name == "auto") return InputFormat::kAuto;
  if (name == "csv") return InputFormat::kCsv;
  if (name == "json") return InputFormat::kJson;
  if (name == "idx") return InputFormat::kIdx;
  return core::InvalidArgumentError("unknown input format '" + name + "'; use csv, json or idx");
}

core::Result<torch::Tensor> ParseJsonInputs(const nlohmann::json& document, const PackageInfo& info,
                                            const std::string& source) {
  const nlohmann::json* rows = &document;
  nlohmann::json reordered;
  if (document.is_object()) {
    const nlohmann::json* split =
        document.contains("dataframe_split") ? &document["dataframe_split"] : &document;
    if (split->contains("columns") && split->contains("data")) {
      rows = &(*split)["data"];
      const auto& wanted = info.signature.input_columns;
      if (!wanted.empty()) {
        auto columns = (*split)["columns"].get<std::vector<std::string>>();
        reordered = nlohmann::json::array();
        for (const auto& row : *rows) {
          nlohmann::json ordered = nlohmann::json::array();
          for (const ColumnSpec& column : wanted) {
            auto found = std::find(columns.begin(), columns.end(), column.name);
            if (found == columns.end()) {
              return core::InvalidArgumentError(source + " has no column '" + column.name + "'");
            }
            ordered.push_back(row.at(static_cast<size_t>(found - columns.begin())));
          }
          reordered.push_back(ordered);
        }
        rows = &reordered;
      }
    } else if (document.contains("instances")) {
      rows = &document["instances"];
    } else if (document.contains("inputs")) {
      rows = &document["inputs"];
    } else {
      return core::InvalidArgumentError(
          source +
          ": expected rows, {\"instances\": ...}, {\"inputs\": ...} or a split "
          "{\"columns\": ..., \"data\": ...}");
    }
  }
  if (!rows->is_array()) return core::InvalidArgumentError(source + ": rows must be a list");
  std::vector<float> values;
  bool numeric = true;
  Flatten(*rows, values, numeric);
  if (!numeric) return core::InvalidArgumentError(source + ": every value must be a number");
  int64_t row_size = RowSize(info);
  int64_t count = static_cast<int64_t>(rows->size());
  // A single flat row is one example, not `row_size` examples of one value.
  if (row_size > 1 && count == row_size && !rows->empty() && !(*rows)[0].is_array()) count = 1;
  return Shape(values, count, info, source);
}

core::Result<torch::Tensor> ReadInputs(const std::filesystem::path& path, InputFormat format,
                                       const PackageInfo& info, int64_t limit) {
  if (!std::filesystem::exists(path))
    return core::NotFoundError("input " + path.string() + " not found");
  if (format == InputFormat::kAuto) {
    std::string extension = path.extension().string();
    format = extension == ".csv"    ? InputFormat::kCsv
             : extension == ".json" ? InputFormat::kJson
                                    : InputFormat::kIdx;
  }
  switch (format) {
    case InputFormat::kCsv:
      return FromCsv(path, info, limit);
    case InputFormat::kIdx:
      return FromIdx(path, info, limit);
    case InputFormat::kJson:
    case InputFormat::kAuto: {
      MLFORGE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
      auto document = nlohmann::json::parse(text, nullptr, false);
      if (document.is_discarded()) {
        return core::InvalidArgumentError(path.string() + " is not valid JSON");
      }
      MLFORGE_ASSIGN_OR_RETURN(torch::Tensor batch, ParseJsonInputs(document, info, path.string()));
      if (limit > 0 && batch.size(0) > limit) batch = batch.slice(0, 0, limit);
      return batch;
    }
  }
  return core::InvalidArgumentError("unknown input format");
}

nlohmann::json FormatPredictions(const PackageInfo& info, const torch::Tensor& outputs, bool raw) {
  nlohmann::json predictions = nlohmann::json::array();
  auto contiguous = outputs.contiguous().to(torch::kFloat32);
  if (info.task == Task::kClassification && !raw) {
    auto classes = contiguous.argmax(1);
    for (int64_t row = 0; row < classes.size(0); ++row) {
      predictions.push_back(classes[row].item<int64_t>());
    }
  } else {
    auto flat = contiguous.reshape({contiguous.size(0), -1});
    for (int64_t row = 0; row < flat.size(0); ++row) {
      auto accessor = flat[row];
      std::vector<float> values(accessor.data_ptr<float>(),
                                accessor.data_ptr<float>() + accessor.numel());
      if (values.size() == 1) {
        predictions.push_back(values[0]);
      } else {
        predictions.push_back(values);
      }
    }
  }
  return {{"predictions", predictions}};
}

}  // namespace mlforge::models
