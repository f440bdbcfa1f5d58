#pragma once

// MLflow's REST JSON for the registry entities
// (mlflow/protos/model_registry.proto, rendered as MLflow's server renders
// protos: snake_case names, int64 timestamps as JSON numbers, a version
// number as a decimal string, the status enum by name, and unset optional
// strings and empty repeated fields left out).
//
// Thread safety: free functions on plain values.

#include <nlohmann/json.hpp>

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

}  // namespace mlforge::registry::rest
