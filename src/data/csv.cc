#include "data/csv.h"

#include <charconv>
#include <cmath>
#include <set>
#include <vector>

#include "core/file.h"

namespace mlforge::data {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits one line into fields, honouring double-quoted fields. `where` prefixes
// errors ("file:line").
core::Status SplitLine(std::string_view line, const std::string& where,
                       std::vector<std::string>& fields) {
  fields.clear();
  size_t position = 0;
  while (true) {
    // Skip leading blanks of the field.
    while (position < line.size() && (line[position] == ' ' || line[position] == '\t')) ++position;
    std::string field;
    if (position < line.size() && line[position] == '"') {
      ++position;
      bool closed = false;
      while (position < line.size()) {
        char c = line[position++];
        if (c == '"') {
          if (position < line.size() && line[position] == '"') {
            field.push_back('"');
            ++position;
          } else {
            closed = true;
            break;
          }
        } else {
          field.push_back(c);
        }
      }
      if (!closed) {
        return core::InvalidArgumentError(where + ": unterminated quoted field " +
                                          std::to_string(fields.size() + 1));
      }
      while (position < line.size() && (line[position] == ' ' || line[position] == '\t'))
        ++position;
      if (position < line.size() && line[position] != ',') {
        return core::InvalidArgumentError(where +
                                          ": unexpected text after the closing quote of field " +
                                          std::to_string(fields.size() + 1));
      }
    } else {
      size_t end = line.find(',', position);
      if (end == std::string_view::npos) end = line.size();
      field = std::string(Trim(line.substr(position, end - position)));
      position = end;
    }
    fields.push_back(std::move(field));
    if (position >= line.size()) break;
    ++position;                     // the comma
    if (position == line.size()) {  // a trailing comma: one more, empty field
      fields.emplace_back();
      break;
    }
  }
  return core::Status::Ok();
}

std::string ColumnText(const std::vector<std::string>& header, size_t column) {
  return "column " + std::to_string(column + 1) + " (\"" + header[column] + "\")";
}

}  // namespace

core::Result<Dataset> ParseCsv(std::string_view text, const std::string& label_column,
                               const std::string& source_name, LabelKind label_kind) {
  std::vector<std::string> header;
  std::vector<std::string> fields;
  int64_t label_index = -1;
  Dataset dataset;
  int64_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Trim(line).empty()) continue;
    const std::string where = source_name + ":" + std::to_string(line_number);
    MLFORGE_RETURN_IF_ERROR(SplitLine(line, where, fields));

    if (header.empty()) {
      header = fields;
      std::set<std::string> seen;
      for (size_t column = 0; column < header.size(); ++column) {
        if (header[column].empty()) {
          return core::InvalidArgumentError(where + ": column " + std::to_string(column + 1) +
                                            " of the header has no name");
        }
        if (!seen.insert(header[column]).second) {
          return core::InvalidArgumentError(where + ": duplicate column name \"" + header[column] +
                                            "\" in the header");
        }
        if (header[column] == label_column) label_index = static_cast<int64_t>(column);
      }
      if (!label_column.empty() && label_index < 0) {
        std::string names;
        for (const std::string& name : header) {
          if (!names.empty()) names += ", ";
          names += name;
        }
        return core::InvalidArgumentError(source_name + ": label column \"" + label_column +
                                          "\" is not in the header (columns: " + names + ")");
      }
      for (size_t column = 0; column < header.size(); ++column) {
        if (static_cast<int64_t>(column) != label_index)
          dataset.feature_names.push_back(header[column]);
      }
      if (dataset.feature_names.empty()) {
        return core::InvalidArgumentError(
            where + ": the header has no feature column besides the label column \"" +
            label_column + "\"");
      }
      continue;
    }

    if (fields.size() != header.size()) {
      return core::InvalidArgumentError(where + ": expected " + std::to_string(header.size()) +
                                        " fields (as in the header), found " +
                                        std::to_string(fields.size()));
    }
    for (size_t column = 0; column < fields.size(); ++column) {
      const std::string& field = fields[column];
      if (field.empty()) {
        return core::InvalidArgumentError(where + ": " + ColumnText(header, column) + " is empty");
      }
      const char* first = field.data();
      const char* last = field.data() + field.size();
      if (static_cast<int64_t>(column) == label_index && label_kind == LabelKind::kClass) {
        int64_t label = 0;
        auto [pointer, error] = std::from_chars(first, last, label);
        if (error != std::errc() || pointer != last || label < 0) {
          return core::InvalidArgumentError(where + ": " + ColumnText(header, column) +
                                            ": label \"" + field +
                                            "\" is not a non-negative integer class index");
        }
        dataset.labels.push_back(label);
        continue;
      }
      // from_chars rejects a leading plus sign, which CSV writers may emit.
      if (field.size() > 1 && field[0] == '+' && field[1] != '-') ++first;
      double value = 0;
      auto [pointer, error] = std::from_chars(first, last, value);
      if (error != std::errc() || pointer != last || first == last) {
        return core::InvalidArgumentError(where + ": " + ColumnText(header, column) + ": value \"" +
                                          field + "\" is not a number");
      }
      if (!std::isfinite(value) || std::fabs(value) > 3.4e38) {
        return core::InvalidArgumentError(where + ": " + ColumnText(header, column) + ": value \"" +
                                          field + "\" is not a finite 32-bit float");
      }
      if (static_cast<int64_t>(column) == label_index) {
        dataset.targets.push_back(static_cast<float>(value));
      } else {
        dataset.features.push_back(static_cast<float>(value));
      }
    }
  }
  if (header.empty()) {
    return core::InvalidArgumentError(source_name + ": no header row (the file is empty)");
  }
  dataset.feature_shape = {static_cast<int64_t>(dataset.feature_names.size())};
  return dataset;
}

core::Result<Dataset> ReadCsv(const std::filesystem::path& path, const std::string& label_column,
                              LabelKind label_kind) {
  MLFORGE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  return ParseCsv(text, label_column, path.string(), label_kind);
}

}  // namespace mlforge::data
