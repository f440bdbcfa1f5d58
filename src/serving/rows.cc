#include "serving/rows.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
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
    if (ShortDecimal(out)) return true;
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
  // The common case fast: up to 15 significant digits with an optional
  // fraction and no exponent ("0", "255", "-0.5"), which the double
  // arithmetic below gets exactly as from_chars would (the mantissa and the
  // power of ten are both exact doubles, so the one division rounds once).
  // False, consuming nothing, for anything else, which Number() then parses
  // the general way.
  bool ShortDecimal(float* out) {
    static constexpr double kPowersOfTen[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                              1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const char* p = text_.data() + at_;
    const char* const end = text_.data() + text_.size();
    const bool negative = p != end && *p == '-';
    if (negative) ++p;
    const char* const integer = p;
    uint64_t mantissa = 0;
    while (p != end && static_cast<unsigned char>(*p - '0') < 10) {
      mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
      ++p;
    }
    const ptrdiff_t integer_digits = p - integer;
    if (integer_digits == 0 || (integer_digits > 1 && *integer == '0')) return false;
    ptrdiff_t fraction_digits = 0;
    if (p != end && *p == '.') {
      const char* const fraction = ++p;
      while (p != end && static_cast<unsigned char>(*p - '0') < 10) {
        mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
        ++p;
      }
      fraction_digits = p - fraction;
      if (fraction_digits == 0) return false;
    }
    if (integer_digits + fraction_digits > 15 || (p != end && (*p == 'e' || *p == 'E'))) {
      return false;
    }
    double value = static_cast<double>(mantissa);
    if (fraction_digits > 0) value /= kPowersOfTen[fraction_digits];
    *out = static_cast<float>(negative ? -value : value);
    at_ = static_cast<size_t>(p - text_.data());
    return true;
  }

  // The numbers of a list whose '[' was just taken, through its ']', written
  // at *out (advanced past them; never beyond `limit`) and counted in
  // *count. The loop keeps its cursor and output in locals, so the common
  // cell (see ShortInteger) costs a handful of instructions.
  bool NumberList(float** out, float* const limit, int64_t* count) {
    if (Take(']')) return true;
    const char* const begin = text_.data();
    const char* const end = begin + text_.size();
    const char* p = begin + at_;
    float* dst = *out;
    while (true) {
      while (p != end && *p == ' ') ++p;  // Python's json.dumps writes ", "
      if (dst == limit) return false;
      unsigned length = 0;
      if (end - p >= 4 && ShortInteger(p, dst, &length)) {
        p += length;
      } else {
        at_ = static_cast<size_t>(p - begin);
        if (!Number(dst)) return false;
        p = begin + at_;
      }
      ++dst;
      if (p != end && *p == ',') {  // the usual separator
        ++p;
        continue;
      }
      at_ = static_cast<size_t>(p - begin);
      if (Take(',')) {
        p = begin + at_;
        continue;
      }
      if (!Take(']')) return false;
      break;
    }
    *count += dst - *out;
    *out = dst;
    return true;
  }

  // The commonest cell, fastest: a plain integer of up to 3 digits right
  // before ',' or ']' (pixel values, counts, categories) at `p`, which has
  // at least 4 bytes left. Read without a data-dependent branch: the digit
  // count comes from the first bytes at once, so mixing 0, 84 and 255 costs
  // no mispredictions. False otherwise (Number() then takes it). A float
  // holds such an integer exactly, as from_chars-then-float makes it.
  static bool ShortInteger(const char* p, float* out, unsigned* length) {
    const auto c0 = static_cast<unsigned>(static_cast<unsigned char>(p[0])) - '0';
    const auto c1 = static_cast<unsigned>(static_cast<unsigned char>(p[1])) - '0';
    const auto c2 = static_cast<unsigned>(static_cast<unsigned char>(p[2])) - '0';
    const unsigned d0 = c0 < 10;
    const unsigned d01 = d0 & (c1 < 10);
    const unsigned d012 = d01 & (c2 < 10);
    const unsigned digits = d0 + d01 + d012;  // 0..3 leading digits
    const char after = p[digits];
    // One test for the rare cases: no digit, a fourth digit or anything else
    // after the number, or a leading zero.
    if (digits == 0 || (after != ',' && after != ']') || (digits > 1 && c0 == 0)) return false;
    const unsigned two = c0 * 10 + c1;
    const unsigned value = digits == 1 ? c0 : (digits == 2 ? two : two * 10 + c2);
    *out = static_cast<float>(value);
    *length = digits;
    return true;
  }

  // Bytes not read yet.
  size_t remaining() const { return text_.size() - at_; }

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
      // Every value takes at least two bytes of text ("0," or "0]"), so
      // this bounds the values to come: one allocation, never a regrowth.
      values.resize(reader.remaining() / 2 + 1);
      float* next = values.data();
      float* const limit = values.data() + values.size();
      if (!reader.Take('[')) return std::nullopt;
      if (!reader.Take(']')) {
        do {
          if (!reader.Take('[')) return std::nullopt;
          int64_t count = 0;
          if (!reader.NumberList(&next, limit, &count) || count != width) return std::nullopt;
          ++rows;
        } while (reader.Take(','));
        if (!reader.Take(']')) return std::nullopt;
      }
      values.resize(static_cast<size_t>(next - values.data()));
    } else if (key == "index") {
      if (!reader.SkipFlatList()) return std::nullopt;
    } else {
      return std::nullopt;
    }
  } while (reader.Take(','));
  if (!reader.Take('}') || !reader.Take('}') || !reader.AtEnd()) return std::nullopt;
  if (!have_data || !have_columns || rows == 0) return std::nullopt;
  if (static_cast<int64_t>(names.size()) != width) return std::nullopt;
  // The common case: a tensor model, or the signature's columns in its own
  // order (what a client built from the signature sends). No reordering.
  if (signature.columns.empty() ||
      std::equal(names.begin(), names.end(), signature.columns.begin(), signature.columns.end())) {
    Matrix matrix;
    matrix.rows = rows;
    matrix.cols = width;
    matrix.values = std::move(values);
    return matrix;
  }
  Matrix matrix(rows, width);
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
