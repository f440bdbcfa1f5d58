#include "registry/search_filter.h"

#include <gtest/gtest.h>

namespace mlforge::registry {
namespace {

TEST(RegistrySearchFilterTest, ParsesRegisteredModelFilters) {
  auto parsed = ParseRegisteredModelFilter("name LIKE 'mnist%' and tags.`my.team` = \"a\"");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->comparisons.size(), 2u);
  EXPECT_EQ(parsed->comparisons[0].entity, FilterEntity::kAttribute);
  EXPECT_EQ(parsed->comparisons[0].key, "name");
  EXPECT_EQ(parsed->comparisons[0].comparator, FilterComparator::kLike);
  EXPECT_EQ(std::get<std::string>(parsed->comparisons[0].value), "mnist%");
  EXPECT_EQ(parsed->comparisons[1].entity, FilterEntity::kTag);
  EXPECT_EQ(parsed->comparisons[1].key, "my.team");
  EXPECT_EQ(std::get<std::string>(parsed->comparisons[1].value), "a");
  EXPECT_TRUE(ParseRegisteredModelFilter("   ")->comparisons.empty());
  EXPECT_EQ(std::get<std::string>(ParseRegisteredModelFilter("name='it''s'")->comparisons[0].value),
            "it''s");
}

TEST(RegistrySearchFilterTest, ParsesModelVersionFilters) {
  auto parsed = ParseModelVersionFilter(
      "run_id IN ('a', 'b') AND version_number >= 3 AND source_path ILIKE '%s3%'");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->comparisons.size(), 3u);
  EXPECT_EQ(std::get<std::vector<std::string>>(parsed->comparisons[0].value),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parsed->comparisons[1].comparator, FilterComparator::kGreaterEqual);
  EXPECT_EQ(std::get<int64_t>(parsed->comparisons[1].value), 3);
  EXPECT_EQ(parsed->comparisons[2].comparator, FilterComparator::kILike);
  EXPECT_EQ(std::get<int64_t>(ParseModelVersionFilter("version_number='2'")->comparisons[0].value),
            2);
}

TEST(RegistrySearchFilterTest, RejectsWhatMlflowRejects) {
  for (const char* bad : {"name > 'a'", "run_id = 'x'", "metrics.a > 1", "name = 'a' OR name = 'b'",
                          "name = 'a' name = 'b'", "name = 'unterminated", "name IN ('a')",
                          "tags.t IN ('a')", "tags.t = 3", "name = bare", "name ="}) {
    EXPECT_EQ(ParseRegisteredModelFilter(bad).status().code(), core::StatusCode::kInvalidArgument)
        << bad;
  }
  for (const char* bad : {"name IN ('a')", "version_number LIKE '1'", "version_number = 'x'",
                          "run_id IN 'a'", "source_path > 'a'", "foo = 'a'", "name = 3"}) {
    EXPECT_EQ(ParseModelVersionFilter(bad).status().code(), core::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(RegistrySearchFilterTest, ParsesOrderBy) {
  auto clause = ParseRegisteredModelOrderBy("timestamp desc");
  ASSERT_TRUE(clause.ok());
  EXPECT_EQ(clause->key, "last_updated_timestamp");
  EXPECT_FALSE(clause->ascending);
  EXPECT_TRUE(ParseRegisteredModelOrderBy("name")->ascending);
  EXPECT_EQ(ParseModelVersionOrderBy("attribute.version_number ASC")->key, "version_number");
  EXPECT_FALSE(ParseRegisteredModelOrderBy("version_number").ok());
  EXPECT_FALSE(ParseModelVersionOrderBy("name UP").ok());
  EXPECT_FALSE(ParseModelVersionOrderBy("").ok());
}

}  // namespace
}  // namespace mlforge::registry
