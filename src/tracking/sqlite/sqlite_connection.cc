#include "tracking/sqlite/sqlite_connection.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

namespace mlforge::tracking::sqlite_internal {

namespace {

core::Status ErrorFromCode(sqlite3* db, int code, std::string_view context) {
  std::string message =
      std::string(context) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code));
  int primary = code & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return core::UnavailableError("SQLite database is busy (" + message + "); retry the request");
  }
  if (primary == SQLITE_CANTOPEN || primary == SQLITE_FULL || primary == SQLITE_IOERR ||
      primary == SQLITE_READONLY) {
    return core::UnavailableError("SQLite database unavailable (" + message + ")");
  }
  return core::InternalError("SQLite error (" + message + ")");
}

size_t NextCharacter(std::string_view text, size_t at) {
  ++at;
  while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
  return at;
}

bool SameByte(char a, char b, bool ignore_case) {
  if (a == b) return true;
  return ignore_case &&
         std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

void LikeFunction(sqlite3_context* context, int argc, sqlite3_value** argv, bool ignore_case) {
  if (argc != 2 || sqlite3_value_type(argv[0]) == SQLITE_NULL ||
      sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(context);
    return;
  }
  const unsigned char* text = sqlite3_value_text(argv[0]);
  int text_size = sqlite3_value_bytes(argv[0]);
  const unsigned char* pattern = sqlite3_value_text(argv[1]);
  int pattern_size = sqlite3_value_bytes(argv[1]);
  if (text == nullptr || pattern == nullptr) {
    sqlite3_result_null(context);
    return;
  }
  bool matched = LikeMatch(
      std::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(text_size)),
      std::string_view(reinterpret_cast<const char*>(pattern), static_cast<size_t>(pattern_size)),
      ignore_case);
  sqlite3_result_int(context, matched ? 1 : 0);
}

void LikeCaseSensitive(sqlite3_context* context, int argc, sqlite3_value** argv) {
  LikeFunction(context, argc, argv, false);
}

void LikeIgnoreCase(sqlite3_context* context, int argc, sqlite3_value** argv) {
  LikeFunction(context, argc, argv, true);
}

}  // namespace

bool LikeMatch(std::string_view text, std::string_view pattern, bool ignore_case) {
  size_t text_at = 0;
  size_t pattern_at = 0;
  size_t star_pattern = std::string_view::npos;  // just after the last '%'
  size_t star_text = 0;                          // where that '%' match now ends
  while (text_at < text.size()) {
    if (pattern_at < pattern.size() && pattern[pattern_at] == '%') {
      star_pattern = ++pattern_at;
      star_text = text_at;
      continue;
    }
    if (pattern_at < pattern.size() && pattern[pattern_at] == '_') {
      text_at = NextCharacter(text, text_at);
      ++pattern_at;
      continue;
    }
    if (pattern_at < pattern.size() && SameByte(text[text_at], pattern[pattern_at], ignore_case)) {
      ++text_at;
      ++pattern_at;
      continue;
    }
    if (star_pattern == std::string_view::npos) return false;
    star_text = NextCharacter(text, star_text);
    text_at = star_text;
    pattern_at = star_pattern;
  }
  while (pattern_at < pattern.size() && pattern[pattern_at] == '%') ++pattern_at;
  return pattern_at == pattern.size();
}

// ---- Statement ------------------------------------------------------------

namespace {

// A cached statement goes back to its connection's cache on destruction
// (reset, bindings cleared); an uncached one is finalized.
class SqliteStatement final : public sql::StatementBackend {
 public:
  SqliteStatement(sqlite3_stmt* statement, bool owned) : statement_(statement), owned_(owned) {}
  ~SqliteStatement() override {
    if (owned_) {
      sqlite3_finalize(statement_);
    } else {
      sqlite3_reset(statement_);
      sqlite3_clear_bindings(statement_);
    }
  }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void Bind(int index, const SqlValue& value) override {
    if (const auto* integer = std::get_if<int64_t>(&value)) {
      sqlite3_bind_int64(statement_, index, *integer);
    } else if (const auto* number = std::get_if<double>(&value)) {
      sqlite3_bind_double(statement_, index, *number);
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      sqlite3_bind_text64(statement_, index, text->data(), text->size(), SQLITE_TRANSIENT,
                          SQLITE_UTF8);
    } else {
      sqlite3_bind_null(statement_, index);
    }
  }

  void BindText(int index, std::string_view value) override {
    sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                        SQLITE_UTF8);
  }

  core::Result<bool> Step() override {
    int code = sqlite3_step(statement_);
    if (code == SQLITE_ROW) return true;
    if (code == SQLITE_DONE) return false;
    return ErrorFromCode(sqlite3_db_handle(statement_), code, "executing a statement");
  }

  void Reset() override { sqlite3_reset(statement_); }

  int64_t ColumnInt(int column) const override { return sqlite3_column_int64(statement_, column); }
  double ColumnDouble(int column) const override {
    return sqlite3_column_double(statement_, column);
  }
  std::string ColumnText(int column) const override {
    const unsigned char* text = sqlite3_column_text(statement_, column);
    int size = sqlite3_column_bytes(statement_, column);
    if (text == nullptr) return "";
    return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
  }
  bool ColumnIsNull(int column) const override {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }

 private:
  sqlite3_stmt* const statement_;
  const bool owned_;
};

Statement MakeStatement(sqlite3_stmt* statement, bool owned) {
  return Statement(std::make_unique<SqliteStatement>(statement, owned));
}

}  // namespace

// ---- Connection -----------------------------------------------------------

core::Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                           const ConnectionOptions& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int code = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (code != SQLITE_OK) {
    core::Status status = ErrorFromCode(db, code, "opening SQLite database '" + path + "'");
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<Connection> connection(new Connection(db));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  std::string pragmas = options.foreign_keys ? "PRAGMA foreign_keys = ON;" : "PRAGMA foreign_keys = OFF;";
  pragmas += " PRAGMA synchronous = ";
  pragmas += options.synchronous_full ? "FULL;" : "NORMAL;";
  if (path != ":memory:") {
    // WAL, a 64 MiB page cache per connection instead of SQLite's 2 MiB
    // (a metrics table of millions of rows), and reads through mmap. The WAL
    // is folded back into the database every 8,000 pages (32 MiB) rather
    // than every 1,000, so bursts of log-batch commits pay fewer checkpoint
    // fsyncs and a page written by many commits reaches the file once.
    pragmas +=
        " PRAGMA journal_mode = WAL; PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456;"
        " PRAGMA wal_autocheckpoint = 8000;";
  }
  // A new connection's first statements can meet SQLITE_BUSY without
  // SQLite asking the busy handler (a lock upgrade that would deadlock
  // another connection of the same file, e.g. a second store opening while
  // the first writes): retry them, as the busy timeout promises. They only
  // set this connection's options, so running them again is harmless.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.busy_timeout_ms);
  for (int attempt = 1;; ++attempt) {
    core::Status status = connection->Exec(pragmas);
    if (status.ok()) break;
    if (status.code() != core::StatusCode::kUnavailable ||
        std::chrono::steady_clock::now() >= deadline) {
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(attempt * 5, 50)));
  }
  for (auto [name, function] : {std::pair{"mlforge_like", &LikeCaseSensitive},
                                std::pair{"mlforge_ilike", &LikeIgnoreCase}}) {
    code = sqlite3_create_function_v2(db, name, 2,
                                      SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                      nullptr, function, nullptr, nullptr, nullptr);
    if (code != SQLITE_OK) return ErrorFromCode(db, code, "registering SQL functions");
  }
  return connection;
}

Connection::~Connection() {
  for (auto& [sql, statement] : cache_) sqlite3_finalize(statement);
  sqlite3_close(db_);
}

core::Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int code = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (code != SQLITE_OK) {
    std::string detail = error != nullptr ? error : sqlite3_errstr(code);
    sqlite3_free(error);
    core::Status status = ErrorFromCode(nullptr, code, "running '" + text.substr(0, 60) + "'");
    return core::Status(status.code(), status.message() + ": " + detail);
  }
  return core::Status::Ok();
}

core::Result<Statement> Connection::Prepare(std::string_view sql) {
  std::string text(sql);
  auto found = cache_.find(text);
  if (found != cache_.end()) return MakeStatement(found->second, /*owned=*/false);
  sqlite3_stmt* statement = nullptr;
  int code = sqlite3_prepare_v3(db_, text.data(), static_cast<int>(text.size()),
                                SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
  if (code != SQLITE_OK) {
    return ErrorFromCode(db_, code, "preparing '" + text.substr(0, 80) + "'");
  }
  if (cache_.size() >= kMaxCachedStatements) return MakeStatement(statement, /*owned=*/true);
  cache_.emplace(std::move(text), statement);
  return MakeStatement(statement, /*owned=*/false);
}

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

void Connection::OnWalCommit(std::function<void(int frames)> hook) {
  wal_hook_ = std::move(hook);
  sqlite3_wal_hook(db_, wal_hook_ ? &Connection::WalHook : nullptr, this);
}

int Connection::WalHook(void* self, sqlite3*, const char*, int frames) {
  static_cast<Connection*>(self)->wal_hook_(frames);
  return SQLITE_OK;
}

core::Status Connection::CheckpointPassive(bool* complete) {
  int wal_frames = 0;
  int copied = 0;
  int code =
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
  if (code != SQLITE_OK && code != SQLITE_BUSY) {
    return ErrorFromCode(db_, code, "checkpointing the WAL");
  }
  *complete = code == SQLITE_OK && copied == wal_frames;
  return core::Status::Ok();
}

// ---- Transaction ----------------------------------------------------------

core::Result<std::unique_ptr<Transaction>> Transaction::Begin(Connection& connection, Kind kind) {
  MLFORGE_RETURN_IF_ERROR(connection.Exec(kind == Kind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN"));
  return std::unique_ptr<Transaction>(new Transaction(connection));
}

Transaction::~Transaction() {
  if (open_) (void)connection_.Exec("ROLLBACK");
}

core::Status Transaction::Commit() {
  MLFORGE_RETURN_IF_ERROR(connection_.Exec("COMMIT"));
  open_ = false;
  return core::Status::Ok();
}

}  // namespace mlforge::tracking::sqlite_internal
