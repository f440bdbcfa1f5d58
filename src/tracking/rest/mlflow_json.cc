#include "tracking/rest/mlflow_json.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "tracking/rest/json_fields.h"

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
  Json json{{"key", metric.key},
            {"value", DoubleToJson(metric.value)},
            {"timestamp", metric.timestamp},
            {"step", metric.step}};
  if (!metric.model_id.empty()) json["model_id"] = metric.model_id;
  if (!metric.dataset_name.empty()) json["dataset_name"] = metric.dataset_name;
  if (!metric.dataset_digest.empty()) json["dataset_digest"] = metric.dataset_digest;
  if (!metric.run_id.empty()) json["run_id"] = metric.run_id;
  return json;
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
  Json outputs = Json::object();
  if (!run.outputs.model_outputs.empty()) {
    Json& model_outputs = outputs["model_outputs"] = Json::array();
    for (const LoggedModelOutput& output : run.outputs.model_outputs) {
      model_outputs.push_back(Json{{"model_id", output.model_id}, {"step", output.step}});
    }
  }
  return Json{{"info", RunInfoToJson(run.info)},
              {"data", std::move(data)},
              {"inputs", std::move(inputs)},
              {"outputs", std::move(outputs)}};
}

Json LoggedModelToJson(const LoggedModel& model) {
  Json info = {
      {"model_id", model.model_id},
      {"experiment_id", model.experiment_id},
      {"name", model.name},
      {"creation_timestamp_ms", model.creation_timestamp_ms},
      {"last_updated_timestamp_ms", model.last_updated_timestamp_ms},
      {"artifact_uri", model.artifact_uri},
      {"status", LoggedModelStatusName(model.status)},
  };
  if (!model.model_type.empty()) info["model_type"] = model.model_type;
  if (!model.source_run_id.empty()) info["source_run_id"] = model.source_run_id;
  if (!model.status_message.empty()) info["status_message"] = model.status_message;
  if (!model.tags.empty()) {
    Json& tags = info["tags"] = Json::array();
    for (const LoggedModelTag& tag : model.tags) tags.push_back(KeyValue(tag.key, tag.value));
  }
  Json data = Json::object();
  if (!model.params.empty()) {
    Json& params = data["params"] = Json::array();
    for (const LoggedModelParam& param : model.params) {
      params.push_back(KeyValue(param.key, param.value));
    }
  }
  if (!model.metrics.empty()) {
    Json& metrics = data["metrics"] = Json::array();
    for (const Metric& metric : model.metrics) metrics.push_back(MetricToJson(metric));
  }
  return Json{{"info", std::move(info)}, {"data", std::move(data)}};
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

// ---- Entities from JSON ---------------------------------------------------

core::Result<double> DoubleFromJson(const Json& json) {
  if (json.is_number()) return json.get<double>();
  if (json.is_string()) {
    const std::string& text = json.get_ref<const std::string&>();
    if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (text == "Infinity") return std::numeric_limits<double>::infinity();
    if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return core::InvalidArgumentError(
      "Expected a number, \"NaN\", \"Infinity\" or \"-Infinity\", got " + DumpJson(json));
}

core::Result<Experiment> ExperimentFromJson(const Json& json) {
  MLFORGE_RETURN_IF_ERROR(RequireObject(json, "an experiment"));
  Experiment experiment;
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "experiment_id", experiment.experiment_id));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "name", experiment.name));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "artifact_location", experiment.artifact_location));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "lifecycle_stage", experiment.lifecycle_stage));
  MLFORGE_RETURN_IF_ERROR(ReadInt64Into(json, "creation_time", experiment.creation_time));
  MLFORGE_RETURN_IF_ERROR(ReadInt64Into(json, "last_update_time", experiment.last_update_time));
  MLFORGE_ASSIGN_OR_RETURN(experiment.tags, KeyValueList<ExperimentTag>(json, "tags"));
  return experiment;
}

core::Result<RunInfo> RunInfoFromJson(const Json& json) {
  MLFORGE_RETURN_IF_ERROR(RequireObject(json, "a run info"));
  RunInfo info;
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "run_id", info.run_id));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "run_uuid", info.run_uuid));
  if (info.run_id.empty()) info.run_id = info.run_uuid;
  if (info.run_uuid.empty()) info.run_uuid = info.run_id;
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "experiment_id", info.experiment_id));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "run_name", info.run_name));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "user_id", info.user_id));
  std::string status;
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "status", status));
  if (!status.empty()) {
    MLFORGE_ASSIGN_OR_RETURN(info.status, ParseRunStatus(status));
  }
  MLFORGE_RETURN_IF_ERROR(ReadInt64Into(json, "start_time", info.start_time));
  MLFORGE_ASSIGN_OR_RETURN(info.end_time, ReadInt64(json, "end_time"));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "artifact_uri", info.artifact_uri));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "lifecycle_stage", info.lifecycle_stage));
  return info;
}

core::Result<Metric> MetricFromJson(const Json& json) {
  MLFORGE_RETURN_IF_ERROR(RequireObject(json, "a metric"));
  Metric metric;
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "key", metric.key));
  auto value = json.find("value");
  if (value != json.end() && !value->is_null()) {
    MLFORGE_ASSIGN_OR_RETURN(metric.value, DoubleFromJson(*value));
  }
  MLFORGE_RETURN_IF_ERROR(ReadInt64Into(json, "timestamp", metric.timestamp));
  MLFORGE_RETURN_IF_ERROR(ReadInt64Into(json, "step", metric.step));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "model_id", metric.model_id));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "dataset_name", metric.dataset_name));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "dataset_digest", metric.dataset_digest));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "run_id", metric.run_id));
  return metric;
}

core::Result<DatasetInput> DatasetInputFromJson(const Json& json) {
  MLFORGE_RETURN_IF_ERROR(RequireObject(json, "a dataset input"));
  DatasetInput input;
  MLFORGE_ASSIGN_OR_RETURN(input.tags, KeyValueList<InputTag>(json, "tags"));
  auto found = json.find("dataset");
  if (found != json.end() && !found->is_null()) {
    MLFORGE_RETURN_IF_ERROR(RequireObject(*found, "a dataset"));
    Dataset& dataset = input.dataset;
    MLFORGE_RETURN_IF_ERROR(ReadString(*found, "name", dataset.name));
    MLFORGE_RETURN_IF_ERROR(ReadString(*found, "digest", dataset.digest));
    MLFORGE_RETURN_IF_ERROR(ReadString(*found, "source_type", dataset.source_type));
    MLFORGE_RETURN_IF_ERROR(ReadString(*found, "source", dataset.source));
    MLFORGE_RETURN_IF_ERROR(ReadString(*found, "schema", dataset.schema));
    MLFORGE_RETURN_IF_ERROR(ReadString(*found, "profile", dataset.profile));
  }
  return input;
}

core::Result<Run> RunFromJson(const Json& json) {
  MLFORGE_RETURN_IF_ERROR(RequireObject(json, "a run"));
  Run run;
  auto info = json.find("info");
  if (info != json.end()) {
    MLFORGE_ASSIGN_OR_RETURN(run.info, RunInfoFromJson(*info));
  }
  auto data = json.find("data");
  if (data != json.end() && !data->is_null()) {
    MLFORGE_RETURN_IF_ERROR(RequireObject(*data, "run data"));
    MLFORGE_ASSIGN_OR_RETURN(const Json* metrics, ReadList(*data, "metrics"));
    for (const Json& entry : *metrics) {
      MLFORGE_ASSIGN_OR_RETURN(Metric metric, MetricFromJson(entry));
      run.data.metrics.push_back(std::move(metric));
    }
    MLFORGE_ASSIGN_OR_RETURN(run.data.params, KeyValueList<Param>(*data, "params"));
    MLFORGE_ASSIGN_OR_RETURN(run.data.tags, KeyValueList<RunTag>(*data, "tags"));
  }
  auto inputs = json.find("inputs");
  if (inputs != json.end() && !inputs->is_null()) {
    MLFORGE_RETURN_IF_ERROR(RequireObject(*inputs, "run inputs"));
    MLFORGE_ASSIGN_OR_RETURN(const Json* dataset_inputs, ReadList(*inputs, "dataset_inputs"));
    for (const Json& entry : *dataset_inputs) {
      MLFORGE_ASSIGN_OR_RETURN(DatasetInput input, DatasetInputFromJson(entry));
      run.inputs.dataset_inputs.push_back(std::move(input));
    }
  }
  auto outputs = json.find("outputs");
  if (outputs != json.end() && !outputs->is_null()) {
    MLFORGE_RETURN_IF_ERROR(RequireObject(*outputs, "run outputs"));
    MLFORGE_ASSIGN_OR_RETURN(const Json* model_outputs, ReadList(*outputs, "model_outputs"));
    for (const Json& entry : *model_outputs) {
      MLFORGE_RETURN_IF_ERROR(RequireObject(entry, "a model output"));
      LoggedModelOutput output;
      MLFORGE_RETURN_IF_ERROR(ReadString(entry, "model_id", output.model_id));
      MLFORGE_RETURN_IF_ERROR(ReadInt64Into(entry, "step", output.step));
      run.outputs.model_outputs.push_back(std::move(output));
    }
  }
  return run;
}

core::Result<LoggedModel> LoggedModelFromJson(const Json& json) {
  MLFORGE_RETURN_IF_ERROR(RequireObject(json, "a logged model"));
  LoggedModel model;
  auto info = json.find("info");
  if (info != json.end() && !info->is_null()) {
    MLFORGE_RETURN_IF_ERROR(RequireObject(*info, "a logged model info"));
    MLFORGE_RETURN_IF_ERROR(ReadString(*info, "model_id", model.model_id));
    MLFORGE_RETURN_IF_ERROR(ReadString(*info, "experiment_id", model.experiment_id));
    MLFORGE_RETURN_IF_ERROR(ReadString(*info, "name", model.name));
    MLFORGE_RETURN_IF_ERROR(
        ReadInt64Into(*info, "creation_timestamp_ms", model.creation_timestamp_ms));
    MLFORGE_RETURN_IF_ERROR(
        ReadInt64Into(*info, "last_updated_timestamp_ms", model.last_updated_timestamp_ms));
    MLFORGE_RETURN_IF_ERROR(ReadString(*info, "artifact_uri", model.artifact_uri));
    std::string status;
    MLFORGE_RETURN_IF_ERROR(ReadString(*info, "status", status));
    if (!status.empty()) {
      MLFORGE_ASSIGN_OR_RETURN(model.status, ParseLoggedModelStatus(status));
    }
    MLFORGE_RETURN_IF_ERROR(ReadString(*info, "model_type", model.model_type));
    MLFORGE_RETURN_IF_ERROR(ReadString(*info, "source_run_id", model.source_run_id));
    MLFORGE_RETURN_IF_ERROR(ReadString(*info, "status_message", model.status_message));
    MLFORGE_ASSIGN_OR_RETURN(model.tags, KeyValueList<LoggedModelTag>(*info, "tags"));
  }
  auto data = json.find("data");
  if (data != json.end() && !data->is_null()) {
    MLFORGE_RETURN_IF_ERROR(RequireObject(*data, "logged model data"));
    MLFORGE_ASSIGN_OR_RETURN(model.params, KeyValueList<LoggedModelParam>(*data, "params"));
    MLFORGE_ASSIGN_OR_RETURN(const Json* metrics, ReadList(*data, "metrics"));
    for (const Json& entry : *metrics) {
      MLFORGE_ASSIGN_OR_RETURN(Metric metric, MetricFromJson(entry));
      model.metrics.push_back(std::move(metric));
    }
  }
  return model;
}

core::Status MlflowErrorStatus(int http_status, std::string_view body) {
  std::string code;
  std::string message;
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) {
    auto found_code = parsed.find("error_code");
    if (found_code != parsed.end() && found_code->is_string())
      code = found_code->get<std::string>();
    auto found_message = parsed.find("message");
    if (found_message != parsed.end() && found_message->is_string()) {
      message = found_message->get<std::string>();
    }
  }
  if (message.empty()) {
    message = "HTTP " + std::to_string(http_status);
    if (!body.empty()) message += ": " + std::string(body.substr(0, 500));
  }
  if (code == "RESOURCE_DOES_NOT_EXIST" || code == "ENDPOINT_NOT_FOUND") {
    return core::NotFoundError(message);
  }
  if (code == "RESOURCE_ALREADY_EXISTS") return core::AlreadyExistsError(message);
  if (code == "INVALID_PARAMETER_VALUE" || code == "BAD_REQUEST") {
    return core::InvalidArgumentError(message);
  }
  if (code == "UNAUTHENTICATED") return core::UnauthenticatedError(message);
  if (code == "PERMISSION_DENIED") return core::PermissionDeniedError(message);
  if (code == "TEMPORARILY_UNAVAILABLE") return core::UnavailableError(message);
  if (code == "REQUEST_LIMIT_EXCEEDED") return core::ResourceExhaustedError(message);
  if (code == "INVALID_STATE") return core::FailedPreconditionError(message);
  if (code == "NOT_IMPLEMENTED") return core::UnimplementedError(message);
  if (code == "DEADLINE_EXCEEDED") return core::DeadlineExceededError(message);
  if (!code.empty()) return core::InternalError(message);
  switch (http_status) {
    case 400:
      return core::InvalidArgumentError(message);
    case 401:
      return core::UnauthenticatedError(message);
    case 403:
      return core::PermissionDeniedError(message);
    case 404:
      return core::NotFoundError(message);
    case 413:
    case 429:
      return core::ResourceExhaustedError(message);
    case 503:
      return core::UnavailableError(message);
    case 504:
      return core::DeadlineExceededError(message);
    default:
      return core::InternalError(message);
  }
}

}  // namespace mlforge::tracking::rest
