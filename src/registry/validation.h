#pragma once

// MLflow's input rules for the model registry (mlflow/utils/validation.py),
// shared by every RegistryStore implementation and the REST handler so all
// accept and reject exactly the same input. Each returns OK or
// InvalidArgument with a message in MLflow's words; none touches a store.

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace mlforge::registry {

inline constexpr int kMaxRegistryTagKeyLength = 250;
inline constexpr int kMaxRegistryTagValueLength = 5000;
inline constexpr int kMaxAliasLength = 255;

// SearchRegisteredModels: the page size when none is given, and the largest.
inline constexpr int kSearchRegisteredModelsDefault = 100;
inline constexpr int kSearchRegisteredModelsThreshold = 1000;
// SearchModelVersions: the REST default (the proto's) and the largest.
inline constexpr int kSearchModelVersionsDefault = 200000;
inline constexpr int kSearchModelVersionsThreshold = 200000;

// Not empty. `field` names the parameter in the message ("name",
// "new_name").
core::Status ValidateModelName(std::string_view name, std::string_view field = "name");

// A version number as MLflow accepts it (Python's int(): optional sign,
// digits, surrounding blanks). InvalidArgument "Parameter 'version' must be
// an integer, got '...'." otherwise.
core::Result<int64_t> ParseModelVersionNumber(std::string_view text);

// A tag key (the run-tag key rules: letters, digits, _ - . space : /, no
// path tricks, at most kMaxRegistryTagKeyLength) and a value of at most
// kMaxRegistryTagValueLength characters.
core::Status ValidateRegistryTag(std::string_view key, std::string_view value);
core::Status ValidateRegistryTagKey(std::string_view key);

// An alias: letters, digits, '_' and '-', 1..kMaxAliasLength characters,
// not "latest" (any case) and not a version alias like "v3".
core::Status ValidateAliasName(std::string_view alias);

}  // namespace mlforge::registry

namespace mlforge::registry {

// MLflow server's guard on model version sources (handlers.py
// _validate_non_local_source_contains_relative_paths): after undoing every
// layer of %-escaping, the path part of `source` may hold no "." or ".."
// segment and no NUL byte, so a source cannot reach outside its artifact
// root. InvalidArgument in MLflow's words otherwise.
core::Status ValidateModelVersionSource(std::string_view source);

}  // namespace mlforge::registry
