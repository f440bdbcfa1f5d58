#include "core/status.h"

#include <gtest/gtest.h>

namespace mlforge::core {
namespace {

Result<int> ParsePositive(int value) {
  if (value <= 0)
    return InvalidArgumentError("value must be positive, got " + std::to_string(value));
  return value;
}

Result<int> Doubled(int value) {
  MLFORGE_ASSIGN_OR_RETURN(int checked, ParsePositive(value));
  return checked * 2;
}

Status CheckBoth(int first, int second) {
  MLFORGE_RETURN_IF_ERROR(ParsePositive(first).status());
  MLFORGE_RETURN_IF_ERROR(ParsePositive(second).status());
  return Status::Ok();
}

TEST(StatusTest, OkAndErrorsCarryCodeAndMessage) {
  EXPECT_TRUE(Status::Ok().ok());
  Status error = NotFoundError("no such run");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.code(), StatusCode::kNotFound);
  EXPECT_EQ(error.ToString(), "NOT_FOUND: no such run");
  EXPECT_EQ(error.WithContext("loading").message(), "loading: no such run");
  EXPECT_TRUE(Status::Ok().WithContext("ignored").ok());
}

TEST(StatusTest, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Doubled(4), 8);
  Result<int> failed = Doubled(-3);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(failed.status().message().find("-3"), std::string::npos);
  EXPECT_TRUE(CheckBoth(1, 2).ok());
  EXPECT_NE(CheckBoth(1, -7).message().find("-7"), std::string::npos);
}

TEST(StatusTest, ResultHoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> held = std::make_unique<int>(5);
  ASSERT_TRUE(held.ok());
  std::unique_ptr<int> taken = std::move(held).value();
  EXPECT_EQ(*taken, 5);
}

}  // namespace
}  // namespace mlforge::core
