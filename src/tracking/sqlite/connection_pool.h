#pragma once

// The sql::ConnectionPool of one SQLite database, shared by the SQLite
// stores (tracking's SqliteStore and the registry's SqliteRegistryStore): one
// writer connection behind a mutex that runs every write as one IMMEDIATE
// transaction, and a pool of idle reader connections that run each read in
// its own snapshot, so readers never wait for the writer. A private
// in-memory database has only the writer connection, so its reads run
// there, under the writer's mutex. Private to the SQLite stores.
//
// Logging (WriteCheckedChildren: metrics, params, tags of a run the body
// has checked) runs on a second writer connection with foreign keys off,
// under the same mutex, so a metric row costs no lookup of its run: a tenth
// of an insert. Only one of the two writes at a time; each keeps its own
// statement cache and page cache (a commit by the other one resets a page
// cache, which a stream of log-batch calls seldom sees).
//
// Checkpoints run beside the writer, not in it: once the WAL holds
// kCheckpointFrames frames after a commit, a background thread copies them
// back into the database on a connection of its own while the writer goes on
// committing, then takes the writer's mutex only to copy the few frames
// that arrived meanwhile, so the WAL can start over. (SQLite's automatic
// checkpoint did all of it inside the commit that crossed the mark, fsyncs
// included: a tenth of the writer's time under log-batch load.) Should the
// thread fall behind, a commit past kCheckpointFrames x 4 checkpoints itself,
// as SQLite would.
//
// Thread-safe.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "tracking/sqlite/sqlite_connection.h"

namespace mlforge::tracking::sqlite_internal {

class ConnectionPool final : public sql::ConnectionPool {
 public:
  // The path of a private in-memory database.
  static constexpr std::string_view kInMemory = ":memory:";

  // Takes `writer`, already open on `path`; the store applies migrations
  // through Write() before anything else reads. Readers are
  // opened on `path` with `options` when needed; at most `max_idle_readers`
  // idle ones are kept.
  ConnectionPool(std::string path, ConnectionOptions options, int max_idle_readers,
                 std::unique_ptr<Connection> writer);
  ~ConnectionPool() override;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }

  // The WAL length (frames of one page) at which a checkpoint starts.
  static constexpr int kCheckpointFrames = 8000;

  // Runs `body` inside one write transaction (BEGIN IMMEDIATE) on the writer
  // connection, committing when it returns OK and rolling back otherwise.
  // Takes the writer's mutex.
  core::Status Write(const std::function<core::Status(sql::Connection&)>& body) override;
  // Write() on the logging writer (see the class comment); on the one
  // connection of an in-memory database, with foreign keys on.
  core::Status WriteCheckedChildren(
      const std::function<core::Status(sql::Connection&)>& body) override;
  // Runs `body` inside one read snapshot on a reader connection (the writer
  // connection, under its mutex, for an in-memory database).
  core::Status Read(const std::function<core::Status(sql::Connection&)>& body) override;

 private:
  core::Result<std::unique_ptr<Connection>> TakeReader();
  void ReturnReader(std::unique_ptr<Connection> reader);
  // The writer's commit hook (runs under writer_mutex_).
  void AfterCommit(int wal_frames);
  // The background checkpointer.
  void CheckpointLoop();
  void CheckpointOnce(std::unique_ptr<Connection>* connection);

  // Fixed at construction.
  const std::string path_;
  const ConnectionOptions options_;
  const int max_idle_readers_;
  const bool in_memory_;

  std::mutex writer_mutex_;
  std::unique_ptr<Connection> writer_;          // guarded by writer_mutex_
  std::unique_ptr<Connection> logging_writer_;  // guarded by writer_mutex_; opened when first used

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mutex_

  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool checkpoint_due_ = false;       // guarded by checkpoint_mutex_
  bool checkpoint_stopping_ = false;  // guarded by checkpoint_mutex_
  std::thread checkpointer_;          // not started for an in-memory database
};

}  // namespace mlforge::tracking::sqlite_internal
