// FetchModel over a real SQLite tracking and registry database whose run
// artifacts live in a local folder.

#include "registry/model_fetch.h"

#include <gtest/gtest.h>

#include <fstream>

#include "registry/sqlite/sqlite_registry_store.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::registry {
namespace {

class ModelFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = (folder_.path() / "mlflow.db").string();
    auto tracking = tracking::SqliteStore::Open(database_, (folder_.path() / "artifacts").string());
    ASSERT_TRUE(tracking.ok()) << tracking.status().ToString();
    auto run = (*tracking)->CreateRun("0", "ci", 1, {}, "fetch");
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    run_id_ = run->info.run_id;
    artifact_root_ = run->info.artifact_uri;
    std::filesystem::path model = LocalPath(artifact_root_) / "model";
    std::filesystem::create_directories(model);
    std::ofstream(model / "MLmodel") << "flavors: {}\n";
    auto registry = SqliteRegistryStore::Open(database_);
    ASSERT_TRUE(registry.ok());
    ASSERT_TRUE((*registry)->CreateRegisteredModel("mnist", {}, "").ok());
    ASSERT_TRUE((*registry)->CreateModelVersion("mnist", artifact_root_ + "/model", run_id_, {}, "",
                                                "", "").ok());
    ASSERT_TRUE((*registry)->CreateModelVersion("mnist", "runs:/" + run_id_ + "/model", run_id_, {},
                                                "", "", "").ok());
    ASSERT_TRUE((*registry)->SetRegisteredModelAlias("mnist", "champion", 2).ok());
  }

  static std::filesystem::path LocalPath(const std::string& uri) {
    return uri.starts_with("file://") ? uri.substr(7) : uri;
  }

  ModelStores Stores() const { return {"sqlite:///" + database_, ""}; }

  tracking::testing::ScopedTempDir folder_;
  std::string database_;
  std::string run_id_;
  std::string artifact_root_;
};

TEST_F(ModelFetchTest, FoldersRunsAndRegisteredVersionsBecomeLocalFolders) {
  const std::filesystem::path expected = LocalPath(artifact_root_) / "model";
  auto cache = folder_.path() / "cache";
  auto folder = FetchModel(expected.string(), Stores(), cache);
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  EXPECT_EQ(folder->folder, expected);

  auto run = FetchModel("runs:/" + run_id_ + "/model", Stores(), cache);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(run->folder / "MLmodel"));

  auto version = FetchModel("models:/mnist/1", Stores(), cache);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->version, 1);
  EXPECT_TRUE(std::filesystem::exists(version->folder / "MLmodel"));

  // Version 2's source is itself a runs:/ URI.
  auto alias = FetchModel("models:/mnist@champion", Stores(), cache);
  ASSERT_TRUE(alias.ok()) << alias.status().ToString();
  EXPECT_EQ(alias->name, "mnist");
  EXPECT_EQ(alias->version, 2);
  EXPECT_TRUE(std::filesystem::exists(alias->folder / "MLmodel"));
}

TEST_F(ModelFetchTest, ErrorsNameWhatIsMissing) {
  auto cache = folder_.path() / "cache";
  EXPECT_EQ(FetchModel("runs:/nope/model", Stores(), cache).status().code(),
            core::StatusCode::kNotFound);
  EXPECT_EQ(FetchModel("models:/mnist/9", Stores(), cache).status().code(),
            core::StatusCode::kNotFound);
  EXPECT_EQ(FetchModel("runs:/" + run_id_ + "/missing", Stores(), cache).status().code(),
            core::StatusCode::kNotFound);
  EXPECT_EQ(FetchModel("models:/mnist/1", ModelStores{}, cache).status().code(),
            core::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mlforge::registry
