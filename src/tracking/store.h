#pragma once

// tracking::Store: where experiments, runs, metrics, params, tags, dataset
// inputs and MLflow 3's logged models live. One abstract interface in the words of MLflow's
// tracking service; the SQL store (tracking/sql/) implements it once for SQLite
// (tracking/sqlite/) and PostgreSQL (tracking/postgres/), and RestStore (tracking/rest/) over
// a tracking server. SQL never leaves an implementation. Open one with OpenStore()
// (tracking/store_factory.h).
//
// Semantics follow MLflow's SQLAlchemy store:
//  - Experiment "0" ("Default") exists from the first open.
//  - Experiment names are unique among active AND deleted experiments.
//  - Deleting an experiment marks its runs deleted; restoring it restores
//    them. Deleted things stay readable by id.
//  - Writes to a run (metrics, params, tags, inputs, update) need the run to
//    be active; to an experiment (tags, new runs, rename), the experiment.
//  - A param is written once: logging the same value again is OK, another
//    value is InvalidArgument.
//  - Logging a metric identical in (key, value, timestamp, step) to one
//    already logged is a no-op.
//  - A run's metrics (RunData::metrics) are the latest value of each key:
//    the one with the largest step, then timestamp, then value.
//  - Input is validated by tracking/validation.h before anything is written.
//  - Logged models (MLflow 3) belong to an experiment and may name the run
//    that produced them. A deleted logged model is gone for Get and Search
//    (NotFound, left out) but can still be finalized and tagged, as in
//    MLflow. A metric logged to a run with a model_id is also recorded as
//    one of that model's metrics.
//
// Errors: NotFound for a missing experiment, run or tag (REST:
// RESOURCE_DOES_NOT_EXIST); InvalidArgument for bad input or a wrong
// lifecycle state (INVALID_PARAMETER_VALUE); AlreadyExists for a duplicate
// experiment name (RESOURCE_ALREADY_EXISTS); Unavailable when the database
// is busy or unreachable; Internal for anything else from the database.
//
// Thread safety: every method may be called from many threads at once.
// A Store returned by a factory is owned by the caller; it must outlive
// every call in flight.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tracking/entities.h"

namespace mlforge::tracking {

struct ExperimentPage {
  std::vector<Experiment> experiments;
  std::string next_page_token;  // empty on the last page
};

struct RunPage {
  std::vector<Run> runs;
  std::string next_page_token;  // empty on the last page
};

struct MetricPage {
  std::vector<Metric> metrics;
  std::string next_page_token;  // empty on the last page
};

struct LoggedModelPage {
  std::vector<LoggedModel> models;
  std::string next_page_token;  // empty on the last page
};

// A dataset a logged-model search restricts metrics to: the name, and the
// digest too when not empty.
struct LoggedModelDatasetFilter {
  std::string dataset_name;
  std::string dataset_digest;
};

// One order_by entry of a logged-model search: `field_name` is an attribute
// ("creation_timestamp", "name", ...) or "metrics.<name>"; for a metric the
// latest value (by timestamp, then step) counts, optionally only values on
// the dataset named by dataset_name (and dataset_digest).
struct LoggedModelOrderBy {
  std::string field_name;
  bool ascending = true;
  std::string dataset_name;
  std::string dataset_digest;
};

// MLflow's default and largest page of a logged-model search.
inline constexpr int kSearchLoggedModelsDefault = 100;
inline constexpr int kSearchLoggedModelsMax = 1000;

class Store {
 public:
  virtual ~Store() = default;

  // ---- Experiments -------------------------------------------------------

  // Creates an active experiment and returns its id (decimal digits, never
  // reused). An empty `artifact_location` means "<default artifact
  // root>/<id>". AlreadyExists when any experiment, active or deleted, has
  // that name; InvalidArgument for a bad name or tag.
  virtual core::Result<std::string> CreateExperiment(std::string_view name,
                                                     std::string_view artifact_location,
                                                     const std::vector<ExperimentTag>& tags) = 0;

  // The experiment with its tags, in any lifecycle stage. NotFound if none.
  virtual core::Result<Experiment> GetExperiment(std::string_view experiment_id) = 0;
  virtual core::Result<Experiment> GetExperimentByName(std::string_view name) = 0;

  // One page of experiments in `view_type` matching `filter` (the
  // experiment filter grammar of tracking/search_filter.h), ordered by
  // `order_by` clauses ("name ASC", "creation_time DESC"; default
  // "creation_time DESC", and experiment_id ASC breaks every tie).
  // 1 <= max_results <= kMaxExperimentsPerPage. `page_token` is empty or a
  // next_page_token from the same query. InvalidArgument for a bad filter,
  // order_by, max_results or token.
  virtual core::Result<ExperimentPage> SearchExperiments(ViewType view_type, int max_results,
                                                         std::string_view filter,
                                                         const std::vector<std::string>& order_by,
                                                         std::string_view page_token) = 0;

  // Renames an active experiment. NotFound; InvalidArgument if deleted or
  // the name is bad; AlreadyExists if another experiment has `new_name`.
  virtual core::Status UpdateExperiment(std::string_view experiment_id,
                                        std::string_view new_name) = 0;

  // Marks an active experiment and all its runs deleted. NotFound if there
  // is no active experiment with that id.
  virtual core::Status DeleteExperiment(std::string_view experiment_id) = 0;
  // Marks a deleted experiment and its runs active. NotFound if there is no
  // deleted experiment with that id.
  virtual core::Status RestoreExperiment(std::string_view experiment_id) = 0;

  // Sets (inserts or replaces) a tag of an active experiment.
  virtual core::Status SetExperimentTag(std::string_view experiment_id,
                                        const ExperimentTag& tag) = 0;
  // NotFound when the experiment has no tag `key`.
  virtual core::Status DeleteExperimentTag(std::string_view experiment_id,
                                           std::string_view key) = 0;

  // ---- Runs --------------------------------------------------------------

  // Creates a RUNNING, active run in an active experiment. Its name is
  // `run_name`, else the value of an "mlflow.runName" tag in `tags`, else a
  // generated "adjective-noun-123"; the tag is set to the name. Both given
  // and different is InvalidArgument. The artifact URI is
  // "<experiment artifact location>/<run id>/artifacts".
  virtual core::Result<Run> CreateRun(std::string_view experiment_id, std::string_view user_id,
                                      int64_t start_time, const std::vector<RunTag>& tags,
                                      std::optional<std::string> run_name) = 0;

  // The run with its latest metrics, params, tags and dataset inputs, in any
  // lifecycle stage. NotFound if none.
  virtual core::Result<Run> GetRun(std::string_view run_id) = 0;

  // Sets whichever of status, end time and name are given (a new name also
  // sets the "mlflow.runName" tag) and returns the updated info.
  virtual core::Result<RunInfo> UpdateRun(std::string_view run_id, std::optional<RunStatus> status,
                                          std::optional<int64_t> end_time,
                                          std::optional<std::string> run_name) = 0;

  // Active -> deleted, and deleted -> active. InvalidArgument when the run
  // is not in the stage the call needs.
  virtual core::Status DeleteRun(std::string_view run_id) = 0;
  virtual core::Status RestoreRun(std::string_view run_id) = 0;

  virtual core::Status LogMetric(std::string_view run_id, const Metric& metric) = 0;
  virtual core::Status LogParam(std::string_view run_id, const Param& param) = 0;
  // Sets (inserts or replaces) a run tag. Setting "mlflow.runName" renames
  // the run.
  virtual core::Status SetTag(std::string_view run_id, const RunTag& tag) = 0;
  // NotFound when the run has no tag `key`.
  virtual core::Status DeleteTag(std::string_view run_id, std::string_view key) = 0;

  // Logs all of them in one transaction: either every entry is written or,
  // on any error (validation, a changed param), none is.
  virtual core::Status LogBatch(std::string_view run_id, const std::vector<Metric>& metrics,
                                const std::vector<Param>& params,
                                const std::vector<RunTag>& tags) = 0;

  // Records that the run used these datasets. A dataset is identified by
  // (experiment, name, digest); logging the same one to the same run again
  // is a no-op.
  virtual core::Status LogInputs(std::string_view run_id,
                                 const std::vector<DatasetInput>& inputs) = 0;

  // Every logged value of metric `key` of the run, ordered by timestamp,
  // then step, then value. Pages of `max_results` (1 ..
  // kMaxMetricHistoryPerPage) when given, everything in one page otherwise.
  // NotFound when the run does not exist; an empty page when the key was
  // never logged.
  virtual core::Result<MetricPage> GetMetricHistory(std::string_view run_id, std::string_view key,
                                                    std::optional<int> max_results,
                                                    std::string_view page_token) = 0;

  // One page of the runs of `experiment_ids` in `view_type` matching
  // `filter` (tracking/search_filter.h), ordered by `order_by` clauses, then
  // by start_time DESC and run_id ASC (MLflow's order). A run without the
  // ordered-by metric, param or tag comes last; for metrics NaN comes after
  // numbers and before absent. 1 <= max_results <= kSearchMaxResultsThreshold.
  // Unknown experiment ids simply match nothing. InvalidArgument for a bad
  // filter, order_by, max_results or token.
  virtual core::Result<RunPage> SearchRuns(const std::vector<std::string>& experiment_ids,
                                           std::string_view filter, ViewType view_type,
                                           int max_results,
                                           const std::vector<std::string>& order_by,
                                           std::string_view page_token) = 0;

  // ---- Logged models (MLflow 3) --------------------------------------------

  // Creates a PENDING logged model in an active experiment with a new id
  // ("m-" + 32 hex digits) and artifact_uri "<experiment artifact
  // location>/models/<id>/artifacts". An empty `name` gets a generated
  // "adjective-noun-123" one. `source_run_id`, when given, must name a run.
  // NotFound for the experiment or run; InvalidArgument for an inactive
  // experiment, a bad param or tag, or a repeated param key.
  virtual core::Result<LoggedModel> CreateLoggedModel(std::string_view experiment_id,
                                                      std::string_view name,
                                                      std::string_view model_type,
                                                      std::string_view source_run_id,
                                                      const std::vector<LoggedModelParam>& params,
                                                      const std::vector<LoggedModelTag>& tags) = 0;

  // The model with its tags, params and metrics. NotFound when there is no
  // such model or it was deleted.
  virtual core::Result<LoggedModel> GetLoggedModel(std::string_view model_id) = 0;

  // Sets the model's status (the client calls it once the files are
  // uploaded) and returns the model. NotFound.
  virtual core::Result<LoggedModel> FinalizeLoggedModel(std::string_view model_id,
                                                        LoggedModelStatus status) = 0;

  // Marks the model deleted. NotFound when there is no such model.
  virtual core::Status DeleteLoggedModel(std::string_view model_id) = 0;

  // Sets (inserts or replaces) tags. NotFound; InvalidArgument for a bad tag.
  virtual core::Status SetLoggedModelTags(std::string_view model_id,
                                          const std::vector<LoggedModelTag>& tags) = 0;
  // NotFound when the model or its tag `key` does not exist.
  virtual core::Status DeleteLoggedModelTag(std::string_view model_id, std::string_view key) = 0;

  // Adds params, write-once as run params are: the same value again is OK,
  // another is InvalidArgument, and then none is written. NotFound.
  virtual core::Status LogLoggedModelParams(std::string_view model_id,
                                            const std::vector<LoggedModelParam>& params) = 0;

  // One page of the live (not deleted) logged models of `experiment_ids`
  // matching `filter` (ParseLoggedModelFilter in tracking/search_filter.h;
  // a metrics comparison holds when any value of that metric does, counting
  // only values on `datasets` when given; datasets without a metrics
  // comparison keep the models with any metric on them), ordered by
  // `order_by`, then creation_timestamp DESC and model_id ASC. Models
  // without the ordered-by value come last. 1 <= max_results <=
  // kSearchLoggedModelsMax. InvalidArgument for a bad filter, order_by,
  // dataset, max_results or token.
  virtual core::Result<LoggedModelPage> SearchLoggedModels(
      const std::vector<std::string>& experiment_ids, std::string_view filter,
      const std::vector<LoggedModelDatasetFilter>& datasets, int max_results,
      const std::vector<LoggedModelOrderBy>& order_by, std::string_view page_token) = 0;

  // Records that an active run produced these logged models (MLflow 3's
  // log-outputs); they appear in Run::outputs in the order logged. Logging
  // the same model again updates its step. NotFound for the run or a model;
  // InvalidArgument for an inactive run.
  virtual core::Status LogOutputs(std::string_view run_id,
                                  const std::vector<LoggedModelOutput>& models) = 0;
};

}  // namespace mlforge::tracking
