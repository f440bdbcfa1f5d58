#include "tracking/sql/sql_store.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <tuple>
#include <utility>

#include "core/ids.h"
#include "tracking/page_token.h"
#include "tracking/search_filter.h"
#include "tracking/sql/filter_sql.h"
#include "tracking/sql/sql_connection.h"
#include "tracking/validation.h"

namespace mlforge::tracking {

using sql::Connection;
using sql::SelectIds;
using sql::Statement;

namespace {

constexpr std::string_view kDefaultArtifactRoot = "./mlruns";

// ---- small helpers ----------------------------------------------------------

// Experiment ids are decimal integers; anything else names no experiment.
std::optional<int64_t> ParseExperimentId(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t id = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id;
}

core::Status ExperimentNotFound(std::string_view experiment_id) {
  return core::NotFoundError("No Experiment with id=" + std::string(experiment_id) + " exists");
}

core::Status RunNotFound(std::string_view run_id) {
  return core::NotFoundError("Run with id=" + std::string(run_id) + " not found");
}

std::string JoinUri(std::string_view base, std::string_view part) {
  std::string joined(base);
  while (!joined.empty() && joined.back() == '/' && !joined.ends_with(":/") &&
         !joined.ends_with("://")) {
    joined.pop_back();
  }
  if (!joined.empty() && joined.back() != '/') joined += '/';
  joined += part;
  return joined;
}

std::string RandomRunName() {
  static constexpr std::array<std::string_view, 24> kAdjectives = {
      "able",  "bold",   "brave",  "bright", "calm",  "clever", "crisp",  "eager",
      "fair",  "gentle", "grand",  "happy",  "keen",  "kind",   "lively", "lucky",
      "merry", "noble",  "polite", "proud",  "quiet", "rapid",  "sharp",  "wise"};
  static constexpr std::array<std::string_view, 24> kNouns = {
      "ant",   "bear", "bee",   "cat",  "crane", "deer",  "dove", "eel",
      "finch", "fox",  "frog",  "goat", "hawk",  "horse", "lark", "lion",
      "moth",  "owl",  "panda", "seal", "shark", "sloth", "swan", "wolf"};
  thread_local std::mt19937 engine{std::random_device{}()};
  std::uniform_int_distribution<size_t> adjective(0, kAdjectives.size() - 1);
  std::uniform_int_distribution<size_t> noun(0, kNouns.size() - 1);
  std::uniform_int_distribution<int> number(0, 999);
  return std::string(kAdjectives[adjective(engine)]) + "-" + std::string(kNouns[noun(engine)]) +
         "-" + std::to_string(number(engine));
}

// MLflow keeps NaN as value 0 with is_nan set (SQL has no NaN); infinities
// are stored as they are.
std::pair<double, int64_t> StoredMetricValue(double value) {
  if (std::isnan(value)) return {0.0, 1};
  return {value, 0};
}

double LoadedMetricValue(double stored, int64_t is_nan) {
  return is_nan != 0 ? std::numeric_limits<double>::quiet_NaN() : stored;
}

// ---- reading entities --------------------------------------------------------

core::Result<Experiment> LoadExperiment(Connection& connection, int64_t experiment_id,
                                        std::string_view shown_id) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement select,
      connection.Prepare("SELECT name, artifact_location, lifecycle_stage, creation_time, "
                         "last_update_time FROM experiments WHERE experiment_id = ?"));
  select.Bind(1, experiment_id);
  MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return ExperimentNotFound(shown_id);
  Experiment experiment;
  experiment.experiment_id = std::to_string(experiment_id);
  experiment.name = select.ColumnText(0);
  experiment.artifact_location = select.ColumnText(1);
  experiment.lifecycle_stage = select.ColumnText(2);
  experiment.creation_time = select.ColumnInt(3);
  experiment.last_update_time = select.ColumnInt(4);
  MLFORGE_ASSIGN_OR_RETURN(
      Statement tags,
      connection.Prepare(
          "SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key"));
  tags.Bind(1, experiment_id);
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(bool row, tags.Step());
    if (!row) break;
    experiment.tags.push_back({tags.ColumnText(0), tags.ColumnText(1)});
  }
  return experiment;
}

core::Result<RunInfo> LoadRunInfo(Connection& connection, std::string_view run_id) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement select,
      connection.Prepare("SELECT experiment_id, name, user_id, status, start_time, end_time, "
                         "artifact_uri, lifecycle_stage FROM runs WHERE run_uuid = ?"));
  select.Bind(1, run_id);
  MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return RunNotFound(run_id);
  RunInfo info;
  info.run_id = std::string(run_id);
  info.run_uuid = info.run_id;
  info.experiment_id = std::to_string(select.ColumnInt(0));
  info.run_name = select.ColumnText(1);
  info.user_id = select.ColumnText(2);
  core::Result<RunStatus> status = ParseRunStatus(select.ColumnText(3));
  if (!status.ok()) {
    return core::InternalError("Run " + info.run_id +
                               " has a corrupt status: " + status.status().message());
  }
  info.status = *status;
  info.start_time = select.ColumnInt(4);
  if (!select.ColumnIsNull(5)) info.end_time = select.ColumnInt(5);
  info.artifact_uri = select.ColumnText(6);
  info.lifecycle_stage = select.ColumnText(7);
  return info;
}

template <typename Entity>
core::Status LoadKeyValues(Connection& connection, std::string_view sql, std::string_view owner,
                           std::vector<Entity>* out) {
  MLFORGE_ASSIGN_OR_RETURN(Statement select, connection.Prepare(sql));
  select.Bind(1, owner);
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    out->push_back({select.ColumnText(0), select.ColumnText(1)});
  }
  return core::Status::Ok();
}

core::Result<Run> LoadRun(Connection& connection, std::string_view run_id) {
  Run run;
  MLFORGE_ASSIGN_OR_RETURN(run.info, LoadRunInfo(connection, run_id));
  MLFORGE_RETURN_IF_ERROR(
      LoadKeyValues(connection, "SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key",
                    run_id, &run.data.params));
  MLFORGE_RETURN_IF_ERROR(
      LoadKeyValues(connection, "SELECT key, value FROM tags WHERE run_uuid = ? ORDER BY key",
                    run_id, &run.data.tags));
  {
    MLFORGE_ASSIGN_OR_RETURN(
        Statement metrics,
        connection.Prepare("SELECT key, value, timestamp, step, is_nan FROM latest_metrics "
                           "WHERE run_uuid = ? ORDER BY key"));
    metrics.Bind(1, run_id);
    while (true) {
      MLFORGE_ASSIGN_OR_RETURN(bool row, metrics.Step());
      if (!row) break;
      run.data.metrics.push_back({metrics.ColumnText(0),
                                  LoadedMetricValue(metrics.ColumnDouble(1), metrics.ColumnInt(4)),
                                  metrics.ColumnInt(2), metrics.ColumnInt(3)});
    }
  }
  std::vector<std::string> input_ids;
  // Inputs and model outputs list in insertion order: `rowid` is SQLite's
  // implicit row number and an explicit sequence column in PostgreSQL.
  {
    MLFORGE_ASSIGN_OR_RETURN(
        Statement inputs,
        connection.Prepare("SELECT i.input_uuid, d.name, d.digest, d.source_type, d.source, "
                           "d.schema, d.profile FROM inputs i JOIN datasets d ON "
                           "d.dataset_uuid = i.dataset_uuid WHERE i.run_uuid = ? "
                           "ORDER BY i.rowid"));
    inputs.Bind(1, run_id);
    while (true) {
      MLFORGE_ASSIGN_OR_RETURN(bool row, inputs.Step());
      if (!row) break;
      input_ids.push_back(inputs.ColumnText(0));
      DatasetInput input;
      input.dataset = {inputs.ColumnText(1), inputs.ColumnText(2), inputs.ColumnText(3),
                       inputs.ColumnText(4), inputs.ColumnText(5), inputs.ColumnText(6)};
      run.inputs.dataset_inputs.push_back(std::move(input));
    }
  }
  for (size_t index = 0; index < input_ids.size(); ++index) {
    MLFORGE_RETURN_IF_ERROR(LoadKeyValues(
        connection, "SELECT key, value FROM input_tags WHERE input_uuid = ? ORDER BY key",
        input_ids[index], &run.inputs.dataset_inputs[index].tags));
  }
  MLFORGE_ASSIGN_OR_RETURN(
      Statement outputs,
      connection.Prepare(
          "SELECT model_id, step FROM run_model_outputs WHERE run_uuid = ? ORDER BY rowid"));
  outputs.Bind(1, run_id);
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(bool row, outputs.Step());
    if (!row) break;
    run.outputs.model_outputs.push_back({outputs.ColumnText(0), outputs.ColumnInt(1)});
  }
  return run;
}

// ---- logged models -------------------------------------------------------------

core::Status LoggedModelNotFound(std::string_view model_id) {
  return core::NotFoundError("Logged model with ID '" + std::string(model_id) + "' not found.");
}

// The model's experiment id, when the model exists (deleted or not).
core::Result<int64_t> RequireLoggedModel(Connection& connection, std::string_view model_id) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement select,
      connection.Prepare("SELECT experiment_id FROM logged_models WHERE model_id = ?"));
  select.Bind(1, model_id);
  MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return LoggedModelNotFound(model_id);
  return select.ColumnInt(0);
}

core::Status TouchLoggedModel(Connection& connection, std::string_view model_id) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement update,
      connection.Prepare(
          "UPDATE logged_models SET last_updated_timestamp_ms = ? WHERE model_id = ?"));
  update.Bind(1, static_cast<int64_t>(core::NowMillis())).Bind(2, model_id);
  return update.Run();
}

// The model with tags, params and metrics; NotFound when missing, and when
// deleted unless `include_deleted`.
core::Result<LoggedModel> LoadLoggedModel(Connection& connection, std::string_view model_id,
                                          bool include_deleted) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement select,
      connection.Prepare("SELECT experiment_id, name, artifact_location, creation_timestamp_ms, "
                         "last_updated_timestamp_ms, status, lifecycle_stage, model_type, "
                         "source_run_id, status_message FROM logged_models WHERE model_id = ?"));
  select.Bind(1, model_id);
  MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found || (!include_deleted && select.ColumnText(6) != kLifecycleActive)) {
    return LoggedModelNotFound(model_id);
  }
  LoggedModel model;
  model.model_id = std::string(model_id);
  model.experiment_id = std::to_string(select.ColumnInt(0));
  model.name = select.ColumnText(1);
  model.artifact_uri = select.ColumnText(2);
  model.creation_timestamp_ms = select.ColumnInt(3);
  model.last_updated_timestamp_ms = select.ColumnInt(4);
  core::Result<LoggedModelStatus> status = ParseLoggedModelStatus(select.ColumnText(5));
  if (!status.ok()) {
    return core::InternalError("Logged model " + model.model_id +
                               " has a corrupt status: " + status.status().message());
  }
  model.status = *status;
  model.model_type = select.ColumnText(7);
  model.source_run_id = select.ColumnText(8);
  model.status_message = select.ColumnText(9);
  MLFORGE_RETURN_IF_ERROR(LoadKeyValues(
      connection, "SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key",
      model_id, &model.tags));
  MLFORGE_RETURN_IF_ERROR(LoadKeyValues(
      connection, "SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY key",
      model_id, &model.params));
  MLFORGE_ASSIGN_OR_RETURN(
      Statement metrics,
      connection.Prepare("SELECT key, value, is_nan, timestamp, step, run_uuid, dataset_name, "
                         "dataset_digest FROM logged_model_metrics WHERE model_id = ? "
                         "ORDER BY key, timestamp, step, value"));
  metrics.Bind(1, model_id);
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(bool row, metrics.Step());
    if (!row) break;
    Metric metric(metrics.ColumnText(0),
                  LoadedMetricValue(metrics.ColumnDouble(1), metrics.ColumnInt(2)),
                  metrics.ColumnInt(3), metrics.ColumnInt(4));
    metric.run_id = metrics.ColumnText(5);
    metric.dataset_name = metrics.ColumnText(6);
    metric.dataset_digest = metrics.ColumnText(7);
    metric.model_id = model.model_id;
    model.metrics.push_back(std::move(metric));
  }
  return model;
}

// Inserts params write-once (the same value again is fine), as for runs.
core::Status InsertLoggedModelParams(Connection& connection, std::string_view model_id,
                                     const std::vector<LoggedModelParam>& params) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement insert,
      connection.Prepare("INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, "
                         "?) ON CONFLICT (model_id, key) DO NOTHING"));
  for (const LoggedModelParam& param : params) {
    insert.Bind(1, model_id).Bind(2, param.key).Bind(3, param.value);
    MLFORGE_RETURN_IF_ERROR(insert.Run());
    if (connection.Changes() > 0) continue;
    MLFORGE_ASSIGN_OR_RETURN(
        Statement existing,
        connection.Prepare("SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?"));
    existing.Bind(1, model_id).Bind(2, param.key);
    MLFORGE_ASSIGN_OR_RETURN(bool found, existing.Step());
    std::string old_value = found ? existing.ColumnText(0) : "";
    if (found && old_value == param.value) continue;
    return core::InvalidArgumentError("Changing param values is not allowed. Param with key='" +
                                      param.key + "' was already logged with value='" + old_value +
                                      "' for logged model ID='" + std::string(model_id) +
                                      "'. Attempted logging new value '" + param.value + "'.");
  }
  return core::Status::Ok();
}

core::Status UpsertLoggedModelTags(Connection& connection, std::string_view model_id,
                                   const std::vector<LoggedModelTag>& tags) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement upsert,
      connection.Prepare("INSERT INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?) "
                         "ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value"));
  for (const LoggedModelTag& tag : tags) {
    upsert.Bind(1, model_id).Bind(2, tag.key).Bind(3, tag.value);
    MLFORGE_RETURN_IF_ERROR(upsert.Run());
  }
  return core::Status::Ok();
}

core::Status ValidateLoggedModelParams(const std::vector<LoggedModelParam>& params) {
  for (size_t index = 0; index < params.size(); ++index) {
    MLFORGE_RETURN_IF_ERROR(ValidateParam(Param{params[index].key, params[index].value},
                                          "params[" + std::to_string(index) + "]"));
  }
  return core::Status::Ok();
}

// A bound text value, or NULL for an empty string.
sql::SqlValue TextOrNull(std::string_view text) {
  if (text.empty()) return nullptr;
  return std::string(text);
}

core::Status ValidateLoggedModelTags(const std::vector<LoggedModelTag>& tags) {
  for (size_t index = 0; index < tags.size(); ++index) {
    MLFORGE_RETURN_IF_ERROR(ValidateRunTag(RunTag{tags[index].key, tags[index].value},
                                           "tags[" + std::to_string(index) + "]"));
  }
  return core::Status::Ok();
}

// ---- checks inside write transactions ----------------------------------------

struct RunState {
  int64_t experiment_id = 0;
  std::string lifecycle_stage;
};

core::Result<RunState> LoadRunState(Connection& connection, std::string_view run_id) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement select,
      connection.Prepare("SELECT experiment_id, lifecycle_stage FROM runs WHERE run_uuid = ?"));
  select.Bind(1, run_id);
  MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return RunNotFound(run_id);
  return RunState{select.ColumnInt(0), select.ColumnText(1)};
}

core::Result<RunState> RequireActiveRun(Connection& connection, std::string_view run_id) {
  MLFORGE_ASSIGN_OR_RETURN(RunState state, LoadRunState(connection, run_id));
  if (state.lifecycle_stage != kLifecycleActive) {
    return core::InvalidArgumentError("The run " + std::string(run_id) +
                                      " must be in the 'active' state. Current state is " +
                                      state.lifecycle_stage + ".");
  }
  return state;
}

core::Status RequireActiveExperiment(const Experiment& experiment) {
  if (experiment.lifecycle_stage != kLifecycleActive) {
    return core::InvalidArgumentError("The experiment " + experiment.experiment_id +
                                      " must be in the 'active' state. Current state is " +
                                      experiment.lifecycle_stage + ".");
  }
  return core::Status::Ok();
}

// ---- writing run data ------------------------------------------------------------

// Inserts the metrics (exact duplicates ignored) and moves each key's latest
// value forward when a new one has a larger (step, timestamp, value).
core::Status InsertMetrics(Connection& connection, std::string_view run_id,
                           const std::vector<Metric>& metrics) {
  if (metrics.empty()) return core::Status::Ok();
  MLFORGE_ASSIGN_OR_RETURN(
      Statement insert,
      connection.Prepare("INSERT INTO metrics (run_uuid, key, timestamp, step, value, "
                         "is_nan) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"));
  // The candidate latest value per key within this batch.
  std::map<std::string_view, const Metric*> latest;
  auto order_key = [](const Metric& metric) {
    return std::make_tuple(metric.step, metric.timestamp, StoredMetricValue(metric.value).first);
  };
  std::optional<Statement> insert_model_metric;
  for (const Metric& metric : metrics) {
    auto [value, is_nan] = StoredMetricValue(metric.value);
    if (!metric.model_id.empty()) {
      MLFORGE_RETURN_IF_ERROR(RequireLoggedModel(connection, metric.model_id).status());
      if (!insert_model_metric) {
        MLFORGE_ASSIGN_OR_RETURN(
            Statement prepared,
            connection.Prepare("INSERT INTO logged_model_metrics (model_id, key, "
                               "timestamp, step, value, is_nan, run_uuid, dataset_name, "
                               "dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                               "ON CONFLICT DO NOTHING"));
        insert_model_metric.emplace(std::move(prepared));
      }
      insert_model_metric->Bind(1, metric.model_id)
          .Bind(2, metric.key)
          .Bind(3, static_cast<int64_t>(metric.timestamp))
          .Bind(4, static_cast<int64_t>(metric.step))
          .Bind(5, value)
          .Bind(6, is_nan)
          .Bind(7, run_id)
          .Bind(8, metric.dataset_name)
          .Bind(9, metric.dataset_digest);
      MLFORGE_RETURN_IF_ERROR(insert_model_metric->Run());
    }
    insert.Bind(1, run_id)
        .Bind(2, metric.key)
        .Bind(3, static_cast<int64_t>(metric.timestamp))
        .Bind(4, static_cast<int64_t>(metric.step))
        .Bind(5, value)
        .Bind(6, is_nan);
    MLFORGE_RETURN_IF_ERROR(insert.Run());
    auto [slot, inserted] = latest.emplace(metric.key, &metric);
    if (!inserted && order_key(metric) > order_key(*slot->second)) slot->second = &metric;
  }
  MLFORGE_ASSIGN_OR_RETURN(
      Statement upsert,
      connection.Prepare(
          "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) "
          "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_uuid, key) DO UPDATE SET "
          "value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, "
          "is_nan = excluded.is_nan WHERE (excluded.step, excluded.timestamp, excluded.value) > "
          "(latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)"));
  for (const auto& [key, metric] : latest) {
    auto [value, is_nan] = StoredMetricValue(metric->value);
    upsert.Bind(1, run_id)
        .Bind(2, key)
        .Bind(3, value)
        .Bind(4, static_cast<int64_t>(metric->timestamp))
        .Bind(5, static_cast<int64_t>(metric->step))
        .Bind(6, is_nan);
    MLFORGE_RETURN_IF_ERROR(upsert.Run());
  }
  return core::Status::Ok();
}

// Params are write-once: the same value again is fine, another is not.
core::Status InsertParams(Connection& connection, std::string_view run_id,
                          const std::vector<Param>& params) {
  if (params.empty()) return core::Status::Ok();
  MLFORGE_ASSIGN_OR_RETURN(
      Statement insert,
      connection.Prepare("INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?) "
                         "ON CONFLICT (run_uuid, key) DO NOTHING"));
  for (const Param& param : params) {
    insert.Bind(1, run_id).Bind(2, param.key).Bind(3, param.value);
    MLFORGE_RETURN_IF_ERROR(insert.Run());
    if (connection.Changes() > 0) continue;
    MLFORGE_ASSIGN_OR_RETURN(
        Statement existing,
        connection.Prepare("SELECT value FROM params WHERE run_uuid = ? AND key = ?"));
    existing.Bind(1, run_id).Bind(2, param.key);
    MLFORGE_ASSIGN_OR_RETURN(bool found, existing.Step());
    std::string old_value = found ? existing.ColumnText(0) : "";
    if (found && old_value == param.value) continue;
    return core::InvalidArgumentError("Changing param values is not allowed. Param with key='" +
                                      param.key + "' was already logged with value='" + old_value +
                                      "' for run ID='" + std::string(run_id) +
                                      "'. Attempted logging new value '" + param.value + "'.");
  }
  return core::Status::Ok();
}

// Sets tags; "mlflow.runName" also renames the run.
core::Status UpsertTags(Connection& connection, std::string_view run_id,
                        const std::vector<RunTag>& tags) {
  if (tags.empty()) return core::Status::Ok();
  MLFORGE_ASSIGN_OR_RETURN(
      Statement upsert,
      connection.Prepare("INSERT INTO tags (run_uuid, key, value) VALUES (?, ?, ?) "
                         "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value"));
  for (const RunTag& tag : tags) {
    upsert.Bind(1, run_id).Bind(2, tag.key).Bind(3, tag.value);
    MLFORGE_RETURN_IF_ERROR(upsert.Run());
    if (tag.key == kRunNameTag) {
      MLFORGE_ASSIGN_OR_RETURN(Statement rename,
                               connection.Prepare("UPDATE runs SET name = ? WHERE run_uuid = ?"));
      rename.Bind(1, tag.value).Bind(2, run_id);
      MLFORGE_RETURN_IF_ERROR(rename.Run());
    }
  }
  return core::Status::Ok();
}

core::Status EnsureDefaultExperiment(Connection& connection, std::string_view artifact_root) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement insert,
      connection.Prepare("INSERT INTO experiments (experiment_id, name, "
                         "artifact_location, lifecycle_stage, creation_time, last_update_time) "
                         "VALUES (0, ?, ?, 'active', ?, ?) ON CONFLICT DO NOTHING"));
  int64_t now = core::NowMillis();
  insert.Bind(1, kDefaultExperimentName)
      .Bind(2, JoinUri(artifact_root, kDefaultExperimentId))
      .Bind(3, now)
      .Bind(4, now);
  return insert.Run();
}

}  // namespace

// ---- construction ------------------------------------------------------------------

core::Result<std::unique_ptr<Store>> SqlStore::Open(std::unique_ptr<sql::ConnectionPool> pool,
                                                    std::span<const std::string_view> migrations,
                                                    std::string_view default_artifact_root) {
  std::string root = default_artifact_root.empty() ? std::string(kDefaultArtifactRoot)
                                                   : std::string(default_artifact_root);
  MLFORGE_RETURN_IF_ERROR(pool->Write([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(
        sql::ApplyMigrations(connection, "schema_version", migrations, "tracking"));
    return EnsureDefaultExperiment(connection, root);
  }));
  return std::unique_ptr<Store>(new SqlStore(std::move(root), std::move(pool)));
}

SqlStore::SqlStore(std::string artifact_root, std::unique_ptr<sql::ConnectionPool> pool)
    : artifact_root_(std::move(artifact_root)), pool_(std::move(pool)) {}

SqlStore::~SqlStore() = default;

// ---- connections -------------------------------------------------------------------

core::Status SqlStore::Write(const std::function<core::Status(Connection&)>& body) {
  return pool_->Write(body);
}

core::Status SqlStore::WriteCheckedChildren(const std::function<core::Status(Connection&)>& body) {
  return pool_->WriteCheckedChildren(body);
}

core::Status SqlStore::Read(const std::function<core::Status(Connection&)>& body) {
  return pool_->Read(body);
}

// ---- experiments -------------------------------------------------------------------

core::Result<std::string> SqlStore::CreateExperiment(std::string_view name,
                                                     std::string_view artifact_location,
                                                     const std::vector<ExperimentTag>& tags) {
  MLFORGE_RETURN_IF_ERROR(ValidateExperimentName(name));
  for (const ExperimentTag& tag : tags) MLFORGE_RETURN_IF_ERROR(ValidateExperimentTag(tag));
  if (artifact_location.starts_with("runs:")) {
    return core::InvalidArgumentError("Artifact location cannot be a runs:/ URI, got '" +
                                      std::string(artifact_location) + "'");
  }
  std::string experiment_id;
  MLFORGE_RETURN_IF_ERROR(Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(
        Statement existing,
        connection.Prepare("SELECT lifecycle_stage FROM experiments WHERE name = ?"));
    existing.Bind(1, name);
    MLFORGE_ASSIGN_OR_RETURN(bool found, existing.Step());
    if (found) {
      std::string stage = existing.ColumnText(0);
      if (stage == kLifecycleDeleted) {
        return core::AlreadyExistsError(
            "Experiment '" + std::string(name) +
            "' already exists in deleted state. You can restore the experiment, or rename it "
            "before creating a new one with this name.");
      }
      return core::AlreadyExistsError("Experiment '" + std::string(name) + "' already exists.");
    }
    MLFORGE_ASSIGN_OR_RETURN(Statement next_id,
                             connection.Prepare("SELECT COALESCE(MAX(experiment_id), -1) + 1 "
                                                "FROM experiments"));
    MLFORGE_ASSIGN_OR_RETURN(bool has_row, next_id.Step());
    int64_t id = has_row ? next_id.ColumnInt(0) : 1;
    if (id == 0) id = 1;
    experiment_id = std::to_string(id);
    std::string location = artifact_location.empty() ? JoinUri(artifact_root_, experiment_id)
                                                     : std::string(artifact_location);
    int64_t now = core::NowMillis();
    MLFORGE_ASSIGN_OR_RETURN(
        Statement insert,
        connection.Prepare("INSERT INTO experiments (experiment_id, name, artifact_location, "
                           "lifecycle_stage, creation_time, last_update_time) "
                           "VALUES (?, ?, ?, 'active', ?, ?)"));
    insert.Bind(1, id).Bind(2, name).Bind(3, location).Bind(4, now).Bind(5, now);
    MLFORGE_RETURN_IF_ERROR(insert.Run());
    MLFORGE_ASSIGN_OR_RETURN(
        Statement insert_tag,
        connection.Prepare("INSERT INTO experiment_tags (experiment_id, key, value) "
                           "VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) DO UPDATE SET "
                           "value = excluded.value"));
    for (const ExperimentTag& tag : tags) {
      insert_tag.Bind(1, id).Bind(2, tag.key).Bind(3, tag.value);
      MLFORGE_RETURN_IF_ERROR(insert_tag.Run());
    }
    return core::Status::Ok();
  }));
  return experiment_id;
}

core::Result<Experiment> SqlStore::GetExperiment(std::string_view experiment_id) {
  std::optional<int64_t> id = ParseExperimentId(experiment_id);
  if (!id) return ExperimentNotFound(experiment_id);
  Experiment experiment;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(experiment, LoadExperiment(connection, *id, experiment_id));
    return core::Status::Ok();
  }));
  return experiment;
}

core::Result<Experiment> SqlStore::GetExperimentByName(std::string_view name) {
  Experiment experiment;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(
        Statement select,
        connection.Prepare("SELECT experiment_id FROM experiments WHERE name = ?"));
    select.Bind(1, name);
    MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
    if (!found) {
      return core::NotFoundError("Could not find experiment with name '" + std::string(name) + "'");
    }
    int64_t id = select.ColumnInt(0);
    MLFORGE_ASSIGN_OR_RETURN(experiment, LoadExperiment(connection, id, std::to_string(id)));
    return core::Status::Ok();
  }));
  return experiment;
}

core::Result<ExperimentPage> SqlStore::SearchExperiments(ViewType view_type, int max_results,
                                                         std::string_view filter,
                                                         const std::vector<std::string>& order_by,
                                                         std::string_view page_token) {
  MLFORGE_RETURN_IF_ERROR(
      ValidateMaxResults(max_results, kMaxExperimentsPerPage, "SearchExperiments"));
  MLFORGE_ASSIGN_OR_RETURN(int64_t offset, DecodePageToken(page_token));
  MLFORGE_ASSIGN_OR_RETURN(RunFilter parsed, ParseExperimentFilter(filter));
  std::vector<OrderBy> parsed_order;
  for (const std::string& clause : order_by) {
    MLFORGE_ASSIGN_OR_RETURN(OrderBy one, ParseExperimentOrderBy(clause));
    parsed_order.push_back(std::move(one));
  }
  MLFORGE_ASSIGN_OR_RETURN(sql::SqlQuery query,
                           sql::BuildSearchExperimentsQuery(pool_->dialect(), parsed, view_type,
                                                            parsed_order, max_results + 1, offset));
  ExperimentPage page;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> ids, SelectIds(connection, query));
    if (static_cast<int64_t>(ids.size()) > max_results) {
      ids.resize(static_cast<size_t>(max_results));
      page.next_page_token = EncodePageToken(offset + max_results);
    }
    for (int64_t id : ids) {
      MLFORGE_ASSIGN_OR_RETURN(Experiment experiment,
                               LoadExperiment(connection, id, std::to_string(id)));
      page.experiments.push_back(std::move(experiment));
    }
    return core::Status::Ok();
  }));
  return page;
}

core::Status SqlStore::UpdateExperiment(std::string_view experiment_id, std::string_view new_name) {
  MLFORGE_RETURN_IF_ERROR(ValidateExperimentName(new_name));
  std::optional<int64_t> id = ParseExperimentId(experiment_id);
  if (!id) return ExperimentNotFound(experiment_id);
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(Experiment experiment, LoadExperiment(connection, *id, experiment_id));
    if (experiment.lifecycle_stage != kLifecycleActive) {
      return core::InvalidArgumentError("Cannot rename a non-active experiment.");
    }
    if (experiment.name == new_name) return core::Status::Ok();
    MLFORGE_ASSIGN_OR_RETURN(Statement existing,
                             connection.Prepare("SELECT 1 FROM experiments WHERE name = ?"));
    existing.Bind(1, new_name);
    MLFORGE_ASSIGN_OR_RETURN(bool taken, existing.Step());
    if (taken) {
      return core::AlreadyExistsError("Experiment '" + std::string(new_name) + "' already exists.");
    }
    MLFORGE_ASSIGN_OR_RETURN(
        Statement update,
        connection.Prepare(
            "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?"));
    update.Bind(1, new_name).Bind(2, static_cast<int64_t>(core::NowMillis())).Bind(3, *id);
    return update.Run();
  });
}

namespace {

// Moves an experiment and all its runs from one lifecycle stage to the other.
core::Status SetExperimentStage(Connection& connection, std::string_view experiment_id,
                                std::string_view from, std::string_view to) {
  std::optional<int64_t> id = ParseExperimentId(experiment_id);
  if (!id) return ExperimentNotFound(experiment_id);
  int64_t now = core::NowMillis();
  MLFORGE_ASSIGN_OR_RETURN(
      Statement update,
      connection.Prepare("UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? "
                         "WHERE experiment_id = ? AND lifecycle_stage = ?"));
  update.Bind(1, to).Bind(2, now).Bind(3, *id).Bind(4, from);
  MLFORGE_RETURN_IF_ERROR(update.Run());
  if (connection.Changes() == 0) return ExperimentNotFound(experiment_id);
  MLFORGE_ASSIGN_OR_RETURN(
      Statement runs, connection.Prepare("UPDATE runs SET lifecycle_stage = ?, deleted_time = ? "
                                         "WHERE experiment_id = ?"));
  runs.Bind(1, to);
  if (to == kLifecycleDeleted) {
    runs.Bind(2, now);
  } else {
    runs.Bind(2, nullptr);
  }
  runs.Bind(3, *id);
  return runs.Run();
}

}  // namespace

core::Status SqlStore::DeleteExperiment(std::string_view experiment_id) {
  return Write([&](Connection& connection) {
    return SetExperimentStage(connection, experiment_id, kLifecycleActive, kLifecycleDeleted);
  });
}

core::Status SqlStore::RestoreExperiment(std::string_view experiment_id) {
  return Write([&](Connection& connection) {
    return SetExperimentStage(connection, experiment_id, kLifecycleDeleted, kLifecycleActive);
  });
}

core::Status SqlStore::SetExperimentTag(std::string_view experiment_id, const ExperimentTag& tag) {
  MLFORGE_RETURN_IF_ERROR(ValidateExperimentTag(tag));
  std::optional<int64_t> id = ParseExperimentId(experiment_id);
  if (!id) return ExperimentNotFound(experiment_id);
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(Experiment experiment, LoadExperiment(connection, *id, experiment_id));
    MLFORGE_RETURN_IF_ERROR(RequireActiveExperiment(experiment));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement upsert,
        connection.Prepare("INSERT INTO experiment_tags (experiment_id, key, value) "
                           "VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) DO UPDATE SET "
                           "value = excluded.value"));
    upsert.Bind(1, *id).Bind(2, tag.key).Bind(3, tag.value);
    return upsert.Run();
  });
}

core::Status SqlStore::DeleteExperimentTag(std::string_view experiment_id, std::string_view key) {
  std::optional<int64_t> id = ParseExperimentId(experiment_id);
  if (!id) return ExperimentNotFound(experiment_id);
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(Experiment experiment, LoadExperiment(connection, *id, experiment_id));
    MLFORGE_RETURN_IF_ERROR(RequireActiveExperiment(experiment));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement remove,
        connection.Prepare("DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?"));
    remove.Bind(1, *id).Bind(2, key);
    MLFORGE_RETURN_IF_ERROR(remove.Run());
    if (connection.Changes() == 0) {
      return core::NotFoundError("No tag with name: " + std::string(key) +
                                 " in experiment with id " + std::string(experiment_id));
    }
    return core::Status::Ok();
  });
}

// ---- runs --------------------------------------------------------------------------

core::Result<Run> SqlStore::CreateRun(std::string_view experiment_id, std::string_view user_id,
                                      int64_t start_time, const std::vector<RunTag>& tags,
                                      std::optional<std::string> run_name) {
  for (size_t index = 0; index < tags.size(); ++index) {
    MLFORGE_RETURN_IF_ERROR(ValidateRunTag(tags[index], "tags[" + std::to_string(index) + "]"));
  }
  std::optional<std::string> name_tag;
  for (const RunTag& tag : tags) {
    if (tag.key == kRunNameTag) name_tag = tag.value;
  }
  if (run_name && run_name->empty()) run_name.reset();
  if (run_name && name_tag && *run_name != *name_tag) {
    return core::InvalidArgumentError(
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different "
        "values (run_name='" +
        *run_name + "', mlflow.runName='" + *name_tag + "').");
  }
  std::string name = run_name ? *run_name : name_tag ? *name_tag : RandomRunName();
  std::vector<RunTag> all_tags = tags;
  if (!name_tag) all_tags.push_back({std::string(kRunNameTag), name});
  MLFORGE_RETURN_IF_ERROR(ValidateRunTag({std::string(kRunNameTag), name}, "run_name"));

  std::optional<int64_t> id = ParseExperimentId(experiment_id);
  if (!id) return ExperimentNotFound(experiment_id);
  std::string run_id = core::NewId();
  Run run;
  MLFORGE_RETURN_IF_ERROR(Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(Experiment experiment, LoadExperiment(connection, *id, experiment_id));
    MLFORGE_RETURN_IF_ERROR(RequireActiveExperiment(experiment));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement insert,
        connection.Prepare("INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, "
                           "start_time, end_time, artifact_uri, lifecycle_stage) "
                           "VALUES (?, ?, ?, ?, 'RUNNING', ?, NULL, ?, 'active')"));
    insert.Bind(1, run_id)
        .Bind(2, *id)
        .Bind(3, name)
        .Bind(4, user_id)
        .Bind(5, start_time)
        .Bind(6, JoinUri(experiment.artifact_location, run_id + "/artifacts"));
    MLFORGE_RETURN_IF_ERROR(insert.Run());
    MLFORGE_RETURN_IF_ERROR(UpsertTags(connection, run_id, all_tags));
    MLFORGE_ASSIGN_OR_RETURN(run, LoadRun(connection, run_id));
    return core::Status::Ok();
  }));
  return run;
}

core::Result<Run> SqlStore::GetRun(std::string_view run_id) {
  Run run;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(run, LoadRun(connection, run_id));
    return core::Status::Ok();
  }));
  return run;
}

core::Result<RunInfo> SqlStore::UpdateRun(std::string_view run_id, std::optional<RunStatus> status,
                                          std::optional<int64_t> end_time,
                                          std::optional<std::string> run_name) {
  if (run_name && run_name->empty()) run_name.reset();
  if (run_name) {
    MLFORGE_RETURN_IF_ERROR(ValidateRunTag({std::string(kRunNameTag), *run_name}, "run_name"));
  }
  RunInfo info;
  MLFORGE_RETURN_IF_ERROR(Write([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireActiveRun(connection, run_id).status());
    if (status) {
      MLFORGE_ASSIGN_OR_RETURN(Statement update,
                               connection.Prepare("UPDATE runs SET status = ? WHERE run_uuid = ?"));
      update.Bind(1, RunStatusName(*status)).Bind(2, run_id);
      MLFORGE_RETURN_IF_ERROR(update.Run());
    }
    if (end_time) {
      MLFORGE_ASSIGN_OR_RETURN(
          Statement update, connection.Prepare("UPDATE runs SET end_time = ? WHERE run_uuid = ?"));
      update.Bind(1, *end_time).Bind(2, run_id);
      MLFORGE_RETURN_IF_ERROR(update.Run());
    }
    if (run_name) {
      MLFORGE_RETURN_IF_ERROR(
          UpsertTags(connection, run_id, {{std::string(kRunNameTag), *run_name}}));
    }
    MLFORGE_ASSIGN_OR_RETURN(info, LoadRunInfo(connection, run_id));
    return core::Status::Ok();
  }));
  return info;
}

core::Status SqlStore::DeleteRun(std::string_view run_id) {
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireActiveRun(connection, run_id).status());
    MLFORGE_ASSIGN_OR_RETURN(
        Statement update,
        connection.Prepare("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? "
                           "WHERE run_uuid = ?"));
    update.Bind(1, static_cast<int64_t>(core::NowMillis())).Bind(2, run_id);
    return update.Run();
  });
}

core::Status SqlStore::RestoreRun(std::string_view run_id) {
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(RunState state, LoadRunState(connection, run_id));
    if (state.lifecycle_stage != kLifecycleDeleted) {
      return core::InvalidArgumentError("The run " + std::string(run_id) +
                                        " must be in the 'deleted' state. Current state is " +
                                        state.lifecycle_stage + ".");
    }
    MLFORGE_ASSIGN_OR_RETURN(
        Statement update,
        connection.Prepare("UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL "
                           "WHERE run_uuid = ?"));
    update.Bind(1, run_id);
    return update.Run();
  });
}

core::Status SqlStore::LogMetric(std::string_view run_id, const Metric& metric) {
  MLFORGE_RETURN_IF_ERROR(ValidateMetric(metric));
  return WriteCheckedChildren([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireActiveRun(connection, run_id).status());
    return InsertMetrics(connection, run_id, {metric});
  });
}

core::Status SqlStore::LogParam(std::string_view run_id, const Param& param) {
  MLFORGE_RETURN_IF_ERROR(ValidateParam(param));
  return WriteCheckedChildren([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireActiveRun(connection, run_id).status());
    return InsertParams(connection, run_id, {param});
  });
}

core::Status SqlStore::SetTag(std::string_view run_id, const RunTag& tag) {
  MLFORGE_RETURN_IF_ERROR(ValidateRunTag(tag));
  return WriteCheckedChildren([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireActiveRun(connection, run_id).status());
    return UpsertTags(connection, run_id, {tag});
  });
}

core::Status SqlStore::DeleteTag(std::string_view run_id, std::string_view key) {
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireActiveRun(connection, run_id).status());
    MLFORGE_ASSIGN_OR_RETURN(Statement remove,
                             connection.Prepare("DELETE FROM tags WHERE run_uuid = ? AND key = ?"));
    remove.Bind(1, run_id).Bind(2, key);
    MLFORGE_RETURN_IF_ERROR(remove.Run());
    if (connection.Changes() == 0) {
      return core::NotFoundError("No tag with name: " + std::string(key) + " in run with id " +
                                 std::string(run_id));
    }
    return core::Status::Ok();
  });
}

core::Status SqlStore::LogBatch(std::string_view run_id, const std::vector<Metric>& metrics,
                                const std::vector<Param>& params, const std::vector<RunTag>& tags) {
  MLFORGE_RETURN_IF_ERROR(ValidateRunId(run_id));
  MLFORGE_RETURN_IF_ERROR(ValidateBatch(metrics, params, tags));
  // RequireActiveRun checks the run (and InsertMetrics each logged model)
  // inside the transaction, so the rows' foreign keys need no lookups.
  return WriteCheckedChildren([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireActiveRun(connection, run_id).status());
    MLFORGE_RETURN_IF_ERROR(InsertParams(connection, run_id, params));
    MLFORGE_RETURN_IF_ERROR(InsertMetrics(connection, run_id, metrics));
    return UpsertTags(connection, run_id, tags);
  });
}

core::Status SqlStore::LogInputs(std::string_view run_id, const std::vector<DatasetInput>& inputs) {
  MLFORGE_RETURN_IF_ERROR(ValidateDatasetInputs(inputs));
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(RunState state, RequireActiveRun(connection, run_id));
    for (const DatasetInput& input : inputs) {
      const Dataset& dataset = input.dataset;
      MLFORGE_ASSIGN_OR_RETURN(
          Statement insert_dataset,
          connection.Prepare("INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, "
                             "source_type, source, schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?, "
                             "?) ON CONFLICT (experiment_id, name, digest) DO NOTHING"));
      insert_dataset.Bind(1, core::NewId())
          .Bind(2, state.experiment_id)
          .Bind(3, dataset.name)
          .Bind(4, dataset.digest)
          .Bind(5, dataset.source_type)
          .Bind(6, dataset.source)
          .Bind(7, dataset.schema)
          .Bind(8, dataset.profile);
      MLFORGE_RETURN_IF_ERROR(insert_dataset.Run());
      std::string dataset_uuid;
      {
        MLFORGE_ASSIGN_OR_RETURN(
            Statement select,
            connection.Prepare("SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND "
                               "name = ? AND digest = ?"));
        select.Bind(1, state.experiment_id).Bind(2, dataset.name).Bind(3, dataset.digest);
        MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
        if (!found) return core::InternalError("dataset row vanished inside a transaction");
        dataset_uuid = select.ColumnText(0);
      }
      std::string input_uuid = core::NewId();
      MLFORGE_ASSIGN_OR_RETURN(
          Statement insert_input,
          connection.Prepare("INSERT INTO inputs (input_uuid, dataset_uuid, run_uuid) "
                             "VALUES (?, ?, ?) ON CONFLICT (run_uuid, dataset_uuid) DO NOTHING"));
      insert_input.Bind(1, input_uuid).Bind(2, dataset_uuid).Bind(3, run_id);
      MLFORGE_RETURN_IF_ERROR(insert_input.Run());
      if (connection.Changes() == 0) continue;  // this run already has this dataset
      MLFORGE_ASSIGN_OR_RETURN(
          Statement insert_tag,
          connection.Prepare("INSERT INTO input_tags (input_uuid, key, value) VALUES (?, ?, ?) "
                             "ON CONFLICT (input_uuid, key) DO UPDATE SET value = "
                             "excluded.value"));
      for (const InputTag& tag : input.tags) {
        insert_tag.Bind(1, input_uuid).Bind(2, tag.key).Bind(3, tag.value);
        MLFORGE_RETURN_IF_ERROR(insert_tag.Run());
      }
    }
    return core::Status::Ok();
  });
}

core::Result<MetricPage> SqlStore::GetMetricHistory(std::string_view run_id, std::string_view key,
                                                    std::optional<int> max_results,
                                                    std::string_view page_token) {
  if (max_results) {
    MLFORGE_RETURN_IF_ERROR(
        ValidateMaxResults(*max_results, kMaxMetricHistoryPerPage, "GetMetricHistory"));
  }
  MLFORGE_ASSIGN_OR_RETURN(int64_t offset, DecodePageToken(page_token));
  MetricPage page;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(LoadRunState(connection, run_id).status());
    MLFORGE_ASSIGN_OR_RETURN(
        Statement select,
        connection.Prepare("SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = "
                           "? AND key = ? ORDER BY timestamp, step, is_nan, value LIMIT ? "
                           "OFFSET ?"));
    select.Bind(1, run_id)
        .Bind(2, key)
        .Bind(3, max_results ? static_cast<int64_t>(*max_results) + 1
                             : std::numeric_limits<int64_t>::max())
        .Bind(4, offset);
    while (true) {
      MLFORGE_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      page.metrics.push_back({std::string(key),
                              LoadedMetricValue(select.ColumnDouble(0), select.ColumnInt(3)),
                              select.ColumnInt(1), select.ColumnInt(2)});
    }
    return core::Status::Ok();
  }));
  if (max_results && static_cast<int64_t>(page.metrics.size()) > *max_results) {
    page.metrics.resize(static_cast<size_t>(*max_results));
    page.next_page_token = EncodePageToken(offset + *max_results);
  }
  return page;
}

core::Result<RunPage> SqlStore::SearchRuns(const std::vector<std::string>& experiment_ids,
                                           std::string_view filter, ViewType view_type,
                                           int max_results,
                                           const std::vector<std::string>& order_by,
                                           std::string_view page_token) {
  MLFORGE_RETURN_IF_ERROR(
      ValidateMaxResults(max_results, kSearchMaxResultsThreshold, "SearchRuns"));
  MLFORGE_ASSIGN_OR_RETURN(int64_t offset, DecodePageToken(page_token));
  MLFORGE_ASSIGN_OR_RETURN(RunFilter parsed, ParseRunFilter(filter));
  std::vector<OrderBy> parsed_order;
  for (const std::string& clause : order_by) {
    MLFORGE_ASSIGN_OR_RETURN(OrderBy one, ParseRunOrderBy(clause));
    parsed_order.push_back(std::move(one));
  }
  std::vector<int64_t> ids;
  for (const std::string& experiment_id : experiment_ids) {
    if (std::optional<int64_t> id = ParseExperimentId(experiment_id)) ids.push_back(*id);
  }
  RunPage page;
  if (ids.empty()) return page;
  MLFORGE_ASSIGN_OR_RETURN(sql::SqlQuery query,
                           sql::BuildSearchRunsQuery(pool_->dialect(), ids, parsed, view_type,
                                                     parsed_order, max_results + 1, offset));
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    std::vector<std::string> run_ids;
    {
      MLFORGE_ASSIGN_OR_RETURN(Statement select, connection.Prepare(query.text));
      select.BindAll(query.parameters);
      while (true) {
        MLFORGE_ASSIGN_OR_RETURN(bool row, select.Step());
        if (!row) break;
        run_ids.push_back(select.ColumnText(0));
      }
    }
    if (static_cast<int64_t>(run_ids.size()) > max_results) {
      run_ids.resize(static_cast<size_t>(max_results));
      page.next_page_token = EncodePageToken(offset + max_results);
    }
    for (const std::string& run_id : run_ids) {
      MLFORGE_ASSIGN_OR_RETURN(Run run, LoadRun(connection, run_id));
      page.runs.push_back(std::move(run));
    }
    return core::Status::Ok();
  }));
  return page;
}

// ---- logged models -----------------------------------------------------------------

core::Result<LoggedModel> SqlStore::CreateLoggedModel(std::string_view experiment_id,
                                                      std::string_view name,
                                                      std::string_view model_type,
                                                      std::string_view source_run_id,
                                                      const std::vector<LoggedModelParam>& params,
                                                      const std::vector<LoggedModelTag>& tags) {
  MLFORGE_RETURN_IF_ERROR(ValidateLoggedModelParams(params));
  MLFORGE_RETURN_IF_ERROR(ValidateLoggedModelTags(tags));
  std::optional<int64_t> id = ParseExperimentId(experiment_id);
  if (!id) return ExperimentNotFound(experiment_id);
  std::string model_id = "m-" + core::NewId();
  std::string model_name = name.empty() ? RandomRunName() : std::string(name);
  LoggedModel model;
  MLFORGE_RETURN_IF_ERROR(Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(Experiment experiment, LoadExperiment(connection, *id, experiment_id));
    MLFORGE_RETURN_IF_ERROR(RequireActiveExperiment(experiment));
    if (!source_run_id.empty()) {
      MLFORGE_RETURN_IF_ERROR(LoadRunState(connection, source_run_id).status());
    }
    int64_t now = core::NowMillis();
    MLFORGE_ASSIGN_OR_RETURN(
        Statement insert,
        connection.Prepare("INSERT INTO logged_models (model_id, experiment_id, name, "
                           "artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, "
                           "status, lifecycle_stage, model_type, source_run_id, status_message) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, NULL)"));
    insert.Bind(1, model_id)
        .Bind(2, *id)
        .Bind(3, model_name)
        .Bind(4, JoinUri(experiment.artifact_location, "models/" + model_id + "/artifacts"))
        .Bind(5, now)
        .Bind(6, now)
        .Bind(7, LoggedModelStatusName(LoggedModelStatus::kPending))
        .BindValue(8, TextOrNull(model_type))
        .BindValue(9, TextOrNull(source_run_id));
    MLFORGE_RETURN_IF_ERROR(insert.Run());
    MLFORGE_RETURN_IF_ERROR(InsertLoggedModelParams(connection, model_id, params));
    MLFORGE_RETURN_IF_ERROR(UpsertLoggedModelTags(connection, model_id, tags));
    MLFORGE_ASSIGN_OR_RETURN(model, LoadLoggedModel(connection, model_id, false));
    return core::Status::Ok();
  }));
  return model;
}

core::Result<LoggedModel> SqlStore::GetLoggedModel(std::string_view model_id) {
  LoggedModel model;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(model, LoadLoggedModel(connection, model_id, false));
    return core::Status::Ok();
  }));
  return model;
}

core::Result<LoggedModel> SqlStore::FinalizeLoggedModel(std::string_view model_id,
                                                        LoggedModelStatus status) {
  LoggedModel model;
  MLFORGE_RETURN_IF_ERROR(Write([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireLoggedModel(connection, model_id).status());
    MLFORGE_ASSIGN_OR_RETURN(
        Statement update,
        connection.Prepare("UPDATE logged_models SET status = ?, last_updated_timestamp_ms = ? "
                           "WHERE model_id = ?"));
    update.Bind(1, LoggedModelStatusName(status))
        .Bind(2, static_cast<int64_t>(core::NowMillis()))
        .Bind(3, model_id);
    MLFORGE_RETURN_IF_ERROR(update.Run());
    MLFORGE_ASSIGN_OR_RETURN(model, LoadLoggedModel(connection, model_id, true));
    return core::Status::Ok();
  }));
  return model;
}

core::Status SqlStore::DeleteLoggedModel(std::string_view model_id) {
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireLoggedModel(connection, model_id).status());
    MLFORGE_ASSIGN_OR_RETURN(
        Statement update,
        connection.Prepare("UPDATE logged_models SET lifecycle_stage = 'deleted', "
                           "last_updated_timestamp_ms = ? WHERE model_id = ?"));
    update.Bind(1, static_cast<int64_t>(core::NowMillis())).Bind(2, model_id);
    return update.Run();
  });
}

core::Status SqlStore::SetLoggedModelTags(std::string_view model_id,
                                          const std::vector<LoggedModelTag>& tags) {
  MLFORGE_RETURN_IF_ERROR(ValidateLoggedModelTags(tags));
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireLoggedModel(connection, model_id).status());
    MLFORGE_RETURN_IF_ERROR(UpsertLoggedModelTags(connection, model_id, tags));
    return TouchLoggedModel(connection, model_id);
  });
}

core::Status SqlStore::DeleteLoggedModelTag(std::string_view model_id, std::string_view key) {
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireLoggedModel(connection, model_id).status());
    MLFORGE_ASSIGN_OR_RETURN(
        Statement remove,
        connection.Prepare("DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?"));
    remove.Bind(1, model_id).Bind(2, key);
    MLFORGE_RETURN_IF_ERROR(remove.Run());
    if (connection.Changes() == 0) {
      return core::NotFoundError("No tag with key '" + std::string(key) +
                                 "' found for model with ID '" + std::string(model_id) + "'.");
    }
    return TouchLoggedModel(connection, model_id);
  });
}

core::Status SqlStore::LogLoggedModelParams(std::string_view model_id,
                                            const std::vector<LoggedModelParam>& params) {
  MLFORGE_RETURN_IF_ERROR(ValidateLoggedModelParams(params));
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireLoggedModel(connection, model_id).status());
    MLFORGE_RETURN_IF_ERROR(InsertLoggedModelParams(connection, model_id, params));
    return TouchLoggedModel(connection, model_id);
  });
}

core::Result<LoggedModelPage> SqlStore::SearchLoggedModels(
    const std::vector<std::string>& experiment_ids, std::string_view filter,
    const std::vector<LoggedModelDatasetFilter>& datasets, int max_results,
    const std::vector<LoggedModelOrderBy>& order_by, std::string_view page_token) {
  MLFORGE_RETURN_IF_ERROR(
      ValidateMaxResults(max_results, kSearchLoggedModelsMax, "SearchLoggedModels"));
  MLFORGE_ASSIGN_OR_RETURN(int64_t offset, DecodePageToken(page_token));
  MLFORGE_ASSIGN_OR_RETURN(RunFilter parsed, ParseLoggedModelFilter(filter));
  for (const LoggedModelDatasetFilter& dataset : datasets) {
    if (dataset.dataset_name.empty()) {
      return core::InvalidArgumentError(
          "`dataset_name` in the `datasets` clause must be specified.");
    }
  }
  std::vector<sql::LoggedModelOrder> parsed_order;
  for (const LoggedModelOrderBy& clause : order_by) {
    if (!clause.dataset_digest.empty() && clause.dataset_name.empty()) {
      return core::InvalidArgumentError(
          "`dataset_digest` can only be specified if `dataset_name` is also specified.");
    }
    MLFORGE_ASSIGN_OR_RETURN(OrderBy one,
                             ParseLoggedModelOrderBy(clause.field_name, clause.ascending));
    parsed_order.push_back({std::move(one), clause.dataset_name, clause.dataset_digest});
  }
  std::vector<int64_t> ids;
  for (const std::string& experiment_id : experiment_ids) {
    if (std::optional<int64_t> id = ParseExperimentId(experiment_id)) ids.push_back(*id);
  }
  LoggedModelPage page;
  if (ids.empty()) return page;
  MLFORGE_ASSIGN_OR_RETURN(sql::SqlQuery query, sql::BuildSearchLoggedModelsQuery(
                                                    pool_->dialect(), ids, parsed, datasets,
                                                    parsed_order, max_results + 1, offset));
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    std::vector<std::string> model_ids;
    {
      MLFORGE_ASSIGN_OR_RETURN(Statement select, connection.Prepare(query.text));
      select.BindAll(query.parameters);
      while (true) {
        MLFORGE_ASSIGN_OR_RETURN(bool row, select.Step());
        if (!row) break;
        model_ids.push_back(select.ColumnText(0));
      }
    }
    if (static_cast<int64_t>(model_ids.size()) > max_results) {
      model_ids.resize(static_cast<size_t>(max_results));
      page.next_page_token = EncodePageToken(offset + max_results);
    }
    for (const std::string& model_id : model_ids) {
      MLFORGE_ASSIGN_OR_RETURN(LoggedModel model, LoadLoggedModel(connection, model_id, false));
      page.models.push_back(std::move(model));
    }
    return core::Status::Ok();
  }));
  return page;
}

core::Status SqlStore::LogOutputs(std::string_view run_id,
                                  const std::vector<LoggedModelOutput>& models) {
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_RETURN_IF_ERROR(RequireActiveRun(connection, run_id).status());
    for (const LoggedModelOutput& output : models) {
      MLFORGE_RETURN_IF_ERROR(RequireLoggedModel(connection, output.model_id).status());
      MLFORGE_ASSIGN_OR_RETURN(
          Statement upsert,
          connection.Prepare("INSERT INTO run_model_outputs (run_uuid, model_id, step) VALUES "
                             "(?, ?, ?) ON CONFLICT (run_uuid, model_id) DO UPDATE SET step = "
                             "excluded.step"));
      upsert.Bind(1, run_id).Bind(2, output.model_id).Bind(3, output.step);
      MLFORGE_RETURN_IF_ERROR(upsert.Run());
    }
    return core::Status::Ok();
  });
}

}  // namespace mlforge::tracking
