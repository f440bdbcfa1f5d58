#include "registry/search_filter.h"

#include <cctype>
#include <charconv>
#include <set>

namespace mlforge::registry {

namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-' ||
         static_cast<unsigned char>(c) >= 0x80;
}

std::string Upper(std::string_view text) {
  std::string out;
  for (char c : text) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Removes one pair of surrounding backquotes or double quotes.
std::string StripQuotes(std::string_view text) {
  if (text.size() >= 2 && ((text.front() == '`' && text.back() == '`') ||
                           (text.front() == '"' && text.back() == '"'))) {
    return std::string(text.substr(1, text.size() - 2));
  }
  return std::string(text);
}

enum class SearchKind { kRegisteredModels, kModelVersions };

// A cursor over the filter text. Every Read* skips leading blanks.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void SkipBlanks() {
    while (position_ < text_.size() && IsSpace(text_[position_])) ++position_;
  }
  bool AtEnd() {
    SkipBlanks();
    return position_ >= text_.size();
  }
  size_t position() const { return position_; }

  // The identifier on the left of a comparison, as written (quotes kept).
  core::Result<std::string> ReadIdentifier() {
    SkipBlanks();
    size_t start = position_;
    while (position_ < text_.size()) {
      char c = text_[position_];
      if (c == '`' || c == '"') {
        size_t close = text_.find(c, position_ + 1);
        if (close == std::string_view::npos) {
          return Error("Unterminated quoted identifier", start);
        }
        position_ = close + 1;
      } else if (IsWordChar(c)) {
        ++position_;
      } else {
        break;
      }
    }
    if (position_ == start) return Error("Expected an identifier", start);
    return std::string(text_.substr(start, position_ - start));
  }

  core::Result<FilterComparator> ReadComparator() {
    SkipBlanks();
    size_t start = position_;
    auto take = [this](std::string_view symbol) {
      if (text_.substr(position_, symbol.size()) == symbol) {
        position_ += symbol.size();
        return true;
      }
      return false;
    };
    if (take("!=")) return FilterComparator::kNotEqual;
    if (take(">=")) return FilterComparator::kGreaterEqual;
    if (take("<=")) return FilterComparator::kLessEqual;
    if (take("=")) return FilterComparator::kEqual;
    if (take(">")) return FilterComparator::kGreater;
    if (take("<")) return FilterComparator::kLess;
    while (position_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[position_]))) {
      ++position_;
    }
    std::string word = Upper(text_.substr(start, position_ - start));
    if (word == "LIKE") return FilterComparator::kLike;
    if (word == "ILIKE") return FilterComparator::kILike;
    if (word == "IN") return FilterComparator::kIn;
    return Error("Invalid comparator '" + std::string(text_.substr(start, position_ - start)) + "'",
                 start);
  }

  // A quoted string; the opening quote is at the cursor. A backslash-escaped
  // or doubled quote stays in the value verbatim, as in MLflow.
  core::Result<std::string> ReadQuoted() {
    size_t start = position_;
    char quote = text_[position_++];
    while (position_ < text_.size()) {
      char c = text_[position_];
      if (c == '\\' && position_ + 1 < text_.size()) {
        position_ += 2;
      } else if (c == quote) {
        if (position_ + 1 < text_.size() && text_[position_ + 1] == quote) {
          position_ += 2;
        } else {
          ++position_;
          return std::string(text_.substr(start + 1, position_ - start - 2));
        }
      } else {
        ++position_;
      }
    }
    return Error("Unterminated string", start);
  }

  bool PeekQuote() {
    SkipBlanks();
    return position_ < text_.size() && (text_[position_] == '\'' || text_[position_] == '"');
  }
  bool PeekChar(char c) {
    SkipBlanks();
    return position_ < text_.size() && text_[position_] == c;
  }
  void Advance() { ++position_; }

  // ( 'a', 'b', ... ); the '(' is at the cursor.
  core::Result<std::vector<std::string>> ReadList() {
    size_t start = position_;
    ++position_;
    std::vector<std::string> values;
    while (true) {
      if (!PeekQuote()) {
        return Error("Expected a quoted string in the list", position_);
      }
      auto value = ReadQuoted();
      if (!value.ok()) return value.status();
      values.push_back(std::move(*value));
      if (PeekChar(',')) {
        Advance();
        continue;
      }
      if (PeekChar(')')) {
        Advance();
        return values;
      }
      return Error("Unterminated list", start);
    }
  }

  // A bare token: a number or a word.
  std::string ReadBare() {
    SkipBlanks();
    size_t start = position_;
    while (position_ < text_.size() && !IsSpace(text_[position_])) ++position_;
    return std::string(text_.substr(start, position_ - start));
  }

  // AND between comparisons.
  core::Status ReadAnd() {
    SkipBlanks();
    size_t start = position_;
    while (position_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[position_]))) {
      ++position_;
    }
    if (Upper(text_.substr(start, position_ - start)) != "AND" ||
        (position_ < text_.size() && !IsSpace(text_[position_]))) {
      return Error("Invalid clause(s) in filter string: '" + std::string(text_.substr(start)) +
                       "'; comparisons are joined by AND",
                   start);
    }
    return core::Status::Ok();
  }

  core::Status Error(const std::string& message, size_t at) const {
    return core::InvalidArgumentError(message + " at position " + std::to_string(at) +
                                      " of filter '" + std::string(text_) + "'");
  }

 private:
  std::string_view text_;
  size_t position_ = 0;
};

bool IsStringComparator(FilterComparator comparator) {
  return comparator == FilterComparator::kEqual || comparator == FilterComparator::kNotEqual ||
         comparator == FilterComparator::kLike || comparator == FilterComparator::kILike;
}

bool IsNumericComparator(FilterComparator comparator) {
  return comparator != FilterComparator::kLike && comparator != FilterComparator::kILike &&
         comparator != FilterComparator::kIn;
}

core::Result<FilterComparison> ParseComparison(Scanner& scanner, SearchKind kind) {
  MLFORGE_ASSIGN_OR_RETURN(std::string identifier, scanner.ReadIdentifier());
  FilterComparison comparison;
  // MLflow splits at the first dot: entity "." key.
  size_t dot = std::string::npos;
  for (size_t index = 0; index < identifier.size(); ++index) {
    char c = identifier[index];
    if (c == '`' || c == '"') {
      index = identifier.find(c, index + 1);
      if (index == std::string::npos) break;
    } else if (c == '.') {
      dot = index;
      break;
    }
  }
  std::string key_text = identifier;
  if (dot != std::string::npos) {
    std::string entity = StripQuotes(identifier.substr(0, dot));
    key_text = identifier.substr(dot + 1);
    if (entity == "tag" || entity == "tags") {
      comparison.entity = FilterEntity::kTag;
    } else if (entity == "attribute") {
      comparison.entity = FilterEntity::kAttribute;
    } else {
      return core::InvalidArgumentError("Invalid entity type '" + entity +
                                        "'. Valid entity types are ('attribute', 'tag', 'tags')");
    }
  }
  comparison.key = StripQuotes(key_text);
  const std::set<std::string> valid_attributes =
      kind == SearchKind::kRegisteredModels
          ? std::set<std::string>{"name"}
          : std::set<std::string>{"name", "version_number", "run_id", "source_path"};
  if (comparison.entity == FilterEntity::kAttribute && !valid_attributes.contains(comparison.key)) {
    std::string valid;
    for (const std::string& name : valid_attributes) valid += (valid.empty() ? "" : ", ") + name;
    return core::InvalidArgumentError("Invalid attribute key '" + comparison.key +
                                      "' specified. Valid keys are '{" + valid + "}'");
  }

  MLFORGE_ASSIGN_OR_RETURN(comparison.comparator, scanner.ReadComparator());
  std::string comparator_name(FilterComparatorName(comparison.comparator));
  bool numeric =
      comparison.entity == FilterEntity::kAttribute && comparison.key == "version_number";
  if (comparison.entity == FilterEntity::kTag) {
    if (!IsStringComparator(comparison.comparator)) {
      return core::InvalidArgumentError("Invalid comparator for tag: " + comparator_name);
    }
  } else if (numeric) {
    if (!IsNumericComparator(comparison.comparator)) {
      return core::InvalidArgumentError("Invalid comparator for attribute version_number: " +
                                        comparator_name);
    }
  } else if (!IsStringComparator(comparison.comparator) &&
             !(comparison.comparator == FilterComparator::kIn && comparison.key == "run_id")) {
    return core::InvalidArgumentError("Invalid comparator for attribute: " + comparator_name);
  }

  if (comparison.comparator == FilterComparator::kIn) {
    if (!scanner.PeekChar('(')) {
      return core::InvalidArgumentError(
          "Only the 'run_id' attribute supports comparison with a list of quoted string values; "
          "write run_id IN ('a', 'b')");
    }
    MLFORGE_ASSIGN_OR_RETURN(comparison.value, scanner.ReadList());
    return comparison;
  }
  if (scanner.PeekChar('(')) {
    return core::InvalidArgumentError(
        "Only the 'run_id' attribute supports comparison with a list of quoted string values.");
  }
  if (scanner.PeekQuote()) {
    MLFORGE_ASSIGN_OR_RETURN(std::string text, scanner.ReadQuoted());
    if (numeric) {
      int64_t number = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return core::InvalidArgumentError("version_number must be compared with an integer, got '" +
                                          text + "'");
      }
      comparison.value = number;
    } else {
      comparison.value = std::move(text);
    }
    return comparison;
  }
  std::string bare = scanner.ReadBare();
  int64_t number = 0;
  auto [end, error] = std::from_chars(bare.data(), bare.data() + bare.size(), number);
  bool is_integer = !bare.empty() && error == std::errc() && end == bare.data() + bare.size();
  if (numeric && is_integer) {
    comparison.value = number;
    return comparison;
  }
  if (is_integer) {
    return core::InvalidArgumentError(
        "Only the 'version_number' attribute supports comparison with numeric values.");
  }
  if (comparison.entity == FilterEntity::kTag) {
    return core::InvalidArgumentError(
        "Expected a quoted string value for tag (e.g. 'my-value'). Got value " + bare);
  }
  return core::InvalidArgumentError(
      "Expected a quoted string value or a list of quoted string values for attributes. Got "
      "value " +
      bare);
}

core::Result<RegistryFilter> ParseFilter(std::string_view filter, SearchKind kind) {
  RegistryFilter parsed;
  Scanner scanner(filter);
  if (scanner.AtEnd()) return parsed;
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(FilterComparison comparison, ParseComparison(scanner, kind));
    parsed.comparisons.push_back(std::move(comparison));
    if (scanner.AtEnd()) return parsed;
    MLFORGE_RETURN_IF_ERROR(scanner.ReadAnd());
  }
}

core::Result<RegistryOrderBy> ParseOrderBy(std::string_view clause, SearchKind kind) {
  Scanner scanner(clause);
  if (scanner.AtEnd()) return core::InvalidArgumentError("Invalid order_by clause ''");
  MLFORGE_ASSIGN_OR_RETURN(std::string identifier, scanner.ReadIdentifier());
  RegistryOrderBy order_by;
  for (std::string_view prefix : {"attribute.", "attributes.", "attr."}) {
    if (identifier.starts_with(prefix)) {
      identifier = identifier.substr(prefix.size());
      break;
    }
  }
  std::string key = StripQuotes(identifier);
  if (kind == SearchKind::kRegisteredModels && key == "timestamp") key = "last_updated_timestamp";
  const std::set<std::string> valid =
      kind == SearchKind::kRegisteredModels
          ? std::set<std::string>{"name", "creation_timestamp", "last_updated_timestamp"}
          : std::set<std::string>{"name", "version_number", "creation_timestamp",
                                  "last_updated_timestamp"};
  if (!valid.contains(key)) {
    std::string names;
    for (const std::string& name : valid) names += (names.empty() ? "" : ", ") + name;
    return core::InvalidArgumentError("Invalid order by key '" + key +
                                      "' specified. Valid keys are {" + names + "}");
  }
  order_by.key = key;
  if (!scanner.AtEnd()) {
    std::string direction = Upper(scanner.ReadBare());
    if (direction == "DESC") {
      order_by.ascending = false;
    } else if (direction != "ASC") {
      return core::InvalidArgumentError("Invalid order_by clause '" + std::string(clause) +
                                        "': the direction must be ASC or DESC");
    }
    if (!scanner.AtEnd()) {
      return core::InvalidArgumentError("Invalid order_by clause '" + std::string(clause) + "'");
    }
  }
  return order_by;
}

}  // namespace

std::string_view FilterComparatorName(FilterComparator comparator) {
  switch (comparator) {
    case FilterComparator::kEqual:
      return "=";
    case FilterComparator::kNotEqual:
      return "!=";
    case FilterComparator::kGreater:
      return ">";
    case FilterComparator::kGreaterEqual:
      return ">=";
    case FilterComparator::kLess:
      return "<";
    case FilterComparator::kLessEqual:
      return "<=";
    case FilterComparator::kLike:
      return "LIKE";
    case FilterComparator::kILike:
      return "ILIKE";
    case FilterComparator::kIn:
      return "IN";
  }
  return "=";
}

core::Result<RegistryFilter> ParseRegisteredModelFilter(std::string_view filter) {
  return ParseFilter(filter, SearchKind::kRegisteredModels);
}

core::Result<RegistryFilter> ParseModelVersionFilter(std::string_view filter) {
  return ParseFilter(filter, SearchKind::kModelVersions);
}

core::Result<RegistryOrderBy> ParseRegisteredModelOrderBy(std::string_view clause) {
  return ParseOrderBy(clause, SearchKind::kRegisteredModels);
}

core::Result<RegistryOrderBy> ParseModelVersionOrderBy(std::string_view clause) {
  return ParseOrderBy(clause, SearchKind::kModelVersions);
}

}  // namespace mlforge::registry
