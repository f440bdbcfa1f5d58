// ResolveModelUri on a real SQLite registry file.

#include "registry/model_uri.h"

#include <gtest/gtest.h>

#include <memory>

#include "registry/sqlite/sqlite_registry_store.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::registry {
namespace {

class ModelUriTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteRegistryStore::Open((folder_.path() / "mlflow.db").string());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    ASSERT_TRUE(store_->CreateRegisteredModel("mnist", {}, "").ok());
    for (int version = 1; version <= 3; ++version) {
      ASSERT_TRUE(store_
                      ->CreateModelVersion(
                          "mnist", "file:///runs/r" + std::to_string(version) + "/artifacts/model",
                          "r" + std::to_string(version), {}, "", "", "")
                      .ok());
    }
    ASSERT_TRUE(store_->SetRegisteredModelAlias("mnist", "champion", 2).ok());
    ASSERT_TRUE(store_->TransitionModelVersionStage("mnist", 1, "Production", false).ok());
  }

  ResolvedModelUri Resolve(std::string_view uri) {
    core::Result<ResolvedModelUri> resolved = ResolveModelUri(*store_, uri);
    EXPECT_TRUE(resolved.ok()) << uri << ": " << resolved.status().ToString();
    return resolved.ok() ? *resolved : ResolvedModelUri{};
  }

  core::StatusCode Code(std::string_view uri) {
    return ResolveModelUri(*store_, uri).status().code();
  }

  tracking::testing::ScopedTempDir folder_;
  std::unique_ptr<RegistryStore> store_;
};

TEST_F(ModelUriTest, VersionNumber) {
  ResolvedModelUri resolved = Resolve("models:/mnist/3");
  EXPECT_EQ(resolved.name, "mnist");
  EXPECT_EQ(resolved.version, 3);
  EXPECT_EQ(resolved.download_uri, "file:///runs/r3/artifacts/model");
  EXPECT_EQ(Resolve("models:///mnist/1/").version, 1);
}

TEST_F(ModelUriTest, AliasFollowsItsMoves) {
  ResolvedModelUri resolved = Resolve("models:/mnist@champion");
  EXPECT_EQ(resolved.version, 2);
  EXPECT_EQ(resolved.download_uri, "file:///runs/r2/artifacts/model");
  ASSERT_TRUE(store_->SetRegisteredModelAlias("mnist", "champion", 3).ok());
  EXPECT_EQ(Resolve("models:/mnist@champion").download_uri, "file:///runs/r3/artifacts/model");
}

TEST_F(ModelUriTest, LatestAndStages) {
  EXPECT_EQ(Resolve("models:/mnist/latest").version, 3);
  EXPECT_EQ(Resolve("models:/mnist/Production").version, 1);
  EXPECT_EQ(Resolve("models:/mnist/production").version, 1);
  EXPECT_EQ(Code("models:/mnist/Staging"), core::StatusCode::kNotFound);
  EXPECT_EQ(Code("models:/mnist/Shipping"), core::StatusCode::kInvalidArgument);
}

TEST_F(ModelUriTest, Errors) {
  EXPECT_EQ(Code("models:/mnist/9"), core::StatusCode::kNotFound);
  EXPECT_EQ(Code("models:/missing/1"), core::StatusCode::kNotFound);
  // MLflow answers an unknown alias with INVALID_PARAMETER_VALUE, on a
  // missing model too.
  EXPECT_EQ(Code("models:/missing@champion"), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code("models:/mnist@nobody"), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code("runs:/abc/model"), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code("models:/mnist"), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code("models:/mnist@"), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code("models:/a/b/1"), core::StatusCode::kInvalidArgument);
  core::Result<ResolvedModelUri> bad = ResolveModelUri(*store_, "models:/mnist");
  EXPECT_NE(bad.status().message().find("models:/NAME@ALIAS"), std::string::npos);
  EXPECT_TRUE(IsModelsUri("models:/x/1"));
  EXPECT_FALSE(IsModelsUri("runs:/x/model"));
}

}  // namespace
}  // namespace mlforge::registry
