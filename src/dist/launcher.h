#pragma once

// The local launcher and supervisor behind `mlforge train CONFIG --nproc N`:
// starts N worker processes of one command on this host, each with the
// mlforge launch environment (see launch_env.h) for its rank, watches them,
// and restarts the whole group when one fails.
//
//   LauncherOptions options{.argv = {"/usr/bin/mlforge", "train", "cfg.yaml"}, .nproc = 2,
//                           .max_restarts = 3};
//   MLFORGE_ASSIGN_OR_RETURN(LaunchOutcome outcome, LaunchAndSupervise(options));
//
// The rule: an attempt succeeds when every worker exits 0. When one exits
// non-zero or is killed by a signal, the others get SIGTERM, then SIGKILL
// after `stop_grace_ms`, and the group starts again with
// MLFORGE_DIST_RESTART_COUNT one higher and a fresh master port, up to
// `max_restarts` times. Workers are expected to continue from their latest
// checkpoint when the restart count is above 0 (mlforge train does).
//
// Not for multi-host jobs: use the elastic agent there (elastic_agent.h,
// `--nnodes MIN:MAX --rdzv-endpoint HOST:PORT`), or torchrun, MPI, Slurm or
// Kubernetes.
// Call from one thread at a time; it waits for children with waitpid.

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace mlforge::dist {

struct LauncherOptions {
  // The worker command; argv[0] is an executable path (not looked up on PATH).
  std::vector<std::string> argv;
  // Worker processes to start; at least 1.
  int nproc = 1;
  // Group restarts allowed after a failure; 0 means the first failure is final.
  int max_restarts = 0;
  // Intra-op threads per worker, passed as OMP_NUM_THREADS and
  // MLFORGE_DIST_THREADS; default 1.
  int threads_per_worker = 1;
  // Address the workers' store binds and connects to; default loopback.
  std::string master_addr = "127.0.0.1";
  // Extra environment for every worker (added to this process's).
  std::map<std::string, std::string> extra_env;
  // How long stopped workers get between SIGTERM and SIGKILL, in ms; default 10000.
  int stop_grace_ms = 10000;
  // When set (e.g. by a SIGTERM handler), the workers are stopped and no
  // restart follows. Borrowed; must outlive the call.
  const std::atomic<bool>* stop_requested = nullptr;
};

struct LaunchOutcome {
  int restarts = 0;  // group restarts that happened
  // How the last attempt ended: 0 when every worker exited 0, else the first
  // failed worker's exit code (128 + signal number when killed).
  int exit_code = 0;
  int failed_rank = -1;  // the first worker of the last attempt that failed, or -1
};

// Runs the group as described above. Returns the outcome even when the
// workers failed (exit_code says so); Internal when a worker cannot be
// started, InvalidArgument for bad options, Unavailable when no free port.
core::Result<LaunchOutcome> LaunchAndSupervise(const LauncherOptions& options);

// A TCP port on `address` that was free a moment ago (bind to port 0).
core::Result<int> PickFreePort(const std::string& address);

}  // namespace mlforge::dist
