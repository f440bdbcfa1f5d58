#include "tracking/sql/sql_connection.h"

#include <string>

namespace mlforge::tracking::sql {

std::string LikeCondition(Dialect dialect, std::string_view column, bool ignore_case) {
  switch (dialect) {
    case Dialect::kSqlite:
      return std::string(ignore_case ? "mlforge_ilike(" : "mlforge_like(") + std::string(column) +
             ", ?)";
    case Dialect::kPostgres:
      return std::string(column) + (ignore_case ? " ILIKE ? ESCAPE ''" : " LIKE ? ESCAPE ''");
  }
  return "FALSE";
}

Statement& Statement::BindAll(const std::vector<SqlValue>& values) {
  for (size_t index = 0; index < values.size(); ++index) {
    BindValue(static_cast<int>(index + 1), values[index]);
  }
  return *this;
}

core::Status Statement::Run() {
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  backend_->Reset();
  return core::Status::Ok();
}

core::Result<std::vector<int64_t>> SelectIds(Connection& connection, const SqlQuery& query) {
  MLFORGE_ASSIGN_OR_RETURN(Statement select, connection.Prepare(query.text));
  select.BindAll(query.parameters);
  std::vector<int64_t> ids;
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    ids.push_back(select.ColumnInt(0));
  }
  return ids;
}

core::Status ApplyMigrations(Connection& connection, std::string_view version_table,
                             std::span<const std::string_view> migrations,
                             std::string_view subject) {
  const std::string table(version_table);
  if (connection.dialect() == Dialect::kPostgres) {
    // Two servers opening one fresh database at once would otherwise both
    // create the tables; the lock ends with the transaction. The key is an
    // arbitrary constant of mlforge's ("mlfg" in ASCII).
    MLFORGE_RETURN_IF_ERROR(connection.Exec("SELECT pg_advisory_xact_lock(1835820647)"));
  }
  MLFORGE_RETURN_IF_ERROR(
      connection.Exec("CREATE TABLE IF NOT EXISTS " + table + " (version INTEGER NOT NULL)"));
  int64_t version = 0;
  {
    MLFORGE_ASSIGN_OR_RETURN(Statement select, connection.Prepare("SELECT version FROM " + table));
    MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
    if (found) {
      version = select.ColumnInt(0);
    } else {
      MLFORGE_RETURN_IF_ERROR(connection.Exec("INSERT INTO " + table + " VALUES (0)"));
    }
  }
  const auto latest = static_cast<int64_t>(migrations.size());
  if (version > latest) {
    return core::FailedPreconditionError(
        "The " + std::string(subject) + " tables have schema version " + std::to_string(version) +
        ", newer than this mlforge understands (" + std::to_string(latest) +
        "); upgrade mlforge to open them");
  }
  for (int64_t next = version; next < latest; ++next) {
    core::Status applied = connection.Exec(std::string(migrations[static_cast<size_t>(next)]));
    if (!applied.ok()) {
      return applied.WithContext("applying " + std::string(subject) + " schema migration " +
                                 std::to_string(next + 1));
    }
    MLFORGE_ASSIGN_OR_RETURN(Statement update,
                             connection.Prepare("UPDATE " + table + " SET version = ?"));
    update.Bind(1, next + 1);
    MLFORGE_RETURN_IF_ERROR(update.Run());
  }
  return core::Status::Ok();
}

}  // namespace mlforge::tracking::sql
