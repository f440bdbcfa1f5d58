#include "registry/registry_store_factory.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <string>

#include "registry/rest/rest_registry_store.h"
#include "registry/sqlite/sqlite_registry_store.h"
#include "registry/testing/served_rest_registry.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::registry {
namespace {

using tracking::testing::ScopedTempDir;

TEST(OpenRegistryStoreTest, SqliteUrisAndPathsShareOneFile) {
  ScopedTempDir folder;
  const std::string path = (folder.path() / "mlflow.db").string();
  auto by_uri = OpenRegistryStore("sqlite:///" + path + "?mode=rwc");
  ASSERT_TRUE(by_uri.ok()) << by_uri.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(path));  // the query string is not part of the file name
  ASSERT_TRUE((*by_uri)->CreateRegisteredModel("kept", {}, "").ok());
  auto by_path = OpenRegistryStore(path);
  ASSERT_TRUE(by_path.ok()) << by_path.status().ToString();
  EXPECT_TRUE((*by_path)->GetRegisteredModel("kept").ok());
  auto memory = OpenRegistryStore("sqlite:///:memory:");
  ASSERT_TRUE(memory.ok()) << memory.status().ToString();
  EXPECT_EQ((*memory)->GetRegisteredModel("kept").status().code(), core::StatusCode::kNotFound);
}

TEST(OpenRegistryStoreTest, HttpIsTheRestStore) {
  ScopedTempDir folder;
  auto server = testing::ServedRestRegistryStore::StartServer(folder.path());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto store = OpenRegistryStore("http://127.0.0.1:" + std::to_string((*server)->http->port()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_NE(dynamic_cast<rest::RestRegistryStore*>(store->get()), nullptr);
  ASSERT_TRUE((*store)->CreateRegisteredModel("over-rest", {}, "").ok());
  EXPECT_TRUE((*server)->store->GetRegisteredModel("over-rest").ok());
}

TEST(OpenRegistryStoreTest, OtherSchemesSayWhatWorks) {
  // Nothing listens on port 1: the PostgreSQL forms reach libpq and fail to
  // connect, without showing the password.
  for (const char* uri : {"postgresql://user:hunter2@127.0.0.1:1/mlflow",
                          "postgresql+psycopg2://user:hunter2@127.0.0.1:1/x"}) {
    auto postgres = OpenRegistryStore(uri);
    EXPECT_EQ(postgres.status().code(), core::StatusCode::kUnavailable) << uri;
    EXPECT_EQ(postgres.status().message().find("hunter2"), std::string::npos);
  }
  EXPECT_EQ(OpenRegistryStore("").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenRegistryStore("sqlite://host/x.db").status().code(),
            core::StatusCode::kInvalidArgument);
  auto ftp = OpenRegistryStore("ftp://x");
  EXPECT_EQ(ftp.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(ftp.status().message().find("http://"), std::string::npos);
  EXPECT_EQ(OpenRegistryStore("https://example.com").status().code(),
            core::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace mlforge::registry
