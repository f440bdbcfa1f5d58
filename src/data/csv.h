#pragma once

// Tabular data from CSV: a header row, then one example per line.
//
//   MLFORGE_ASSIGN_OR_RETURN(Dataset iris, ReadCsv("iris.csv", "species"));
//
// Format: comma-separated fields; a field may be quoted with double quotes
// ("" inside quotes is a literal quote), which lets column names contain
// commas. Spaces around a field are ignored, "\r\n" line ends are accepted,
// and blank lines are skipped. Quoted fields may not span lines.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"
#include "data/dataset.h"

namespace mlforge::data {

// Parses CSV text. Every column other than `label_column` is a feature and
// must hold a finite number in every row; `label_column` (when not empty)
// must hold a non-negative integer class index in every row. An empty
// `label_column` means no labels: every column is a feature and the result's
// `labels` is empty. The result has feature_shape {number of features} and
// feature_names in column order.
//
// InvalidArgument, naming `source_name`, the 1-based line number and the
// column, for: no header, a duplicate column name, a missing label column, no
// feature column, a line with the wrong number of fields, an empty field, a
// non-numeric or non-finite value, or a label that is not a non-negative
// integer.
// How the label column is read: class indices into Dataset::labels (the
// default), or real numbers into Dataset::targets for regression.
enum class LabelKind { kClass, kValue };

core::Result<Dataset> ParseCsv(std::string_view text, const std::string& label_column,
                               const std::string& source_name,
                               LabelKind label_kind = LabelKind::kClass);

// Reads and parses the file at `path` (see ParseCsv). NotFound when the file
// cannot be opened.
core::Result<Dataset> ReadCsv(const std::filesystem::path& path, const std::string& label_column,
                              LabelKind label_kind = LabelKind::kClass);

}  // namespace mlforge::data
