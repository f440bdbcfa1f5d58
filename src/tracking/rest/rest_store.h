#pragma once

// tracking::RestStore: a Store whose data lives behind a tracking server,
// reached over MLflow's REST API exactly as MLflow's Python client reaches it
// (mlflow/store/tracking/rest_store.py). Works against this project's server
// (tracking/rest/mlflow_handler.h) and against MLflow's own.
//
//   MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
//                            RestStore::Open("http://127.0.0.1:5000"));
//
// Requests: writes and searches are POSTs with a JSON body; experiments/get,
// experiments/get-by-name, runs/get and metrics/get-history are GETs with
// query parameters, all under "<path prefix>/api/2.0/mlflow/". Logged
// models use MLflow 3's resource paths: POST logged-models, GET / PATCH /
// DELETE logged-models/<id>, PATCH logged-models/<id>/tags, DELETE
// logged-models/<id>/tags/<key>, POST logged-models/<id>/params, POST
// logged-models/search, and POST runs/outputs. Responses are
// read back with the FromJson functions of tracking/rest/mlflow_json.h.
//
// Errors: an MLflow error body {"error_code", "message"} becomes a Status
// with the server's message (MlflowErrorStatus() in mlflow_json.h:
// RESOURCE_DOES_NOT_EXIST NotFound, RESOURCE_ALREADY_EXISTS AlreadyExists,
// INVALID_PARAMETER_VALUE and BAD_REQUEST InvalidArgument, ...); a refused
// or dropped connection is Unavailable; a request over the timeout is
// DeadlineExceeded; a response that is not MLflow's JSON is Internal.
//
// Transport (connections, retries of transient failures, error decoding)
// is tracking/rest/rest_transport.h, shared with the registry's REST store.
//
// Thread safety: every method may be called from many threads at once.
//
// Not for: https (Unimplemented), authentication headers.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tracking/rest/mlflow_json.h"
#include "tracking/rest/rest_transport.h"
#include "tracking/store.h"

namespace mlforge::tracking::rest {

class RestStore : public Store {
 public:
  // `uri` is "http://host[:port][/path prefix]" (port 80 when absent; the
  // prefix, if any, goes before "/api/2.0/mlflow/"). Connects lazily: a
  // server that is down shows up as Unavailable on the first call.
  // InvalidArgument for a malformed URI; Unimplemented for https.
  static core::Result<std::unique_ptr<Store>> Open(std::string_view uri);

  explicit RestStore(std::unique_ptr<RestTransport> transport);
  RestStore(const RestStore&) = delete;
  RestStore& operator=(const RestStore&) = delete;
  ~RestStore() override;

  core::Result<std::string> CreateExperiment(std::string_view name,
                                             std::string_view artifact_location,
                                             const std::vector<ExperimentTag>& tags) override;
  core::Result<Experiment> GetExperiment(std::string_view experiment_id) override;
  core::Result<Experiment> GetExperimentByName(std::string_view name) override;
  core::Result<ExperimentPage> SearchExperiments(ViewType view_type, int max_results,
                                                 std::string_view filter,
                                                 const std::vector<std::string>& order_by,
                                                 std::string_view page_token) override;
  core::Status UpdateExperiment(std::string_view experiment_id, std::string_view new_name) override;
  core::Status DeleteExperiment(std::string_view experiment_id) override;
  core::Status RestoreExperiment(std::string_view experiment_id) override;
  core::Status SetExperimentTag(std::string_view experiment_id, const ExperimentTag& tag) override;
  core::Status DeleteExperimentTag(std::string_view experiment_id, std::string_view key) override;

  core::Result<Run> CreateRun(std::string_view experiment_id, std::string_view user_id,
                              int64_t start_time, const std::vector<RunTag>& tags,
                              std::optional<std::string> run_name) override;
  core::Result<Run> GetRun(std::string_view run_id) override;
  core::Result<RunInfo> UpdateRun(std::string_view run_id, std::optional<RunStatus> status,
                                  std::optional<int64_t> end_time,
                                  std::optional<std::string> run_name) override;
  core::Status DeleteRun(std::string_view run_id) override;
  core::Status RestoreRun(std::string_view run_id) override;
  core::Status LogMetric(std::string_view run_id, const Metric& metric) override;
  core::Status LogParam(std::string_view run_id, const Param& param) override;
  core::Status SetTag(std::string_view run_id, const RunTag& tag) override;
  core::Status DeleteTag(std::string_view run_id, std::string_view key) override;
  core::Status LogBatch(std::string_view run_id, const std::vector<Metric>& metrics,
                        const std::vector<Param>& params, const std::vector<RunTag>& tags) override;
  core::Status LogInputs(std::string_view run_id, const std::vector<DatasetInput>& inputs) override;
  core::Result<MetricPage> GetMetricHistory(std::string_view run_id, std::string_view key,
                                            std::optional<int> max_results,
                                            std::string_view page_token) override;
  core::Result<RunPage> SearchRuns(const std::vector<std::string>& experiment_ids,
                                   std::string_view filter, ViewType view_type, int max_results,
                                   const std::vector<std::string>& order_by,
                                   std::string_view page_token) override;

  core::Result<LoggedModel> CreateLoggedModel(std::string_view experiment_id, std::string_view name,
                                              std::string_view model_type,
                                              std::string_view source_run_id,
                                              const std::vector<LoggedModelParam>& params,
                                              const std::vector<LoggedModelTag>& tags) override;
  core::Result<LoggedModel> GetLoggedModel(std::string_view model_id) override;
  core::Result<LoggedModel> FinalizeLoggedModel(std::string_view model_id,
                                                LoggedModelStatus status) override;
  core::Status DeleteLoggedModel(std::string_view model_id) override;
  core::Status SetLoggedModelTags(std::string_view model_id,
                                  const std::vector<LoggedModelTag>& tags) override;
  core::Status DeleteLoggedModelTag(std::string_view model_id, std::string_view key) override;
  core::Status LogLoggedModelParams(std::string_view model_id,
                                    const std::vector<LoggedModelParam>& params) override;
  core::Result<LoggedModelPage> SearchLoggedModels(
      const std::vector<std::string>& experiment_ids, std::string_view filter,
      const std::vector<LoggedModelDatasetFilter>& datasets, int max_results,
      const std::vector<LoggedModelOrderBy>& order_by, std::string_view page_token) override;
  core::Status LogOutputs(std::string_view run_id,
                          const std::vector<LoggedModelOutput>& models) override;

 private:
  // Shorthands for transport_'s calls.
  core::Result<Json> Post(std::string_view name, const Json& body);
  core::Result<Json> Send(std::string_view method, std::string_view name, const Json& body);
  core::Result<Json> Get(std::string_view name,
                         const std::vector<std::pair<std::string, std::string>>& query);

  const std::unique_ptr<RestTransport> transport_;
};

}  // namespace mlforge::tracking::rest
