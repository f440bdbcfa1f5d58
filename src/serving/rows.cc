#include "serving/rows.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <map>

namespace mlforge::serving {
namespace {

std::string ColumnList(const std::vector<std::string>& columns) {
  std::string text;
  for (const auto& column : columns) text += (text.empty() ? "" : ", ") + column;
  return "[" + text + "]";
}

// A Json scalar as a float: numbers and booleans. `where()` names the
// value in the error; it is only called on error, since this runs for every
// value of every request.
template <typename Where>
core::Result<float> ScalarValue(const Json& value, const Where& where) {
  if (value.is_number()) return value.get<float>();
  if (value.is_boolean()) return value.get<bool>() ? 1.0F : 0.0F;
  return core::InvalidArgumentError(
      fmt::format("{}: expected a number, got {}", where(), value.dump()));
}

// For a tabular model: the position of each signature column in `names`,
// with missing and extra columns reported by name.
core::Result<std::vector<size_t>> MatchColumns(const std::vector<std::string>& names,
                                               const ModelSignature& signature) {
  std::map<std::string, size_t, std::less<>> position;
  for (size_t index = 0; index < names.size(); ++index) {
    if (!position.emplace(names[index], index).second) {
      return core::InvalidArgumentError(fmt::format("column '{}' appears twice", names[index]));
    }
  }
  std::vector<std::string> missing;
  std::vector<size_t> order;
  for (const auto& column : signature.columns) {
    auto found = position.find(column);
    if (found == position.end()) {
      missing.push_back(column);
    } else {
      order.push_back(found->second);
      position.erase(found);
    }
  }
  if (!missing.empty()) {
    return core::InvalidArgumentError(
        fmt::format("missing column(s) {}; the model's signature expects columns {}",
                    ColumnList(missing), ColumnList(signature.columns)));
  }
  if (!position.empty()) {
    std::vector<std::string> extra;
    for (const auto& [name, index] : position) extra.push_back(name);
    return core::InvalidArgumentError(
        fmt::format("unknown column(s) {}; the model's signature expects columns {}",
                    ColumnList(extra), ColumnList(signature.columns)));
  }
  return order;
}

}  // namespace

core::Status FlattenNumbers(const Json& values, std::vector<float>* out) {
  if (values.is_array()) {
    for (const auto& value : values) MLFORGE_RETURN_IF_ERROR(FlattenNumbers(value, out));
    return core::Status::Ok();
  }
  MLFORGE_ASSIGN_OR_RETURN(float value, ScalarValue(values, [] { return "value"; }));
  out->push_back(value);
  return core::Status::Ok();
}

core::Result<Matrix> RowsFromJson(const Json& rows, const ModelSignature& signature) {
  if (!rows.is_array()) {
    return core::InvalidArgumentError("expected a list of rows, got " +
                                      std::string(rows.type_name()));
  }
  const int64_t width = signature.row_width();
  Matrix matrix(static_cast<int64_t>(rows.size()), width);
  for (size_t row = 0; row < rows.size(); ++row) {
    const Json& item = rows[row];
    float* out = matrix.values.data() + static_cast<int64_t>(row) * width;
    if (item.is_object()) {
      if (signature.columns.empty()) {
        return core::InvalidArgumentError(fmt::format(
            "row {} is an object, but this model takes a tensor of {} values per row, not named "
            "columns",
            row, width));
      }
      std::vector<std::string> names;
      for (const auto& [name, value] : item.items()) names.push_back(name);
      auto order = MatchColumns(names, signature);
      if (!order.ok()) {
        return core::InvalidArgumentError(fmt::format("row {}: {}", row, order.status().message()));
      }
      for (size_t column = 0; column < order->size(); ++column) {
        MLFORGE_ASSIGN_OR_RETURN(out[column], ScalarValue(item[names[(*order)[column]]], [&] {
                                   return fmt::format("row {} column '{}'", row,
                                                      signature.columns[column]);
                                 }));
      }
      continue;
    }
    std::vector<float> values;
    if (auto status = FlattenNumbers(item, &values); !status.ok()) {
      return core::InvalidArgumentError(fmt::format("row {}: {}", row, status.message()));
    }
    if (static_cast<int64_t>(values.size()) != width) {
      return core::InvalidArgumentError(fmt::format(
          "row {} has {} values; the model expects {} per row{}", row, values.size(), width,
          signature.columns.empty() ? "" : " (columns " + ColumnList(signature.columns) + ")"));
    }
    std::copy(values.begin(), values.end(), out);
  }
  return matrix;
}

core::Result<Matrix> RowsFromSplit(const Json* columns, const Json& data,
                                   const ModelSignature& signature) {
  if (!data.is_array()) return core::InvalidArgumentError("'data' must be a list of rows");
  const int64_t width = signature.row_width();
  std::vector<std::string> names;
  if (columns != nullptr) {
    if (!columns->is_array()) return core::InvalidArgumentError("'columns' must be a list");
    for (const auto& name : *columns) {
      names.push_back(name.is_string() ? name.get<std::string>() : name.dump());
    }
  }
  if (signature.columns.empty()) {
    if (columns != nullptr && static_cast<int64_t>(names.size()) != width) {
      return core::InvalidArgumentError(
          fmt::format("{} columns sent; this model takes {} values per row", names.size(), width));
    }
    return RowsFromJson(data, signature);
  }
  if (columns == nullptr) {
    return core::InvalidArgumentError(
        fmt::format("'columns' is required; the model's signature expects columns {}",
                    ColumnList(signature.columns)));
  }
  MLFORGE_ASSIGN_OR_RETURN(std::vector<size_t> order, MatchColumns(names, signature));
  Matrix matrix(static_cast<int64_t>(data.size()), width);
  for (size_t row = 0; row < data.size(); ++row) {
    const Json& item = data[row];
    if (!item.is_array() || item.size() != names.size()) {
      return core::InvalidArgumentError(
          fmt::format("row {} must be a list of {} values, one per column", row, names.size()));
    }
    for (size_t column = 0; column < order.size(); ++column) {
      MLFORGE_ASSIGN_OR_RETURN(matrix.At(static_cast<int64_t>(row), static_cast<int64_t>(column)),
                               ScalarValue(item[order[column]], [&] {
                                 return fmt::format("row {} column '{}'", row,
                                                    signature.columns[column]);
                               }));
    }
  }
  return matrix;
}

namespace {

// A cursor over JSON text for FastRowsFromDataframeSplit: every method
// answers false when the text is not what it expects.
class FastReader {
 public:
  explicit FastReader(std::string_view text) : text_(text) {}

  void SkipSpace() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t')) {
      ++at_;
    }
  }
  bool Take(char wanted) {
    SkipSpace();
    if (at_ >= text_.size() || text_[at_] != wanted) return false;
    ++at_;
    return true;
  }
  bool Peek(char wanted) {
    SkipSpace();
    return at_ < text_.size() && text_[at_] == wanted;
  }
  bool AtEnd() {
    SkipSpace();
    return at_ == text_.size();
  }
  // A string without escapes or control characters.
  bool String(std::string_view* out) {
    if (!Take('"')) return false;
    const size_t start = at_;
    while (at_ < text_.size() && text_[at_] != '"') {
      if (text_[at_] == '\\' || static_cast<unsigned char>(text_[at_]) < 0x20) return false;
      ++at_;
    }
    if (at_ >= text_.size()) return false;
    *out = text_.substr(start, at_ - start);
    ++at_;
    return true;
  }
  // A JSON number (strict grammar), as a double rounded to float.
  bool Number(float* out) {
    SkipSpace();
    const size_t start = at_;
    if (at_ < text_.size() && text_[at_] == '-') ++at_;
    if (at_ >= text_.size() || text_[at_] < '0' || text_[at_] > '9') return false;
    if (text_[at_] == '0' && at_ + 1 < text_.size() && text_[at_ + 1] >= '0' &&
        text_[at_ + 1] <= '9') {
      return false;  // a leading zero
    }
    double value = 0;
    auto [end, error] = std::from_chars(text_.data() + start, text_.data() + text_.size(), value);
    if (error != std::errc()) return false;
    const char last = *(end - 1);
    if (last == '.' || last == 'e' || last == 'E' || last == '+' || last == '-') return false;
    at_ = static_cast<size_t>(end - text_.data());
    *out = static_cast<float>(value);
    return true;
  }
  // Skips a list of numbers or strings (a frame's "index").
  bool SkipFlatList() {
    if (!Take('[')) return false;
    if (Take(']')) return true;
    do {
      float number = 0;
      std::string_view name;
      if (!(Peek('"') ? String(&name) : Number(&number))) return false;
    } while (Take(','));
    return Take(']');
  }

 private:
  std::string_view text_;
  size_t at_ = 0;
};

}  // namespace

std::optional<Matrix> FastRowsFromDataframeSplit(std::string_view body,
                                                 const ModelSignature& signature) {
  FastReader reader(body);
  std::string_view key;
  if (!reader.Take('{') || !reader.String(&key) || key != "dataframe_split" || !reader.Take(':') ||
      !reader.Take('{')) {
    return std::nullopt;
  }
  const int64_t width = signature.row_width();
  std::vector<std::string_view> names;
  bool have_columns = false;
  bool have_data = false;
  std::vector<float> values;
  int64_t rows = 0;
  do {
    if (!reader.String(&key) || !reader.Take(':')) return std::nullopt;
    if (key == "columns" && !have_columns) {
      have_columns = true;
      if (!reader.Take('[')) return std::nullopt;
      if (!reader.Take(']')) {
        do {
          std::string_view name;
          if (!reader.String(&name)) return std::nullopt;
          names.push_back(name);
        } while (reader.Take(','));
        if (!reader.Take(']')) return std::nullopt;
      }
    } else if (key == "data" && !have_data) {
      have_data = true;
      if (!reader.Take('[')) return std::nullopt;
      if (!reader.Take(']')) {
        do {
          if (!reader.Take('[')) return std::nullopt;
          int64_t count = 0;
          if (!reader.Take(']')) {
            do {
              float value = 0;
              if (!reader.Number(&value)) return std::nullopt;
              values.push_back(value);
              ++count;
            } while (reader.Take(','));
            if (!reader.Take(']')) return std::nullopt;
          }
          if (count != width) return std::nullopt;
          ++rows;
        } while (reader.Take(','));
        if (!reader.Take(']')) return std::nullopt;
      }
    } else if (key == "index") {
      if (!reader.SkipFlatList()) return std::nullopt;
    } else {
      return std::nullopt;
    }
  } while (reader.Take(','));
  if (!reader.Take('}') || !reader.Take('}') || !reader.AtEnd()) return std::nullopt;
  if (!have_data || !have_columns || rows == 0) return std::nullopt;
  if (static_cast<int64_t>(names.size()) != width) return std::nullopt;
  Matrix matrix(rows, width);
  if (signature.columns.empty()) {
    matrix.values = std::move(values);
    return matrix;
  }
  // A tabular model: columns by name; anything but an exact match of the
  // signature's columns goes the general way for its error message.
  std::vector<std::string> owned(names.begin(), names.end());
  auto order = MatchColumns(owned, signature);
  if (!order.ok()) return std::nullopt;
  for (int64_t row = 0; row < rows; ++row) {
    for (size_t column = 0; column < order->size(); ++column) {
      matrix.At(row, static_cast<int64_t>(column)) =
          values[static_cast<size_t>(row * width) + (*order)[column]];
    }
  }
  return matrix;
}

core::Result<Matrix> RowsFromColumnar(const Json& columns, const ModelSignature& signature) {
  if (!columns.is_object()) return core::InvalidArgumentError("expected an object of columns");
  if (signature.columns.empty()) {
    if (columns.size() != 1 || !columns.contains(signature.input.name)) {
      return core::InvalidArgumentError(fmt::format(
          "this model has one input named '{}'; send {{\"{}\": [rows...]}} or a list of rows",
          signature.input.name, signature.input.name));
    }
    return RowsFromJson(columns[signature.input.name], signature);
  }
  std::vector<std::string> names;
  for (const auto& [name, value] : columns.items()) names.push_back(name);
  MLFORGE_ASSIGN_OR_RETURN(std::vector<size_t> order, MatchColumns(names, signature));
  int64_t rows = -1;
  std::vector<std::vector<float>> values(order.size());
  for (size_t column = 0; column < order.size(); ++column) {
    const std::string& name = signature.columns[column];
    if (auto status = FlattenNumbers(columns[name], &values[column]); !status.ok()) {
      return core::InvalidArgumentError(fmt::format("column '{}': {}", name, status.message()));
    }
    const auto count = static_cast<int64_t>(values[column].size());
    if (rows >= 0 && count != rows) {
      return core::InvalidArgumentError(
          fmt::format("column '{}' has {} values but column '{}' has {}", name, count,
                      signature.columns[0], rows));
    }
    rows = count;
  }
  Matrix matrix(rows, static_cast<int64_t>(order.size()));
  for (size_t column = 0; column < values.size(); ++column) {
    for (int64_t row = 0; row < rows; ++row) {
      matrix.At(row, static_cast<int64_t>(column)) = values[column][static_cast<size_t>(row)];
    }
  }
  return matrix;
}

core::Result<Matrix> RowsFromCsv(std::string_view text, const ModelSignature& signature) {
  auto split = [](std::string_view line) {
    std::vector<std::string> cells;
    size_t start = 0;
    while (true) {
      size_t comma = line.find(',', start);
      std::string_view cell =
          line.substr(start, comma == std::string_view::npos ? line.npos : comma - start);
      while (!cell.empty() && (cell.front() == ' ' || cell.front() == '"')) cell.remove_prefix(1);
      while (!cell.empty() && (cell.back() == ' ' || cell.back() == '"' || cell.back() == '\r')) {
        cell.remove_suffix(1);
      }
      cells.emplace_back(cell);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return cells;
  };
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line != "\r") lines.push_back(line);
    start = end + 1;
  }
  if (lines.empty())
    return core::InvalidArgumentError("the CSV body is empty; send a header row and rows");
  std::vector<std::string> header = split(lines[0]);
  const int64_t width = signature.row_width();
  std::vector<size_t> order;
  if (signature.columns.empty()) {
    if (static_cast<int64_t>(header.size()) != width) {
      return core::InvalidArgumentError(
          fmt::format("the CSV header has {} columns; this model takes {} values per row",
                      header.size(), width));
    }
    for (size_t index = 0; index < header.size(); ++index) order.push_back(index);
  } else {
    MLFORGE_ASSIGN_OR_RETURN(order, MatchColumns(header, signature));
  }
  Matrix matrix(static_cast<int64_t>(lines.size() - 1), width);
  for (size_t line = 1; line < lines.size(); ++line) {
    std::vector<std::string> cells = split(lines[line]);
    if (cells.size() != header.size()) {
      return core::InvalidArgumentError(fmt::format("CSV line {} has {} cells, the header {}",
                                                    line + 1, cells.size(), header.size()));
    }
    for (size_t column = 0; column < order.size(); ++column) {
      const std::string& cell = cells[order[column]];
      char* end = nullptr;
      float value = std::strtof(cell.c_str(), &end);
      if (cell.empty() || end != cell.c_str() + cell.size()) {
        return core::InvalidArgumentError(
            fmt::format("CSV line {} column '{}': '{}' is not a number", line + 1,
                        header[order[column]], cell));
      }
      matrix.At(static_cast<int64_t>(line - 1), static_cast<int64_t>(column)) = value;
    }
  }
  return matrix;
}

Json OutputRow(const Matrix& outputs, int64_t row) {
  if (outputs.cols == 1) return outputs.At(row, 0);
  Json values = Json::array();
  for (int64_t col = 0; col < outputs.cols; ++col) values.push_back(outputs.At(row, col));
  return values;
}

Json PredictionForRow(const ModelSignature& signature, const Matrix& outputs, int64_t row) {
  if (signature.classifier) return ArgMax(outputs, row);
  return OutputRow(outputs, row);
}

Json Predictions(const ModelSignature& signature, const Matrix& outputs) {
  Json list = Json::array();
  for (int64_t row = 0; row < outputs.rows; ++row) {
    list.push_back(PredictionForRow(signature, outputs, row));
  }
  return list;
}

}  // namespace mlforge::serving
