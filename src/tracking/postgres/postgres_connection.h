#pragma once

// The sql::Connection of one libpq connection, and the pool the PostgreSQL
// stores share. Private to the PostgreSQL stores (tracking/postgres/ and
// registry/postgres/).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tracking/sql/sql_connection.h"

struct pg_conn;

namespace mlforge::tracking::postgres {

// `sql` with each '?' outside quoted text and comments numbered "$1",
// "$2", ... in order, as PostgreSQL wants its placeholders.
std::string NumberPlaceholders(std::string_view sql);

// One open libpq connection. Used by one thread at a time.
class Connection final : public sql::Connection {
 public:
  // Connects with libpq URI `libpq_uri` (postgres_uri.h's ToLibpqUri).
  // Unavailable, with `display_uri` (a redacted URI) in the message, when
  // the server cannot be reached or refuses the login.
  static core::Result<std::unique_ptr<Connection>> Open(const std::string& libpq_uri,
                                                        const std::string& display_uri);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
  core::Status Exec(std::string_view sql) override;
  core::Result<sql::Statement> Prepare(std::string_view sql) override;
  int64_t Changes() const override { return changes_; }

  // Whether the connection to the server is still up (false after the
  // server went away or killed this backend).
  bool healthy() const;
  // The SQLSTATE of the last failed command ("40001", "23505", ...); empty
  // after a success.
  const std::string& last_sqlstate() const { return last_sqlstate_; }

  // The server's process id for this connection (for tests that kill it).
  int BackendPidForTesting() const;

  // Internal to statements: records the outcome of a command.
  void RecordForStatements(int64_t changes, std::string sqlstate) {
    changes_ = changes;
    last_sqlstate_ = std::move(sqlstate);
  }
  pg_conn* raw() const { return connection_; }

 private:
  explicit Connection(pg_conn* connection) : connection_(connection) {}

  pg_conn* const connection_;
  int64_t changes_ = 0;
  std::string last_sqlstate_;
};

struct PoolOptions {
  // Most connections open at once; a caller waits for a free one beyond
  // that. Default 8.
  int max_connections = 8;
  // How long a caller waits for a free connection before Unavailable, in
  // milliseconds. Default 30000.
  int acquire_timeout_ms = 30000;
  // How many times a write transaction is run again after a serialization
  // failure, deadlock or unique-key race with another writer. Default 50.
  int max_write_retries = 50;
};

// A bounded pool of connections to one database. Write runs its body in a
// SERIALIZABLE transaction and runs it again (on the data now committed)
// when PostgreSQL reports a conflict with a concurrent transaction, so the
// stores' check-then-write logic stays correct across threads, processes
// and machines. Read runs its body in a REPEATABLE READ, READ ONLY
// snapshot. A connection found broken (server restart, killed backend) is
// dropped; if it broke before the transaction could commit, the body runs
// again on a fresh connection. Thread-safe.
class ConnectionPool final : public sql::ConnectionPool {
 public:
  // Opens the first connection now, so a wrong URI fails at open.
  static core::Result<std::unique_ptr<ConnectionPool>> Open(std::string_view uri,
                                                            const PoolOptions& options);
  ~ConnectionPool() override;

  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
  core::Status Write(const std::function<core::Status(sql::Connection&)>& body) override;
  core::Status Read(const std::function<core::Status(sql::Connection&)>& body) override;

  // The store URI with its password redacted.
  const std::string& display_uri() const { return display_uri_; }

  // Runs `body` on a pooled connection outside any transaction (tests).
  core::Status WithConnectionForTesting(const std::function<core::Status(Connection&)>& body);

 private:
  ConnectionPool(std::string libpq_uri, std::string display_uri, PoolOptions options);

  enum class Mode { kRead, kWrite };
  core::Status RunTransaction(Mode mode, const std::function<core::Status(sql::Connection&)>& body);
  core::Result<std::unique_ptr<Connection>> Acquire();
  // Keeps a healthy connection for reuse; closes a broken one.
  void Release(std::unique_ptr<Connection> connection);

  // Fixed at construction.
  const std::string libpq_uri_;
  const std::string display_uri_;
  const PoolOptions options_;

  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mutex_
  int open_ = 0;  // connections open, idle or lent; guarded by mutex_
};

}  // namespace mlforge::tracking::postgres
