// What is particular to the SQLite registry store: it shares one database
// file with the tracking store, keeps its own schema version, and numbers
// versions correctly when two store objects (two connections, as two
// processes would have) write the same file at once.

#include "registry/sqlite/sqlite_registry_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "tracking/sqlite/sqlite_store.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::registry {
namespace {

using tracking::testing::ScopedTempDir;

int64_t QueryInt(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &statement, nullptr), SQLITE_OK);
  int64_t value = -1;
  if (sqlite3_step(statement) == SQLITE_ROW) value = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return value;
}

TEST(SqliteRegistryStoreTest, SharesTheTrackingDatabaseFile) {
  ScopedTempDir folder("mlforge-registry-sqlite");
  std::string path = (folder.path() / "mlflow.db").string();
  auto tracking_store = tracking::SqliteStore::Open(path, "");
  ASSERT_TRUE(tracking_store.ok()) << tracking_store.status().ToString();
  auto registry = SqliteRegistryStore::Open(path);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();

  auto run = (*tracking_store)->CreateRun("0", "me", 1, {}, std::nullopt);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE((*registry)->CreateRegisteredModel("m", {}, "").ok());
  auto version = (*registry)->CreateModelVersion("m", run->info.artifact_uri + "/model",
                                                 run->info.run_id, {}, "", "", "");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->run_id, run->info.run_id);
  // Both schemas live side by side, each with its own version table.
  EXPECT_EQ(QueryInt(path, "SELECT version FROM registry_schema_version"),
            SqliteRegistryStore::LatestSchemaVersion());
  EXPECT_EQ(QueryInt(path, "SELECT version FROM schema_version"),
            tracking::SqliteStore::LatestSchemaVersion());
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM runs"), 1);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM model_versions"), 1);
}

TEST(SqliteRegistryStoreTest, TwoStoresOnOneFileNumberVersionsWithoutGaps) {
  ScopedTempDir folder("mlforge-registry-sqlite");
  std::string path = (folder.path() / "mlflow.db").string();
  auto first = SqliteRegistryStore::Open(path);
  auto second = SqliteRegistryStore::Open(path);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE((*first)->CreateRegisteredModel("m", {}, "").ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (RegistryStore* store : {first->get(), second->get(), first->get(), second->get()}) {
    threads.emplace_back([store, &failures] {
      for (int index = 0; index < 15; ++index) {
        if (!store->CreateModelVersion("m", "s3://x", "", {}, "", "", "").ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(DISTINCT version) FROM model_versions"), 60);
  EXPECT_EQ(QueryInt(path, "SELECT MAX(version) FROM model_versions"), 60);
}

TEST(SqliteRegistryStoreTest, RefusesANewerSchema) {
  ScopedTempDir folder("mlforge-registry-sqlite");
  std::string path = (folder.path() / "mlflow.db").string();
  ASSERT_TRUE(SqliteRegistryStore::Open(path).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE registry_schema_version SET version = 999", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(SqliteRegistryStore::Open(path).status().code(), core::StatusCode::kFailedPrecondition);
}

TEST(SqliteRegistryStoreTest, InMemoryWorks) {
  auto store = SqliteRegistryStore::Open(std::string(SqliteRegistryStore::kInMemory));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateRegisteredModel("m", {}, "").ok());
  EXPECT_EQ((*store)->CreateModelVersion("m", "s3://x", "", {}, "", "", "")->version, 1);
}

}  // namespace
}  // namespace mlforge::registry
