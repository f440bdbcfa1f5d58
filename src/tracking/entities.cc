#include "tracking/entities.h"

#include <cctype>
#include <cmath>
#include <string>

namespace mlforge::tracking {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t index = 0; index < a.size(); ++index) {
    if (std::toupper(static_cast<unsigned char>(a[index])) !=
        std::toupper(static_cast<unsigned char>(b[index]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view ViewTypeName(ViewType view_type) {
  switch (view_type) {
    case ViewType::kActiveOnly:
      return "ACTIVE_ONLY";
    case ViewType::kDeletedOnly:
      return "DELETED_ONLY";
    case ViewType::kAll:
      return "ALL";
  }
  return "ACTIVE_ONLY";
}

core::Result<ViewType> ParseViewType(std::string_view name) {
  for (ViewType view_type : {ViewType::kActiveOnly, ViewType::kDeletedOnly, ViewType::kAll}) {
    if (EqualsIgnoreCase(name, ViewTypeName(view_type))) return view_type;
  }
  return core::InvalidArgumentError("Invalid view type '" + std::string(name) +
                                    "'. Valid values are ACTIVE_ONLY, DELETED_ONLY, ALL.");
}

std::string_view RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kScheduled:
      return "SCHEDULED";
    case RunStatus::kFinished:
      return "FINISHED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kKilled:
      return "KILLED";
  }
  return "RUNNING";
}

core::Result<RunStatus> ParseRunStatus(std::string_view name) {
  for (RunStatus status : {RunStatus::kRunning, RunStatus::kScheduled, RunStatus::kFinished,
                           RunStatus::kFailed, RunStatus::kKilled}) {
    if (name == RunStatusName(status)) return status;
  }
  return core::InvalidArgumentError("Invalid run status '" + std::string(name) +
                                    "'. Valid values are RUNNING, SCHEDULED, FINISHED, FAILED, "
                                    "KILLED.");
}

std::string_view LoggedModelStatusName(LoggedModelStatus status) {
  switch (status) {
    case LoggedModelStatus::kPending:
      return "LOGGED_MODEL_PENDING";
    case LoggedModelStatus::kReady:
      return "LOGGED_MODEL_READY";
    case LoggedModelStatus::kUploadFailed:
      return "LOGGED_MODEL_UPLOAD_FAILED";
  }
  return "LOGGED_MODEL_PENDING";
}

core::Result<LoggedModelStatus> ParseLoggedModelStatus(std::string_view name) {
  for (LoggedModelStatus status :
       {LoggedModelStatus::kPending, LoggedModelStatus::kReady, LoggedModelStatus::kUploadFailed}) {
    if (name == LoggedModelStatusName(status)) return status;
  }
  return core::InvalidArgumentError("Invalid logged model status '" + std::string(name) +
                                    "'. Valid values are LOGGED_MODEL_PENDING, "
                                    "LOGGED_MODEL_READY, LOGGED_MODEL_UPLOAD_FAILED.");
}

bool SameMetric(const Metric& a, const Metric& b) {
  bool same_value = (std::isnan(a.value) && std::isnan(b.value)) || a.value == b.value;
  return a.key == b.key && same_value && a.timestamp == b.timestamp && a.step == b.step;
}

}  // namespace mlforge::tracking
