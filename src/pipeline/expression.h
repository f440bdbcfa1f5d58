#pragma once

// The `when:` condition language: small, safe, never a shell.
//
//   MLFORGE_ASSIGN_OR_RETURN(Expression when,
//       Expression::Parse("steps.evaluate.outputs.accuracy >= params.min_accuracy"));
//   MLFORGE_ASSIGN_OR_RETURN(bool run, when.Evaluate(resolve));
//
// Grammar (lowest precedence first):
//   or      := and ( ("or" | "||") and )*
//   and     := not ( ("and" | "&&") not )*
//   not     := ("not" | "!") not | compare
//   compare := primary ( ("==" | "!=" | "<" | "<=" | ">" | ">=") primary )?
//   primary := NUMBER | 'text' | "text" | true | false | REFERENCE | "(" or ")"
// REFERENCE is params.X, steps.S.outputs.Y, steps.S.run_id or item (also
// accepted inside {{ }}). Two operands that both read as numbers compare as
// numbers; otherwise both compare as text. A lone operand is true when it is
// true, a non-zero number, or text other than "" and "false".
//
// Copyable; Evaluate is const and thread-safe.

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/template.h"

namespace mlforge::pipeline {

class Expression {
 public:
  // InvalidArgument naming the position of the first thing that is wrong.
  static core::Result<Expression> Parse(const std::string& text);

  // Every reference, in the order written.
  const std::vector<Reference>& references() const { return references_; }

  // `resolve` gives a reference's value as text; its error is returned.
  core::Result<bool> Evaluate(
      const std::function<core::Result<std::string>(const Reference&)>& resolve) const;

  struct Node {
    enum class Kind { kLiteral, kReference, kNot, kAnd, kOr, kCompare } kind = Kind::kLiteral;
    std::string text;     // literal text, or the comparison operator
    bool quoted = false;  // a quoted literal is always text
    int reference = -1;   // index into references_
    int left = -1;
    int right = -1;
  };

 private:
  friend class ExpressionParser;
  std::vector<Node> nodes_;
  std::vector<Reference> references_;
  int root_ = -1;
};

}  // namespace mlforge::pipeline
