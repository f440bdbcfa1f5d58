#include "registry/sqlite/sqlite_registry_store.h"

#include <array>
#include <filesystem>
#include <utility>

#include "registry/sql/sql_registry_store.h"
#include "tracking/sqlite/connection_pool.h"
#include "tracking/sqlite/sqlite_connection.h"

namespace mlforge::registry {

namespace {

// Numbered migrations: entry i takes the registry schema from version i to
// i + 1. Append only; never edit one that has shipped. Models have a
// surrogate integer key, so a rename touches one row.
constexpr std::array<std::string_view, 2> kMigrations = {
    // 1: the registry schema, shaped like MLflow's.
    R"sql(
CREATE TABLE registered_models (
  model_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE registered_model_tags (
  model_id INTEGER NOT NULL REFERENCES registered_models(model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE model_versions (
  model_id INTEGER NOT NULL REFERENCES registered_models(model_id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  user_id TEXT NOT NULL DEFAULT '',
  current_stage TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  run_id TEXT NOT NULL DEFAULT '',
  run_link TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  status_message TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (model_id, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_by_run ON model_versions(run_id);
CREATE TABLE model_version_tags (
  model_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, version, key),
  FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE registered_model_aliases (
  model_id INTEGER NOT NULL REFERENCES registered_models(model_id) ON DELETE CASCADE,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (model_id, alias)
) WITHOUT ROWID;
)sql",
    // 2: MLflow 3's link from a version to the logged model it was made from.
    R"sql(
ALTER TABLE model_versions ADD COLUMN logged_model_id TEXT NOT NULL DEFAULT '';
)sql",
};

}  // namespace

core::Result<std::unique_ptr<RegistryStore>> SqliteRegistryStore::Open(const std::string& path) {
  return Open(path, Options{});
}

core::Result<std::unique_ptr<RegistryStore>> SqliteRegistryStore::Open(const std::string& path,
                                                                       const Options& options) {
  if (path.empty()) return core::InvalidArgumentError("Empty SQLite database path");
  if (path != kInMemory) {
    std::error_code error;
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, error);
    if (error) {
      return core::UnavailableError("Cannot create the folder '" + parent.string() +
                                    "' for the registry database: " + error.message());
    }
  }
  tracking::sqlite_internal::ConnectionOptions connection_options{options.synchronous_full,
                                                                  options.busy_timeout_ms};
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<tracking::sqlite_internal::Connection> writer,
                           tracking::sqlite_internal::Connection::Open(path, connection_options));
  auto pool = std::make_unique<tracking::sqlite_internal::ConnectionPool>(
      path, connection_options, options.max_idle_readers, std::move(writer));
  return SqlRegistryStore::Open(std::move(pool), kMigrations);
}

int SqliteRegistryStore::LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

}  // namespace mlforge::registry
