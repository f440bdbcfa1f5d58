#include "pipeline/expression.h"

#include <cctype>
#include <cstdlib>
#include <optional>

namespace mlforge::pipeline {
namespace {

struct Token {
  enum class Kind { kEnd, kNumber, kString, kWord, kOperator, kOpen, kClose } kind = Kind::kEnd;
  std::string text;
  size_t position = 0;
};

bool IsWordCharacter(char character) {
  return std::isalnum(static_cast<unsigned char>(character)) != 0 || character == '_' ||
         character == '-' || character == '.';
}

std::optional<double> AsNumber(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

class ExpressionParser {
 public:
  explicit ExpressionParser(const std::string& text) : text_(text) {}

  core::Result<Expression> Run() {
    MLFORGE_RETURN_IF_ERROR(Tokenize());
    MLFORGE_ASSIGN_OR_RETURN(int root, ParseOr());
    if (Peek().kind != Token::Kind::kEnd) return Error("unexpected '" + Peek().text + "'");
    expression_.root_ = root;
    return std::move(expression_);
  }

 private:
  core::Status Error(const std::string& what) const {
    size_t position = index_ < tokens_.size() ? tokens_[index_].position : text_.size();
    return core::InvalidArgumentError("in condition '" + text_ + "' at character " +
                                      std::to_string(position + 1) + ": " + what);
  }

  core::Status Tokenize() {
    size_t position = 0;
    while (position < text_.size()) {
      char character = text_[position];
      if (std::isspace(static_cast<unsigned char>(character)) != 0) {
        ++position;
        continue;
      }
      Token token;
      token.position = position;
      if (character == '(' || character == ')') {
        token.kind = character == '(' ? Token::Kind::kOpen : Token::Kind::kClose;
        token.text = std::string(1, character);
        ++position;
      } else if (character == '\'' || character == '"') {
        size_t close = text_.find(character, position + 1);
        if (close == std::string::npos) {
          index_ = tokens_.size();
          return core::InvalidArgumentError("in condition '" + text_ + "': unclosed quote at " +
                                            std::to_string(position + 1));
        }
        token.kind = Token::Kind::kString;
        token.text = text_.substr(position + 1, close - position - 1);
        position = close + 1;
      } else if (text_.compare(position, 2, "{{") == 0) {
        size_t close = text_.find("}}", position);
        if (close == std::string::npos) {
          return core::InvalidArgumentError("in condition '" + text_ + "': '{{' without '}}'");
        }
        token.kind = Token::Kind::kWord;
        token.text = text_.substr(position + 2, close - position - 2);
        size_t begin = token.text.find_first_not_of(' ');
        size_t end = token.text.find_last_not_of(' ');
        token.text = begin == std::string::npos ? "" : token.text.substr(begin, end - begin + 1);
        position = close + 2;
      } else if (std::string("=!<>&|").find(character) != std::string::npos) {
        token.kind = Token::Kind::kOperator;
        std::string two = text_.substr(position, 2);
        if (two == "==" || two == "!=" || two == "<=" || two == ">=" || two == "&&" ||
            two == "||") {
          token.text = two;
          position += 2;
        } else if (character == '<' || character == '>' || character == '!') {
          token.text = std::string(1, character);
          ++position;
        } else {
          return core::InvalidArgumentError("in condition '" + text_ + "' at character " +
                                            std::to_string(position + 1) + ": unknown operator '" +
                                            two + "'");
        }
      } else if (std::isdigit(static_cast<unsigned char>(character)) != 0 ||
                 ((character == '-' || character == '+' || character == '.') &&
                  position + 1 < text_.size() &&
                  std::isdigit(static_cast<unsigned char>(text_[position + 1])) != 0)) {
        size_t end = position + 1;
        while (end < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[end])) != 0 || text_[end] == '.' ||
                ((text_[end] == '-' || text_[end] == '+') &&
                 (text_[end - 1] == 'e' || text_[end - 1] == 'E')))) {
          ++end;
        }
        token.kind = Token::Kind::kNumber;
        token.text = text_.substr(position, end - position);
        if (!AsNumber(token.text)) {
          return core::InvalidArgumentError("in condition '" + text_ + "' at character " +
                                            std::to_string(position + 1) + ": bad number '" +
                                            token.text + "'");
        }
        position = end;
      } else if (IsWordCharacter(character)) {
        size_t end = position;
        while (end < text_.size() && IsWordCharacter(text_[end])) ++end;
        token.kind = Token::Kind::kWord;
        token.text = text_.substr(position, end - position);
        position = end;
      } else {
        return core::InvalidArgumentError("in condition '" + text_ + "' at character " +
                                          std::to_string(position + 1) + ": unexpected '" +
                                          std::string(1, character) + "'");
      }
      tokens_.push_back(std::move(token));
    }
    Token end;
    end.position = text_.size();
    tokens_.push_back(end);
    return core::Status::Ok();
  }

  const Token& Peek() const { return tokens_[index_]; }
  bool PeekWord(const char* word) const {
    return Peek().kind == Token::Kind::kWord && Peek().text == word;
  }
  bool PeekOperator(const char* op) const {
    return Peek().kind == Token::Kind::kOperator && Peek().text == op;
  }

  int Add(Expression::Node node) {
    expression_.nodes_.push_back(std::move(node));
    return static_cast<int>(expression_.nodes_.size()) - 1;
  }

  core::Result<int> ParseOr() {
    MLFORGE_ASSIGN_OR_RETURN(int left, ParseAnd());
    while (PeekWord("or") || PeekOperator("||")) {
      ++index_;
      MLFORGE_ASSIGN_OR_RETURN(int right, ParseAnd());
      Expression::Node node;
      node.kind = Expression::Node::Kind::kOr;
      node.left = left;
      node.right = right;
      left = Add(node);
    }
    return left;
  }

  core::Result<int> ParseAnd() {
    MLFORGE_ASSIGN_OR_RETURN(int left, ParseNot());
    while (PeekWord("and") || PeekOperator("&&")) {
      ++index_;
      MLFORGE_ASSIGN_OR_RETURN(int right, ParseNot());
      Expression::Node node;
      node.kind = Expression::Node::Kind::kAnd;
      node.left = left;
      node.right = right;
      left = Add(node);
    }
    return left;
  }

  core::Result<int> ParseNot() {
    if (PeekWord("not") || PeekOperator("!")) {
      ++index_;
      MLFORGE_ASSIGN_OR_RETURN(int operand, ParseNot());
      Expression::Node node;
      node.kind = Expression::Node::Kind::kNot;
      node.left = operand;
      return Add(node);
    }
    return ParseCompare();
  }

  core::Result<int> ParseCompare() {
    MLFORGE_ASSIGN_OR_RETURN(int left, ParsePrimary());
    const Token& next = Peek();
    if (next.kind == Token::Kind::kOperator &&
        (next.text == "==" || next.text == "!=" || next.text == "<" || next.text == "<=" ||
         next.text == ">" || next.text == ">=")) {
      std::string op = next.text;
      ++index_;
      MLFORGE_ASSIGN_OR_RETURN(int right, ParsePrimary());
      Expression::Node node;
      node.kind = Expression::Node::Kind::kCompare;
      node.text = op;
      node.left = left;
      node.right = right;
      return Add(node);
    }
    return left;
  }

  core::Result<int> ParsePrimary() {
    const Token token = Peek();
    switch (token.kind) {
      case Token::Kind::kOpen: {
        ++index_;
        MLFORGE_ASSIGN_OR_RETURN(int inner, ParseOr());
        if (Peek().kind != Token::Kind::kClose) return Error("expected ')'");
        ++index_;
        return inner;
      }
      case Token::Kind::kNumber:
      case Token::Kind::kString: {
        ++index_;
        Expression::Node node;
        node.text = token.text;
        node.quoted = token.kind == Token::Kind::kString;
        return Add(node);
      }
      case Token::Kind::kWord: {
        if (token.text == "and" || token.text == "or" || token.text == "not") {
          return Error("expected a value before '" + token.text + "'");
        }
        ++index_;
        Expression::Node node;
        if (token.text == "true" || token.text == "false") {
          node.text = token.text;
          return Add(node);
        }
        auto reference = ParseReference(token.text);
        if (!reference.ok()) {
          return Error("'" + token.text +
                       "' is not a value; use params.X, steps.S.outputs.Y, item, a number or a "
                       "quoted string");
        }
        if (reference->kind == ReferenceKind::kOwnOutput) {
          return Error("a condition cannot read the step's own outputs ('" + token.text + "')");
        }
        node.kind = Expression::Node::Kind::kReference;
        node.reference = static_cast<int>(expression_.references_.size());
        expression_.references_.push_back(*reference);
        return Add(node);
      }
      case Token::Kind::kEnd:
        return Error("unexpected end of the condition");
      default:
        return Error("unexpected '" + token.text + "'");
    }
  }

  const std::string& text_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
  Expression expression_;
};

namespace {

struct Operand {
  std::string text;
  bool quoted = false;
};

bool Truthy(const Operand& operand) {
  if (!operand.quoted) {
    if (auto number = AsNumber(operand.text)) return *number != 0.0;
  }
  return !operand.text.empty() && operand.text != "false";
}

bool Compare(const std::string& op, const Operand& left, const Operand& right) {
  auto left_number = left.quoted ? std::nullopt : AsNumber(left.text);
  auto right_number = right.quoted ? std::nullopt : AsNumber(right.text);
  int order = 0;
  if (left_number && right_number) {
    order = *left_number < *right_number ? -1 : (*left_number > *right_number ? 1 : 0);
  } else {
    order = left.text.compare(right.text);
    order = order < 0 ? -1 : (order > 0 ? 1 : 0);
  }
  if (op == "==") return order == 0;
  if (op == "!=") return order != 0;
  if (op == "<") return order < 0;
  if (op == "<=") return order <= 0;
  if (op == ">") return order > 0;
  return order >= 0;  // ">="
}

}  // namespace

core::Result<Expression> Expression::Parse(const std::string& text) {
  return ExpressionParser(text).Run();
}

core::Result<bool> Expression::Evaluate(
    const std::function<core::Result<std::string>(const Reference&)>& resolve) const {
  // Operands and booleans of each node, computed bottom-up (children have
  // smaller indices than their parents).
  std::vector<Operand> operands(nodes_.size());
  std::vector<bool> truth(nodes_.size(), false);
  for (size_t index = 0; index < nodes_.size(); ++index) {
    const Node& node = nodes_[index];
    switch (node.kind) {
      case Node::Kind::kLiteral:
        operands[index] = {node.text, node.quoted};
        truth[index] = Truthy(operands[index]);
        break;
      case Node::Kind::kReference: {
        MLFORGE_ASSIGN_OR_RETURN(std::string value, resolve(references_[node.reference]));
        operands[index] = {value, false};
        truth[index] = Truthy(operands[index]);
        break;
      }
      case Node::Kind::kNot:
        truth[index] = !truth[node.left];
        operands[index] = {truth[index] ? "true" : "false", false};
        break;
      case Node::Kind::kAnd:
        truth[index] = truth[node.left] && truth[node.right];
        operands[index] = {truth[index] ? "true" : "false", false};
        break;
      case Node::Kind::kOr:
        truth[index] = truth[node.left] || truth[node.right];
        operands[index] = {truth[index] ? "true" : "false", false};
        break;
      case Node::Kind::kCompare:
        truth[index] = Compare(node.text, operands[node.left], operands[node.right]);
        operands[index] = {truth[index] ? "true" : "false", false};
        break;
    }
  }
  if (root_ < 0) return core::InvalidArgumentError("empty condition");
  return static_cast<bool>(truth[root_]);
}

}  // namespace mlforge::pipeline
