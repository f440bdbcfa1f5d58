#pragma once

// The tracking entities, field for field as MLflow's protos define them
// (mlflow/protos/service.proto): experiments with tags, runs with their info,
// data (latest metrics, params, tags), inputs (dataset inputs) and outputs
// (logged models), and MLflow 3's logged models.
//
// Plain values: copyable, comparable, no behaviour beyond name conversions.
// Times are milliseconds since the Unix epoch, as in MLflow.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace mlforge::tracking {

// Lifecycle stages, as MLflow spells them.
inline constexpr std::string_view kLifecycleActive = "active";
inline constexpr std::string_view kLifecycleDeleted = "deleted";

// The id and name of the experiment every store has from its first open.
inline constexpr std::string_view kDefaultExperimentId = "0";
inline constexpr std::string_view kDefaultExperimentName = "Default";

// The run tag that mirrors RunInfo.run_name.
inline constexpr std::string_view kRunNameTag = "mlflow.runName";
// The input tag that holds a dataset's context ("training", "eval", ...).
inline constexpr std::string_view kDatasetContextTag = "mlflow.data.context";

// Which lifecycle stages a search covers. Numbers as in MLflow's proto.
enum class ViewType { kActiveOnly = 1, kDeletedOnly = 2, kAll = 3 };

// "ACTIVE_ONLY", "DELETED_ONLY", "ALL".
std::string_view ViewTypeName(ViewType view_type);
// Accepts the names above, case-insensitively. InvalidArgument otherwise.
core::Result<ViewType> ParseViewType(std::string_view name);

// Numbers as in MLflow's RunStatus proto enum.
enum class RunStatus { kRunning = 1, kScheduled = 2, kFinished = 3, kFailed = 4, kKilled = 5 };

// "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED".
std::string_view RunStatusName(RunStatus status);
// The inverse of RunStatusName (exact, upper case). InvalidArgument otherwise,
// naming the valid values.
core::Result<RunStatus> ParseRunStatus(std::string_view name);

struct ExperimentTag {
  std::string key;
  std::string value;
  bool operator==(const ExperimentTag&) const = default;
};

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage;  // kLifecycleActive or kLifecycleDeleted
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  std::vector<ExperimentTag> tags;  // sorted by key
  bool operator==(const Experiment&) const = default;
};

struct RunInfo {
  std::string run_id;
  std::string run_uuid;  // the same as run_id; MLflow still sends both
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;  // absent while the run has not ended
  std::string artifact_uri;
  std::string lifecycle_stage;
  bool operator==(const RunInfo&) const = default;
};

// One logged value of a metric. `value` may be NaN or +-infinity; a store
// gives back exactly what was logged.
//
// MLflow 3 may link a run's metric to a logged model (`model_id`) and to the
// dataset it was computed on; a store then also records it as one of that
// model's metrics (LoggedModel::metrics). Empty means "not linked". Run
// metrics and metric histories leave these fields empty.
struct Metric {
  Metric() = default;
  // The plain run metric, unlinked: Metric{"loss", 0.5, now_ms, step}.
  Metric(std::string key_in, double value_in, int64_t timestamp_in, int64_t step_in)
      : key(std::move(key_in)), value(value_in), timestamp(timestamp_in), step(step_in) {}

  std::string key;
  double value = 0;
  int64_t timestamp = 0;  // ms
  int64_t step = 0;
  std::string model_id;
  std::string dataset_name;
  std::string dataset_digest;
  // The run that logged it; set only in LoggedModel::metrics.
  std::string run_id;
};

struct Param {
  std::string key;
  std::string value;
  bool operator==(const Param&) const = default;
};

struct RunTag {
  std::string key;
  std::string value;
  bool operator==(const RunTag&) const = default;
};

struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::string schema;   // may be empty
  std::string profile;  // may be empty
  bool operator==(const Dataset&) const = default;
};

struct InputTag {
  std::string key;
  std::string value;
  bool operator==(const InputTag&) const = default;
};

struct DatasetInput {
  std::vector<InputTag> tags;
  Dataset dataset;
  bool operator==(const DatasetInput&) const = default;
};

struct RunData {
  std::vector<Metric> metrics;  // the latest value of each metric, sorted by key
  std::vector<Param> params;    // sorted by key
  std::vector<RunTag> tags;     // sorted by key
};

struct RunInputs {
  std::vector<DatasetInput> dataset_inputs;
};

// A logged model that a run produced, at a training step (MLflow 3's
// ModelOutput).
struct LoggedModelOutput {
  std::string model_id;
  int64_t step = 0;
  bool operator==(const LoggedModelOutput&) const = default;
};

struct RunOutputs {
  std::vector<LoggedModelOutput> model_outputs;  // in the order logged
};

struct Run {
  RunInfo info;
  RunData data;
  RunInputs inputs;
  RunOutputs outputs;
};

// ---- Logged models (MLflow 3) ------------------------------------------------

// Numbers as in MLflow's LoggedModelStatus proto enum.
enum class LoggedModelStatus { kPending = 1, kReady = 2, kUploadFailed = 3 };

// "LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED".
std::string_view LoggedModelStatusName(LoggedModelStatus status);
// The inverse of LoggedModelStatusName (exact). InvalidArgument otherwise,
// naming the valid values.
core::Result<LoggedModelStatus> ParseLoggedModelStatus(std::string_view name);

struct LoggedModelTag {
  std::string key;
  std::string value;
  bool operator==(const LoggedModelTag&) const = default;
};

struct LoggedModelParam {
  std::string key;
  std::string value;
  bool operator==(const LoggedModelParam&) const = default;
};

// A model logged to an experiment (MLflow 3's LoggedModel: info + data).
// Its files live under `artifact_uri`, "<experiment artifact
// location>/models/<model_id>/artifacts".
struct LoggedModel {
  std::string model_id;  // "m-" and 32 lower-case hex digits
  std::string experiment_id;
  std::string name;
  int64_t creation_timestamp_ms = 0;
  int64_t last_updated_timestamp_ms = 0;
  std::string artifact_uri;
  LoggedModelStatus status = LoggedModelStatus::kPending;
  std::string model_type;                // may be empty
  std::string source_run_id;             // may be empty
  std::string status_message;            // may be empty
  std::vector<LoggedModelTag> tags;      // sorted by key
  std::vector<LoggedModelParam> params;  // sorted by key
  // Every metric value linked to the model, ordered by key, timestamp,
  // step; each carries model_id, run_id and its dataset, if any.
  std::vector<Metric> metrics;
};

// Bitwise-style equality for metrics: NaN equals NaN, so tests and dedup
// logic can compare logged values.
bool SameMetric(const Metric& a, const Metric& b);

}  // namespace mlforge::tracking
