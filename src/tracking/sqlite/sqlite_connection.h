#pragma once

// Thin RAII wrappers over the SQLite C API for the SQLite stores: the
// sql::Connection of one SQLite database, with a cache of prepared
// statements, and an IMMEDIATE transaction. Private to the SQLite stores.
//
// A Connection is used by one thread at a time (the store hands connections
// out under its own locks); it is not thread-safe itself.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/status.h"
#include "tracking/sql/sql_connection.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mlforge::tracking::sqlite_internal {

using sql::SqlQuery;
using sql::SqlValue;
using sql::Statement;

// Settings applied to every connection.
struct ConnectionOptions {
  // PRAGMA synchronous: FULL when true, NORMAL otherwise.
  bool synchronous_full = false;
  // PRAGMA busy_timeout, in milliseconds.
  int busy_timeout_ms = 5000;
  // PRAGMA foreign_keys. Off only for a connection whose every write checks
  // its parent rows itself (ConnectionPool's logging writer).
  bool foreign_keys = true;
};

class Connection final : public sql::Connection {
 public:
  // Opens (creating if needed) the database at `path` (":memory:" for a
  // private in-memory one), in WAL mode with foreign keys on, and registers
  // the mlforge_like / mlforge_ilike functions (MLflow's LIKE and ILIKE:
  // '%' any run, '_' one character, no escape; LIKE case-sensitive, ILIKE
  // ASCII-case-insensitive).
  static core::Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                        const ConnectionOptions& options);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }

  // Runs one or more statements without parameters (DDL, pragmas).
  core::Status Exec(std::string_view sql) override;

  // A prepared statement for `sql`, from the cache when it was prepared
  // before on this connection. Statements made from user input must still
  // bind every value: only the SQL text is cached.
  core::Result<Statement> Prepare(std::string_view sql) override;

  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const override;

  // Calls `hook` with the WAL's length in frames after every commit on this
  // connection, instead of SQLite's automatic checkpoint (which this turns
  // off): the caller then decides when and where to checkpoint.
  void OnWalCommit(std::function<void(int frames)> hook);
  // Copies what it can of the WAL back into the database without waiting
  // for anyone (SQLITE_CHECKPOINT_PASSIVE). Sets *complete when every
  // frame was copied (the next write then starts the WAL over).
  core::Status CheckpointPassive(bool* complete);

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  static int WalHook(void* self, sqlite3* db, const char* name, int frames);

  // Caching stops at this many statements (dynamic search SQL is then
  // prepared per call), so odd query shapes cannot grow memory without bound.
  static constexpr size_t kMaxCachedStatements = 256;

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  std::function<void(int)> wal_hook_;
};

// BEGIN IMMEDIATE (a write transaction) or BEGIN (a read snapshot) now;
// ROLLBACK on destruction unless Commit() succeeded. Borrows the connection.
class Transaction {
 public:
  enum class Kind { kRead, kWrite };
  static core::Result<std::unique_ptr<Transaction>> Begin(Connection& connection, Kind kind);
  ~Transaction();
  core::Status Commit();

 private:
  explicit Transaction(Connection& connection) : connection_(connection) {}
  Connection& connection_;
  bool open_ = true;
};

// MLflow's LIKE on UTF-8 text: '%' matches any run of characters, '_'
// exactly one character, everything else itself (ASCII letters ignoring case
// when `ignore_case`).
bool LikeMatch(std::string_view text, std::string_view pattern, bool ignore_case);

}  // namespace mlforge::tracking::sqlite_internal
