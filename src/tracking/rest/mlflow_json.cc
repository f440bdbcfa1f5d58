#include "tracking/rest/mlflow_json.h"

#include <cmath>
#include <string>

namespace mlforge::tracking::rest {
namespace {

// A {"key","value"} object, the shape of every MLflow tag and param.
Json KeyValue(const std::string& key, const std::string& value) {
  return Json{{"key", key}, {"value", value}};
}

}  // namespace

Json ExperimentTagToJson(const ExperimentTag& tag) { return KeyValue(tag.key, tag.value); }
Json ParamToJson(const Param& param) { return KeyValue(param.key, param.value); }
Json RunTagToJson(const RunTag& tag) { return KeyValue(tag.key, tag.value); }

Json DoubleToJson(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

Json ExperimentToJson(const Experiment& experiment) {
  Json json = {
      {"experiment_id", experiment.experiment_id},
      {"name", experiment.name},
      {"artifact_location", experiment.artifact_location},
      {"lifecycle_stage", experiment.lifecycle_stage},
      {"last_update_time", experiment.last_update_time},
      {"creation_time", experiment.creation_time},
  };
  if (!experiment.tags.empty()) {
    Json tags = Json::array();
    for (const ExperimentTag& tag : experiment.tags) tags.push_back(ExperimentTagToJson(tag));
    json["tags"] = std::move(tags);
  }
  return json;
}

Json RunInfoToJson(const RunInfo& info) {
  Json json = {
      {"run_id", info.run_id},
      // MLflow still fills the deprecated twin; old clients read only it.
      {"run_uuid", info.run_uuid.empty() ? info.run_id : info.run_uuid},
      {"run_name", info.run_name},
      {"experiment_id", info.experiment_id},
      {"user_id", info.user_id},
      {"status", std::string(RunStatusName(info.status))},
      {"start_time", info.start_time},
      {"artifact_uri", info.artifact_uri},
      {"lifecycle_stage", info.lifecycle_stage},
  };
  if (info.end_time.has_value()) json["end_time"] = *info.end_time;
  return json;
}

Json MetricToJson(const Metric& metric) {
  return Json{{"key", metric.key},
              {"value", DoubleToJson(metric.value)},
              {"timestamp", metric.timestamp},
              {"step", metric.step}};
}

Json DatasetInputToJson(const DatasetInput& input) {
  const Dataset& dataset = input.dataset;
  Json dataset_json = {
      {"name", dataset.name},
      {"digest", dataset.digest},
      {"source_type", dataset.source_type},
      {"source", dataset.source},
  };
  if (!dataset.schema.empty()) dataset_json["schema"] = dataset.schema;
  if (!dataset.profile.empty()) dataset_json["profile"] = dataset.profile;
  Json json = Json::object();
  if (!input.tags.empty()) {
    Json tags = Json::array();
    for (const InputTag& tag : input.tags) tags.push_back(KeyValue(tag.key, tag.value));
    json["tags"] = std::move(tags);
  }
  json["dataset"] = std::move(dataset_json);
  return json;
}

Json RunToJson(const Run& run) {
  Json data = Json::object();
  if (!run.data.metrics.empty()) {
    Json& metrics = data["metrics"] = Json::array();
    for (const Metric& metric : run.data.metrics) metrics.push_back(MetricToJson(metric));
  }
  if (!run.data.params.empty()) {
    Json& params = data["params"] = Json::array();
    for (const Param& param : run.data.params) params.push_back(ParamToJson(param));
  }
  if (!run.data.tags.empty()) {
    Json& tags = data["tags"] = Json::array();
    for (const RunTag& tag : run.data.tags) tags.push_back(RunTagToJson(tag));
  }
  Json inputs = Json::object();
  if (!run.inputs.dataset_inputs.empty()) {
    Json& dataset_inputs = inputs["dataset_inputs"] = Json::array();
    for (const DatasetInput& input : run.inputs.dataset_inputs) {
      dataset_inputs.push_back(DatasetInputToJson(input));
    }
  }
  return Json{
      {"info", RunInfoToJson(run.info)}, {"data", std::move(data)}, {"inputs", std::move(inputs)}};
}

std::string_view MlflowErrorCodeName(MlflowErrorCode code) {
  switch (code) {
    case MlflowErrorCode::kInvalidParameterValue:
      return "INVALID_PARAMETER_VALUE";
    case MlflowErrorCode::kBadRequest:
      return "BAD_REQUEST";
    case MlflowErrorCode::kResourceAlreadyExists:
      return "RESOURCE_ALREADY_EXISTS";
    case MlflowErrorCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    case MlflowErrorCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case MlflowErrorCode::kResourceDoesNotExist:
      return "RESOURCE_DOES_NOT_EXIST";
    case MlflowErrorCode::kEndpointNotFound:
      return "ENDPOINT_NOT_FOUND";
    case MlflowErrorCode::kRequestLimitExceeded:
      return "REQUEST_LIMIT_EXCEEDED";
    case MlflowErrorCode::kInternalError:
      return "INTERNAL_ERROR";
    case MlflowErrorCode::kInvalidState:
      return "INVALID_STATE";
    case MlflowErrorCode::kNotImplemented:
      return "NOT_IMPLEMENTED";
    case MlflowErrorCode::kTemporarilyUnavailable:
      return "TEMPORARILY_UNAVAILABLE";
    case MlflowErrorCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
  }
  return "INTERNAL_ERROR";
}

int MlflowHttpStatus(MlflowErrorCode code) {
  switch (code) {
    // MLflow answers 400 for an existing resource, not 409.
    case MlflowErrorCode::kInvalidParameterValue:  // NOLINT(bugprone-branch-clone)
    case MlflowErrorCode::kBadRequest:
    case MlflowErrorCode::kResourceAlreadyExists:
      return 400;
    case MlflowErrorCode::kUnauthenticated:
      return 401;
    case MlflowErrorCode::kPermissionDenied:
      return 403;
    case MlflowErrorCode::kResourceDoesNotExist:
    case MlflowErrorCode::kEndpointNotFound:
      return 404;
    case MlflowErrorCode::kRequestLimitExceeded:
      return 429;
    case MlflowErrorCode::kInternalError:
    case MlflowErrorCode::kInvalidState:
      return 500;
    case MlflowErrorCode::kNotImplemented:
      return 501;
    case MlflowErrorCode::kTemporarilyUnavailable:
      return 503;
    case MlflowErrorCode::kDeadlineExceeded:
      return 504;
  }
  return 500;
}

MlflowErrorCode MlflowErrorCodeFor(core::StatusCode code) {
  switch (code) {
    case core::StatusCode::kInvalidArgument:
      return MlflowErrorCode::kInvalidParameterValue;
    case core::StatusCode::kNotFound:
      return MlflowErrorCode::kResourceDoesNotExist;
    case core::StatusCode::kAlreadyExists:
      return MlflowErrorCode::kResourceAlreadyExists;
    case core::StatusCode::kPermissionDenied:
      return MlflowErrorCode::kPermissionDenied;
    case core::StatusCode::kUnauthenticated:
      return MlflowErrorCode::kUnauthenticated;
    case core::StatusCode::kUnavailable:
      return MlflowErrorCode::kTemporarilyUnavailable;
    case core::StatusCode::kResourceExhausted:
      return MlflowErrorCode::kRequestLimitExceeded;
    case core::StatusCode::kFailedPrecondition:
      return MlflowErrorCode::kInvalidState;
    case core::StatusCode::kUnimplemented:
      return MlflowErrorCode::kNotImplemented;
    case core::StatusCode::kDeadlineExceeded:
      return MlflowErrorCode::kDeadlineExceeded;
    case core::StatusCode::kOk:  // not an error; a caller bug, reported as one
    case core::StatusCode::kInternal:
      return MlflowErrorCode::kInternalError;
  }
  return MlflowErrorCode::kInternalError;
}

std::string DumpJson(const Json& value, bool ensure_ascii) {
  return value.dump(-1, ' ', ensure_ascii, Json::error_handler_t::replace);
}

net::HttpResponse MlflowErrorResponse(MlflowErrorCode code, std::string_view message) {
  Json body = {{"error_code", std::string(MlflowErrorCodeName(code))},
               {"message", std::string(message)}};
  return net::HttpResponse::Json(MlflowHttpStatus(code), DumpJson(body));
}

net::HttpResponse MlflowErrorResponse(const core::Status& status) {
  return MlflowErrorResponse(MlflowErrorCodeFor(status.code()), status.message());
}

net::HttpResponse MlflowJsonResponse(const Json& body) {
  return net::HttpResponse::Json(200, DumpJson(body));
}

}  // namespace mlforge::tracking::rest
