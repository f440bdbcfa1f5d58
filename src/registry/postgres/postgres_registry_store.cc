#include "registry/postgres/postgres_registry_store.h"

#include <array>
#include <string_view>
#include <utility>

#include "registry/sql/sql_registry_store.h"
#include "tracking/postgres/postgres_connection.h"

namespace mlforge::registry {

namespace {

// Numbered migrations: entry i takes the registry schema from version i to
// i + 1. Append only; never edit one that has shipped. The SQLite
// registry's tables (registry/sqlite/sqlite_registry_store.cc) in
// PostgreSQL's types; the surrogate model key is a sequence.
constexpr std::array<std::string_view, 2> kMigrations = {
    // 1: the registry schema, shaped like MLflow's.
    R"sql(
CREATE TABLE registered_models (
  model_id BIGSERIAL PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL UNIQUE,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE TABLE registered_model_tags (
  model_id BIGINT NOT NULL REFERENCES registered_models(model_id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (model_id, key)
);
CREATE TABLE model_versions (
  model_id BIGINT NOT NULL REFERENCES registered_models(model_id) ON DELETE CASCADE,
  version BIGINT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT COLLATE "C" NOT NULL DEFAULT '',
  user_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  current_stage TEXT COLLATE "C" NOT NULL,
  source TEXT COLLATE "C" NOT NULL DEFAULT '',
  run_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  run_link TEXT COLLATE "C" NOT NULL DEFAULT '',
  status TEXT COLLATE "C" NOT NULL,
  status_message TEXT COLLATE "C" NOT NULL DEFAULT '',
  PRIMARY KEY (model_id, version)
);
CREATE INDEX model_versions_by_run ON model_versions(run_id);
CREATE TABLE model_version_tags (
  model_id BIGINT NOT NULL,
  version BIGINT NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (model_id, version, key),
  FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version) ON DELETE CASCADE
);
CREATE TABLE registered_model_aliases (
  model_id BIGINT NOT NULL REFERENCES registered_models(model_id) ON DELETE CASCADE,
  alias TEXT COLLATE "C" NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (model_id, alias)
);
)sql",
    // 2: MLflow 3's link from a version to the logged model it was made from.
    R"sql(
ALTER TABLE model_versions ADD COLUMN logged_model_id TEXT COLLATE "C" NOT NULL DEFAULT '';
)sql",
};

}  // namespace

core::Result<std::unique_ptr<RegistryStore>> OpenPostgresRegistryStore(std::string_view uri) {
  return OpenPostgresRegistryStore(uri, tracking::postgres::PoolOptions{});
}

core::Result<std::unique_ptr<RegistryStore>> OpenPostgresRegistryStore(
    std::string_view uri, const tracking::postgres::PoolOptions& options) {
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<tracking::postgres::ConnectionPool> pool,
                           tracking::postgres::ConnectionPool::Open(uri, options));
  return SqlRegistryStore::Open(std::move(pool), kMigrations);
}

int PostgresRegistrySchemaVersion() { return static_cast<int>(kMigrations.size()); }

}  // namespace mlforge::registry
