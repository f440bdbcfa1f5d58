#pragma once

// MLflow's REST JSON for the tracking entities, and the one function that
// writes MLflow's error body.
//
// The shapes are those of MLflow's server, which renders protos with
// mlflow/utils/proto_json_utils.py message_to_json():
//  - field names stay snake_case as in mlflow/protos/service.proto;
//  - int64 fields (times, steps) are JSON numbers, not the strings protobuf's
//    own JSON mapping would give;
//  - enums are their names ("FINISHED", "ACTIVE_ONLY");
//  - double fields that are NaN or infinite are the strings "NaN",
//    "Infinity" and "-Infinity" (protobuf's json_format; the Python client's
//    ParseDict reads them back), other doubles are numbers;
//  - repeated fields with no elements and optional fields that were never set
//    (RunInfo.end_time of a running run, Dataset.schema when empty) are left
//    out; an empty response is `{}`.
//
// Errors: `{"error_code": NAME, "message": TEXT}` with exactly these two keys
// and the HTTP status MLflow gives NAME (mlflow/exceptions.py
// ERROR_CODE_TO_HTTP_STATUS).
//
// Thread safety: free functions on plain values.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http.h"
#include "tracking/entities.h"

namespace mlforge::tracking::rest {

using Json = nlohmann::json;

// ---- Entities -------------------------------------------------------------

Json ExperimentTagToJson(const ExperimentTag& tag);
Json ExperimentToJson(const Experiment& experiment);
// Carries both run_id and its legacy twin run_uuid.
Json RunInfoToJson(const RunInfo& info);
Json MetricToJson(const Metric& metric);
Json ParamToJson(const Param& param);
Json RunTagToJson(const RunTag& tag);
Json DatasetInputToJson(const DatasetInput& input);
// {"info": ..., "data": {...}, "inputs": {...}, "outputs": {...}}; data,
// inputs and outputs are always present (possibly `{}`), as MLflow 3's
// Run.to_proto() sets them.
Json RunToJson(const Run& run);
// MLflow 3's LoggedModel: {"info": {model_id, experiment_id, name,
// creation_timestamp_ms, last_updated_timestamp_ms, artifact_uri, status,
// model_type?, source_run_id?, status_message?, tags?}, "data": {params?,
// metrics?}}; the status by name ("LOGGED_MODEL_READY").
Json LoggedModelToJson(const LoggedModel& model);

// A double as MLflow renders it: a number, or "NaN" / "Infinity" /
// "-Infinity".
Json DoubleToJson(double value);

// ---- Entities from JSON (the client side: tracking/rest/rest_store.h) -----
//
// The inverse of the functions above, lenient the way MLflow's ParseDict is:
// int64 fields may be numbers or decimal strings (protobuf's own JSON
// mapping); doubles numbers or "NaN" / "Infinity" / "-Infinity"; enums their
// names; absent fields and lists are their defaults. Unknown fields are
// ignored. InvalidArgument for a field of the wrong type or a bad enum name.

core::Result<Experiment> ExperimentFromJson(const Json& json);
core::Result<RunInfo> RunInfoFromJson(const Json& json);
core::Result<Metric> MetricFromJson(const Json& json);
core::Result<DatasetInput> DatasetInputFromJson(const Json& json);
core::Result<Run> RunFromJson(const Json& json);
core::Result<LoggedModel> LoggedModelFromJson(const Json& json);
// A number, or one of the three strings DoubleToJson() writes.
core::Result<double> DoubleFromJson(const Json& json);

// The Status for an MLflow error response: `body` is `{"error_code",
// "message"}` (the message is kept); RESOURCE_DOES_NOT_EXIST and
// ENDPOINT_NOT_FOUND NotFound, RESOURCE_ALREADY_EXISTS AlreadyExists,
// INVALID_PARAMETER_VALUE and BAD_REQUEST InvalidArgument, UNAUTHENTICATED
// Unauthenticated, PERMISSION_DENIED PermissionDenied,
// TEMPORARILY_UNAVAILABLE Unavailable, REQUEST_LIMIT_EXCEEDED
// ResourceExhausted, INVALID_STATE FailedPrecondition, NOT_IMPLEMENTED
// Unimplemented, DEADLINE_EXCEEDED DeadlineExceeded, anything else
// Internal. A body without an error_code is judged by `http_status` (401
// Unauthenticated, 403 PermissionDenied, 404 NotFound, 400 InvalidArgument,
// 503 Unavailable, 504 DeadlineExceeded, else Internal).
core::Status MlflowErrorStatus(int http_status, std::string_view body);

// ---- Responses ------------------------------------------------------------

// The error codes this server answers with (mlflow/protos/databricks.proto).
enum class MlflowErrorCode {
  kInvalidParameterValue,   // 400
  kBadRequest,              // 400
  kResourceAlreadyExists,   // 400
  kUnauthenticated,         // 401
  kPermissionDenied,        // 403
  kResourceDoesNotExist,    // 404
  kEndpointNotFound,        // 404
  kRequestLimitExceeded,    // 429
  kInternalError,           // 500
  kInvalidState,            // 500
  kNotImplemented,          // 501
  kTemporarilyUnavailable,  // 503
  kDeadlineExceeded,        // 504
};

// "INVALID_PARAMETER_VALUE", ...
std::string_view MlflowErrorCodeName(MlflowErrorCode code);
// The HTTP status MLflow's server sends with `code`.
int MlflowHttpStatus(MlflowErrorCode code);

// The MLflow code for a Status code: InvalidArgument INVALID_PARAMETER_VALUE,
// NotFound RESOURCE_DOES_NOT_EXIST, AlreadyExists RESOURCE_ALREADY_EXISTS,
// PermissionDenied PERMISSION_DENIED, Unauthenticated UNAUTHENTICATED,
// Unavailable TEMPORARILY_UNAVAILABLE, ResourceExhausted
// REQUEST_LIMIT_EXCEEDED, FailedPrecondition INVALID_STATE, Unimplemented
// NOT_IMPLEMENTED, DeadlineExceeded DEADLINE_EXCEEDED, anything else
// INTERNAL_ERROR. (Bodies over the server's max_body_bytes never get here:
// the HTTP server answers 413 itself.)
MlflowErrorCode MlflowErrorCodeFor(core::StatusCode code);

// THE error writer: {"error_code": ..., "message": ...} as application/json
// with the status of `code`. Route code never builds error JSON itself.
net::HttpResponse MlflowErrorResponse(MlflowErrorCode code, std::string_view message);
// The same for a non-OK Status (its message, its code mapped as above).
net::HttpResponse MlflowErrorResponse(const core::Status& status);

// 200 with `body` as compact JSON. Strings that are not valid UTF-8 (only
// possible from a query string) are written with U+FFFD in place of bad
// bytes rather than failing.
net::HttpResponse MlflowJsonResponse(const Json& body);

// `value` as compact JSON that never throws (bad UTF-8 replaced).
std::string DumpJson(const Json& value, bool ensure_ascii = false);

}  // namespace mlforge::tracking::rest
