#pragma once

// Thin RAII wrappers over the SQLite C API for the SQLite store: a
// connection with a cache of prepared statements, a statement handle that
// binds values and steps, and an IMMEDIATE transaction. Private to
// tracking/sqlite/.
//
// A Connection is used by one thread at a time (the store hands connections
// out under its own locks); it is not thread-safe itself.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mlforge::tracking::sqlite_internal {

// A value bound to a '?' placeholder.
using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;

// A prepared statement in use. Destroying it resets the statement and clears
// its bindings (a cached one goes back to its connection's cache) or
// finalizes it (an uncached one). Borrows its connection, which must outlive it.
class Statement {
 public:
  Statement(sqlite3_stmt* statement, bool owned) : statement_(statement), owned_(owned) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Placeholders are numbered from 1. Text is copied.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, std::nullptr_t);
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& BindValue(int index, const SqlValue& value);
  // Binds values[i] to placeholder i + 1.
  Statement& BindAll(const std::vector<SqlValue>& values);

  // Advances to the next row: true when a row is ready, false when done.
  // Unavailable when the database is busy; Internal on any other error.
  core::Result<bool> Step();
  // Steps until done (for statements that return no rows) and resets.
  core::Status Run();

  int64_t ColumnInt(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  sqlite3_stmt* statement_;
  bool owned_;
};

// Settings applied to every connection.
struct ConnectionOptions {
  // PRAGMA synchronous: FULL when true, NORMAL otherwise.
  bool synchronous_full = false;
  // PRAGMA busy_timeout, in milliseconds.
  int busy_timeout_ms = 5000;
};

class Connection {
 public:
  // Opens (creating if needed) the database at `path` (":memory:" for a
  // private in-memory one), in WAL mode with foreign keys on, and registers
  // the mlforge_like / mlforge_ilike functions (MLflow's LIKE and ILIKE:
  // '%' any run, '_' one character, no escape; LIKE case-sensitive, ILIKE
  // ASCII-case-insensitive).
  static core::Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                        const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters (DDL, pragmas).
  core::Status Exec(std::string_view sql);

  // A prepared statement for `sql`, from the cache when it was prepared
  // before on this connection. Statements made from user input must still
  // bind every value: only the SQL text is cached.
  core::Result<Statement> Prepare(std::string_view sql);

  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  // Caching stops at this many statements (dynamic search SQL is then
  // prepared per call), so odd query shapes cannot grow memory without bound.
  static constexpr size_t kMaxCachedStatements = 256;

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
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

// A statement with its bound values, as the query builders make them.
struct SqlQuery {
  std::string text;
  std::vector<SqlValue> parameters;  // for the '?'s of `text`, in order
};

// Runs `query` and returns the integer first column of every row, in order:
// the ids of one page of a search.
core::Result<std::vector<int64_t>> SelectIds(Connection& connection, const SqlQuery& query);

// Brings one part's tables to the newest schema. `version_table` (a fixed
// name, never user input) records how many of `migrations` have run; the rest
// run in order inside one write transaction, so a crash leaves the old schema
// or the new one. A database whose version is beyond `migrations` is
// FailedPrecondition: an older mlforge must not write to a newer schema.
// `subject` names the part in messages ("tracking", "model registry").
core::Status ApplyMigrations(Connection& connection, std::string_view version_table,
                             std::span<const std::string_view> migrations,
                             std::string_view subject);

}  // namespace mlforge::tracking::sqlite_internal
