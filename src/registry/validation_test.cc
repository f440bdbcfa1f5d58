#include "registry/validation.h"

#include <gtest/gtest.h>

#include "registry/entities.h"

namespace mlforge::registry {
namespace {

TEST(RegistryValidationTest, VersionNumbers) {
  EXPECT_EQ(*ParseModelVersionNumber("3"), 3);
  EXPECT_EQ(*ParseModelVersionNumber(" 12 "), 12);
  auto bad = ParseModelVersionNumber("abc");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "Parameter 'version' must be an integer, got 'abc'.");
  EXPECT_FALSE(ParseModelVersionNumber("").ok());
  EXPECT_FALSE(ParseModelVersionNumber("1.5").ok());
}

TEST(RegistryValidationTest, Aliases) {
  EXPECT_TRUE(ValidateAliasName("champion").ok());
  EXPECT_TRUE(ValidateAliasName("a-b_c9").ok());
  EXPECT_EQ(ValidateAliasName("Latest").message(),
            "'latest' alias name (case insensitive) is reserved.");
  EXPECT_EQ(ValidateAliasName("v2").message(), "Version alias name 'v2' is reserved.");
  EXPECT_FALSE(ValidateAliasName("").ok());
  EXPECT_FALSE(ValidateAliasName("a.b").ok());
  EXPECT_FALSE(ValidateAliasName(std::string(256, 'a')).ok());
}

TEST(RegistryValidationTest, Stages) {
  EXPECT_EQ(*CanonicalStage("production"), "Production");
  EXPECT_EQ(*CanonicalStage("NONE"), "None");
  EXPECT_FALSE(CanonicalStage("Deleted_Internal").ok());
  EXPECT_TRUE(IsActiveStage("Staging"));
  EXPECT_FALSE(IsActiveStage("Archived"));
}

TEST(RegistryValidationTest, ModelVersionSources) {
  for (const char* good :
       {"s3://bucket/model", "runs:/abc/model", "models:/m/1",
        "mlflow-artifacts:/0/abc/artifacts/model", "/abs/path/model", "http://host:5000/a/b"}) {
    EXPECT_TRUE(ValidateModelVersionSource(good).ok()) << good;
  }
  for (const char* bad :
       {"s3://bucket/../other", "mlflow-artifacts://host:5000/../../etc", "http://host/a/%2e%2e/b",
        "/models/artifacts/../../x", "file:///a/%252e%252e/b", "runs:/abc/./model"}) {
    EXPECT_FALSE(ValidateModelVersionSource(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace mlforge::registry
