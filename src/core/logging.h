#pragma once

// Logging goes through spdlog to stderr; this sets the format and level once
// per process. Library code logs with spdlog::info/warn/error directly.

#include <spdlog/spdlog.h>

namespace mlforge::core {

// verbosity: 0 = warnings and errors, 1 = info (default), 2 = debug.
// A prefix such as "[rank 1]" is shown on every line when given.
void SetupLogging(int verbosity = 1, const std::string& prefix = "");

}  // namespace mlforge::core
