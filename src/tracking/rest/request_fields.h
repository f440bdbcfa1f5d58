#pragma once

// The fields of one MLflow REST request, read the way MLflow's server reads
// them (mlflow/server/handlers.py _get_request_message and its schemas):
//
//   POST: the body must be sent as `Content-Type: application/json` (any
//         parameters such as "; charset=utf-8" allowed), else 400
//         INVALID_PARAMETER_VALUE "Bad Request. Content-Type must be one of
//         [application/json]. Got '...'." An empty body is `{}`; a body that
//         is a JSON string holding JSON is decoded twice (old clients).
//   GET:  the query string; the proto's repeated fields (experiment_ids,
//         order_by, run_ids) collect every value, others take the first.
//
// Unknown fields are ignored and JSON null means "absent", as with
// ParseDict(ignore_unknown_fields=True). Values are checked against the
// proto field's type as ParseDict checks them: strings for string fields
// (experiment_id also takes an integer, MLflow's _stringify_all_experiment_ids),
// integers or decimal strings for int fields (a float with no fraction too;
// never a bool), numbers or "NaN"/"Infinity"/"-Infinity"/numeric strings for
// doubles. Errors are InvalidArgument in MLflow's words:
//
//   Missing value for required parameter 'key'. See the API docs for more
//   information about request parameters.
//   Invalid value 5 for parameter 'key' supplied:  Hint: Value was of type
//   'int'. See the API docs for more information about request parameters.
//
// One deliberate difference: MLflow reads a body that is not JSON as `{}`
// (flask's get_json(silent=True)) and then usually complains about a missing
// field; here it is INVALID_PARAMETER_VALUE "Malformed JSON request body"
// at once, so garbage can never run a search with default arguments.
//
// A plain value; not synchronised.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "net/http.h"
#include "tracking/rest/mlflow_json.h"

namespace mlforge::tracking::rest {

class RequestFields {
 public:
  // The deepest nesting of arrays and objects a body may have. MLflow's
  // requests need 4; the bound keeps hostile bodies from exhausting the
  // stack.
  static constexpr int kMaxJsonDepth = 64;

  // Reads a POST body (see the file comment). `content_type` is the
  // request's Content-Type header, nullopt when it sent none.
  static core::Result<RequestFields> FromJsonBody(std::optional<std::string> content_type,
                                                  std::string_view body);
  // FromJsonBody's check of the Content-Type alone: OK for application/json
  // (with any parameters), else its INVALID_PARAMETER_VALUE error.
  static core::Status CheckJsonContentType(const std::optional<std::string>& content_type);
  // Reads a GET query string.
  static RequestFields FromQuery(const net::QueryParams& query);
  // Fields of a nested object; `path` prefixes field names in messages
  // ("metrics[3]" gives "metrics[3].key").
  RequestFields(Json object, std::string path);

  // Present and not null.
  bool Has(std::string_view name) const;

  core::Result<std::optional<std::string>> OptionalString(std::string_view name) const;
  // Absent, null and "" are all missing (MLflow's _assert_required).
  core::Result<std::string> RequiredString(std::string_view name) const;
  core::Result<std::optional<int64_t>> OptionalInt64(std::string_view name) const;
  core::Result<int64_t> RequiredInt64(std::string_view name) const;
  core::Result<std::optional<double>> OptionalDouble(std::string_view name) const;
  core::Result<double> RequiredDouble(std::string_view name) const;
  // A repeated string field; empty when absent.
  core::Result<std::vector<std::string>> StringList(std::string_view name) const;
  // A repeated message field: each element must be an object. Empty when
  // absent.
  core::Result<std::vector<RequestFields>> ObjectList(std::string_view name) const;
  // A bool field: JSON true/false, or "true"/"false" in any case (a query
  // string). Nullopt when absent.
  core::Result<std::optional<bool>> OptionalBool(std::string_view name) const;
  // A message field; nullopt when absent.
  core::Result<std::optional<RequestFields>> OptionalObject(std::string_view name) const;

  // Sets a string field, replacing any value the request sent (a route's
  // path parameters, which win over the body as in MLflow's handlers).
  void Set(std::string_view name, std::string value);

  // The run a request names: `run_id`, else the legacy `run_uuid` (MLflow's
  // handlers accept either). Missing when neither is given.
  core::Result<std::string> RunId() const;

  // "Missing value for required parameter '<path>'. See the API docs ..."
  core::Status MissingValue(std::string_view name) const;
  // "Invalid value <json> for parameter '<path>' supplied: ..." with `hint`
  // (default: the Python type of the value, as MLflow words it).
  core::Status InvalidValue(std::string_view name, const Json& value,
                            std::string_view hint = "") const;

 private:
  // A view of `object`, a node inside the tree `owner` holds (nested
  // messages share their request's parsed body instead of copying it).
  RequestFields(std::shared_ptr<Json> owner, const Json* object, std::string path);

  // The value of `name`, or nullptr when absent or null.
  const Json* Find(std::string_view name) const;
  // "<path>.<name>", or `name` at the top level.
  std::string PathOf(std::string_view name) const;

  std::shared_ptr<Json> owner_;  // the whole parsed body
  const Json* object_;           // a JSON object inside *owner_
  std::string path_;
};

}  // namespace mlforge::tracking::rest
