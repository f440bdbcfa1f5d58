#pragma once

// Random identifiers, as MLflow makes them: 32 lower-case hex characters
// (a version-4 UUID without dashes), used for run ids and model uuids.

#include <string>

namespace mlforge::core {

// Thread-safe; seeded from the operating system's entropy once per thread.
std::string NewId();

// The current UTC time as "2026-11-23 10:15:32.123456", MLflow's
// utc_time_created format.
std::string UtcTimestamp();

// The user running this process: $USER, else the password database's
// name for the uid, else "unknown". MLflow records it as mlflow.user.
std::string CurrentUser();

// Milliseconds since the Unix epoch, the unit of MLflow's timestamps.
long long NowMillis();

}  // namespace mlforge::core
