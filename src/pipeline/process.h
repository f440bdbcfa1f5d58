#pragma once

// Runs one command of a step as its own process group, with a timeout.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace mlforge::pipeline {

struct ProcessOptions {
  std::vector<std::string> argv;                     // argv[0] is the program (a path)
  std::vector<std::string> env;                      // the whole environment, "NAME=value"
  std::filesystem::path working_dir;                 // empty: this process's
  std::filesystem::path stdout_path;                 // created/truncated
  std::filesystem::path stderr_path;                 // created/truncated
  std::optional<std::chrono::milliseconds> timeout;  // none: no limit
  // After a timeout or stop: SIGTERM to the group, then SIGKILL after this.
  std::chrono::milliseconds kill_grace{2000};
  const std::atomic<bool>* stop_requested = nullptr;  // borrowed; may be null
};

struct ProcessResult {
  int exit_code = 0;       // the exit status, or 128 + signal when killed
  int signal = 0;          // the signal that ended it, else 0
  bool timed_out = false;  // killed because the timeout passed
  bool stopped = false;    // killed because stop_requested was set
};

// Starts the process in a new process group (stdin /dev/null, output to the
// two files) and waits for it. On timeout or stop the whole group is killed,
// so children of a shell die with it. Internal error when it cannot start.
// Thread-safe (posix_spawn; no fork of a multi-threaded process).
core::Result<ProcessResult> RunProcess(const ProcessOptions& options);

// This process's environment as "NAME=value" entries.
std::vector<std::string> CurrentEnvironment();

// `env` with NAME set to `value` (replaced or added).
void SetEnv(std::vector<std::string>& env, const std::string& name, const std::string& value);

}  // namespace mlforge::pipeline
