#include "tracking/search_filter.h"

#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace mlforge::tracking {

namespace {

// ---------------------------------------------------------------------------
// Lexer

enum class TokenKind {
  kIdentifier,  // one or more parts joined by '.', each bare, `back` or "double" quoted
  kString,      // 'single quoted'
  kNumber,
  kOperator,  // = == != <> < <= > >=
  kKeyword,   // AND LIKE ILIKE IN NOT IS NULL ASC DESC (upper-cased in `value`)
  kLeftParen,
  kRightParen,
  kComma,
  kEnd,
};

struct IdentifierPart {
  std::string text;  // without quotes
  char quote = 0;    // 0, '`' or '"'
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t position = 0;
  std::string source;  // the token as written
  std::string value;   // string contents, keyword, operator
  double number = 0;
  bool integral = false;  // a number written without '.' or exponent
  std::vector<IdentifierPart> parts;
};

constexpr std::array<std::string_view, 9> kKeywords = {"AND", "LIKE", "ILIKE", "IN",  "NOT",
                                                       "IS",  "NULL", "ASC",   "DESC"};

bool IsWordByte(char c) {
  unsigned char byte = static_cast<unsigned char>(c);
  return std::isalnum(byte) || byte == '_' || byte >= 0x80;
}

bool IsWordStart(char c) {
  unsigned char byte = static_cast<unsigned char>(c);
  return std::isalpha(byte) || byte == '_' || byte >= 0x80;
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Shown(std::string_view text) {
  constexpr size_t kMaxShown = 80;
  if (text.size() <= kMaxShown) return std::string(text);
  return std::string(text.substr(0, kMaxShown)) + "...";
}

core::Status ErrorAt(size_t position, const std::string& message) {
  return core::InvalidArgumentError(message + " (at position " + std::to_string(position) + ")");
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  core::Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
      if (at_ >= text_.size()) break;
      Token token;
      MLFORGE_RETURN_IF_ERROR(Next(&token));
      tokens.push_back(std::move(token));
    }
    Token end;
    end.kind = TokenKind::kEnd;
    end.position = text_.size();
    tokens.push_back(std::move(end));
    return tokens;
  }

 private:
  // Reads a quoted run starting at at_ (which is the opening quote) and
  // returns its inner text verbatim. A doubled quote or a backslash-escaped
  // quote does not end it.
  core::Result<std::string> ReadQuoted() {
    char quote = text_[at_];
    size_t start = at_;
    size_t index = at_ + 1;
    while (index < text_.size()) {
      char c = text_[index];
      if (c == '\\' && index + 1 < text_.size()) {
        index += 2;
        continue;
      }
      if (c == quote) {
        if (quote != '`' && index + 1 < text_.size() && text_[index + 1] == quote) {
          index += 2;
          continue;
        }
        at_ = index + 1;
        return std::string(text_.substr(start + 1, index - start - 1));
      }
      ++index;
    }
    return ErrorAt(start, "Invalid filter: the quoted text starting with " +
                              Shown(text_.substr(start, 20)) + " is never closed");
  }

  bool NumberStartsAt(size_t index) const {
    auto digit = [this](size_t i) {
      return i < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i]));
    };
    if (digit(index)) return true;
    if (index < text_.size() && text_[index] == '.' && digit(index + 1)) return true;
    if (index < text_.size() && text_[index] == '-') {
      return digit(index + 1) ||
             (index + 1 < text_.size() && text_[index + 1] == '.' && digit(index + 2));
    }
    return false;
  }

  core::Status Next(Token* token) {
    token->position = at_;
    size_t start = at_;
    char c = text_[at_];
    if (c == '\'') {
      token->kind = TokenKind::kString;
      MLFORGE_ASSIGN_OR_RETURN(token->value, ReadQuoted());
    } else if (NumberStartsAt(at_)) {
      MLFORGE_RETURN_IF_ERROR(ReadNumber(token));
    } else if (IsWordStart(c) || c == '"' || c == '`') {
      MLFORGE_RETURN_IF_ERROR(ReadIdentifier(token));
    } else if (c == '(' || c == ')' || c == ',') {
      token->kind = c == '('   ? TokenKind::kLeftParen
                    : c == ')' ? TokenKind::kRightParen
                               : TokenKind::kComma;
      ++at_;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '=' || (c == '<' && text_[at_] == '>'))) {
        ++at_;
      }
      token->kind = TokenKind::kOperator;
      token->value = std::string(text_.substr(start, at_ - start));
      if (token->value == "!") {
        return ErrorAt(start, "Invalid clause(s) in filter string: '!'. Use '!=' for not equal");
      }
    } else {
      return ErrorAt(start, "Invalid clause(s) in filter string: '" +
                                Shown(text_.substr(start, 1)) +
                                "'. A filter is comparisons joined by AND, such as "
                                "metrics.acc > 0.9 and params.lr = '0.01'");
    }
    token->source = std::string(text_.substr(start, at_ - start));
    return core::Status::Ok();
  }

  core::Status ReadNumber(Token* token) {
    size_t start = at_;
    bool integral = true;
    if (text_[at_] == '-') ++at_;
    auto digits = [this] {
      while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
    };
    digits();
    if (at_ < text_.size() && text_[at_] == '.') {
      integral = false;
      ++at_;
      digits();
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      size_t exponent = at_ + 1;
      if (exponent < text_.size() && (text_[exponent] == '+' || text_[exponent] == '-')) {
        ++exponent;
      }
      if (exponent < text_.size() && std::isdigit(static_cast<unsigned char>(text_[exponent]))) {
        integral = false;
        at_ = exponent;
        digits();
      }
    }
    if (at_ < text_.size() && (IsWordByte(text_[at_]) || text_[at_] == '.')) {
      size_t end = at_;
      while (end < text_.size() && (IsWordByte(text_[end]) || text_[end] == '.')) ++end;
      return ErrorAt(start, "Invalid clause(s) in filter string: '" +
                                Shown(text_.substr(start, end - start)) +
                                "'. A name that starts with a digit must be quoted, "
                                "e.g. metrics.`2nd-loss`");
    }
    std::string literal(text_.substr(start, at_ - start));
    errno = 0;
    char* end = nullptr;
    double number = std::strtod(literal.c_str(), &end);
    if (end != literal.c_str() + literal.size() || std::isinf(number)) {
      return ErrorAt(start, "Invalid number '" + Shown(literal) + "' in filter string");
    }
    token->kind = TokenKind::kNumber;
    token->number = number;
    token->integral = integral;
    token->value = literal;
    return core::Status::Ok();
  }

  core::Status ReadIdentifier(Token* token) {
    token->kind = TokenKind::kIdentifier;
    while (true) {
      IdentifierPart part;
      char c = text_[at_];
      if (c == '"' || c == '`') {
        part.quote = c;
        MLFORGE_ASSIGN_OR_RETURN(part.text, ReadQuoted());
      } else {
        size_t start = at_;
        while (at_ < text_.size() && IsWordByte(text_[at_])) ++at_;
        part.text = std::string(text_.substr(start, at_ - start));
      }
      token->parts.push_back(std::move(part));
      // Continue over ".part" only when a part follows the dot directly.
      if (at_ + 1 < text_.size() && text_[at_] == '.' &&
          (IsWordByte(text_[at_ + 1]) || text_[at_ + 1] == '"' || text_[at_ + 1] == '`')) {
        ++at_;
        continue;
      }
      break;
    }
    if (token->parts.size() == 1 && token->parts[0].quote == 0) {
      std::string upper = Upper(token->parts[0].text);
      for (std::string_view keyword : kKeywords) {
        if (upper == keyword) {
          token->kind = TokenKind::kKeyword;
          token->value = upper;
          token->parts.clear();
          break;
        }
      }
    }
    return core::Status::Ok();
  }

  std::string_view text_;
  size_t at_ = 0;
};

// ---------------------------------------------------------------------------
// Identifiers and their meaning

enum class Grammar { kRuns, kExperiments, kLoggedModels };

struct SearchKey {
  FilterEntity entity;
  std::string key;
};

std::string Describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "the end of the filter";
    default:
      return "'" + Shown(token.source) + "'";
  }
}

std::optional<FilterEntity> RunEntityFromName(std::string_view name) {
  if (name == "metric" || name == "metrics") return FilterEntity::kMetric;
  if (name == "parameter" || name == "parameters" || name == "param" || name == "params") {
    return FilterEntity::kParam;
  }
  if (name == "tag" || name == "tags") return FilterEntity::kTag;
  if (name == "attribute" || name == "attributes" || name == "attr" || name == "run") {
    return FilterEntity::kAttribute;
  }
  if (name == "dataset" || name == "datasets") return FilterEntity::kDataset;
  return std::nullopt;
}

constexpr std::string_view kRunAttributeList =
    "['artifact_uri', 'created', 'end_time', 'lifecycle_stage', 'run name', 'run_id', "
    "'run_name', 'start_time', 'status', 'user_id']";

// The canonical run attribute for `key` (aliases resolved); empty if none.
std::string CanonicalRunAttribute(std::string_view key) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "run_id",     "run_name", "user_id",      "status",
      "start_time", "end_time", "artifact_uri", "lifecycle_stage"};
  for (std::string_view name : kNames) {
    if (key == name) return std::string(name);
  }
  if (key == "created" || key == "Created") return "start_time";
  if (key == "run name" || key == "Run name" || key == "Run Name") return "run_name";
  return "";
}

constexpr std::string_view kLoggedModelAttributeList =
    "['creation_time', 'creation_timestamp', 'last_updated_time', 'last_updated_timestamp', "
    "'model_id', 'model_type', 'name', 'source_run_id', 'status']";

}  // namespace

std::string CanonicalLoggedModelAttribute(std::string_view key) {
  static constexpr std::array<std::string_view, 7> kNames = {"name",
                                                             "model_id",
                                                             "model_type",
                                                             "status",
                                                             "source_run_id",
                                                             "creation_timestamp",
                                                             "last_updated_timestamp"};
  for (std::string_view name : kNames) {
    if (key == name) return std::string(name);
  }
  if (key == "creation_time") return "creation_timestamp";
  if (key == "last_updated_time") return "last_updated_timestamp";
  return "";
}

namespace {

bool IsNumericAttribute(Grammar grammar, std::string_view key) {
  switch (grammar) {
    case Grammar::kRuns:
      return key == "start_time" || key == "end_time";
    case Grammar::kExperiments:
      return key == "creation_time" || key == "last_update_time";
    case Grammar::kLoggedModels:
      return key == "creation_timestamp" || key == "last_updated_timestamp";
  }
  return false;
}

core::Result<SearchKey> ResolveIdentifier(const Token& token, Grammar grammar, bool for_order_by) {
  if (token.kind != TokenKind::kIdentifier) {
    return ErrorAt(token.position,
                   "Invalid clause(s) in filter string: expected an identifier such as "
                   "metrics.acc, params.lr or attributes.status, found " +
                       Describe(token));
  }
  const std::vector<IdentifierPart>& parts = token.parts;
  SearchKey result{FilterEntity::kAttribute, ""};
  size_t key_begin = 0;
  if (parts.size() >= 2) {
    const IdentifierPart& entity = parts[0];
    if (entity.quote == '"') {
      return ErrorAt(token.position, "Invalid entity type '\"" + Shown(entity.text) +
                                         "\"'. Entity types are not double-quoted");
    }
    if (grammar == Grammar::kRuns || grammar == Grammar::kLoggedModels) {
      std::optional<FilterEntity> kind = RunEntityFromName(entity.text);
      if (kind == FilterEntity::kDataset && grammar == Grammar::kLoggedModels) kind.reset();
      if (!kind) {
        if (grammar == Grammar::kLoggedModels) {
          return ErrorAt(token.position, "Invalid entity type '" + Shown(entity.text) +
                                             "'. Valid values are ['metric', 'parameter', "
                                             "'tag', 'attribute']");
        }
        return ErrorAt(token.position,
                       "Invalid entity type '" + Shown(entity.text) +
                           "'. Valid values are ['metric', 'parameter', 'tag', 'attribute', "
                           "'dataset']");
      }
      result.entity = *kind;
    } else {
      if (entity.text == "attribute") {
        result.entity = FilterEntity::kAttribute;
      } else if (entity.text == "tag" || entity.text == "tags") {
        result.entity = FilterEntity::kTag;
      } else {
        return ErrorAt(token.position, "Invalid entity type '" + Shown(entity.text) +
                                           "'. Valid entity types are ('attribute', 'tag', "
                                           "'tags')");
      }
    }
    key_begin = 1;
  }
  if (parts.size() - key_begin == 1) {
    result.key = parts[key_begin].text;
  } else {
    for (size_t index = key_begin; index < parts.size(); ++index) {
      if (parts[index].quote != 0) {
        return ErrorAt(token.position, "Invalid identifier '" + Shown(token.source) +
                                           "'. Quote the whole key, e.g. params.`a.b c`");
      }
      if (index > key_begin) result.key += '.';
      result.key += parts[index].text;
    }
  }
  if (result.key.empty()) {
    return ErrorAt(token.position,
                   "Invalid identifier '" + Shown(token.source) + "': the key is empty");
  }

  if (result.entity == FilterEntity::kAttribute) {
    if (grammar == Grammar::kRuns) {
      std::string canonical = CanonicalRunAttribute(result.key);
      if (canonical.empty() || (for_order_by && canonical == "lifecycle_stage")) {
        return ErrorAt(token.position, "Invalid attribute key '" + Shown(result.key) +
                                           "' specified. Valid keys are '" +
                                           std::string(kRunAttributeList) + "'");
      }
      result.key = canonical;
    } else if (grammar == Grammar::kLoggedModels) {
      std::string canonical = CanonicalLoggedModelAttribute(result.key);
      if (canonical.empty()) {
        return ErrorAt(token.position, "Invalid attribute key '" + Shown(result.key) +
                                           "' specified. Valid keys are '" +
                                           std::string(kLoggedModelAttributeList) + "'");
      }
      result.key = canonical;
    } else {
      bool valid = result.key == "name" || result.key == "creation_time" ||
                   result.key == "last_update_time" ||
                   (for_order_by && result.key == "experiment_id");
      if (!valid) {
        return ErrorAt(
            token.position,
            "Invalid attribute key '" + Shown(result.key) + "' specified. Valid keys are '" +
                (for_order_by ? "['creation_time', 'experiment_id', 'last_update_time', 'name']"
                              : "['creation_time', 'last_update_time', 'name']") +
                "'");
      }
    }
  } else if (result.entity == FilterEntity::kDataset) {
    if (for_order_by) {
      return ErrorAt(token.position, "Invalid order_by entity type 'dataset'");
    }
    if (result.key != "name" && result.key != "digest" && result.key != "context") {
      return ErrorAt(token.position, "Invalid dataset key '" + Shown(result.key) +
                                         "' specified. Valid keys are "
                                         "'['context', 'digest', 'name']'");
    }
  } else if (grammar == Grammar::kExperiments && for_order_by) {
    return ErrorAt(token.position, "Invalid order_by entity: tag");
  }
  return result;
}

// ---------------------------------------------------------------------------
// Comparisons

class Parser {
 public:
  Parser(std::vector<Token> tokens, Grammar grammar)
      : tokens_(std::move(tokens)), grammar_(grammar) {}

  core::Result<RunFilter> ParseFilter() {
    RunFilter filter;
    if (Peek().kind == TokenKind::kEnd) return filter;
    while (true) {
      MLFORGE_ASSIGN_OR_RETURN(Comparison comparison, ParseComparison());
      filter.comparisons.push_back(std::move(comparison));
      const Token& next = Peek();
      if (next.kind == TokenKind::kEnd) break;
      if (next.kind == TokenKind::kKeyword && next.value == "AND") {
        ++at_;
        if (Peek().kind == TokenKind::kEnd) {
          return ErrorAt(Peek().position,
                         "Invalid filter: expected a comparison after 'AND', found the end");
        }
        continue;
      }
      std::string hint = (next.kind == TokenKind::kIdentifier && next.parts.size() == 1 &&
                          Upper(next.parts[0].text) == "OR")
                             ? ". MLflow's search syntax has no OR; join comparisons with AND"
                             : ". Join comparisons with AND";
      return ErrorAt(next.position, "Invalid clause(s) in filter string: " + Describe(next) + hint);
    }
    return filter;
  }

  core::Result<OrderBy> ParseOrderBy(std::string_view clause) {
    auto unparsable = [&clause](size_t position) {
      return ErrorAt(position,
                     "Invalid order_by clause '" + Shown(clause) + "'. Could not be parsed.");
    };
    const Token& first = Peek();
    if (first.kind != TokenKind::kIdentifier) return unparsable(first.position);
    ++at_;
    MLFORGE_ASSIGN_OR_RETURN(SearchKey key, ResolveIdentifier(first, grammar_, true));
    OrderBy order_by{key.entity, key.key, true};
    const Token& direction = Peek();
    if (direction.kind == TokenKind::kKeyword &&
        (direction.value == "ASC" || direction.value == "DESC")) {
      order_by.ascending = direction.value == "ASC";
      ++at_;
    } else if (direction.kind != TokenKind::kEnd) {
      if (direction.kind == TokenKind::kIdentifier) {
        return ErrorAt(direction.position,
                       "Invalid ordering key in order_by clause '" + Shown(clause) + "'.");
      }
      return unparsable(direction.position);
    }
    if (Peek().kind != TokenKind::kEnd) return unparsable(Peek().position);
    return order_by;
  }

 private:
  const Token& Peek() const { return tokens_[at_]; }

  core::Result<Comparison> ParseComparison() {
    const Token& identifier = Peek();
    MLFORGE_ASSIGN_OR_RETURN(SearchKey key, ResolveIdentifier(identifier, grammar_, false));
    ++at_;
    Comparison comparison;
    comparison.entity = key.entity;
    comparison.key = key.key;
    comparison.position = identifier.position;

    const Token& op = Peek();
    size_t op_position = op.position;
    std::string op_text;
    bool simple = op.kind == TokenKind::kOperator ||
                  (op.kind == TokenKind::kKeyword &&
                   (op.value == "LIKE" || op.value == "ILIKE" || op.value == "IN"));
    if (simple) {
      op_text = op.value;
      ++at_;
    } else if (op.kind == TokenKind::kKeyword && op.value == "NOT") {
      ++at_;
      if (Peek().kind == TokenKind::kKeyword && Peek().value == "IN") {
        op_text = "NOT IN";
        ++at_;
      } else {
        return ErrorAt(op_position, "Invalid comparator 'NOT " + Shown(Peek().source) +
                                        "'. Only NOT IN is supported");
      }
    } else if (op.kind == TokenKind::kKeyword && op.value == "IS") {
      ++at_;
      bool negated = false;
      if (Peek().kind == TokenKind::kKeyword && Peek().value == "NOT") {
        negated = true;
        ++at_;
      }
      if (Peek().kind != TokenKind::kKeyword || Peek().value != "NULL") {
        return ErrorAt(Peek().position,
                       "Invalid comparison: expected NULL after IS, found " + Describe(Peek()));
      }
      ++at_;
      op_text = negated ? "IS NOT NULL" : "IS NULL";
    } else {
      return ErrorAt(op.position, "Invalid comparison clause. Expected a comparator after '" +
                                      Shown(identifier.source) + "', found " + Describe(op));
    }
    MLFORGE_ASSIGN_OR_RETURN(comparison.comparator,
                             CheckComparator(comparison, op_text, op_position));
    if (comparison.comparator == Comparator::kIsNull ||
        comparison.comparator == Comparator::kIsNotNull) {
      return comparison;
    }
    MLFORGE_RETURN_IF_ERROR(ParseValue(&comparison));
    return comparison;
  }

  // MLflow's per-kind comparator sets.
  core::Result<Comparator> CheckComparator(const Comparison& comparison, const std::string& op_text,
                                           size_t position) const {
    static constexpr std::array<std::pair<std::string_view, Comparator>, 12> kByName = {{
        {"=", Comparator::kEqual},
        {"!=", Comparator::kNotEqual},
        {">", Comparator::kGreater},
        {">=", Comparator::kGreaterEqual},
        {"<", Comparator::kLess},
        {"<=", Comparator::kLessEqual},
        {"LIKE", Comparator::kLike},
        {"ILIKE", Comparator::kILike},
        {"IN", Comparator::kIn},
        {"NOT IN", Comparator::kNotIn},
        {"IS NULL", Comparator::kIsNull},
        {"IS NOT NULL", Comparator::kIsNotNull},
    }};
    std::optional<Comparator> found;
    for (const auto& [name, value] : kByName) {
      if (op_text == name) found = value;
    }
    std::string_view allowed;
    bool numeric = comparison.entity == FilterEntity::kMetric ||
                   (comparison.entity == FilterEntity::kAttribute &&
                    IsNumericAttribute(grammar_, comparison.key));
    bool nullable = comparison.entity == FilterEntity::kMetric ||
                    comparison.entity == FilterEntity::kParam ||
                    comparison.entity == FilterEntity::kTag;
    bool lists =
        comparison.entity == FilterEntity::kDataset ||
        (comparison.entity == FilterEntity::kAttribute && grammar_ != Grammar::kExperiments);
    bool ok = false;
    if (found) {
      switch (*found) {
        case Comparator::kEqual:
        case Comparator::kNotEqual:
          ok = true;
          break;
        case Comparator::kGreater:
        case Comparator::kGreaterEqual:
        case Comparator::kLess:
        case Comparator::kLessEqual:
          ok = numeric;
          break;
        case Comparator::kLike:
        case Comparator::kILike:
          ok = !numeric;
          break;
        case Comparator::kIn:
        case Comparator::kNotIn:
          ok = lists && !numeric;
          break;
        case Comparator::kIsNull:
        case Comparator::kIsNotNull:
          ok = nullable;
          break;
      }
    }
    if (ok) return *found;
    if (numeric) {
      allowed = nullable ? "{'=', '!=', '>', '>=', '<', '<=', 'IS NULL', 'IS NOT NULL'}"
                         : "{'=', '!=', '>', '>=', '<', '<='}";
    } else if (nullable) {
      allowed = "{'=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}";
    } else if (lists) {
      allowed = "{'=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}";
    } else {
      allowed = "{'=', '!=', 'LIKE', 'ILIKE'}";
    }
    return ErrorAt(position, "Invalid comparator '" + Shown(op_text) + "' not one of '" +
                                 std::string(allowed) + "'");
  }

  // The value as a string if the token is a quoted string ('x' or "x").
  static std::optional<std::string> QuotedString(const Token& token) {
    if (token.kind == TokenKind::kString) return token.value;
    if (token.kind == TokenKind::kIdentifier && token.parts.size() == 1 &&
        token.parts[0].quote == '"') {
      return token.parts[0].text;
    }
    return std::nullopt;
  }

  core::Status ParseValue(Comparison* comparison) {
    const Token& token = Peek();
    if (comparison->comparator == Comparator::kIn || comparison->comparator == Comparator::kNotIn) {
      if (comparison->entity == FilterEntity::kAttribute && grammar_ == Grammar::kRuns &&
          comparison->key != "run_id") {
        return ErrorAt(token.position,
                       "Only the 'run_id' attribute supports comparison with a list of quoted "
                       "string values.");
      }
      return ParseList(comparison);
    }
    if (token.kind == TokenKind::kLeftParen) {
      return ErrorAt(token.position, "A list of values needs IN or NOT IN, not '" +
                                         std::string(ComparatorName(comparison->comparator)) + "'");
    }
    bool numeric = comparison->entity == FilterEntity::kMetric ||
                   (comparison->entity == FilterEntity::kAttribute &&
                    IsNumericAttribute(grammar_, comparison->key));
    if (numeric) {
      if (token.kind != TokenKind::kNumber) {
        if (comparison->entity == FilterEntity::kMetric) {
          return ErrorAt(token.position,
                         "Expected numeric value type for metric. Found " + Describe(token));
        }
        return ErrorAt(token.position, "Expected numeric value type for numeric attribute: " +
                                           comparison->key + ". Found " + Describe(token));
      }
      if (comparison->entity == FilterEntity::kMetric) {
        comparison->value = token.number;
      } else {
        if (!token.integral || std::fabs(token.number) > 9.0e15) {
          return ErrorAt(token.position, "Expected an integer number of milliseconds for " +
                                             comparison->key + ". Found " + Describe(token));
        }
        comparison->value = static_cast<int64_t>(std::strtoll(token.value.c_str(), nullptr, 10));
      }
      ++at_;
      return core::Status::Ok();
    }
    std::optional<std::string> text = QuotedString(token);
    if (!text) {
      std::string what = comparison->entity == FilterEntity::kParam     ? "param"
                         : comparison->entity == FilterEntity::kTag     ? "tag"
                         : comparison->entity == FilterEntity::kDataset ? "dataset attributes"
                                                                        : "attributes";
      return ErrorAt(token.position, "Expected a quoted string value for " + what +
                                         " (e.g. 'my-value'). Got value " + Describe(token));
    }
    comparison->value = std::move(*text);
    ++at_;
    return core::Status::Ok();
  }

  core::Status ParseList(Comparison* comparison) {
    auto ill_formed = [](size_t position) {
      return ErrorAt(position,
                     "While parsing a list in the query, expected a non-empty list of string "
                     "values, but got ill-formed list.");
    };
    if (Peek().kind != TokenKind::kLeftParen) return ill_formed(Peek().position);
    size_t open = Peek().position;
    ++at_;
    std::vector<std::string> values;
    if (Peek().kind == TokenKind::kRightParen) {
      return ErrorAt(open,
                     "While parsing a list in the query, expected a non-empty list of string "
                     "values, but got empty list");
    }
    while (true) {
      const Token& item = Peek();
      if (item.kind != TokenKind::kString) {
        return ErrorAt(item.position,
                       "While parsing a list in the query, expected string value, punctuation, "
                       "or whitespace, but got " +
                           Describe(item));
      }
      values.push_back(item.value);
      ++at_;
      if (Peek().kind == TokenKind::kComma) {
        ++at_;
        continue;
      }
      if (Peek().kind == TokenKind::kRightParen) {
        ++at_;
        break;
      }
      return ill_formed(Peek().position);
    }
    comparison->value = std::move(values);
    return core::Status::Ok();
  }

  std::vector<Token> tokens_;
  Grammar grammar_;
  size_t at_ = 0;
};

core::Result<RunFilter> ParseFilterWith(std::string_view filter, Grammar grammar) {
  MLFORGE_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(filter).Run());
  return Parser(std::move(tokens), grammar).ParseFilter();
}

core::Result<OrderBy> ParseOrderByWith(std::string_view clause, Grammar grammar) {
  MLFORGE_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(clause).Run());
  return Parser(std::move(tokens), grammar).ParseOrderBy(clause);
}

}  // namespace

std::string_view ComparatorName(Comparator comparator) {
  switch (comparator) {
    case Comparator::kEqual:
      return "=";
    case Comparator::kNotEqual:
      return "!=";
    case Comparator::kGreater:
      return ">";
    case Comparator::kGreaterEqual:
      return ">=";
    case Comparator::kLess:
      return "<";
    case Comparator::kLessEqual:
      return "<=";
    case Comparator::kLike:
      return "LIKE";
    case Comparator::kILike:
      return "ILIKE";
    case Comparator::kIn:
      return "IN";
    case Comparator::kNotIn:
      return "NOT IN";
    case Comparator::kIsNull:
      return "IS NULL";
    case Comparator::kIsNotNull:
      return "IS NOT NULL";
  }
  return "=";
}

core::Result<RunFilter> ParseRunFilter(std::string_view filter) {
  return ParseFilterWith(filter, Grammar::kRuns);
}

core::Result<OrderBy> ParseRunOrderBy(std::string_view clause) {
  return ParseOrderByWith(clause, Grammar::kRuns);
}

core::Result<RunFilter> ParseExperimentFilter(std::string_view filter) {
  return ParseFilterWith(filter, Grammar::kExperiments);
}

core::Result<OrderBy> ParseExperimentOrderBy(std::string_view clause) {
  return ParseOrderByWith(clause, Grammar::kExperiments);
}

core::Result<RunFilter> ParseLoggedModelFilter(std::string_view filter) {
  return ParseFilterWith(filter, Grammar::kLoggedModels);
}

core::Result<OrderBy> ParseLoggedModelOrderBy(std::string_view field_name, bool ascending) {
  std::string_view field = field_name;
  while (!field.empty() && std::isspace(static_cast<unsigned char>(field.front()))) {
    field.remove_prefix(1);
  }
  while (!field.empty() && std::isspace(static_cast<unsigned char>(field.back()))) {
    field.remove_suffix(1);
  }
  size_t dot = field.find('.');
  if (dot != std::string_view::npos) {
    std::string_view entity = field.substr(0, dot);
    std::string_view key = field.substr(dot + 1);
    if (entity != "metrics") {
      return core::InvalidArgumentError("Invalid order by field name: " + Shown(entity) +
                                        ", only `metrics.<name>` is allowed.");
    }
    if (key.empty()) {
      return core::InvalidArgumentError("Invalid order by field name: '" + Shown(field_name) +
                                        "': the metric name is empty.");
    }
    return OrderBy{FilterEntity::kMetric, std::string(key), ascending};
  }
  std::string canonical = CanonicalLoggedModelAttribute(field);
  if (canonical.empty()) {
    return core::InvalidArgumentError(
        "Invalid order by field name: " + Shown(field_name) + ". Valid names are " +
        std::string(kLoggedModelAttributeList) + " and metrics.<name>.");
  }
  return OrderBy{FilterEntity::kAttribute, std::move(canonical), ascending};
}

bool ParseRunFilterForFuzzing(std::string_view filter) {
  bool parsed = ParseRunFilter(filter).ok();
  (void)ParseRunOrderBy(filter).ok();
  (void)ParseExperimentFilter(filter).ok();
  (void)ParseExperimentOrderBy(filter).ok();
  (void)ParseLoggedModelFilter(filter).ok();
  (void)ParseLoggedModelOrderBy(filter, true).ok();
  return parsed;
}

}  // namespace mlforge::tracking
