#pragma once

// The tracking entities, field for field as MLflow's protos define them
// (mlflow/protos/service.proto): experiments with tags, runs with their info,
// data (latest metrics, params, tags) and inputs (dataset inputs).
//
// Plain values: copyable, comparable, no behaviour beyond name conversions.
// Times are milliseconds since the Unix epoch, as in MLflow.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
struct Metric {
  std::string key;
  double value = 0;
  int64_t timestamp = 0;  // ms
  int64_t step = 0;
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

struct Run {
  RunInfo info;
  RunData data;
  RunInputs inputs;
};

// Bitwise-style equality for metrics: NaN equals NaN, so tests and dedup
// logic can compare logged values.
bool SameMetric(const Metric& a, const Metric& b);

}  // namespace mlforge::tracking
