#pragma once

// Turning request payloads into model rows and model outputs into JSON, the
// parts every protocol front end shares. Columns are matched to a tabular
// model's signature by name; a tensor model's values are taken in row-major
// order and must fill row_width() per row.
//
// Every function returns InvalidArgument with a message that names the
// offending row, column or field; nothing throws.
//
// Thread safety: free functions on plain values.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "serving/model.h"

namespace mlforge::serving {

using Json = nlohmann::json;

// A list of rows. Each row is an object of column values (tabular models;
// every signature column present, no others), or a number or a (nested)
// list of numbers holding exactly row_width() values.
core::Result<Matrix> RowsFromJson(const Json& rows, const ModelSignature& signature);

// A pandas split frame: `columns` names and `data` rows of values in that
// column order. For a tabular model the names must be exactly the signature
// columns (any order); for a tensor model they are optional and only counted.
core::Result<Matrix> RowsFromSplit(const Json* columns, const Json& data,
                                   const ModelSignature& signature);

// The common MLflow body {"dataframe_split": {"columns": [...], "data":
// [[...], ...]}} (keys in any order, an "index" list allowed and ignored)
// read straight from the text, without building a JSON document: the hot
// path of /invocations. Answers nullopt for anything else or anything it
// is unsure of (escapes in names, non-numbers, extra fields, a shape that
// does not fit the signature), and the caller then takes the general path,
// which gives the same rows or the precise error. Numbers are read as
// doubles and rounded to float, as the general path does.
std::optional<Matrix> FastRowsFromDataframeSplit(std::string_view body,
                                                 const ModelSignature& signature);

// Columnar form: an object of name -> values (one value, or one row's worth,
// per row). Tabular: one entry per signature column. Tensor: one entry named
// like the signature input.
core::Result<Matrix> RowsFromColumnar(const Json& columns, const ModelSignature& signature);

// CSV with a header row; tabular columns by name, tensor columns in order.
core::Result<Matrix> RowsFromCsv(std::string_view text, const ModelSignature& signature);

// `values` (a number or nested list) flattened into `out`, row-major.
// InvalidArgument when something is not a number (booleans count as 0/1).
core::Status FlattenNumbers(const Json& values, std::vector<float>* out);

// One row's prediction as `mlforge predict` prints it: the class index for a
// classifier, else the output value (one output) or the list of outputs.
Json PredictionForRow(const ModelSignature& signature, const Matrix& outputs, int64_t row);
// Every row's PredictionForRow, as a list.
Json Predictions(const ModelSignature& signature, const Matrix& outputs);
// One row of raw outputs as a list (or a number when there is one).
Json OutputRow(const Matrix& outputs, int64_t row);

}  // namespace mlforge::serving
