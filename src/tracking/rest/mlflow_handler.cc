#include "tracking/rest/mlflow_handler.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "tracking/rest/fast_log_batch.h"
#include "tracking/validation.h"

namespace mlforge::tracking::rest {
namespace {

// The paths every route is mounted under (mlflow/server/handlers.py
// _get_paths): the public API and the UI's.
constexpr const char* kPrefixes[] = {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"};

// GetMetricHistoryBulkInterval's limits (handlers.py
// MAX_RUNS_GET_METRIC_HISTORY_BULK and MAX_RESULTS_PER_RUN).
constexpr size_t kMaxRunsPerBulkInterval = 100;
constexpr int64_t kMaxResultsPerRunBulkInterval = 2500;

// An empty response message: MLflow renders it as {}.
Json Empty() { return Json::object(); }

// An enum field given by name or by proto number. `parse_name` reads the
// name; `from_number` the number (nullopt when out of range).
template <typename Enum, typename ParseName, typename FromNumber>
core::Result<std::optional<Enum>> EnumField(const RequestFields& fields, std::string_view name,
                                            ParseName parse_name, FromNumber from_number) {
  if (!fields.Has(name)) return std::optional<Enum>();
  core::Result<std::optional<int64_t>> number = fields.OptionalInt64(name);
  if (number.ok()) {
    std::optional<Enum> value = from_number(**number);
    if (value.has_value()) return value;
  }
  core::Result<std::optional<std::string>> text = fields.OptionalString(name);
  if (!text.ok()) return text.status();
  core::Result<Enum> parsed = parse_name(**text);
  if (!parsed.ok()) return fields.InvalidValue(name, Json(**text), parsed.status().message());
  return std::optional<Enum>(*parsed);
}

core::Result<std::optional<ViewType>> ViewTypeField(const RequestFields& fields,
                                                    std::string_view name) {
  return EnumField<ViewType>(fields, name, ParseViewType, [](int64_t number) {
    return number >= 1 && number <= 3 ? std::optional<ViewType>(static_cast<ViewType>(number))
                                      : std::nullopt;
  });
}

core::Result<std::optional<RunStatus>> RunStatusField(const RequestFields& fields) {
  return EnumField<RunStatus>(fields, "status", ParseRunStatus, [](int64_t number) {
    return number >= 1 && number <= 5 ? std::optional<RunStatus>(static_cast<RunStatus>(number))
                                      : std::nullopt;
  });
}

// max_results as an int: out-of-int range values are reported here rather
// than wrapped.
core::Result<int> MaxResultsField(const RequestFields& fields, int default_value) {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> value, fields.OptionalInt64("max_results"));
  if (!value.has_value()) return default_value;
  if (*value < 1 || *value > INT32_MAX) {
    return fields.InvalidValue("max_results", Json(*value),
                               "max_results must be a positive 32-bit integer.");
  }
  return static_cast<int>(*value);
}

// A list of {"key","value"} objects, each key required.
template <typename Tag>
core::Result<std::vector<Tag>> TagList(const RequestFields& fields, std::string_view name) {
  MLFORGE_ASSIGN_OR_RETURN(std::vector<RequestFields> entries, fields.ObjectList(name));
  std::vector<Tag> tags;
  tags.reserve(entries.size());
  for (const RequestFields& entry : entries) {
    Tag tag;
    MLFORGE_ASSIGN_OR_RETURN(tag.key, entry.RequiredString("key"));
    MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> value, entry.OptionalString("value"));
    tag.value = value.value_or("");
    tags.push_back(std::move(tag));
  }
  return tags;
}

core::Result<Metric> ParseMetric(const RequestFields& fields) {
  Metric metric;
  MLFORGE_ASSIGN_OR_RETURN(metric.key, fields.RequiredString("key"));
  MLFORGE_ASSIGN_OR_RETURN(metric.value, fields.RequiredDouble("value"));
  MLFORGE_ASSIGN_OR_RETURN(metric.timestamp, fields.RequiredInt64("timestamp"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> step, fields.OptionalInt64("step"));
  metric.step = step.value_or(0);
  // MLflow 3 links a metric to a logged model and the dataset it was
  // computed on.
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> model_id, fields.OptionalString("model_id"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> dataset_name,
                           fields.OptionalString("dataset_name"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> dataset_digest,
                           fields.OptionalString("dataset_digest"));
  metric.model_id = model_id.value_or("");
  metric.dataset_name = dataset_name.value_or("");
  metric.dataset_digest = dataset_digest.value_or("");
  return metric;
}

core::Result<LoggedModelStatus> LoggedModelStatusField(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(
      std::optional<LoggedModelStatus> status,
      EnumField<LoggedModelStatus>(fields, "status", ParseLoggedModelStatus, [](int64_t number) {
        return number >= 1 && number <= 3
                   ? std::optional<LoggedModelStatus>(static_cast<LoggedModelStatus>(number))
                   : std::nullopt;
      }));
  if (!status.has_value()) return fields.MissingValue("status");
  return *status;
}

core::Result<DatasetInput> ParseDatasetInput(const RequestFields& fields) {
  DatasetInput input;
  MLFORGE_ASSIGN_OR_RETURN(input.tags, TagList<InputTag>(fields, "tags"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<RequestFields> dataset, fields.OptionalObject("dataset"));
  if (!dataset.has_value()) return fields.MissingValue("dataset");
  MLFORGE_ASSIGN_OR_RETURN(input.dataset.name, dataset->RequiredString("name"));
  MLFORGE_ASSIGN_OR_RETURN(input.dataset.digest, dataset->RequiredString("digest"));
  MLFORGE_ASSIGN_OR_RETURN(input.dataset.source_type, dataset->RequiredString("source_type"));
  MLFORGE_ASSIGN_OR_RETURN(input.dataset.source, dataset->RequiredString("source"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> schema, dataset->OptionalString("schema"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> profile, dataset->OptionalString("profile"));
  input.dataset.schema = schema.value_or("");
  input.dataset.profile = profile.value_or("");
  return input;
}

// A list response field: left out when empty, as MLflow's message_to_json
// leaves out empty repeated fields.
template <typename T, typename ToJson>
void PutList(Json& body, const char* name, const std::vector<T>& items, ToJson to_json) {
  if (items.empty()) return;
  Json& list = body[name] = Json::array();
  for (const T& item : items) list.push_back(to_json(item));
}

void PutPageToken(Json& body, const std::string& token) {
  if (!token.empty()) body["next_page_token"] = token;
}

// MLflow's step sampling for the bulk-interval history (its SQL store's
// _get_sampled_steps_from_steps): all steps when there are at most
// `max_results`, else `max_results` evenly spaced ones plus the first and
// the last. `steps` is sorted and unique.
std::set<int64_t> SampleSteps(const std::vector<int64_t>& steps, int64_t max_results) {
  if (static_cast<int64_t>(steps.size()) <= max_results) {
    return std::set<int64_t>(steps.begin(), steps.end());
  }
  std::set<int64_t> sampled;
  double interval = static_cast<double>(steps.size()) / static_cast<double>(max_results);
  for (int64_t index = 0; index < max_results; ++index) {
    sampled.insert(steps[static_cast<size_t>(static_cast<double>(index) * interval)]);
  }
  sampled.insert(steps.front());
  sampled.insert(steps.back());
  return sampled;
}

}  // namespace

MlflowRestHandler::MlflowRestHandler(Store& store) : MlflowRestHandler(store, Options()) {}

MlflowRestHandler::MlflowRestHandler(Store& store, Options options)
    : store_(store), options_(options) {}

void MlflowRestHandler::Register(net::Router& router) {
  struct Entry {
    const char* method;
    const char* path;
    Route route;
  };
  static const Entry kRoutes[] = {
      {"POST", "experiments/create", &MlflowRestHandler::CreateExperiment},
      {"GET", "experiments/get", &MlflowRestHandler::GetExperiment},
      {"GET", "experiments/get-by-name", &MlflowRestHandler::GetExperimentByName},
      {"POST", "experiments/search", &MlflowRestHandler::SearchExperiments},
      {"GET", "experiments/search", &MlflowRestHandler::SearchExperiments},
      {"POST", "experiments/update", &MlflowRestHandler::UpdateExperiment},
      {"POST", "experiments/delete", &MlflowRestHandler::DeleteExperiment},
      {"POST", "experiments/restore", &MlflowRestHandler::RestoreExperiment},
      {"POST", "experiments/set-experiment-tag", &MlflowRestHandler::SetExperimentTag},
      {"POST", "experiments/delete-experiment-tag", &MlflowRestHandler::DeleteExperimentTag},
      {"POST", "runs/create", &MlflowRestHandler::CreateRun},
      {"GET", "runs/get", &MlflowRestHandler::GetRun},
      {"POST", "runs/update", &MlflowRestHandler::UpdateRun},
      {"POST", "runs/delete", &MlflowRestHandler::DeleteRun},
      {"POST", "runs/restore", &MlflowRestHandler::RestoreRun},
      {"POST", "runs/search", &MlflowRestHandler::SearchRuns},
      {"POST", "runs/log-metric", &MlflowRestHandler::LogMetric},
      {"POST", "runs/log-parameter", &MlflowRestHandler::LogParam},
      {"POST", "runs/set-tag", &MlflowRestHandler::SetTag},
      {"POST", "runs/delete-tag", &MlflowRestHandler::DeleteTag},
      {"POST", "runs/log-batch", &MlflowRestHandler::LogBatch},
      {"POST", "runs/log-inputs", &MlflowRestHandler::LogInputs},
      {"GET", "metrics/get-history", &MlflowRestHandler::GetMetricHistory},
      {"GET", "metrics/get-history-bulk-interval",
       &MlflowRestHandler::GetMetricHistoryBulkInterval},
      {"POST", "runs/outputs", &MlflowRestHandler::LogOutputs},
      {"POST", "logged-models", &MlflowRestHandler::CreateLoggedModel},
      {"POST", "logged-models/search", &MlflowRestHandler::SearchLoggedModels},
      {"GET", "logged-models/{model_id}", &MlflowRestHandler::GetLoggedModel},
      {"PATCH", "logged-models/{model_id}", &MlflowRestHandler::FinalizeLoggedModel},
      {"DELETE", "logged-models/{model_id}", &MlflowRestHandler::DeleteLoggedModel},
      {"PATCH", "logged-models/{model_id}/tags", &MlflowRestHandler::SetLoggedModelTags},
      {"DELETE", "logged-models/{model_id}/tags/{tag_key}",
       &MlflowRestHandler::DeleteLoggedModelTag},
      {"POST", "logged-models/{model_id}/params", &MlflowRestHandler::LogLoggedModelParams},
  };
  for (const char* prefix : kPrefixes) {
    for (const Entry& entry : kRoutes) {
      router.Add(entry.method, std::string(prefix) + entry.path,
                 [this, route = entry.route](const net::HttpRequest& request) {
                   return Serve(request, route);
                 });
    }
    if (!options_.answer_unknown_endpoints) continue;
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      router.Add(method, std::string(prefix) + "*", [](const net::HttpRequest& request) {
        return MlflowErrorResponse(
            MlflowErrorCode::kEndpointNotFound,
            "No MLflow API endpoint " + request.method + " " + request.path +
                ". See https://mlflow.org/docs/latest/rest-api.html for the endpoints.");
      });
    }
  }
}

net::HttpResponse MlflowRestHandler::Serve(const net::HttpRequest& request, Route route) {
  if (request.body.size() > options_.max_request_bytes) {
    net::HttpResponse too_large = MlflowErrorResponse(core::InvalidArgumentError(
        "Request body of " + std::to_string(request.body.size()) + " bytes exceeds the limit of " +
        std::to_string(options_.max_request_bytes) + " bytes; split the batch into smaller ones"));
    too_large.status = 413;
    return too_large;
  }
  // The hot path of every training client, read without a JSON tree when
  // the body has the usual shape (fast_log_batch.h); anything else goes the
  // general way below.
  if (route == &MlflowRestHandler::LogBatch && request.method == "POST" &&
      RequestFields::CheckJsonContentType(request.Header("Content-Type")).ok()) {
    if (std::optional<FastLogBatch> batch = ReadFastLogBatch(request.body)) {
      core::Status logged = store_.LogBatch(batch->run_id, batch->metrics, {}, {});
      if (!logged.ok()) return MlflowErrorResponse(logged);
      return MlflowJsonResponse(Empty());
    }
  }
  // A DELETE may come without a body (MLflow's client sends none to
  // logged-models/<id>/tags/<key>); it then carries only its path.
  bool bodyless_delete = request.method == "DELETE" && request.body.empty();
  core::Result<RequestFields> fields =
      request.method == "GET" || request.method == "HEAD"
          ? core::Result<RequestFields>(RequestFields::FromQuery(request.query))
      : bodyless_delete ? core::Result<RequestFields>(RequestFields(Json::object(), ""))
                        : RequestFields::FromJsonBody(request.Header("Content-Type"), request.body);
  if (!fields.ok()) return MlflowErrorResponse(fields.status());
  for (const auto& [name, value] : request.path_params) fields->Set(name, value);
  try {
    core::Result<Json> body = (this->*route)(*fields);
    if (!body.ok()) return MlflowErrorResponse(body.status());
    return MlflowJsonResponse(*body);
  } catch (const std::exception& error) {
    // Only JSON access could throw here, and every access checks types
    // first; answer in MLflow's shape all the same.
    return MlflowErrorResponse(MlflowErrorCode::kInternalError,
                               std::string("Unexpected error: ") + error.what());
  }
}

// ---- Experiments -----------------------------------------------------------

core::Result<Json> MlflowRestHandler::CreateExperiment(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> artifact_location,
                           fields.OptionalString("artifact_location"));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<ExperimentTag> tags, TagList<ExperimentTag>(fields, "tags"));
  MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id,
                           store_.CreateExperiment(name, artifact_location.value_or(""), tags));
  return Json{{"experiment_id", experiment_id}};
}

core::Result<Json> MlflowRestHandler::GetExperiment(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, fields.RequiredString("experiment_id"));
  MLFORGE_ASSIGN_OR_RETURN(Experiment experiment, store_.GetExperiment(experiment_id));
  return Json{{"experiment", ExperimentToJson(experiment)}};
}

core::Result<Json> MlflowRestHandler::GetExperimentByName(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("experiment_name"));
  core::Result<Experiment> experiment = store_.GetExperimentByName(name);
  if (experiment.status().code() == core::StatusCode::kNotFound) {
    // handlers.py _get_experiment_by_name's wording.
    return core::NotFoundError("Could not find experiment with name '" + name + "'");
  }
  if (!experiment.ok()) return experiment.status();
  return Json{{"experiment", ExperimentToJson(*experiment)}};
}

core::Result<Json> MlflowRestHandler::SearchExperiments(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<ViewType> view_type, ViewTypeField(fields, "view_type"));
  MLFORGE_ASSIGN_OR_RETURN(int max_results, MaxResultsField(fields, kSearchMaxResultsDefault));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> filter, fields.OptionalString("filter"));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> order_by, fields.StringList("order_by"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> page_token,
                           fields.OptionalString("page_token"));
  MLFORGE_ASSIGN_OR_RETURN(
      ExperimentPage page,
      store_.SearchExperiments(view_type.value_or(ViewType::kActiveOnly), max_results,
                               filter.value_or(""), order_by, page_token.value_or("")));
  Json body = Json::object();
  PutList(body, "experiments", page.experiments, ExperimentToJson);
  PutPageToken(body, page.next_page_token);
  return body;
}

core::Result<Json> MlflowRestHandler::UpdateExperiment(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, fields.RequiredString("experiment_id"));
  MLFORGE_ASSIGN_OR_RETURN(std::string new_name, fields.RequiredString("new_name"));
  MLFORGE_RETURN_IF_ERROR(store_.UpdateExperiment(experiment_id, new_name));
  return Empty();
}

core::Result<Json> MlflowRestHandler::DeleteExperiment(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, fields.RequiredString("experiment_id"));
  MLFORGE_RETURN_IF_ERROR(store_.DeleteExperiment(experiment_id));
  return Empty();
}

core::Result<Json> MlflowRestHandler::RestoreExperiment(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, fields.RequiredString("experiment_id"));
  MLFORGE_RETURN_IF_ERROR(store_.RestoreExperiment(experiment_id));
  return Empty();
}

core::Result<Json> MlflowRestHandler::SetExperimentTag(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, fields.RequiredString("experiment_id"));
  ExperimentTag tag;
  MLFORGE_ASSIGN_OR_RETURN(tag.key, fields.RequiredString("key"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> value, fields.OptionalString("value"));
  tag.value = value.value_or("");
  MLFORGE_RETURN_IF_ERROR(store_.SetExperimentTag(experiment_id, tag));
  return Empty();
}

core::Result<Json> MlflowRestHandler::DeleteExperimentTag(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, fields.RequiredString("experiment_id"));
  MLFORGE_ASSIGN_OR_RETURN(std::string key, fields.RequiredString("key"));
  MLFORGE_RETURN_IF_ERROR(store_.DeleteExperimentTag(experiment_id, key));
  return Empty();
}

// ---- Runs ------------------------------------------------------------------

core::Result<Json> MlflowRestHandler::CreateRun(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> experiment_id,
                           fields.OptionalString("experiment_id"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> user_id, fields.OptionalString("user_id"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> start_time, fields.OptionalInt64("start_time"));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<RunTag> tags, TagList<RunTag>(fields, "tags"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> run_name, fields.OptionalString("run_name"));
  if (run_name.has_value() && run_name->empty()) run_name.reset();
  MLFORGE_ASSIGN_OR_RETURN(
      Run run, store_.CreateRun(experiment_id.value_or(""), user_id.value_or(""),
                                start_time.value_or(core::NowMillis()), tags, std::move(run_name)));
  return Json{{"run", RunToJson(run)}};
}

core::Result<Json> MlflowRestHandler::GetRun(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
  MLFORGE_ASSIGN_OR_RETURN(Run run, store_.GetRun(run_id));
  return Json{{"run", RunToJson(run)}};
}

core::Result<Json> MlflowRestHandler::UpdateRun(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
  MLFORGE_ASSIGN_OR_RETURN(std::optional<RunStatus> status, RunStatusField(fields));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> end_time, fields.OptionalInt64("end_time"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> run_name, fields.OptionalString("run_name"));
  if (run_name.has_value() && run_name->empty()) run_name.reset();
  MLFORGE_ASSIGN_OR_RETURN(RunInfo info,
                           store_.UpdateRun(run_id, status, end_time, std::move(run_name)));
  return Json{{"run_info", RunInfoToJson(info)}};
}

core::Result<Json> MlflowRestHandler::DeleteRun(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
  MLFORGE_RETURN_IF_ERROR(store_.DeleteRun(run_id));
  return Empty();
}

core::Result<Json> MlflowRestHandler::RestoreRun(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
  MLFORGE_RETURN_IF_ERROR(store_.RestoreRun(run_id));
  return Empty();
}

core::Result<Json> MlflowRestHandler::SearchRuns(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> experiment_ids,
                           fields.StringList("experiment_ids"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> filter, fields.OptionalString("filter"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<ViewType> view_type,
                           ViewTypeField(fields, "run_view_type"));
  MLFORGE_ASSIGN_OR_RETURN(int max_results, MaxResultsField(fields, kSearchMaxResultsDefault));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> order_by, fields.StringList("order_by"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> page_token,
                           fields.OptionalString("page_token"));
  MLFORGE_ASSIGN_OR_RETURN(RunPage page,
                           store_.SearchRuns(experiment_ids, filter.value_or(""),
                                             view_type.value_or(ViewType::kActiveOnly), max_results,
                                             order_by, page_token.value_or("")));
  Json body = Json::object();
  PutList(body, "runs", page.runs, RunToJson);
  PutPageToken(body, page.next_page_token);
  return body;
}

core::Result<Json> MlflowRestHandler::LogMetric(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
  MLFORGE_ASSIGN_OR_RETURN(Metric metric, ParseMetric(fields));
  MLFORGE_RETURN_IF_ERROR(store_.LogMetric(run_id, metric));
  return Empty();
}

core::Result<Json> MlflowRestHandler::LogParam(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
  Param param;
  MLFORGE_ASSIGN_OR_RETURN(param.key, fields.RequiredString("key"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> value, fields.OptionalString("value"));
  param.value = value.value_or("");
  MLFORGE_RETURN_IF_ERROR(store_.LogParam(run_id, param));
  return Empty();
}

core::Result<Json> MlflowRestHandler::SetTag(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
  RunTag tag;
  MLFORGE_ASSIGN_OR_RETURN(tag.key, fields.RequiredString("key"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> value, fields.OptionalString("value"));
  tag.value = value.value_or("");
  MLFORGE_RETURN_IF_ERROR(store_.SetTag(run_id, tag));
  return Empty();
}

core::Result<Json> MlflowRestHandler::DeleteTag(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
  MLFORGE_ASSIGN_OR_RETURN(std::string key, fields.RequiredString("key"));
  MLFORGE_RETURN_IF_ERROR(store_.DeleteTag(run_id, key));
  return Empty();
}

core::Result<Json> MlflowRestHandler::LogBatch(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
  MLFORGE_ASSIGN_OR_RETURN(std::vector<RequestFields> metric_fields, fields.ObjectList("metrics"));
  std::vector<Metric> metrics;
  metrics.reserve(metric_fields.size());
  for (const RequestFields& entry : metric_fields) {
    MLFORGE_ASSIGN_OR_RETURN(Metric metric, ParseMetric(entry));
    metrics.push_back(std::move(metric));
  }
  MLFORGE_ASSIGN_OR_RETURN(std::vector<Param> params, TagList<Param>(fields, "params"));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<RunTag> tags, TagList<RunTag>(fields, "tags"));
  // Counts and sizes (tracking/validation.h) are checked by the store,
  // before anything is written.
  MLFORGE_RETURN_IF_ERROR(store_.LogBatch(run_id, metrics, params, tags));
  return Empty();
}

core::Result<Json> MlflowRestHandler::LogInputs(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
  MLFORGE_ASSIGN_OR_RETURN(std::vector<RequestFields> dataset_fields,
                           fields.ObjectList("datasets"));
  std::vector<DatasetInput> inputs;
  inputs.reserve(dataset_fields.size());
  for (const RequestFields& entry : dataset_fields) {
    MLFORGE_ASSIGN_OR_RETURN(DatasetInput input, ParseDatasetInput(entry));
    inputs.push_back(std::move(input));
  }
  MLFORGE_RETURN_IF_ERROR(store_.LogInputs(run_id, inputs));
  return Empty();
}

// ---- Metric history --------------------------------------------------------

core::Result<Json> MlflowRestHandler::GetMetricHistory(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
  MLFORGE_ASSIGN_OR_RETURN(std::string metric_key, fields.RequiredString("metric_key"));
  std::optional<int> max_results;
  if (fields.Has("max_results")) {
    MLFORGE_ASSIGN_OR_RETURN(max_results, MaxResultsField(fields, 0));
  }
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> page_token,
                           fields.OptionalString("page_token"));
  MLFORGE_ASSIGN_OR_RETURN(MetricPage page, store_.GetMetricHistory(run_id, metric_key, max_results,
                                                                    page_token.value_or("")));
  Json body = Json::object();
  PutList(body, "metrics", page.metrics, MetricToJson);
  PutPageToken(body, page.next_page_token);
  return body;
}

// The UI's chart query (handlers.py get_metric_history_bulk_interval_handler):
// the history of one metric for up to 100 runs, sampled to at most
// max_results steps (default and limit 2500) within [start_step, end_step],
// each entry carrying its run_id. Runs that do not exist contribute nothing,
// as in MLflow's SQL store. Order: runs as given, then step, timestamp.
core::Result<Json> MlflowRestHandler::GetMetricHistoryBulkInterval(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> run_ids, fields.StringList("run_ids"));
  if (run_ids.empty()) return fields.MissingValue("run_ids");
  if (run_ids.size() > kMaxRunsPerBulkInterval) {
    return core::InvalidArgumentError("GetMetricHistoryBulkInterval request must specify at most " +
                                      std::to_string(kMaxRunsPerBulkInterval) +
                                      " run_ids. Received " + std::to_string(run_ids.size()) +
                                      " run_ids.");
  }
  MLFORGE_ASSIGN_OR_RETURN(std::string metric_key, fields.RequiredString("metric_key"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> max_results, fields.OptionalInt64("max_results"));
  int64_t limit = max_results.value_or(kMaxResultsPerRunBulkInterval);
  if (limit < 1 || limit > kMaxResultsPerRunBulkInterval) {
    return core::InvalidArgumentError("max_results must be between 1 and " +
                                      std::to_string(kMaxResultsPerRunBulkInterval) + ".");
  }
  MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> start_step, fields.OptionalInt64("start_step"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> end_step, fields.OptionalInt64("end_step"));
  if (start_step.has_value() != end_step.has_value()) {
    return core::InvalidArgumentError(
        "If either start step or end step are specified, both must be specified.");
  }
  if (start_step.has_value() && *start_step > *end_step) {
    return core::InvalidArgumentError(
        "end_step must be greater than start_step. Found start_step=" +
        std::to_string(*start_step) + " and end_step=" + std::to_string(*end_step) + ".");
  }
  auto in_range = [&](const Metric& metric) {
    return !start_step.has_value() || (metric.step >= *start_step && metric.step <= *end_step);
  };

  std::vector<std::pair<std::string, std::vector<Metric>>> histories;
  std::vector<int64_t> steps;
  for (const std::string& run_id : run_ids) {
    core::Result<MetricPage> page = store_.GetMetricHistory(run_id, metric_key, std::nullopt, "");
    if (page.status().code() == core::StatusCode::kNotFound) continue;
    if (!page.ok()) return page.status();
    std::vector<Metric> metrics;
    for (Metric& metric : page->metrics) {
      if (!in_range(metric)) continue;
      steps.push_back(metric.step);
      metrics.push_back(std::move(metric));
    }
    std::stable_sort(metrics.begin(), metrics.end(), [](const Metric& a, const Metric& b) {
      return a.step != b.step ? a.step < b.step : a.timestamp < b.timestamp;
    });
    histories.emplace_back(run_id, std::move(metrics));
  }
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  std::set<int64_t> sampled = SampleSteps(steps, limit);

  Json list = Json::array();
  for (const auto& [run_id, metrics] : histories) {
    for (const Metric& metric : metrics) {
      if (!sampled.contains(metric.step)) continue;
      Json entry = MetricToJson(metric);
      entry["run_id"] = run_id;
      list.push_back(std::move(entry));
    }
  }
  Json body = Json::object();
  if (!list.empty()) body["metrics"] = std::move(list);
  return body;
}

// ---- Logged models (MLflow 3) ------------------------------------------------

namespace {

template <typename Entry>
core::Result<std::vector<Entry>> KeyValueEntries(const RequestFields& fields,
                                                 std::string_view name) {
  MLFORGE_ASSIGN_OR_RETURN(std::vector<RequestFields> entries, fields.ObjectList(name));
  std::vector<Entry> out;
  out.reserve(entries.size());
  for (const RequestFields& entry : entries) {
    Entry item;
    MLFORGE_ASSIGN_OR_RETURN(item.key, entry.RequiredString("key"));
    MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> value, entry.OptionalString("value"));
    item.value = value.value_or("");
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

core::Result<Json> MlflowRestHandler::CreateLoggedModel(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, fields.RequiredString("experiment_id"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> name, fields.OptionalString("name"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> model_type,
                           fields.OptionalString("model_type"));
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> source_run_id,
                           fields.OptionalString("source_run_id"));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<LoggedModelParam> params,
                           KeyValueEntries<LoggedModelParam>(fields, "params"));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<LoggedModelTag> tags,
                           KeyValueEntries<LoggedModelTag>(fields, "tags"));
  MLFORGE_ASSIGN_OR_RETURN(
      LoggedModel model,
      store_.CreateLoggedModel(experiment_id, name.value_or(""), model_type.value_or(""),
                               source_run_id.value_or(""), params, tags));
  return Json{{"model", LoggedModelToJson(model)}};
}

core::Result<Json> MlflowRestHandler::GetLoggedModel(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string model_id, fields.RequiredString("model_id"));
  MLFORGE_ASSIGN_OR_RETURN(LoggedModel model, store_.GetLoggedModel(model_id));
  return Json{{"model", LoggedModelToJson(model)}};
}

core::Result<Json> MlflowRestHandler::FinalizeLoggedModel(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string model_id, fields.RequiredString("model_id"));
  MLFORGE_ASSIGN_OR_RETURN(LoggedModelStatus status, LoggedModelStatusField(fields));
  MLFORGE_ASSIGN_OR_RETURN(LoggedModel model, store_.FinalizeLoggedModel(model_id, status));
  return Json{{"model", LoggedModelToJson(model)}};
}

core::Result<Json> MlflowRestHandler::DeleteLoggedModel(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string model_id, fields.RequiredString("model_id"));
  MLFORGE_RETURN_IF_ERROR(store_.DeleteLoggedModel(model_id));
  return Empty();
}

core::Result<Json> MlflowRestHandler::SetLoggedModelTags(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string model_id, fields.RequiredString("model_id"));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<LoggedModelTag> tags,
                           KeyValueEntries<LoggedModelTag>(fields, "tags"));
  MLFORGE_RETURN_IF_ERROR(store_.SetLoggedModelTags(model_id, tags));
  return Empty();
}

core::Result<Json> MlflowRestHandler::DeleteLoggedModelTag(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string model_id, fields.RequiredString("model_id"));
  MLFORGE_ASSIGN_OR_RETURN(std::string key, fields.RequiredString("tag_key"));
  MLFORGE_RETURN_IF_ERROR(store_.DeleteLoggedModelTag(model_id, key));
  return Empty();
}

core::Result<Json> MlflowRestHandler::LogLoggedModelParams(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string model_id, fields.RequiredString("model_id"));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<LoggedModelParam> params,
                           KeyValueEntries<LoggedModelParam>(fields, "params"));
  MLFORGE_RETURN_IF_ERROR(store_.LogLoggedModelParams(model_id, params));
  return Empty();
}

core::Result<Json> MlflowRestHandler::SearchLoggedModels(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> experiment_ids,
                           fields.StringList("experiment_ids"));
  if (experiment_ids.empty()) return fields.MissingValue("experiment_ids");
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> filter, fields.OptionalString("filter"));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<RequestFields> dataset_fields,
                           fields.ObjectList("datasets"));
  std::vector<LoggedModelDatasetFilter> datasets;
  for (const RequestFields& entry : dataset_fields) {
    LoggedModelDatasetFilter dataset;
    MLFORGE_ASSIGN_OR_RETURN(dataset.dataset_name, entry.RequiredString("dataset_name"));
    MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> digest,
                             entry.OptionalString("dataset_digest"));
    dataset.dataset_digest = digest.value_or("");
    datasets.push_back(std::move(dataset));
  }
  MLFORGE_ASSIGN_OR_RETURN(int max_results, MaxResultsField(fields, kSearchLoggedModelsDefault));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<RequestFields> order_fields, fields.ObjectList("order_by"));
  std::vector<LoggedModelOrderBy> order_by;
  for (const RequestFields& entry : order_fields) {
    LoggedModelOrderBy clause;
    MLFORGE_ASSIGN_OR_RETURN(clause.field_name, entry.RequiredString("field_name"));
    MLFORGE_ASSIGN_OR_RETURN(std::optional<bool> ascending, entry.OptionalBool("ascending"));
    clause.ascending = ascending.value_or(true);
    MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> dataset_name,
                             entry.OptionalString("dataset_name"));
    MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> dataset_digest,
                             entry.OptionalString("dataset_digest"));
    clause.dataset_name = dataset_name.value_or("");
    clause.dataset_digest = dataset_digest.value_or("");
    order_by.push_back(std::move(clause));
  }
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> page_token,
                           fields.OptionalString("page_token"));
  MLFORGE_ASSIGN_OR_RETURN(
      LoggedModelPage page,
      store_.SearchLoggedModels(experiment_ids, filter.value_or(""), datasets, max_results,
                                order_by, page_token.value_or("")));
  Json body = Json::object();
  PutList(body, "models", page.models, LoggedModelToJson);
  PutPageToken(body, page.next_page_token);
  return body;
}

core::Result<Json> MlflowRestHandler::LogOutputs(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RequiredString("run_id"));
  MLFORGE_ASSIGN_OR_RETURN(std::vector<RequestFields> model_fields, fields.ObjectList("models"));
  std::vector<LoggedModelOutput> models;
  for (const RequestFields& entry : model_fields) {
    LoggedModelOutput output;
    MLFORGE_ASSIGN_OR_RETURN(output.model_id, entry.RequiredString("model_id"));
    MLFORGE_ASSIGN_OR_RETURN(output.step, entry.RequiredInt64("step"));
    models.push_back(std::move(output));
  }
  MLFORGE_RETURN_IF_ERROR(store_.LogOutputs(run_id, models));
  return Empty();
}

}  // namespace mlforge::tracking::rest
