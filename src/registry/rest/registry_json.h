#pragma once

// MLflow's REST JSON for the registry entities
// (mlflow/protos/model_registry.proto, rendered as MLflow's server renders
// protos: snake_case names, int64 timestamps as JSON numbers, a version
// number as a decimal string, the status enum by name, and unset optional
// strings and empty repeated fields left out).
//
// The FromJson functions read such JSON back (the client side:
// registry/rest/rest_registry_store.h), leniently as MLflow's ParseDict
// does: int64 fields and the version may be numbers or decimal strings,
// absent fields are defaults, unknown fields are ignored. InvalidArgument
// for a field of the wrong type or an unknown status name.
//
// Thread safety: free functions on plain values.

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "registry/entities.h"

namespace mlforge::registry::rest {

using Json = nlohmann::json;

// {"name", "version": "3", "creation_timestamp", "last_updated_timestamp",
//  "current_stage", "status": "READY", ... , "tags": [{"key","value"}],
//  "aliases": ["champion"]}
Json ModelVersionToJson(const ModelVersion& model_version);

// {"name", "creation_timestamp", "last_updated_timestamp", "description",
//  "latest_versions": [...], "tags": [...],
//  "aliases": [{"alias": "champion", "version": "3"}]}
Json RegisteredModelToJson(const RegisteredModel& model);

core::Result<ModelVersion> ModelVersionFromJson(const Json& json);
core::Result<RegisteredModel> RegisteredModelFromJson(const Json& json);

}  // namespace mlforge::registry::rest
