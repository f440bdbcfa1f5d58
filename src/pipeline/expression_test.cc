#include "pipeline/expression.h"

#include <gtest/gtest.h>

#include <map>

namespace mlforge::pipeline {
namespace {

core::Result<bool> Eval(const std::string& text, const std::map<std::string, std::string>& values) {
  auto expression = Expression::Parse(text);
  if (!expression.ok()) return expression.status();
  return expression->Evaluate([&](const Reference& reference) -> core::Result<std::string> {
    auto it = values.find(reference.text);
    if (it == values.end()) return core::NotFoundError("no " + reference.text);
    return it->second;
  });
}

TEST(ExpressionTest, ComparesNumbersAsNumbers) {
  std::map<std::string, std::string> values = {{"steps.evaluate.outputs.accuracy", "0.99"},
                                               {"params.min_accuracy", "0.985"},
                                               {"params.n", "10"}};
  EXPECT_TRUE(*Eval("steps.evaluate.outputs.accuracy >= params.min_accuracy", values));
  EXPECT_FALSE(*Eval("steps.evaluate.outputs.accuracy < params.min_accuracy", values));
  // 10 > 9 as numbers, although "10" < "9" as text.
  EXPECT_TRUE(*Eval("params.n > 9", values));
  EXPECT_TRUE(*Eval("params.n == 10.0", values));
  EXPECT_TRUE(*Eval("{{params.n}} != 11", values));
}

TEST(ExpressionTest, StringsBooleansAndPrecedence) {
  std::map<std::string, std::string> values = {
      {"params.mode", "fast"}, {"params.on", "true"}, {"item", "mnist"}};
  EXPECT_TRUE(*Eval("params.mode == 'fast'", values));
  EXPECT_FALSE(*Eval("params.mode == \"slow\"", values));
  EXPECT_TRUE(*Eval("params.on", values));
  EXPECT_FALSE(*Eval("not params.on", values));
  EXPECT_TRUE(*Eval("params.mode == 'slow' or item == 'mnist' and params.on", values));
  EXPECT_FALSE(*Eval("(params.mode == 'slow' or item == 'mnist') and !params.on", values));
  EXPECT_TRUE(*Eval("params.mode != 'slow' && true", values));
  EXPECT_FALSE(*Eval("false || 0", values));
  // A quoted number is text: "10" < "9".
  EXPECT_TRUE(*Eval("'10' < '9'", values));
}

TEST(ExpressionTest, RejectsWhatIsNotInTheLanguage) {
  for (const char* bad : {"params.x >", "params.x = 3", "rm -rf /", "params.x >= (1", "'unclosed",
                          "params.x ; true", "outputs.x == 1", "and", "$(ls)"}) {
    auto parsed = Expression::Parse(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
  }
  auto parsed = Expression::Parse("steps.a.outputs.b >= params.c and item == 'x'");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->references().size(), 3u);
  EXPECT_EQ(parsed->references()[0].kind, ReferenceKind::kStepOutput);
  EXPECT_EQ(parsed->references()[0].step, "a");
  EXPECT_EQ(parsed->references()[1].kind, ReferenceKind::kParam);
  EXPECT_EQ(parsed->references()[2].kind, ReferenceKind::kItem);
}

TEST(ExpressionTest, ResolverErrorsComeBack) {
  auto result = Eval("params.missing == 1", {});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("params.missing"), std::string::npos);
}

}  // namespace
}  // namespace mlforge::pipeline
