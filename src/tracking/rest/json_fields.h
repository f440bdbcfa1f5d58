#pragma once

// Readers for fields of MLflow's response JSON, lenient the way MLflow's
// ParseDict is: an absent or null field leaves the output as it was, int64
// fields may be numbers or decimal strings (protobuf's JSON mapping), and
// unknown fields are ignored. InvalidArgument, naming the field, for a value
// of the wrong type. Shared by the REST client stores of tracking
// (tracking/rest/mlflow_json.h) and the registry (registry/rest/).
//
// Thread safety: free functions on values.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tracking/rest/mlflow_json.h"

namespace mlforge::tracking::rest {

// InvalidArgument "Field '<field>' must be <expected>, got <value>".
core::Status WrongType(std::string_view field, std::string_view expected, const Json& value);

// A string field into `out`.
core::Status ReadString(const Json& json, std::string_view field, std::string& out);

// An int64 field (number or decimal string); nullopt when absent.
core::Result<std::optional<int64_t>> ReadInt64(const Json& json, std::string_view field);
// The same into `out`, left alone when absent.
core::Status ReadInt64Into(const Json& json, std::string_view field, int64_t& out);

// The elements of list `field` (absent or null: an empty list). The pointer
// is into `json` or to a static empty list.
core::Result<const Json*> ReadList(const Json& json, std::string_view field);

// InvalidArgument "Expected <what> to be a JSON object, got ..." unless
// `json` is an object.
core::Status RequireObject(const Json& json, std::string_view what);

// A list of {"key","value"} objects (tags, params) as T{key, value}.
template <typename T>
core::Result<std::vector<T>> KeyValueList(const Json& json, std::string_view field) {
  MLFORGE_ASSIGN_OR_RETURN(const Json* list, ReadList(json, field));
  std::vector<T> out;
  out.reserve(list->size());
  for (const Json& entry : *list) {
    if (!entry.is_object()) return WrongType(field, "a list of objects", entry);
    T item;
    MLFORGE_RETURN_IF_ERROR(ReadString(entry, "key", item.key));
    MLFORGE_RETURN_IF_ERROR(ReadString(entry, "value", item.value));
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace mlforge::tracking::rest
