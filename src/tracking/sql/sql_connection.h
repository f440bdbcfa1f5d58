#pragma once

// The backend-neutral face of a SQL database, as the SQL stores see it
// (tracking's SqlStore and the registry's SqlRegistryStore): a connection
// that prepares statements with '?' placeholders, a statement that binds
// values, steps through rows and reads columns, and a pool that runs a body
// inside one write transaction or one read snapshot. SQLite
// (tracking/sqlite/) and PostgreSQL (tracking/postgres/) implement it, so
// the store logic and its SQL text exist once. Private to the SQL stores.
//
// Placeholders are always written '?', numbered from 1 in order; the
// PostgreSQL connection renumbers them to $1, $2 ... before the server sees
// the text. Values are always bound, never spliced into SQL text.
//
// A Connection and its Statements are used by one thread at a time (pools
// hand them out); they are not thread-safe themselves. A Statement borrows
// its connection, which must outlive it.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace mlforge::tracking::sql {

// A value bound to a '?' placeholder.
using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;

// A statement with its bound values, as the query builders make them.
struct SqlQuery {
  std::string text;
  std::vector<SqlValue> parameters;  // for the '?'s of `text`, in order
};

// What differs in the SQL text the stores build for each backend.
enum class Dialect {
  // MLflow's LIKE/ILIKE are the mlforge_like()/mlforge_ilike() functions the
  // SQLite connection registers.
  kSqlite,
  // LIKE (case-sensitive, as MLflow's) and ILIKE with the escape character
  // switched off, so '\' is an ordinary character as in MLflow.
  kPostgres,
};

// "<column> LIKE ?" in `dialect`'s spelling, case-insensitive (ILIKE) when
// `ignore_case`; one '?' for the pattern.
std::string LikeCondition(Dialect dialect, std::string_view column, bool ignore_case);

// One backend's prepared statement. Statement wraps it.
class StatementBackend {
 public:
  virtual ~StatementBackend() = default;
  // Placeholders are numbered from 1; the value is copied.
  virtual void Bind(int index, const SqlValue& value) = 0;
  // Text without building a SqlValue first; backends that copy the bytes
  // themselves override it to skip the temporary string.
  virtual void BindText(int index, std::string_view value) {
    Bind(index, SqlValue(std::string(value)));
  }
  // Runs the statement on the first call after binding (or after Reset),
  // then advances: true when a row is ready, false when done.
  virtual core::Result<bool> Step() = 0;
  // Back to before the first Step, keeping the bindings.
  virtual void Reset() = 0;
  virtual int64_t ColumnInt(int column) const = 0;
  virtual double ColumnDouble(int column) const = 0;
  virtual std::string ColumnText(int column) const = 0;
  virtual bool ColumnIsNull(int column) const = 0;
};

// A prepared statement in use: bind values, step, read columns (numbered
// from 0). Movable, not copyable.
class Statement {
 public:
  explicit Statement(std::unique_ptr<StatementBackend> backend) : backend_(std::move(backend)) {}

  Statement& Bind(int index, int64_t value) { return BindValue(index, SqlValue(value)); }
  Statement& Bind(int index, double value) { return BindValue(index, SqlValue(value)); }
  Statement& Bind(int index, std::string_view value) {
    backend_->BindText(index, value);
    return *this;
  }
  Statement& Bind(int index, std::nullptr_t) { return BindValue(index, SqlValue(nullptr)); }
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& BindValue(int index, const SqlValue& value) {
    backend_->Bind(index, value);
    return *this;
  }
  // Binds values[i] to placeholder i + 1.
  Statement& BindAll(const std::vector<SqlValue>& values);

  // Advances to the next row: true when a row is ready, false when done.
  // Unavailable when the database is busy or unreachable; AlreadyExists for
  // a unique-key violation the backend reports; Internal otherwise.
  core::Result<bool> Step() { return backend_->Step(); }
  // Steps until done (for statements that return no rows) and resets, so
  // the statement can be bound and run again.
  core::Status Run();

  int64_t ColumnInt(int column) const { return backend_->ColumnInt(column); }
  double ColumnDouble(int column) const { return backend_->ColumnDouble(column); }
  std::string ColumnText(int column) const { return backend_->ColumnText(column); }
  bool ColumnIsNull(int column) const { return backend_->ColumnIsNull(column); }

 private:
  std::unique_ptr<StatementBackend> backend_;
};

class Connection {
 public:
  virtual ~Connection() = default;

  virtual Dialect dialect() const = 0;

  // Runs one or more statements without parameters (DDL, pragmas).
  virtual core::Status Exec(std::string_view sql) = 0;

  // A prepared statement for `sql` ('?' placeholders). Statements made from
  // user input must still bind every value.
  virtual core::Result<Statement> Prepare(std::string_view sql) = 0;

  // Rows changed by the last INSERT/UPDATE/DELETE run on this connection.
  virtual int64_t Changes() const = 0;
};

// Where the stores get connections. Thread-safe.
class ConnectionPool {
 public:
  virtual ~ConnectionPool() = default;
  // The dialect of every connection the pool hands out.
  virtual Dialect dialect() const = 0;
  // Runs `body` inside one write transaction, committing when it returns OK
  // and rolling back otherwise.
  virtual core::Status Write(const std::function<core::Status(Connection&)>& body) = 0;
  // Write() for a body that itself checks, inside the transaction, that the
  // parent row of everything it inserts exists (metrics after
  // RequireActiveRun; writes are serialised, so the parent cannot vanish
  // before the commit). The pool may then skip the database's own per-row
  // foreign-key lookups. By default it is Write().
  virtual core::Status WriteCheckedChildren(const std::function<core::Status(Connection&)>& body) {
    return Write(body);
  }
  // Runs `body` inside one read snapshot; it sees only committed data.
  virtual core::Status Read(const std::function<core::Status(Connection&)>& body) = 0;
};

// Runs `query` and returns the integer first column of every row, in order:
// the ids of one page of a search.
core::Result<std::vector<int64_t>> SelectIds(Connection& connection, const SqlQuery& query);

// Brings one part's tables to the newest schema; run it inside a write
// transaction (ConnectionPool::Write), so a crash leaves the old schema or
// the new one. `version_table` (a fixed name, never user input) records how
// many of `migrations` have run; the rest run in order. On PostgreSQL a
// transaction-scoped advisory lock first serialises concurrent openers.
// A database whose version is beyond `migrations` is FailedPrecondition:
// an older mlforge must not write to a newer schema. `subject` names the
// part in messages ("tracking", "model registry").
core::Status ApplyMigrations(Connection& connection, std::string_view version_table,
                             std::span<const std::string_view> migrations,
                             std::string_view subject);

}  // namespace mlforge::tracking::sql
