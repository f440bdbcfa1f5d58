#include "deploy/yaml_writer.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace mlforge::deploy {
namespace {

TEST(NeedsQuotesTest, StringsThatYamlReadsAsOtherTypes) {
  for (const char* text :
       {"",    "2",  "-3", "1.5", "1e3", ".5",   "0x1F", "0o17", "017",   "1_000", "true", "False",
        "yes", "No", "on", "OFF", "y",   "null", "~",    ".inf", "-.Inf", ".nan",  "1:30"}) {
    EXPECT_TRUE(NeedsQuotes(text)) << text;
  }
  for (const char* text : {"mlforge", "train", "http://host:5000", "1Gi", "500m", "v1",
                           "models:/mnist@champion", "0.0.0.0", "a-2", "nope"}) {
    EXPECT_FALSE(NeedsQuotes(text)) << text;
  }
}

TEST(ToYamlTest, RoundTripsTypesOrderAndComments) {
  Object object = {{"kind", "Thing"},
                   {"count", 3},
                   {"ratio", 0.5},
                   {"enabled", true},
                   {"value", "2"},
                   {"flag", "true"},
                   {"script", "line one\nline two\n"},
                   {"list", Object::array({"a", "10", 7})},
                   {"empty", Object::object()}};
  std::string yaml = ToYaml({{"first line\nsecond line", object}, {"", {{"kind", "Other"}}}});
  EXPECT_EQ(yaml.rfind("# first line\n# second line\n---", 0), 0U) << yaml;
  // Keys keep the order they were set in.
  EXPECT_LT(yaml.find("kind:"), yaml.find("count:"));
  EXPECT_LT(yaml.find("count:"), yaml.find("value:"));

  std::vector<YAML::Node> documents = YAML::LoadAll(yaml);
  ASSERT_EQ(documents.size(), 2U);
  const YAML::Node& first = documents[0];
  EXPECT_EQ(first["count"].as<int>(), 3);
  EXPECT_DOUBLE_EQ(first["ratio"].as<double>(), 0.5);
  EXPECT_TRUE(first["enabled"].as<bool>());
  // Quoted, so a reader keeps them strings (the tag is "!" for quoted scalars).
  EXPECT_EQ(first["value"].Tag(), "!");
  EXPECT_EQ(first["value"].as<std::string>(), "2");
  EXPECT_EQ(first["flag"].Tag(), "!");
  EXPECT_EQ(first["script"].as<std::string>(), "line one\nline two\n");
  EXPECT_EQ(first["list"][1].Tag(), "!");
  EXPECT_EQ(first["list"][2].as<int>(), 7);
  EXPECT_TRUE(first["empty"].IsMap());
  EXPECT_EQ(first["empty"].size(), 0U);
  EXPECT_EQ(documents[1]["kind"].as<std::string>(), "Other");
}

}  // namespace
}  // namespace mlforge::deploy
