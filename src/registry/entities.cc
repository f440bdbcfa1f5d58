#include "registry/entities.h"

#include <cctype>

namespace mlforge::registry {

namespace {

bool EqualsIgnoreCase(std::string_view left, std::string_view right) {
  if (left.size() != right.size()) return false;
  for (size_t index = 0; index < left.size(); ++index) {
    if (std::tolower(static_cast<unsigned char>(left[index])) !=
        std::tolower(static_cast<unsigned char>(right[index]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

core::Result<std::string> CanonicalStage(std::string_view stage) {
  for (std::string_view known : kAllStages) {
    if (EqualsIgnoreCase(stage, known)) return std::string(known);
  }
  return core::InvalidArgumentError("Invalid Model Version stage: " + std::string(stage) +
                                    ". Value must be one of None, Staging, Production, Archived.");
}

bool IsActiveStage(std::string_view canonical_stage) {
  return canonical_stage == kStageStaging || canonical_stage == kStageProduction;
}

std::string_view ModelVersionStatusName(ModelVersionStatus status) {
  switch (status) {
    case ModelVersionStatus::kPendingRegistration:
      return "PENDING_REGISTRATION";
    case ModelVersionStatus::kFailedRegistration:
      return "FAILED_REGISTRATION";
    case ModelVersionStatus::kReady:
      return "READY";
  }
  return "READY";
}

core::Result<ModelVersionStatus> ParseModelVersionStatus(std::string_view name) {
  for (ModelVersionStatus status :
       {ModelVersionStatus::kPendingRegistration, ModelVersionStatus::kFailedRegistration,
        ModelVersionStatus::kReady}) {
    if (name == ModelVersionStatusName(status)) return status;
  }
  return core::InvalidArgumentError("Unknown model version status '" + std::string(name) +
                                    "'; expected PENDING_REGISTRATION, FAILED_REGISTRATION or "
                                    "READY");
}

}  // namespace mlforge::registry
