#pragma once

// The model registry entities, field for field as MLflow's protos define them
// (mlflow/protos/model_registry.proto): registered models with their tags and
// aliases, and their numbered versions with tags, a stage and a status.
//
// Plain values: copyable, comparable, no behaviour beyond name conversions.
// Times are milliseconds since the Unix epoch, as in MLflow. A version number
// is an int64 here and a decimal string on the wire ("3").
//
// Optional proto strings (description, run_id, ...) are plain strings here:
// empty means "not set", which is also what MLflow's clients read back from
// an absent field.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mlforge::registry {

// The stages of a model version, as MLflow spells them
// (mlflow/entities/model_registry/model_version_stages.py).
inline constexpr std::string_view kStageNone = "None";
inline constexpr std::string_view kStageStaging = "Staging";
inline constexpr std::string_view kStageProduction = "Production";
inline constexpr std::string_view kStageArchived = "Archived";
// The stage of a deleted version: it keeps its number (numbers are never
// reused) but no call shows it.
inline constexpr std::string_view kStageDeletedInternal = "Deleted_Internal";

// Every stage a caller may name, in MLflow's order (ALL_STAGES).
inline constexpr std::string_view kAllStages[] = {kStageNone, kStageStaging, kStageProduction,
                                                  kStageArchived};

// The stage spelled as MLflow spells it, matching case-insensitively
// ("production" -> "Production"). InvalidArgument for anything else, in
// MLflow's words.
core::Result<std::string> CanonicalStage(std::string_view stage);

// Staging and Production: the stages archive_existing_versions applies to.
bool IsActiveStage(std::string_view canonical_stage);

// Numbers as in MLflow's ModelVersionStatus proto enum.
enum class ModelVersionStatus { kPendingRegistration = 1, kFailedRegistration = 2, kReady = 3 };

// "PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY".
std::string_view ModelVersionStatusName(ModelVersionStatus status);
// The inverse of ModelVersionStatusName (exact). InvalidArgument otherwise.
core::Result<ModelVersionStatus> ParseModelVersionStatus(std::string_view name);

// The tag whose value "true" marks a registered model as an MLflow prompt.
inline constexpr std::string_view kIsPromptTag = "mlflow.prompt.is_prompt";

struct RegisteredModelTag {
  std::string key;
  std::string value;
  bool operator==(const RegisteredModelTag&) const = default;
};

struct ModelVersionTag {
  std::string key;
  std::string value;
  bool operator==(const ModelVersionTag&) const = default;
};

// An alias of a registered model and the version it points to.
struct RegisteredModelAlias {
  std::string alias;
  int64_t version = 0;
  bool operator==(const RegisteredModelAlias&) const = default;
};

struct ModelVersion {
  std::string name;  // of the registered model
  int64_t version = 0;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  std::string current_stage = std::string(kStageNone);
  std::string description;
  std::string source;
  std::string run_id;
  std::string run_link;
  ModelVersionStatus status = ModelVersionStatus::kReady;
  std::string status_message;
  // MLflow 3: the logged model (tracking::LoggedModel) this version was
  // registered from; empty for versions made from a plain artifact URI.
  std::string model_id;
  std::vector<ModelVersionTag> tags;  // sorted by key
  std::vector<std::string> aliases;   // the model's aliases pointing here, sorted
  bool operator==(const ModelVersion&) const = default;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string description;
  // The highest-numbered version in each stage that has one, in the order
  // of kAllStages.
  std::vector<ModelVersion> latest_versions;
  std::vector<RegisteredModelTag> tags;       // sorted by key
  std::vector<RegisteredModelAlias> aliases;  // sorted by alias
  bool operator==(const RegisteredModel&) const = default;
};

}  // namespace mlforge::registry
