#include "tracking/postgres/postgres_connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "tracking/postgres/postgres_uri.h"

namespace mlforge::tracking::postgres {

namespace {

// PostgreSQL's type OIDs for the parameters we bind; text goes as
// "unknown" (0) so the server types it from its context.
constexpr Oid kInt8Oid = 20;
constexpr Oid kFloat8Oid = 701;

// SQLSTATEs after which a write transaction is worth running again.
bool IsRetryable(const std::string& sqlstate) {
  return sqlstate == "40001"      // serialization_failure
         || sqlstate == "40P01"   // deadlock_detected
         || sqlstate == "23505";  // unique_violation: another writer took the key first
}

std::string TrimmedError(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The Status for a failed result (or a null one) on `connection`.
core::Status ErrorFromResult(Connection& connection, PGresult* result, std::string_view context) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state != nullptr ? state : "";
  std::string message = result != nullptr ? TrimmedError(PQresultErrorMessage(result)) : "";
  if (message.empty()) message = TrimmedError(PQerrorMessage(connection.raw()));
  connection.RecordForStatements(0, sqlstate);
  std::string text = "PostgreSQL " + std::string(context) + ": " + message;
  if (!connection.healthy() || sqlstate.starts_with("08") || sqlstate == "57P01") {
    return core::UnavailableError("PostgreSQL connection lost (" + text + "); retry the request");
  }
  if (sqlstate == "23505") return core::AlreadyExistsError(text);
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return core::UnavailableError(text + "; retry the request");
  }
  return core::InternalError(text);
}

std::string FormatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

class PostgresStatement final : public sql::StatementBackend {
 public:
  PostgresStatement(Connection& connection, std::string text)
      : connection_(connection), text_(std::move(text)) {}
  ~PostgresStatement() override { Clear(); }
  PostgresStatement(const PostgresStatement&) = delete;
  PostgresStatement& operator=(const PostgresStatement&) = delete;

  void Bind(int index, const sql::SqlValue& value) override {
    if (index < 1) return;
    auto slot = static_cast<size_t>(index - 1);
    if (values_.size() <= slot) {
      values_.resize(slot + 1);
      types_.resize(slot + 1, 0);
    }
    types_[slot] = 0;
    if (const auto* integer = std::get_if<int64_t>(&value)) {
      values_[slot] = std::to_string(*integer);
      types_[slot] = kInt8Oid;
    } else if (const auto* number = std::get_if<double>(&value)) {
      values_[slot] = FormatDouble(*number);
      types_[slot] = kFloat8Oid;
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      values_[slot] = *text;
    } else {
      values_[slot].reset();
    }
  }

  core::Result<bool> Step() override {
    if (result_ == nullptr) {
      std::vector<const char*> pointers(values_.size());
      for (size_t index = 0; index < values_.size(); ++index) {
        pointers[index] = values_[index] ? values_[index]->c_str() : nullptr;
      }
      result_ = PQexecParams(connection_.raw(), text_.c_str(), static_cast<int>(values_.size()),
                             types_.data(), pointers.data(), nullptr, nullptr, 0);
      ExecStatusType status = result_ != nullptr ? PQresultStatus(result_) : PGRES_FATAL_ERROR;
      if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        core::Status error = ErrorFromResult(connection_, result_, "statement failed");
        Clear();
        return error;
      }
      const char* changed = PQcmdTuples(result_);
      int64_t changes = 0;
      if (changed != nullptr && *changed != '\0') changes = std::strtoll(changed, nullptr, 10);
      connection_.RecordForStatements(changes, "");
      row_ = -1;
      rows_ = PQntuples(result_);
    }
    ++row_;
    return row_ < rows_;
  }

  void Reset() override { Clear(); }

  int64_t ColumnInt(int column) const override {
    const char* text = Value(column);
    if (text == nullptr) return 0;
    // Booleans come back as "t"/"f".
    if (text[0] == 't') return 1;
    if (text[0] == 'f') return 0;
    return std::strtoll(text, nullptr, 10);
  }
  double ColumnDouble(int column) const override {
    const char* text = Value(column);
    return text == nullptr ? 0.0 : std::strtod(text, nullptr);
  }
  std::string ColumnText(int column) const override {
    const char* text = Value(column);
    if (text == nullptr) return "";
    return std::string(text, static_cast<size_t>(PQgetlength(result_, row_, column)));
  }
  bool ColumnIsNull(int column) const override {
    return result_ == nullptr || row_ < 0 || row_ >= rows_ ||
           PQgetisnull(result_, row_, column) != 0;
  }

 private:
  const char* Value(int column) const {
    if (ColumnIsNull(column)) return nullptr;
    return PQgetvalue(result_, row_, column);
  }
  void Clear() {
    if (result_ != nullptr) PQclear(result_);
    result_ = nullptr;
    row_ = -1;
    rows_ = 0;
  }

  Connection& connection_;
  const std::string text_;
  std::vector<std::optional<std::string>> values_;
  std::vector<Oid> types_;
  PGresult* result_ = nullptr;
  int row_ = -1;
  int rows_ = 0;
};

}  // namespace

std::string NumberPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 1;
  char quote = 0;  // the quote character we are inside, or 0
  for (size_t at = 0; at < sql.size(); ++at) {
    char c = sql[at];
    if (quote != 0) {
      out += c;
      if (c == quote) quote = 0;  // a doubled quote re-enters at once: same effect
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '-' && at + 1 < sql.size() && sql[at + 1] == '-') {
      size_t end = sql.find('\n', at);
      if (end == std::string_view::npos) end = sql.size();
      out.append(sql.substr(at, end - at));
      at = end - 1;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(next++);
    } else {
      out += c;
    }
  }
  return out;
}

// ---- Connection -------------------------------------------------------------------

core::Result<std::unique_ptr<Connection>> Connection::Open(const std::string& libpq_uri,
                                                           const std::string& display_uri) {
  PGconn* raw = PQconnectdb(libpq_uri.c_str());
  if (raw == nullptr) {
    return core::UnavailableError("Cannot allocate a PostgreSQL connection to " + display_uri);
  }
  if (PQstatus(raw) != CONNECTION_OK) {
    // libpq's message never includes the password.
    std::string message = TrimmedError(PQerrorMessage(raw));
    PQfinish(raw);
    return core::UnavailableError("Cannot connect to PostgreSQL at " + display_uri + ": " +
                                  message + ". Check that the server runs and the URI is right");
  }
  std::unique_ptr<Connection> connection(new Connection(raw));
  // Keep server notices (e.g. "relation already exists, skipping") off stderr.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  MLFORGE_RETURN_IF_ERROR(
      connection->Exec("SET client_encoding = 'UTF8'; SET standard_conforming_strings = on"));
  return connection;
}

Connection::~Connection() { PQfinish(connection_); }

bool Connection::healthy() const { return PQstatus(connection_) == CONNECTION_OK; }

int Connection::BackendPidForTesting() const { return PQbackendPID(connection_); }

core::Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  PGresult* result = PQexec(connection_, text.c_str());
  ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    core::Status error = ErrorFromResult(*this, result, "'" + text.substr(0, 60) + "' failed");
    if (result != nullptr) PQclear(result);
    return error;
  }
  RecordForStatements(0, "");
  PQclear(result);
  return core::Status::Ok();
}

core::Result<sql::Statement> Connection::Prepare(std::string_view sql) {
  return sql::Statement(std::make_unique<PostgresStatement>(*this, NumberPlaceholders(sql)));
}

// ---- ConnectionPool ---------------------------------------------------------------

core::Result<std::unique_ptr<ConnectionPool>> ConnectionPool::Open(std::string_view uri,
                                                                   const PoolOptions& options) {
  MLFORGE_ASSIGN_OR_RETURN(std::string libpq_uri, ToLibpqUri(uri));
  if (options.max_connections < 1) {
    return core::InvalidArgumentError("A PostgreSQL pool needs at least one connection");
  }
  std::unique_ptr<ConnectionPool> pool(
      new ConnectionPool(std::move(libpq_uri), RedactPassword(uri), options));
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> first, pool->Acquire());
  pool->Release(std::move(first));
  return pool;
}

ConnectionPool::ConnectionPool(std::string libpq_uri, std::string display_uri, PoolOptions options)
    : libpq_uri_(std::move(libpq_uri)), display_uri_(std::move(display_uri)), options_(options) {}

ConnectionPool::~ConnectionPool() = default;

core::Result<std::unique_ptr<Connection>> ConnectionPool::Acquire() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    bool ready =
        released_.wait_for(lock, std::chrono::milliseconds(options_.acquire_timeout_ms),
                           [this] { return !idle_.empty() || open_ < options_.max_connections; });
    if (!ready) {
      return core::UnavailableError(
          "All " + std::to_string(options_.max_connections) + " PostgreSQL connections to " +
          display_uri_ + " stayed busy for " + std::to_string(options_.acquire_timeout_ms) +
          " ms; retry the request");
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    ++open_;  // reserve the slot; connect outside the lock (network I/O)
  }
  auto opened = Connection::Open(libpq_uri_, display_uri_);
  if (!opened.ok()) {
    std::lock_guard<std::mutex> lock(mutex_);
    --open_;
    released_.notify_one();
  }
  return opened;
}

void ConnectionPool::Release(std::unique_ptr<Connection> connection) {
  bool keep = connection->healthy();
  if (!keep) connection.reset();  // close outside the lock
  std::lock_guard<std::mutex> lock(mutex_);
  if (keep) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
  released_.notify_one();
}

core::Status ConnectionPool::RunTransaction(
    Mode mode, const std::function<core::Status(sql::Connection&)>& body) {
  const std::string_view begin = mode == Mode::kWrite
                                     ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                                     : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
  int conflicts = 0;
  int reconnects = 0;
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, Acquire());
    bool began = false;
    core::Status status = connection->Exec(begin);
    if (status.ok()) {
      began = true;
      status = body(*connection);
    }
    if (status.ok()) status = connection->Exec("COMMIT");
    if (status.ok()) {
      Release(std::move(connection));
      return status;
    }
    std::string sqlstate = connection->last_sqlstate();
    bool healthy = connection->healthy();
    if (healthy) (void)connection->Exec("ROLLBACK");
    Release(std::move(connection));
    // A pooled connection found dead at BEGIN (the server restarted or
    // killed it while idle) ran nothing: run the body on a fresh one. A
    // connection lost later may have run part of the body (or its COMMIT),
    // so the caller hears Unavailable and decides.
    if (!healthy && !began && reconnects < options_.max_connections + 1) {
      ++reconnects;
      continue;
    }
    if (healthy && mode == Mode::kWrite && IsRetryable(sqlstate) &&
        conflicts < options_.max_write_retries) {
      ++conflicts;
      // A random pause, growing with each conflict, so the writers that
      // collided do not collide again in lockstep.
      thread_local std::minstd_rand jitter(std::random_device{}());
      int ceiling_ms = std::min(2 << std::min(conflicts, 5), 64);
      std::this_thread::sleep_for(
          std::chrono::milliseconds(1 + static_cast<int>(jitter() % ceiling_ms)));
      continue;
    }
    return status;
  }
}

core::Status ConnectionPool::Write(const std::function<core::Status(sql::Connection&)>& body) {
  return RunTransaction(Mode::kWrite, body);
}

core::Status ConnectionPool::Read(const std::function<core::Status(sql::Connection&)>& body) {
  return RunTransaction(Mode::kRead, body);
}

core::Status ConnectionPool::WithConnectionForTesting(
    const std::function<core::Status(Connection&)>& body) {
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, Acquire());
  core::Status status = body(*connection);
  Release(std::move(connection));
  return status;
}

}  // namespace mlforge::tracking::postgres
