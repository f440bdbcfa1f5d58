#pragma once

// Worker processes of one host, shared by the local launcher (launcher.cc)
// and the elastic agent (elastic_agent.cc). Private to dist/.
// Call from one thread; children are reaped with waitpid.

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"
#include "dist/launch_env.h"

namespace mlforge::dist::internal {

struct Worker {
  pid_t pid = -1;
  bool running = false;
  int exit_code = 0;  // once ended: the exit status, or 128 + signal number
};

// Forks and execs `argv` (argv[0] a path) with exactly `env`. Internal when
// fork fails; a failed exec makes the child exit 127.
core::Result<pid_t> Spawn(const std::vector<std::string>& argv, const Environment& env);

// Reaps workers that ended; returns whether any still runs.
bool Reap(std::vector<Worker>& workers);

// SIGTERM to every running worker, SIGKILL to those left after `grace_ms`;
// returns when all have been reaped.
void StopAll(std::vector<Worker>& workers, int grace_ms);

// The process environment without the launch variables of an outer
// launcher (they would confuse the workers' detection), plus `extra` and
// the thread settings mlforge's workers read.
Environment WorkerBaseEnvironment(const std::map<std::string, std::string>& extra,
                                  int threads_per_worker);

}  // namespace mlforge::dist::internal
