#include "tracking/store_factory.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tracking/testing/temp_dir.h"

namespace mlforge::tracking {
namespace {

using testing::ScopedTempDir;

// Runs in a temp folder and goes back to the original working folder after.
class StoreFactoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    original_ = std::filesystem::current_path();
    std::filesystem::current_path(folder_.path());
  }
  void TearDown() override { std::filesystem::current_path(original_); }

  ScopedTempDir folder_;
  std::filesystem::path original_;
};

TEST_F(StoreFactoryTest, SqliteUrisFollowSqlalchemyRules) {
  {
    auto store = OpenStore("sqlite:///relative.db", "/artifacts");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->GetExperiment("0")->artifact_location, "/artifacts/0");
  }
  EXPECT_TRUE(std::filesystem::exists(folder_.path() / "relative.db"));

  std::filesystem::path absolute = folder_.path() / "nested" / "abs.db";
  auto store = OpenStore("sqlite:///" + absolute.string() + "?timeout=5", "file:///tmp/mlruns/");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->GetExperiment("0")->artifact_location, "file:///tmp/mlruns/0");
  EXPECT_TRUE(std::filesystem::exists(absolute));

  auto bare = OpenStore((folder_.path() / "bare.db").string(), "");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ((*bare)->GetExperiment("0")->artifact_location, "./mlruns/0");
  EXPECT_TRUE(std::filesystem::exists(folder_.path() / "bare.db"));

  for (std::string_view memory : {"sqlite://", "sqlite:///:memory:"}) {
    auto in_memory = OpenStore(memory, "mlflow-artifacts:/");
    ASSERT_TRUE(in_memory.ok()) << in_memory.status().ToString();
    ASSERT_TRUE((*in_memory)->CreateExperiment("m", "", {}).ok());
    EXPECT_EQ((*in_memory)->GetExperiment("1")->artifact_location, "mlflow-artifacts:/1");
  }
}

TEST_F(StoreFactoryTest, OtherSchemes) {
  // Nothing listens on port 1: each PostgreSQL form reaches libpq, fails
  // to connect, and says so without the password.
  for (std::string_view postgres :
       {"postgresql://user:hunter2@127.0.0.1:1/db", "postgres://user:hunter2@127.0.0.1:1/db",
        "postgresql+psycopg2://user:hunter2@127.0.0.1:1/db?sslmode=disable"}) {
    auto store = OpenStore(postgres, "/a");
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), core::StatusCode::kUnavailable) << store.status().ToString();
    EXPECT_NE(store.status().message().find("PostgreSQL"), std::string::npos);
    EXPECT_EQ(store.status().message().find("hunter2"), std::string::npos);
  }
  for (std::string_view bad : {"mysql://h/db", "sqlite://host/x.db", ""}) {
    auto store = OpenStore(bad, "/a");
    ASSERT_FALSE(store.ok()) << bad;
    EXPECT_EQ(store.status().code(), core::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace mlforge::tracking
