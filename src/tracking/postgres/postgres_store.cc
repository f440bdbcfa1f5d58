#include "tracking/postgres/postgres_store.h"

#include <array>
#include <string_view>
#include <utility>

#include "tracking/sql/sql_store.h"

namespace mlforge::tracking {

namespace {

// Numbered migrations: entry i takes the schema from version i to i + 1.
// Append only; never edit one that has shipped. The same tables as the
// SQLite store's (tracking/sqlite/sqlite_store.cc) in PostgreSQL's types:
// BIGINT for integers, DOUBLE PRECISION for reals, TEXT in the "C"
// collation. Tables whose rows the store lists in insertion order carry a
// `rowid` sequence, which SQLite has implicitly.
constexpr std::array<std::string_view, 2> kMigrations = {
    // 1: the tracking schema, shaped like MLflow's SQL store.
    R"sql(
CREATE TABLE experiments (
  experiment_id BIGINT PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL UNIQUE,
  artifact_location TEXT COLLATE "C" NOT NULL,
  lifecycle_stage TEXT COLLATE "C" NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
  creation_time BIGINT NOT NULL,
  last_update_time BIGINT NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (experiment_id, key)
);
CREATE TABLE runs (
  run_uuid TEXT COLLATE "C" PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  name TEXT COLLATE "C" NOT NULL,
  user_id TEXT COLLATE "C" NOT NULL,
  status TEXT COLLATE "C" NOT NULL,
  start_time BIGINT NOT NULL,
  end_time BIGINT,
  artifact_uri TEXT COLLATE "C" NOT NULL,
  lifecycle_stage TEXT COLLATE "C" NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
  deleted_time BIGINT
);
CREATE INDEX runs_by_experiment ON runs(experiment_id, lifecycle_stage, start_time);
CREATE TABLE params (
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid),
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (run_uuid, key)
);
CREATE TABLE tags (
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid),
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (run_uuid, key)
);
CREATE TABLE metrics (
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid),
  key TEXT COLLATE "C" NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan BIGINT NOT NULL,
  PRIMARY KEY (run_uuid, key, timestamp, step, value, is_nan)
);
CREATE TABLE latest_metrics (
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid),
  key TEXT COLLATE "C" NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  is_nan BIGINT NOT NULL,
  PRIMARY KEY (run_uuid, key)
);
CREATE TABLE datasets (
  dataset_uuid TEXT COLLATE "C" PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  name TEXT COLLATE "C" NOT NULL,
  digest TEXT COLLATE "C" NOT NULL,
  source_type TEXT COLLATE "C" NOT NULL,
  source TEXT COLLATE "C" NOT NULL,
  schema TEXT COLLATE "C" NOT NULL,
  profile TEXT COLLATE "C" NOT NULL,
  UNIQUE (experiment_id, name, digest)
);
CREATE TABLE inputs (
  rowid BIGSERIAL,
  input_uuid TEXT COLLATE "C" PRIMARY KEY,
  dataset_uuid TEXT COLLATE "C" NOT NULL REFERENCES datasets(dataset_uuid),
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid),
  UNIQUE (run_uuid, dataset_uuid)
);
CREATE TABLE input_tags (
  input_uuid TEXT COLLATE "C" NOT NULL REFERENCES inputs(input_uuid),
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (input_uuid, key)
);
)sql",
    // 2: MLflow 3's logged models, their tags, params and linked metrics, and
    // the models each run produced.
    R"sql(
CREATE TABLE logged_models (
  model_id TEXT COLLATE "C" PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  name TEXT COLLATE "C" NOT NULL,
  artifact_location TEXT COLLATE "C" NOT NULL,
  creation_timestamp_ms BIGINT NOT NULL,
  last_updated_timestamp_ms BIGINT NOT NULL,
  status TEXT COLLATE "C" NOT NULL,
  lifecycle_stage TEXT COLLATE "C" NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
  model_type TEXT COLLATE "C",
  source_run_id TEXT COLLATE "C",
  status_message TEXT COLLATE "C"
);
CREATE INDEX logged_models_by_experiment
  ON logged_models(experiment_id, lifecycle_stage, creation_timestamp_ms);
CREATE TABLE logged_model_tags (
  model_id TEXT COLLATE "C" NOT NULL REFERENCES logged_models(model_id),
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (model_id, key)
);
CREATE TABLE logged_model_params (
  model_id TEXT COLLATE "C" NOT NULL REFERENCES logged_models(model_id),
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (model_id, key)
);
CREATE TABLE logged_model_metrics (
  model_id TEXT COLLATE "C" NOT NULL REFERENCES logged_models(model_id),
  key TEXT COLLATE "C" NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan BIGINT NOT NULL,
  run_uuid TEXT COLLATE "C" NOT NULL,
  dataset_name TEXT COLLATE "C" NOT NULL,
  dataset_digest TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (model_id, key, timestamp, step, value, is_nan, run_uuid, dataset_name,
               dataset_digest)
);
CREATE TABLE run_model_outputs (
  rowid BIGSERIAL,
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid),
  model_id TEXT COLLATE "C" NOT NULL REFERENCES logged_models(model_id),
  step BIGINT NOT NULL,
  PRIMARY KEY (run_uuid, model_id)
);
)sql",
};

}  // namespace

core::Result<std::unique_ptr<Store>> PostgresStore::Open(std::string_view uri,
                                                         std::string_view default_artifact_root) {
  return Open(uri, default_artifact_root, Options{});
}

core::Result<std::unique_ptr<Store>> PostgresStore::Open(std::string_view uri,
                                                         std::string_view default_artifact_root,
                                                         const Options& options) {
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<postgres::ConnectionPool> pool,
                           postgres::ConnectionPool::Open(uri, options));
  return SqlStore::Open(std::move(pool), kMigrations, default_artifact_root);
}

int PostgresStore::LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

}  // namespace mlforge::tracking
