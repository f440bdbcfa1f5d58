#include "tracking/sqlite/sqlite_store.h"

#include <array>
#include <filesystem>
#include <utility>

#include "tracking/sql/sql_store.h"
#include "tracking/sqlite/connection_pool.h"
#include "tracking/sqlite/sqlite_connection.h"

namespace mlforge::tracking {

namespace {

// Numbered migrations: entry i takes the schema from version i to i + 1.
// Append only; never edit one that has shipped.
constexpr std::array<std::string_view, 2> kMigrations = {
    // 1: the tracking schema, shaped like MLflow's SQL store.
    R"sql(
CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
CREATE TABLE runs (
  run_uuid TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
  deleted_time INTEGER
);
CREATE INDEX runs_by_experiment ON runs(experiment_id, lifecycle_stage, start_time);
CREATE TABLE params (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE TABLE tags (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE TABLE metrics (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  key TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, key, timestamp, step, value, is_nan)
) WITHOUT ROWID;
CREATE TABLE latest_metrics (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  key TEXT NOT NULL,
  value REAL NOT NULL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  is_nan INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE TABLE datasets (
  dataset_uuid TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT NOT NULL,
  profile TEXT NOT NULL,
  UNIQUE (experiment_id, name, digest)
);
CREATE TABLE inputs (
  input_uuid TEXT PRIMARY KEY,
  dataset_uuid TEXT NOT NULL REFERENCES datasets(dataset_uuid),
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  UNIQUE (run_uuid, dataset_uuid)
);
CREATE TABLE input_tags (
  input_uuid TEXT NOT NULL REFERENCES inputs(input_uuid),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (input_uuid, key)
) WITHOUT ROWID;
)sql",
    // 2: MLflow 3's logged models, their tags, params and linked metrics, and
    // the models each run produced. Empty optional strings are NULL, so
    // comparisons and "nulls last" ordering behave as in MLflow.
    R"sql(
CREATE TABLE logged_models (
  model_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  artifact_location TEXT NOT NULL,
  creation_timestamp_ms INTEGER NOT NULL,
  last_updated_timestamp_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
  model_type TEXT,
  source_run_id TEXT,
  status_message TEXT
);
CREATE INDEX logged_models_by_experiment
  ON logged_models(experiment_id, lifecycle_stage, creation_timestamp_ms);
CREATE TABLE logged_model_tags (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE logged_model_params (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE logged_model_metrics (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id),
  key TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL,
  run_uuid TEXT NOT NULL,
  dataset_name TEXT NOT NULL,
  dataset_digest TEXT NOT NULL,
  PRIMARY KEY (model_id, key, timestamp, step, value, is_nan, run_uuid, dataset_name,
               dataset_digest)
) WITHOUT ROWID;
CREATE TABLE run_model_outputs (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
  model_id TEXT NOT NULL REFERENCES logged_models(model_id),
  step INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, model_id)
);
)sql",
};

}  // namespace

core::Result<std::unique_ptr<Store>> SqliteStore::Open(const std::string& path,
                                                       std::string_view default_artifact_root) {
  return Open(path, default_artifact_root, Options{});
}

core::Result<std::unique_ptr<Store>> SqliteStore::Open(const std::string& path,
                                                       std::string_view default_artifact_root,
                                                       const Options& options) {
  if (path.empty()) {
    return core::InvalidArgumentError("Empty SQLite database path");
  }
  if (path != kInMemory) {
    std::error_code error;
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, error);
    if (error) {
      return core::UnavailableError("Cannot create the folder '" + parent.string() +
                                    "' for the tracking database: " + error.message());
    }
  }
  sqlite_internal::ConnectionOptions connection_options{options.synchronous_full,
                                                        options.busy_timeout_ms};
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<sqlite_internal::Connection> writer,
                           sqlite_internal::Connection::Open(path, connection_options));
  auto pool = std::make_unique<sqlite_internal::ConnectionPool>(
      path, connection_options, options.max_idle_readers, std::move(writer));
  return SqlStore::Open(std::move(pool), kMigrations, default_artifact_root);
}

int SqliteStore::LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

}  // namespace mlforge::tracking
