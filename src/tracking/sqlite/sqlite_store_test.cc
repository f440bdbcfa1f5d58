// SQLite-specific behaviour: schema versions, pragmas, the LIKE functions,
// surviving SIGKILL, and a rough ingest rate. The shared semantics are in
// store_conformance_test.cc.

#include "tracking/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tracking/sqlite/sqlite_connection.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::tracking {
namespace {

using testing::ScopedTempDir;

// One value from a raw SQLite query on the file, for checking what is on disk.
std::string QueryText(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  std::string value;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(statement, 0);
    if (text != nullptr) value = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return value;
}

void Execute(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(SqliteStoreTest, SchemaVersionAndWalMode) {
  ScopedTempDir folder;
  std::string path = (folder.path() / "mlflow.db").string();
  {
    auto store = SqliteStore::Open(path, "/artifacts");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  EXPECT_EQ(QueryText(path, "SELECT version FROM schema_version"),
            std::to_string(SqliteStore::LatestSchemaVersion()));
  EXPECT_EQ(QueryText(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryText(path, "SELECT COUNT(*) FROM schema_version"), "1");
  // Reopening applies nothing twice and keeps the Default experiment single.
  {
    auto store = SqliteStore::Open(path, "/elsewhere");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->GetExperiment("0")->artifact_location, "/artifacts/0");
  }
  EXPECT_EQ(QueryText(path, "SELECT COUNT(*) FROM experiments"), "1");
  EXPECT_EQ(QueryText(path, "SELECT COUNT(*) FROM schema_version"), "1");
}

TEST(SqliteStoreTest, RefusesANewerSchema) {
  ScopedTempDir folder;
  std::string path = (folder.path() / "mlflow.db").string();
  ASSERT_TRUE(SqliteStore::Open(path, "/a").ok());
  Execute(path, "UPDATE schema_version SET version = 999");
  auto store = SqliteStore::Open(path, "/a");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("999"), std::string::npos);
}

TEST(SqliteStoreTest, UnopenablePathIsUnavailable) {
  ScopedTempDir folder;
  std::string blocker = (folder.path() / "file").string();
  Execute(blocker, "CREATE TABLE x (y)");  // a file where a folder is needed
  auto store = SqliteStore::Open(blocker + "/sub/mlflow.db", "/a");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kUnavailable) << store.status().ToString();
}

TEST(SqliteStoreTest, InMemoryStoreWorks) {
  auto store = SqliteStore::Open(std::string(SqliteStore::kInMemory), "/a");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto run = (*store)->CreateRun("0", "u", 1, {}, "r");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE((*store)->LogMetric(run->info.run_id, {"m", 1, 1, 1}).ok());
  auto page = (*store)->SearchRuns({"0"}, "metrics.m = 1", ViewType::kAll, 10, {}, "");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->runs.size(), 1u);
}

TEST(SqliteStoreTest, LikeMatchesMlflowSemantics) {
  using sqlite_internal::LikeMatch;
  EXPECT_TRUE(LikeMatch("adam", "a%", false));
  EXPECT_TRUE(LikeMatch("adam", "%", false));
  EXPECT_TRUE(LikeMatch("", "%", false));
  EXPECT_FALSE(LikeMatch("", "_", false));
  EXPECT_TRUE(LikeMatch("adam", "_da_", false));
  EXPECT_FALSE(LikeMatch("Adam", "a%", false));
  EXPECT_TRUE(LikeMatch("Adam", "a%", true));
  EXPECT_TRUE(LikeMatch("ADAM", "%d%m", true));
  EXPECT_FALSE(LikeMatch("adam", "ada", false));
  EXPECT_TRUE(LikeMatch("a%b", "a%b", false));
  EXPECT_TRUE(LikeMatch("日本語", "_本_", false));  // '_' is one character, not one byte
  EXPECT_TRUE(LikeMatch("xxabcabcx", "%abc%x", false));
  EXPECT_FALSE(LikeMatch("abcab", "%abc%abc", false));
  EXPECT_TRUE(LikeMatch("a.b", "a.b", false));  // '.' is literal, not a regex
  EXPECT_FALSE(LikeMatch("axb", "a.b", false));
}

// Every write acknowledged before a SIGKILL is there after reopening.
TEST(SqliteStoreTest, AcknowledgedWritesSurviveSigkill) {
  ScopedTempDir folder;
  std::string path = (folder.path() / "mlflow.db").string();
  std::string run_id;
  {
    auto store = SqliteStore::Open(path, "/a");
    ASSERT_TRUE(store.ok());
    auto run = (*store)->CreateRun("0", "u", 1, {}, "killed");
    ASSERT_TRUE(run.ok());
    run_id = run->info.run_id;
  }
  int pipe_ends[2];
  ASSERT_EQ(pipe(pipe_ends), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_ends[0]);
    auto store = SqliteStore::Open(path, "/a");
    if (!store.ok()) _exit(2);
    for (int step = 0;; ++step) {
      if (!(*store)->LogMetric(run_id, {"m", 1.0 * step, step, step}).ok()) _exit(3);
      // The acknowledgement goes out only after the call returned OK.
      if (write(pipe_ends[1], &step, sizeof(step)) != sizeof(step)) _exit(4);
    }
  }
  close(pipe_ends[1]);
  int last_acknowledged = -1;
  for (int received = 0; received < 200; ++received) {
    int step = 0;
    ASSERT_EQ(read(pipe_ends[0], &step, sizeof(step)), static_cast<ssize_t>(sizeof(step)));
    last_acknowledged = step;
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(pipe_ends[0]);
  EXPECT_TRUE(WIFSIGNALED(status));

  auto store = SqliteStore::Open(path, "/a");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto history = (*store)->GetMetricHistory(run_id, "m", std::nullopt, "");
  ASSERT_TRUE(history.ok());
  ASSERT_GE(static_cast<int>(history->metrics.size()), last_acknowledged + 1);
  for (int step = 0; step <= last_acknowledged; ++step) {
    EXPECT_EQ(history->metrics[static_cast<size_t>(step)].step, step);
  }
}

// A rough ingest figure; the 200,000 metrics/s target is for release builds
// (this file usually runs under sanitizers, which are several times slower).
TEST(SqliteStoreTest, BatchIngestRate) {
  ScopedTempDir folder;
  auto store = SqliteStore::Open((folder.path() / "mlflow.db").string(), "/a");
  ASSERT_TRUE(store.ok());
  auto run = (*store)->CreateRun("0", "u", 1, {}, "ingest");
  ASSERT_TRUE(run.ok());
  constexpr int kBatches = 50;
  std::vector<Metric> batch(1000);
  auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < kBatches; ++round) {
    for (int index = 0; index < 1000; ++index) {
      int step = round * 1000 + index;
      batch[static_cast<size_t>(index)] = {"metric_" + std::to_string(index % 10), step * 0.5,
                                           1700000000000 + step, step};
    }
    ASSERT_TRUE((*store)->LogBatch(run->info.run_id, batch, {}, {}).ok());
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ ingest ] %d metrics in %.3f s: %.0f metrics/s\n", kBatches * 1000, seconds,
              kBatches * 1000 / seconds);
  auto history = (*store)->GetMetricHistory(run->info.run_id, "metric_3", std::nullopt, "");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->metrics.size(), static_cast<size_t>(kBatches * 100));
}

}  // namespace
}  // namespace mlforge::tracking
