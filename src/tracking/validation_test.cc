#include "tracking/validation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tracking/page_token.h"

namespace mlforge::tracking {
namespace {

bool KeyOk(std::string_view key) { return ValidateEntityKey(key, "key").ok(); }

TEST(TrackingValidationTest, KeysFollowMlflowsRegexAndPathRules) {
  for (std::string_view good :
       {"acc", "val/loss", "a.b", "a-b", "a b", "a:b", "A_1", "日本", "a..b", "x/y/z"}) {
    EXPECT_TRUE(KeyOk(good)) << good;
  }
  for (std::string_view bad : {"", "a;b", "a'b", "a\"b", "a*b", "a\nb", "a//b", "./a", "a/.",
                               "../a", "..a", "/a", "a/", ".", "..", "a/../b"}) {
    EXPECT_FALSE(KeyOk(bad)) << bad;
  }
  EXPECT_TRUE(KeyOk(std::string(250, 'k')));
  core::Status too_long = ValidateEntityKey(std::string(251, 'k'), "metrics[0].key");
  EXPECT_EQ(too_long.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("'metrics[0].key' exceeds the maximum length of 250"),
            std::string::npos);
  // Length counts characters, not bytes, as Python's len() does.
  std::string wide;
  for (int index = 0; index < 250; ++index) wide += "é";
  EXPECT_TRUE(KeyOk(wide));
}

TEST(TrackingValidationTest, ValueLimits) {
  EXPECT_TRUE(ValidateParam({"p", std::string(6000, 'v')}).ok());
  EXPECT_FALSE(ValidateParam({"p", std::string(6001, 'v')}).ok());
  EXPECT_TRUE(ValidateRunTag({"t", std::string(8000, 'v')}).ok());
  EXPECT_FALSE(ValidateRunTag({"t", std::string(8001, 'v')}).ok());
  EXPECT_TRUE(ValidateExperimentTag({"t", std::string(5000, 'v')}).ok());
  EXPECT_FALSE(ValidateExperimentTag({"t", std::string(5001, 'v')}).ok());
  EXPECT_TRUE(ValidateExperimentName(std::string(500, 'n')).ok());
  EXPECT_FALSE(ValidateExperimentName(std::string(501, 'n')).ok());
  EXPECT_FALSE(ValidateExperimentName("").ok());
}

TEST(TrackingValidationTest, Metrics) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(ValidateMetric({"m", nan, 0, 0}).ok());
  EXPECT_TRUE(ValidateMetric({"m", -inf, 5, -3}).ok());
  EXPECT_FALSE(ValidateMetric({"m", 1, -1, 0}).ok());
  EXPECT_FALSE(ValidateMetric({"bad;key", 1, 0, 0}).ok());
}

TEST(TrackingValidationTest, BatchLimitsAndDuplicateParams) {
  std::vector<Metric> metrics(1000, Metric{"m", 1, 1, 1});
  EXPECT_TRUE(ValidateBatch(metrics, {}, {}).ok());
  metrics.push_back({"m", 1, 1, 1});
  core::Status too_many = ValidateBatch(metrics, {}, {});
  EXPECT_NE(too_many.message().find("at most 1000 metrics"), std::string::npos);
  std::vector<Param> params(101, Param{"p", "v"});
  for (size_t index = 0; index < params.size(); ++index) params[index].key += std::to_string(index);
  EXPECT_NE(ValidateBatch({}, params, {}).message().find("at most 100 params"), std::string::npos);
  std::vector<RunTag> tags(101, RunTag{"t", "v"});
  EXPECT_NE(ValidateBatch({}, {}, tags).message().find("at most 100 tags"), std::string::npos);
  std::vector<Metric> many(950, Metric{"m", 1, 1, 1});
  params.resize(60);
  EXPECT_NE(ValidateBatch(many, params, {}).message().find("metrics, params, and tags"),
            std::string::npos);
  core::Status duplicate = ValidateBatch({}, {{"a", "1"}, {"a", "2"}}, {});
  EXPECT_NE(duplicate.message().find("Duplicate parameter keys"), std::string::npos);
  core::Status bad_entry = ValidateBatch({{"ok", 1, 1, 1}, {"not ok;", 1, 1, 1}}, {}, {});
  EXPECT_NE(bad_entry.message().find("metrics[1].key"), std::string::npos) << bad_entry.message();
}

TEST(TrackingValidationTest, RunIdsAndMaxResults) {
  EXPECT_TRUE(ValidateRunId("0123abcd").ok());
  EXPECT_FALSE(ValidateRunId("").ok());
  EXPECT_FALSE(ValidateRunId("-abc").ok());
  EXPECT_FALSE(ValidateRunId("abc'; --").ok());
  EXPECT_TRUE(ValidateMaxResults(1, 10, "x").ok());
  EXPECT_FALSE(ValidateMaxResults(0, 10, "x").ok());
  EXPECT_FALSE(ValidateMaxResults(11, 10, "x").ok());
}

TEST(TrackingValidationTest, PageTokensRoundTripAndRejectGarbage) {
  EXPECT_EQ(*DecodePageToken(""), 0);
  for (int64_t offset : {1, 2, 3, 100, 1000, 123456789}) {
    std::string token = EncodePageToken(offset);
    core::Result<int64_t> decoded = DecodePageToken(token);
    ASSERT_TRUE(decoded.ok()) << token;
    EXPECT_EQ(*decoded, offset);
  }
  // MLflow's own token for offset 100.
  EXPECT_EQ(EncodePageToken(100), "eyJvZmZzZXQiOiAxMDB9");
  for (std::string_view bad : {"x", "abc=", "!!!!", "eyJvZmZzZXQiOiAtMX0=", "e30=",
                               "eyJvZmZzZXQiOiAwfQ==", "bm90IGpzb24="}) {
    core::Result<int64_t> decoded = DecodePageToken(bad);
    EXPECT_FALSE(decoded.ok()) << bad;
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), core::StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace mlforge::tracking
