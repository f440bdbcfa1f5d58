#pragma once

// MLflow's input rules (mlflow/utils/validation.py), in one place so every
// Store implementation accepts and rejects exactly the same input. Each
// function returns OK or InvalidArgument with a message in MLflow's words;
// none touches a store.
//
// Limits follow current MLflow. One deliberate difference: MLflow may
// truncate an over-long param or tag value (MLFLOW_TRUNCATE_LONG_VALUES); we
// reject it, so what was acknowledged is always what was stored.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tracking/entities.h"

namespace mlforge::tracking {

inline constexpr int kMaxMetricsPerBatch = 1000;
inline constexpr int kMaxParamsTagsPerBatch = 100;
inline constexpr int kMaxEntitiesPerBatch = 1000;
inline constexpr int kMaxDatasetsPerBatch = 1000;
inline constexpr int kMaxEntityKeyLength = 250;
inline constexpr int kMaxParamValueLength = 6000;
inline constexpr int kMaxTagValueLength = 8000;
inline constexpr int kMaxExperimentNameLength = 500;
inline constexpr int kMaxExperimentTagKeyLength = 250;
inline constexpr int kMaxExperimentTagValueLength = 5000;
inline constexpr int kMaxDatasetNameLength = 500;
inline constexpr int kMaxDatasetDigestLength = 36;
inline constexpr int kMaxDatasetSchemaLength = 1048575;
inline constexpr int kMaxDatasetSourceLength = 65535;
inline constexpr int kMaxDatasetProfileLength = 16777215;
inline constexpr int kMaxInputTagKeyLength = 255;
inline constexpr int kMaxInputTagValueLength = 500;

// SearchRuns: the page size when the caller gives none, and the largest allowed.
inline constexpr int kSearchMaxResultsDefault = 1000;
inline constexpr int kSearchMaxResultsThreshold = 50000;
// SearchExperiments: the largest page allowed.
inline constexpr int kMaxExperimentsPerPage = 50000;
// GetMetricHistory: the largest page allowed.
inline constexpr int kMaxMetricHistoryPerPage = 25000;

// A metric, param or tag key: only letters, digits, '_', '-', '.', ' ', ':'
// and '/' (MLflow's `^[/\w.\- :]*$`; bytes >= 0x80 are accepted as the
// letters of other scripts that Python's \w allows), not empty, not a path
// that normalises to another name ("a//b", "./a", "../a", "/a", "a/"), and at
// most kMaxEntityKeyLength characters. `path` names the field in the message
// ("key", "metrics[3].key").
core::Status ValidateEntityKey(std::string_view key, std::string_view path);

// timestamp >= 0; any value including NaN and infinities; any step.
core::Status ValidateMetric(const Metric& metric, std::string_view path = "");
core::Status ValidateParam(const Param& param, std::string_view path = "");
core::Status ValidateRunTag(const RunTag& tag, std::string_view path = "");
core::Status ValidateExperimentTag(const ExperimentTag& tag);

// Non-empty and at most kMaxExperimentNameLength characters.
core::Status ValidateExperimentName(std::string_view name);

// MLflow's run id rule: `^[a-zA-Z0-9][\w\-]{0,255}$`.
core::Status ValidateRunId(std::string_view run_id);

// The whole of a log-batch request: the per-kind and total counts, every
// entry, and no param key given twice.
core::Status ValidateBatch(const std::vector<Metric>& metrics, const std::vector<Param>& params,
                           const std::vector<RunTag>& tags);

// A log-inputs request: count, dataset field sizes, input tag sizes.
core::Status ValidateDatasetInputs(const std::vector<DatasetInput>& inputs);

// 1 <= max_results <= limit. `what` names the request in the message.
core::Status ValidateMaxResults(int64_t max_results, int64_t limit, std::string_view what);

// The number of Unicode code points in UTF-8 text (what Python's len()
// counts), so limits match MLflow's for non-ASCII text.
size_t CodePointLength(std::string_view text);

}  // namespace mlforge::tracking
