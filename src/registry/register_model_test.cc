// RegisterModel on a real SQLite file holding both the tracking and the
// registry tables, as `mlforge models register` uses it on a local store.

#include "registry/register_model.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "registry/sqlite/sqlite_registry_store.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::registry {
namespace {

class RegisterModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string db = (folder_.path() / "mlflow.db").string();
    auto tracking = tracking::SqliteStore::Open(db, (folder_.path() / "artifacts").string());
    ASSERT_TRUE(tracking.ok()) << tracking.status().ToString();
    tracking_ = std::move(tracking).value();
    auto registry = SqliteRegistryStore::Open(db);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::move(registry).value();
    auto run = tracking_->CreateRun("0", "me", 1, {}, std::string("train"));
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    run_ = std::move(run).value();
  }

  tracking::testing::ScopedTempDir folder_;
  std::unique_ptr<tracking::Store> tracking_;
  std::unique_ptr<RegistryStore> registry_;
  tracking::Run run_;
};

TEST_F(RegisterModelTest, RunsUriBecomesTheRunsArtifactLocation) {
  core::Result<ModelVersion> version =
      RegisterModel(*tracking_, *registry_, "runs:/" + run_.info.run_id + "/model", "mnist");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->version, 1);
  EXPECT_EQ(version->source, run_.info.artifact_uri + "/model");
  EXPECT_EQ(version->run_id, run_.info.run_id);
  EXPECT_TRUE(version->model_id.empty());
  EXPECT_TRUE(version->aliases.empty());
  // The registered model was created; a second registration is version 2.
  EXPECT_TRUE(registry_->GetRegisteredModel("mnist").ok());
  RegisterModelOptions with_alias;
  with_alias.alias = "champion";
  version = RegisterModel(*tracking_, *registry_, "runs:///" + run_.info.run_id + "/model/",
                          "mnist", with_alias);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->version, 2);
  EXPECT_EQ(version->source, run_.info.artifact_uri + "/model");
  EXPECT_EQ(version->aliases, (std::vector<std::string>{"champion"}));
  EXPECT_EQ(registry_->GetModelVersionByAlias("mnist", "champion")->version, 2);
}

TEST_F(RegisterModelTest, ALoggedModelOfTheSameNameGivesTheModelId) {
  auto other = tracking_->CreateLoggedModel("0", "other", "", run_.info.run_id, {}, {});
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto logged = tracking_->CreateLoggedModel("0", "model", "", run_.info.run_id, {}, {});
  ASSERT_TRUE(logged.ok()) << logged.status().ToString();
  core::Result<ModelVersion> version =
      RegisterModel(*tracking_, *registry_, "runs:/" + run_.info.run_id + "/model", "mnist");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->model_id, logged->model_id);
  EXPECT_EQ(version->source, run_.info.artifact_uri + "/model");
  // A path no logged model has: no model_id.
  version =
      RegisterModel(*tracking_, *registry_, "runs:/" + run_.info.run_id + "/checkpoints", "mnist");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_TRUE(version->model_id.empty());
}

TEST_F(RegisterModelTest, AnUnknownRunNamesTheRunAndTheStore) {
  RegisterModelOptions options;
  options.tracking_store_name = "STORE";
  core::Result<ModelVersion> version =
      RegisterModel(*tracking_, *registry_, "runs:/feedbeef/model", "mnist", options);
  EXPECT_EQ(version.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(version.status().message().find("'feedbeef'"), std::string::npos);
  EXPECT_NE(version.status().message().find("STORE"), std::string::npos);
  EXPECT_NE(version.status().message().find("--tracking-uri"), std::string::npos);
  // Nothing was registered.
  EXPECT_EQ(registry_->GetRegisteredModel("mnist").status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(RegisterModel(*tracking_, *registry_, "runs:/", "mnist").status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(RegisterModel(*tracking_, *registry_, "s3://b/m", "").status().code(),
            core::StatusCode::kInvalidArgument);
}

TEST_F(RegisterModelTest, FoldersAndUrisAreRegisteredAsGiven) {
  std::filesystem::create_directories(folder_.path() / "pkg");
  const std::filesystem::path previous = std::filesystem::current_path();
  std::filesystem::current_path(folder_.path());
  core::Result<ModelVersion> local = RegisterModel(*tracking_, *registry_, "./pkg", "local");
  std::filesystem::current_path(previous);
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ(std::filesystem::path(local->source),
            std::filesystem::weakly_canonical(folder_.path() / "pkg"));
  EXPECT_TRUE(local->run_id.empty());
  RegisterModelOptions prod;
  prod.alias = "prod";
  core::Result<ModelVersion> remote =
      RegisterModel(*tracking_, *registry_, "s3://bucket/model", "remote", prod);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EXPECT_EQ(remote->source, "s3://bucket/model");
  EXPECT_EQ(remote->aliases, (std::vector<std::string>{"prod"}));
}

}  // namespace
}  // namespace mlforge::registry
