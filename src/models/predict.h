#pragma once

// Scoring files with a model package, behind `mlforge predict`.
//
// Input formats (by extension unless given):
//   .csv   a header row; for a column-signature model the columns are matched
//          by name (order free, extra columns such as a label are ignored);
//          for a tensor-signature model every column is a value, in order.
//   .json  rows as nested or flat lists, `{"instances": rows}`,
//          `{"inputs": rows}`, or a pandas split `{"columns": [...], "data": rows}`
//          (also under "dataframe_split").
//   idx    an IDX image file such as t10k-images-idx3-ubyte.
// Flat rows are reshaped to the model's input shape.

#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "models/package.h"

namespace mlforge::models {

enum class InputFormat { kAuto, kCsv, kJson, kIdx };

core::Result<InputFormat> ParseInputFormat(const std::string& name);

// Reads up to `limit` rows (0 = all) of `path` as a float batch the package's
// model accepts. InvalidArgument names the file and what does not fit.
core::Result<torch::Tensor> ReadInputs(const std::filesystem::path& path, InputFormat format,
                                       const PackageInfo& info, int64_t limit = 0);

// Parses a JSON document (the forms listed above) into a batch.
core::Result<torch::Tensor> ParseJsonInputs(const nlohmann::json& document, const PackageInfo& info,
                                            const std::string& source);

// {"predictions": [...]}: class indices for classifiers, unless `raw`, and
// the output rows (scores, regression values) otherwise.
nlohmann::json FormatPredictions(const PackageInfo& info, const torch::Tensor& outputs, bool raw);

}  // namespace mlforge::models
