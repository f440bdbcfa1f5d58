// The ConnectionPool shared by the SQLite stores: writes serialise on the
// writer and are visible to later reads, readers work from several threads
// at once, and an in-memory database runs everything on its one connection.

#include "tracking/sqlite/connection_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tracking/sqlite/sqlite_connection.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::tracking::sqlite_internal {
namespace {

using tracking::testing::ScopedTempDir;

// A pool on `path` with a table `counter(value)` holding one row of 0.
std::unique_ptr<ConnectionPool> MakePool(const std::string& path, int max_idle_readers = 2) {
  ConnectionOptions options;
  auto writer = Connection::Open(path, options);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  if (!writer.ok()) return nullptr;
  EXPECT_TRUE((*writer)
                  ->Exec("CREATE TABLE counter (value INTEGER NOT NULL);"
                         "INSERT INTO counter (value) VALUES (0);")
                  .ok());
  return std::make_unique<ConnectionPool>(path, options, max_idle_readers, std::move(*writer));
}

core::Status Increment(ConnectionPool& pool) {
  return pool.Write([](sql::Connection& connection) -> core::Status {
    // Read, then write back: only correct when writes are serialised.
    MLFORGE_ASSIGN_OR_RETURN(Statement select, connection.Prepare("SELECT value FROM counter"));
    MLFORGE_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return core::InternalError("no counter row");
    int64_t value = select.ColumnInt(0);
    MLFORGE_ASSIGN_OR_RETURN(Statement update, connection.Prepare("UPDATE counter SET value = ?"));
    update.Bind(1, value + 1);
    return update.Run();
  });
}

core::Result<int64_t> ReadCounter(ConnectionPool& pool) {
  int64_t value = -1;
  MLFORGE_RETURN_IF_ERROR(pool.Read([&value](sql::Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(Statement select, connection.Prepare("SELECT value FROM counter"));
    MLFORGE_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return core::InternalError("no counter row");
    value = select.ColumnInt(0);
    return core::Status::Ok();
  }));
  return value;
}

TEST(ConnectionPoolTest, WritesAreSerialisedAndVisibleToLaterReads) {
  ScopedTempDir folder;
  auto pool = MakePool((folder.path() / "pool.db").string());
  ASSERT_NE(pool, nullptr);

  constexpr int kThreads = 4;
  constexpr int kWritesPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        if (!Increment(*pool).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);

  auto value = ReadCounter(*pool);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, kThreads * kWritesPerThread);
}

TEST(ConnectionPoolTest, FailedWriteRollsBack) {
  ScopedTempDir folder;
  auto pool = MakePool((folder.path() / "pool.db").string());
  ASSERT_NE(pool, nullptr);

  core::Status status = pool->Write([](sql::Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(connection.Exec("UPDATE counter SET value = 42"));
    return core::InvalidArgumentError("give up");
  });
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  auto value = ReadCounter(*pool);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, 0);
}

TEST(ConnectionPoolTest, ConcurrentReadersFromSeveralThreads) {
  ScopedTempDir folder;
  // Fewer idle readers than threads, so some connections are opened and
  // closed along the way.
  auto pool = MakePool((folder.path() / "pool.db").string(), /*max_idle_readers=*/2);
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(Increment(*pool).ok());

  constexpr int kThreads = 6;
  constexpr int kReadsPerThread = 20;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kReadsPerThread; ++i) {
        auto value = ReadCounter(*pool);
        if (!value.ok() || *value < 1) ++wrong;
      }
    });
  }
  // A writer alongside the readers: readers never see an uncommitted value.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Increment(*pool).ok());
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);

  auto value = ReadCounter(*pool);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, 11);
}

TEST(ConnectionPoolTest, InMemoryDatabaseReadsOnTheWriter) {
  // A private in-memory database exists only on its one connection, so
  // reads must see what the writer wrote, from any thread.
  auto pool = MakePool(std::string(ConnectionPool::kInMemory));
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(Increment(*pool).ok());

  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (!Increment(*pool).ok()) ++wrong;
        auto value = ReadCounter(*pool);
        if (!value.ok() || *value < 1) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);

  auto value = ReadCounter(*pool);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, 31);
}

// Past kCheckpointFrames the WAL is copied back into the database file by
// the background thread while the pool is still open and writing.
TEST(ConnectionPoolTest, CheckpointsInTheBackgroundOnceTheWalIsLong) {
  ScopedTempDir dir;
  const std::string path = (dir.path() / "wal.db").string();
  auto pool = MakePool(path);
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->Write([](sql::Connection& connection) {
                    return connection.Exec("CREATE TABLE blobs (data BLOB NOT NULL)");
                  }).ok());
  // 40 commits of 256 pages each: past the mark of 8,000 frames.
  const int commits = ConnectionPool::kCheckpointFrames / 256 + 9;
  for (int commit = 0; commit < commits; ++commit) {
    ASSERT_TRUE(pool->Write([](sql::Connection& connection) -> core::Status {
                      MLFORGE_ASSIGN_OR_RETURN(
                          Statement insert,
                          connection.Prepare("INSERT INTO blobs (data) VALUES (zeroblob(1048576))"));
                      return insert.Run();
                    }).ok());
  }
  // The data reaches the database file itself, not only the WAL.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  uintmax_t size = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    size = std::filesystem::file_size(path);
    if (size >= uintmax_t{8000} * 4096) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(size, uintmax_t{8000} * 4096) << "no checkpoint copied the WAL back";
  // And everything reads back.
  int64_t rows = -1;
  ASSERT_TRUE(pool->Read([&rows](sql::Connection& connection) -> core::Status {
                    MLFORGE_ASSIGN_OR_RETURN(Statement count,
                                             connection.Prepare("SELECT COUNT(*) FROM blobs"));
                    MLFORGE_ASSIGN_OR_RETURN(bool row, count.Step());
                    if (row) rows = count.ColumnInt(0);
                    return core::Status::Ok();
                  }).ok());
  EXPECT_EQ(rows, commits);
}

// WriteCheckedChildren runs on the logging writer, which trusts its bodies
// to have checked the parent rows; Write() keeps the database's checks, and
// both see each other's rows.
TEST(ConnectionPoolTest, CheckedChildrenSkipForeignKeyLookupsAndWriteKeepsThem) {
  ScopedTempDir dir;
  auto pool = MakePool((dir.path() / "fk.db").string());
  ASSERT_NE(pool, nullptr);
  auto exec = [](std::string sql) {
    return [sql](sql::Connection& connection) { return connection.Exec(sql); };
  };
  ASSERT_TRUE(pool->Write(exec("CREATE TABLE parent (id TEXT PRIMARY KEY);"
                               "CREATE TABLE child (parent_id TEXT NOT NULL REFERENCES parent(id));"
                               "INSERT INTO parent (id) VALUES ('p');"))
                  .ok());
  const auto orphan = exec("INSERT INTO child (parent_id) VALUES ('none')");
  EXPECT_FALSE(pool->Write(orphan).ok()) << "Write() must check foreign keys";
  EXPECT_TRUE(pool->WriteCheckedChildren(exec("INSERT INTO child (parent_id) VALUES ('p')")).ok());
  EXPECT_TRUE(pool->WriteCheckedChildren(orphan).ok()) << "no lookup: the body checked";
  EXPECT_FALSE(pool->Write(orphan).ok()) << "Write() still checks";
  // A failing body rolls back on the logging writer too.
  EXPECT_FALSE(pool->WriteCheckedChildren([](sql::Connection& connection) -> core::Status {
                     MLFORGE_RETURN_IF_ERROR(
                         connection.Exec("INSERT INTO child (parent_id) VALUES ('p')"));
                     return core::InvalidArgumentError("changed my mind");
                   }).ok());
  int64_t children = -1;
  ASSERT_TRUE(pool->Read([&children](sql::Connection& connection) -> core::Status {
                    MLFORGE_ASSIGN_OR_RETURN(Statement count,
                                             connection.Prepare("SELECT COUNT(*) FROM child"));
                    MLFORGE_ASSIGN_OR_RETURN(bool row, count.Step());
                    if (row) children = count.ColumnInt(0);
                    return core::Status::Ok();
                  }).ok());
  EXPECT_EQ(children, 2);
}

}  // namespace
}  // namespace mlforge::tracking::sqlite_internal
