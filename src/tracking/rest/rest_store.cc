#include "tracking/rest/rest_store.h"

#include <string>
#include <utility>

#include "net/http.h"

namespace mlforge::tracking::rest {
namespace {

Json TagsJson(const auto& tags) {
  Json list = Json::array();
  for (const auto& tag : tags) list.push_back(Json{{"key", tag.key}, {"value", tag.value}});
  return list;
}

Json StringList(const std::vector<std::string>& values) {
  Json list = Json::array();
  for (const std::string& value : values) list.push_back(value);
  return list;
}

// The "run" object of a response, as a Run.
core::Result<Run> RunField(const Json& body) {
  auto found = body.find("run");
  if (found == body.end()) {
    return core::InternalError("Tracking server response has no 'run': " + DumpJson(body));
  }
  return RunFromJson(*found);
}

core::Result<Experiment> ExperimentField(const Json& body) {
  auto found = body.find("experiment");
  if (found == body.end()) {
    return core::InternalError("Tracking server response has no 'experiment': " + DumpJson(body));
  }
  return ExperimentFromJson(*found);
}

std::string PageToken(const Json& body) {
  auto found = body.find("next_page_token");
  if (found == body.end() || !found->is_string()) return "";
  return found->get<std::string>();
}

core::Result<LoggedModel> LoggedModelField(const Json& body) {
  auto found = body.find("model");
  if (found == body.end()) {
    return core::InternalError("Tracking server response has no 'model': " + DumpJson(body));
  }
  return LoggedModelFromJson(*found);
}

// The path segment for a logged model id (ids are hex, but a caller may
// pass anything).
std::string ModelPath(std::string_view model_id) {
  return "logged-models/" + net::PercentEncode(model_id);
}

// A response entity the client could not read is the server's fault, not
// the caller's: Internal rather than InvalidArgument.
core::Status BadResponse(const core::Status& status) {
  return core::InternalError("Malformed tracking server response: " + status.message());
}

}  // namespace

core::Result<std::unique_ptr<Store>> RestStore::Open(std::string_view uri) {
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<RestTransport> transport, RestTransport::Open(uri));
  return std::unique_ptr<Store>(std::make_unique<RestStore>(std::move(transport)));
}

RestStore::RestStore(std::unique_ptr<RestTransport> transport) : transport_(std::move(transport)) {}

RestStore::~RestStore() = default;

core::Result<Json> RestStore::Post(std::string_view name, const Json& body) {
  return transport_->Post(name, body);
}

core::Result<Json> RestStore::Send(std::string_view method, std::string_view name,
                                   const Json& body) {
  return transport_->Send(method, name, body);
}

core::Result<Json> RestStore::Get(std::string_view name,
                                  const std::vector<std::pair<std::string, std::string>>& query) {
  return transport_->Get(name, query);
}

// ---- Experiments -------------------------------------------------------------

core::Result<std::string> RestStore::CreateExperiment(std::string_view name,
                                                      std::string_view artifact_location,
                                                      const std::vector<ExperimentTag>& tags) {
  Json body = {{"name", name}};
  if (!artifact_location.empty()) body["artifact_location"] = artifact_location;
  if (!tags.empty()) body["tags"] = TagsJson(tags);
  MLFORGE_ASSIGN_OR_RETURN(Json response, Post("experiments/create", body));
  auto found = response.find("experiment_id");
  if (found == response.end() || !found->is_string()) {
    return core::InternalError("Tracking server response has no 'experiment_id': " +
                               DumpJson(response));
  }
  return found->get<std::string>();
}

core::Result<Experiment> RestStore::GetExperiment(std::string_view experiment_id) {
  MLFORGE_ASSIGN_OR_RETURN(Json response,
                           Get("experiments/get", {{"experiment_id", std::string(experiment_id)}}));
  core::Result<Experiment> experiment = ExperimentField(response);
  if (!experiment.ok()) return BadResponse(experiment.status());
  return experiment;
}

core::Result<Experiment> RestStore::GetExperimentByName(std::string_view name) {
  MLFORGE_ASSIGN_OR_RETURN(
      Json response, Get("experiments/get-by-name", {{"experiment_name", std::string(name)}}));
  core::Result<Experiment> experiment = ExperimentField(response);
  if (!experiment.ok()) return BadResponse(experiment.status());
  return experiment;
}

core::Result<ExperimentPage> RestStore::SearchExperiments(ViewType view_type, int max_results,
                                                          std::string_view filter,
                                                          const std::vector<std::string>& order_by,
                                                          std::string_view page_token) {
  Json body = {{"view_type", ViewTypeName(view_type)}, {"max_results", max_results}};
  if (!filter.empty()) body["filter"] = filter;
  if (!order_by.empty()) body["order_by"] = StringList(order_by);
  if (!page_token.empty()) body["page_token"] = page_token;
  MLFORGE_ASSIGN_OR_RETURN(Json response, Post("experiments/search", body));
  ExperimentPage page;
  auto list = response.find("experiments");
  if (list != response.end() && list->is_array()) {
    for (const Json& entry : *list) {
      core::Result<Experiment> experiment = ExperimentFromJson(entry);
      if (!experiment.ok()) return BadResponse(experiment.status());
      page.experiments.push_back(std::move(experiment).value());
    }
  }
  page.next_page_token = PageToken(response);
  return page;
}

core::Status RestStore::UpdateExperiment(std::string_view experiment_id,
                                         std::string_view new_name) {
  return Post("experiments/update", {{"experiment_id", experiment_id}, {"new_name", new_name}})
      .status();
}

core::Status RestStore::DeleteExperiment(std::string_view experiment_id) {
  return Post("experiments/delete", {{"experiment_id", experiment_id}}).status();
}

core::Status RestStore::RestoreExperiment(std::string_view experiment_id) {
  return Post("experiments/restore", {{"experiment_id", experiment_id}}).status();
}

core::Status RestStore::SetExperimentTag(std::string_view experiment_id, const ExperimentTag& tag) {
  return Post("experiments/set-experiment-tag",
              {{"experiment_id", experiment_id}, {"key", tag.key}, {"value", tag.value}})
      .status();
}

core::Status RestStore::DeleteExperimentTag(std::string_view experiment_id, std::string_view key) {
  return Post("experiments/delete-experiment-tag", {{"experiment_id", experiment_id}, {"key", key}})
      .status();
}

// ---- Runs ------------------------------------------------------------------

core::Result<Run> RestStore::CreateRun(std::string_view experiment_id, std::string_view user_id,
                                       int64_t start_time, const std::vector<RunTag>& tags,
                                       std::optional<std::string> run_name) {
  Json body = {{"experiment_id", experiment_id}, {"user_id", user_id}, {"start_time", start_time}};
  if (!tags.empty()) body["tags"] = TagsJson(tags);
  if (run_name.has_value()) body["run_name"] = *run_name;
  MLFORGE_ASSIGN_OR_RETURN(Json response, Post("runs/create", body));
  core::Result<Run> run = RunField(response);
  if (!run.ok()) return BadResponse(run.status());
  return run;
}

core::Result<Run> RestStore::GetRun(std::string_view run_id) {
  MLFORGE_ASSIGN_OR_RETURN(Json response, Get("runs/get", {{"run_id", std::string(run_id)},
                                                           {"run_uuid", std::string(run_id)}}));
  core::Result<Run> run = RunField(response);
  if (!run.ok()) return BadResponse(run.status());
  return run;
}

core::Result<RunInfo> RestStore::UpdateRun(std::string_view run_id, std::optional<RunStatus> status,
                                           std::optional<int64_t> end_time,
                                           std::optional<std::string> run_name) {
  Json body = {{"run_id", run_id}, {"run_uuid", run_id}};
  if (status.has_value()) body["status"] = RunStatusName(*status);
  if (end_time.has_value()) body["end_time"] = *end_time;
  if (run_name.has_value()) body["run_name"] = *run_name;
  MLFORGE_ASSIGN_OR_RETURN(Json response, Post("runs/update", body));
  auto found = response.find("run_info");
  if (found == response.end()) {
    return core::InternalError("Tracking server response has no 'run_info': " + DumpJson(response));
  }
  core::Result<RunInfo> info = RunInfoFromJson(*found);
  if (!info.ok()) return BadResponse(info.status());
  return info;
}

core::Status RestStore::DeleteRun(std::string_view run_id) {
  return Post("runs/delete", {{"run_id", run_id}}).status();
}

core::Status RestStore::RestoreRun(std::string_view run_id) {
  return Post("runs/restore", {{"run_id", run_id}}).status();
}

core::Status RestStore::LogMetric(std::string_view run_id, const Metric& metric) {
  Json body = MetricToJson(metric);
  body["run_id"] = run_id;
  body["run_uuid"] = run_id;
  return Post("runs/log-metric", body).status();
}

core::Status RestStore::LogParam(std::string_view run_id, const Param& param) {
  return Post(
             "runs/log-parameter",
             {{"run_id", run_id}, {"run_uuid", run_id}, {"key", param.key}, {"value", param.value}})
      .status();
}

core::Status RestStore::SetTag(std::string_view run_id, const RunTag& tag) {
  return Post("runs/set-tag",
              {{"run_id", run_id}, {"run_uuid", run_id}, {"key", tag.key}, {"value", tag.value}})
      .status();
}

core::Status RestStore::DeleteTag(std::string_view run_id, std::string_view key) {
  return Post("runs/delete-tag", {{"run_id", run_id}, {"key", key}}).status();
}

core::Status RestStore::LogBatch(std::string_view run_id, const std::vector<Metric>& metrics,
                                 const std::vector<Param>& params,
                                 const std::vector<RunTag>& tags) {
  Json body = {{"run_id", run_id}};
  if (!metrics.empty()) {
    Json& list = body["metrics"] = Json::array();
    for (const Metric& metric : metrics) list.push_back(MetricToJson(metric));
  }
  if (!params.empty()) body["params"] = TagsJson(params);
  if (!tags.empty()) body["tags"] = TagsJson(tags);
  return Post("runs/log-batch", body).status();
}

core::Status RestStore::LogInputs(std::string_view run_id,
                                  const std::vector<DatasetInput>& inputs) {
  Json body = {{"run_id", run_id}};
  if (!inputs.empty()) {
    Json& list = body["datasets"] = Json::array();
    for (const DatasetInput& input : inputs) list.push_back(DatasetInputToJson(input));
  }
  return Post("runs/log-inputs", body).status();
}

core::Result<MetricPage> RestStore::GetMetricHistory(std::string_view run_id, std::string_view key,
                                                     std::optional<int> max_results,
                                                     std::string_view page_token) {
  std::vector<std::pair<std::string, std::string>> query = {
      {"run_id", std::string(run_id)},
      {"run_uuid", std::string(run_id)},
      {"metric_key", std::string(key)},
  };
  if (max_results.has_value()) query.emplace_back("max_results", std::to_string(*max_results));
  if (!page_token.empty()) query.emplace_back("page_token", std::string(page_token));
  MLFORGE_ASSIGN_OR_RETURN(Json response, Get("metrics/get-history", query));
  MetricPage page;
  auto list = response.find("metrics");
  if (list != response.end() && list->is_array()) {
    for (const Json& entry : *list) {
      core::Result<Metric> metric = MetricFromJson(entry);
      if (!metric.ok()) return BadResponse(metric.status());
      page.metrics.push_back(std::move(metric).value());
    }
  }
  page.next_page_token = PageToken(response);
  return page;
}

core::Result<RunPage> RestStore::SearchRuns(const std::vector<std::string>& experiment_ids,
                                            std::string_view filter, ViewType view_type,
                                            int max_results,
                                            const std::vector<std::string>& order_by,
                                            std::string_view page_token) {
  Json body = {{"experiment_ids", StringList(experiment_ids)},
               {"run_view_type", ViewTypeName(view_type)},
               {"max_results", max_results}};
  if (!filter.empty()) body["filter"] = filter;
  if (!order_by.empty()) body["order_by"] = StringList(order_by);
  if (!page_token.empty()) body["page_token"] = page_token;
  MLFORGE_ASSIGN_OR_RETURN(Json response, Post("runs/search", body));
  RunPage page;
  auto list = response.find("runs");
  if (list != response.end() && list->is_array()) {
    for (const Json& entry : *list) {
      core::Result<Run> run = RunFromJson(entry);
      if (!run.ok()) return BadResponse(run.status());
      page.runs.push_back(std::move(run).value());
    }
  }
  page.next_page_token = PageToken(response);
  return page;
}

// ---- Logged models (MLflow 3) ------------------------------------------------

core::Result<LoggedModel> RestStore::CreateLoggedModel(std::string_view experiment_id,
                                                       std::string_view name,
                                                       std::string_view model_type,
                                                       std::string_view source_run_id,
                                                       const std::vector<LoggedModelParam>& params,
                                                       const std::vector<LoggedModelTag>& tags) {
  Json body = {{"experiment_id", experiment_id}};
  if (!name.empty()) body["name"] = name;
  if (!model_type.empty()) body["model_type"] = model_type;
  if (!source_run_id.empty()) body["source_run_id"] = source_run_id;
  if (!params.empty()) body["params"] = TagsJson(params);
  if (!tags.empty()) body["tags"] = TagsJson(tags);
  MLFORGE_ASSIGN_OR_RETURN(Json response, Post("logged-models", body));
  core::Result<LoggedModel> model = LoggedModelField(response);
  if (!model.ok()) return BadResponse(model.status());
  return model;
}

core::Result<LoggedModel> RestStore::GetLoggedModel(std::string_view model_id) {
  MLFORGE_ASSIGN_OR_RETURN(Json response, Get(ModelPath(model_id), {}));
  core::Result<LoggedModel> model = LoggedModelField(response);
  if (!model.ok()) return BadResponse(model.status());
  return model;
}

core::Result<LoggedModel> RestStore::FinalizeLoggedModel(std::string_view model_id,
                                                         LoggedModelStatus status) {
  MLFORGE_ASSIGN_OR_RETURN(
      Json response, Send("PATCH", ModelPath(model_id),
                          {{"model_id", model_id}, {"status", LoggedModelStatusName(status)}}));
  core::Result<LoggedModel> model = LoggedModelField(response);
  if (!model.ok()) return BadResponse(model.status());
  return model;
}

core::Status RestStore::DeleteLoggedModel(std::string_view model_id) {
  return Send("DELETE", ModelPath(model_id), {{"model_id", model_id}}).status();
}

core::Status RestStore::SetLoggedModelTags(std::string_view model_id,
                                           const std::vector<LoggedModelTag>& tags) {
  return Send("PATCH", ModelPath(model_id) + "/tags", {{"tags", TagsJson(tags)}}).status();
}

core::Status RestStore::DeleteLoggedModelTag(std::string_view model_id, std::string_view key) {
  return transport_->Call("DELETE", ModelPath(model_id) + "/tags/" + net::PercentEncode(key), {})
      .status();
}

core::Status RestStore::LogLoggedModelParams(std::string_view model_id,
                                             const std::vector<LoggedModelParam>& params) {
  return Post(ModelPath(model_id) + "/params",
              {{"model_id", model_id}, {"params", TagsJson(params)}})
      .status();
}

core::Result<LoggedModelPage> RestStore::SearchLoggedModels(
    const std::vector<std::string>& experiment_ids, std::string_view filter,
    const std::vector<LoggedModelDatasetFilter>& datasets, int max_results,
    const std::vector<LoggedModelOrderBy>& order_by, std::string_view page_token) {
  Json body = {{"experiment_ids", StringList(experiment_ids)}, {"max_results", max_results}};
  if (!filter.empty()) body["filter"] = filter;
  if (!datasets.empty()) {
    Json& list = body["datasets"] = Json::array();
    for (const LoggedModelDatasetFilter& dataset : datasets) {
      Json entry = {{"dataset_name", dataset.dataset_name}};
      if (!dataset.dataset_digest.empty()) entry["dataset_digest"] = dataset.dataset_digest;
      list.push_back(std::move(entry));
    }
  }
  if (!order_by.empty()) {
    Json& list = body["order_by"] = Json::array();
    for (const LoggedModelOrderBy& clause : order_by) {
      Json entry = {{"field_name", clause.field_name}, {"ascending", clause.ascending}};
      if (!clause.dataset_name.empty()) entry["dataset_name"] = clause.dataset_name;
      if (!clause.dataset_digest.empty()) entry["dataset_digest"] = clause.dataset_digest;
      list.push_back(std::move(entry));
    }
  }
  if (!page_token.empty()) body["page_token"] = page_token;
  MLFORGE_ASSIGN_OR_RETURN(Json response, Post("logged-models/search", body));
  LoggedModelPage page;
  auto list = response.find("models");
  if (list != response.end() && list->is_array()) {
    for (const Json& entry : *list) {
      core::Result<LoggedModel> model = LoggedModelFromJson(entry);
      if (!model.ok()) return BadResponse(model.status());
      page.models.push_back(std::move(model).value());
    }
  }
  page.next_page_token = PageToken(response);
  return page;
}

core::Status RestStore::LogOutputs(std::string_view run_id,
                                   const std::vector<LoggedModelOutput>& models) {
  Json list = Json::array();
  for (const LoggedModelOutput& output : models) {
    list.push_back(Json{{"model_id", output.model_id}, {"step", output.step}});
  }
  return Post("runs/outputs", {{"run_id", run_id}, {"models", std::move(list)}}).status();
}

}  // namespace mlforge::tracking::rest
