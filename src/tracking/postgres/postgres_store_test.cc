// PostgreSQL-specific behaviour on a real server (the "postgres" CTest
// fixture): URI forms and password redaction, placeholder numbering, the
// pool surviving killed connections, concurrent writers, and migrations
// that run once. The shared semantics are in store_conformance_test.cc.

#include "tracking/postgres/postgres_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tracking/postgres/postgres_connection.h"
#include "tracking/postgres/postgres_uri.h"
#include "tracking/testing/postgres_test_database.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::tracking {
namespace {

using testing::ScopedTempDir;

std::string UriOrFail(const ScopedTempDir& folder) {
  auto uri = testing::TestPostgresUriFor(folder.path());
  EXPECT_TRUE(uri.ok()) << uri.status().ToString();
  return uri.ok() ? *uri : std::string();
}

TEST(PostgresUriTest, AcceptsMlflowForms) {
  EXPECT_TRUE(postgres::IsPostgresUri("postgresql://u:p@h:5432/db"));
  EXPECT_TRUE(postgres::IsPostgresUri("postgres://u@h/db"));
  EXPECT_TRUE(postgres::IsPostgresUri("postgresql+psycopg2://u:p@h/db?sslmode=require"));
  EXPECT_FALSE(postgres::IsPostgresUri("sqlite:///x.db"));
  EXPECT_EQ(*postgres::ToLibpqUri("postgresql+psycopg2://u:p@h/db?sslmode=require"),
            "postgresql://u:p@h/db?sslmode=require");
  EXPECT_EQ(*postgres::ToLibpqUri("postgres://u@h/db"), "postgresql://u@h/db");
  EXPECT_FALSE(postgres::ToLibpqUri("mysql://h/db").ok());
}

TEST(PostgresUriTest, RedactsPasswords) {
  EXPECT_EQ(postgres::RedactPassword("postgresql://mlflow:s3cret@db:5432/mlflow"),
            "postgresql://mlflow:***@db:5432/mlflow");
  EXPECT_EQ(postgres::RedactPassword("postgres://u:p%40ss@h/db?sslmode=require&password=x"),
            "postgres://u:***@h/db?sslmode=require&password=***");
  EXPECT_EQ(postgres::RedactPassword("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(postgres::RedactPassword("/path/mlflow.db"), "/path/mlflow.db");
}

TEST(PostgresUriTest, NumbersPlaceholdersOutsideQuotes) {
  EXPECT_EQ(postgres::NumberPlaceholders("SELECT ? , '?', \"a?\", ? -- ?\n, ?"),
            "SELECT $1 , '?', \"a?\", $2 -- ?\n, $3");
}

TEST(PostgresStoreTest, WrongPasswordIsUnavailableAndRedacted) {
  auto base = testing::TestPostgresUri();
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  std::string wrong = *base;
  size_t at = wrong.find('@');
  size_t colon = wrong.rfind(':', at);
  wrong.replace(colon + 1, at - colon - 1, "not-the-password");
  auto store = PostgresStore::Open(wrong, "/a");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(store.status().message().find("not-the-password"), std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("***"), std::string::npos) << store.status().message();
}

TEST(PostgresStoreTest, MigrationsRunOnceAcrossReopens) {
  ScopedTempDir folder;
  std::string uri = UriOrFail(folder);
  std::string id;
  {
    auto store = PostgresStore::Open(uri, "/artifacts");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto created = (*store)->CreateExperiment("kept", "", {});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    id = *created;
  }
  // Several openers at once: the advisory lock lets one migrate.
  std::vector<std::thread> openers;
  std::atomic<int> failures{0};
  for (int index = 0; index < 4; ++index) {
    openers.emplace_back([&] {
      if (!PostgresStore::Open(uri, "/elsewhere").ok()) ++failures;
    });
  }
  for (std::thread& opener : openers) opener.join();
  EXPECT_EQ(failures.load(), 0);
  auto store = PostgresStore::Open(uri, "/elsewhere");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->GetExperiment(id)->name, "kept");
  // The Default experiment keeps its first artifact root.
  EXPECT_EQ((*store)->GetExperiment("0")->artifact_location, "/artifacts/0");
  auto pool = postgres::ConnectionPool::Open(uri, {});
  ASSERT_TRUE(pool.ok());
  int64_t version = 0;
  int64_t rows = 0;
  ASSERT_TRUE((*pool)
                  ->Read([&](sql::Connection& connection) -> core::Status {
                    MLFORGE_ASSIGN_OR_RETURN(
                        sql::Statement select,
                        connection.Prepare("SELECT MAX(version), COUNT(*) FROM schema_version"));
                    MLFORGE_ASSIGN_OR_RETURN(bool row, select.Step());
                    if (row) {
                      version = select.ColumnInt(0);
                      rows = select.ColumnInt(1);
                    }
                    return core::Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(version, PostgresStore::LatestSchemaVersion());
  EXPECT_EQ(rows, 1);
}

TEST(PostgresStoreTest, PoolReconnectsAfterBackendsAreKilled) {
  ScopedTempDir folder;
  // The application name marks this store's connections, so the kill below
  // spares those of tests running beside this one.
  std::string uri = UriOrFail(folder) + "&application_name=mlforge_reconnect_test";
  postgres::PoolOptions options;
  options.max_connections = 3;
  auto store = PostgresStore::Open(uri, "/a", options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto run = (*store)->CreateRun("0", "me", 1, {}, "");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  auto kill_pooled = [] {
    return testing::ExecOnTestServer(*testing::TestPostgresUri(),
                                     "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE application_name = 'mlforge_reconnect_test'");
  };
  ASSERT_TRUE(kill_pooled().ok());
  Metric metric{"loss", 0.5, 10, 1};
  ASSERT_TRUE((*store)->LogMetric(run->info.run_id, metric).ok());
  auto fetched = (*store)->GetRun(run->info.run_id);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  ASSERT_EQ(fetched->data.metrics.size(), 1u);
  EXPECT_EQ(fetched->data.metrics[0].value, 0.5);
  // Again, with every pooled connection dead and reads this time.
  ASSERT_TRUE(kill_pooled().ok());
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto again = (*store)->GetRun(run->info.run_id);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
  }
}

TEST(PostgresStoreTest, ConcurrentWritersKeepEveryWriteAndUniqueIds) {
  ScopedTempDir folder;
  std::string uri = UriOrFail(folder);
  auto store = PostgresStore::Open(uri, "/a");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto run = (*store)->CreateRun("0", "me", 1, {}, "");
  ASSERT_TRUE(run.ok());
  constexpr int kThreads = 6;
  constexpr int kPerThread = 10;
  std::vector<std::thread> writers;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::atomic<int> failures{0};
  std::mutex errors_mutex;
  std::vector<std::string> errors;
  auto note = [&](const core::Status& status) {
    ++failures;
    std::lock_guard<std::mutex> lock(errors_mutex);
    errors.push_back(status.ToString());
  };
  for (int thread = 0; thread < kThreads; ++thread) {
    writers.emplace_back([&, thread] {
      for (int index = 0; index < kPerThread; ++index) {
        std::string key = "k" + std::to_string(thread) + "_" + std::to_string(index);
        auto created = (*store)->CreateExperiment("e" + key, "", {});
        if (!created.ok()) {
          note(created.status());
          continue;
        }
        ids[thread].push_back(*created);
        Metric metric{"shared", static_cast<double>(index), 1000 + index, thread * 100 + index};
        core::Status logged = (*store)->LogBatch(run->info.run_id, {metric}, {Param{key, "v"}}, {});
        if (!logged.ok()) note(logged);
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(failures.load(), 0) << (errors.empty() ? "" : errors.front());
  std::set<std::string> unique;
  for (const auto& list : ids) unique.insert(list.begin(), list.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kPerThread));
  auto fetched = (*store)->GetRun(run->info.run_id);
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(fetched->data.params.size(), static_cast<size_t>(kThreads * kPerThread));
  auto history = (*store)->GetMetricHistory(run->info.run_id, "shared", 10000, "");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  EXPECT_EQ(history->metrics.size(), static_cast<size_t>(kThreads * kPerThread));
}

// A private server (scripts/postgres-test-server), restarted under the
// store: the pooled connections die with it, and the next calls reconnect.
TEST(PostgresStoreTest, SurvivesAServerRestart) {
  // Under /tmp itself, not a private temp folder: when the tests run as
  // root the server runs as `postgres`, which must reach its folder.
  const std::string dir = "/tmp/mlforge-pg-restart-" + std::to_string(::getpid());
  const std::string script = "scripts/postgres-test-server";
  ASSERT_EQ(std::system((script + " start " + dir + " >/dev/null").c_str()), 0);
  std::ifstream uri_file(dir + "/uri");
  std::string uri;
  std::getline(uri_file, uri);
  {
    auto store = PostgresStore::Open(uri, "/a");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto run = (*store)->CreateRun("0", "me", 1, {}, "");
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    ASSERT_EQ(std::system((script + " restart " + dir).c_str()), 0);
    core::Status logged = (*store)->LogParam(run->info.run_id, Param{"after", "restart"});
    EXPECT_TRUE(logged.ok()) << logged.ToString();
    auto fetched = (*store)->GetRun(run->info.run_id);
    ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
    EXPECT_EQ(fetched->data.params.size(), 1u);
  }
  EXPECT_EQ(std::system((script + " stop " + dir).c_str()), 0);
}

TEST(PostgresPoolTest, BoundedPoolWaitsThenGivesUp) {
  ScopedTempDir folder;
  std::string uri = UriOrFail(folder);
  postgres::PoolOptions options;
  options.max_connections = 1;
  options.acquire_timeout_ms = 200;
  auto pool = postgres::ConnectionPool::Open(uri, options);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  std::atomic<bool> holding{false};
  std::thread holder([&] {
    (void)(*pool)->WithConnectionForTesting([&](postgres::Connection&) {
      holding = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
      return core::Status::Ok();
    });
  });
  while (!holding) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto started = std::chrono::steady_clock::now();
  core::Status busy = (*pool)->Read([](sql::Connection&) { return core::Status::Ok(); });
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(busy.code(), core::StatusCode::kUnavailable) << busy.ToString();
  EXPECT_NE(busy.message().find("busy"), std::string::npos) << busy.message();
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  holder.join();
  // The one connection is free again and still works.
  EXPECT_TRUE(
      (*pool)->Read([](sql::Connection& connection) { return connection.Exec("SELECT 1"); }).ok());
}

TEST(PostgresPoolTest, FailedWriteRollsBack) {
  ScopedTempDir folder;
  std::string uri = UriOrFail(folder);
  auto pool = postgres::ConnectionPool::Open(uri, {});
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  ASSERT_TRUE((*pool)
                  ->Write([](sql::Connection& connection) {
                    return connection.Exec("CREATE TABLE IF NOT EXISTS kept (value BIGINT)");
                  })
                  .ok());
  core::Status failed = (*pool)->Write([](sql::Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(sql::Statement insert,
                             connection.Prepare("INSERT INTO kept VALUES (?)"));
    insert.Bind(1, int64_t{7});
    MLFORGE_RETURN_IF_ERROR(insert.Run());
    return core::InvalidArgumentError("the body gives up after its insert");
  });
  EXPECT_EQ(failed.code(), core::StatusCode::kInvalidArgument);
  int64_t rows = -1;
  ASSERT_TRUE((*pool)
                  ->Read([&](sql::Connection& connection) -> core::Status {
                    MLFORGE_ASSIGN_OR_RETURN(sql::Statement count,
                                             connection.Prepare("SELECT COUNT(*) FROM kept"));
                    MLFORGE_ASSIGN_OR_RETURN(bool row, count.Step());
                    if (row) rows = count.ColumnInt(0);
                    return core::Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(rows, 0);
}

}  // namespace
}  // namespace mlforge::tracking
