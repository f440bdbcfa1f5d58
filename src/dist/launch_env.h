#pragma once

// Which process of which distributed job this one is, read from the
// environment that a launcher left behind.
//
//   MLFORGE_ASSIGN_OR_RETURN(LaunchEnv env, DetectLaunchEnv(ProcessEnvironment()));
//   if (env.world_size > 1) { ... join the group at env.master_addr:env.master_port ... }
//
// Launchers are recognised in this order; the first whose marker variable is
// set decides rank and sizes, and no other scheme is consulted for them:
//
//  1. mlforge's own launcher (`mlforge train --nproc N`) and elastic agent
//     (`--nnodes MIN:MAX`, elastic_agent.h): MLFORGE_DIST_RANK,
//     MLFORGE_DIST_WORLD_SIZE, MLFORGE_DIST_LOCAL_RANK,
//     MLFORGE_DIST_LOCAL_WORLD_SIZE, MLFORGE_DIST_MASTER_ADDR,
//     MLFORGE_DIST_MASTER_PORT, MLFORGE_DIST_RESTART_COUNT, MLFORGE_DIST_THREADS.
//  2. torchrun and Kubeflow PyTorchJob: RANK (marker), WORLD_SIZE,
//     LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, TORCHELASTIC_RESTART_COUNT.
//     A PyTorchJob with an elastic policy that starts the binary without
//     torchrun sets PET_NODE_RANK (marker) and PET_NNODES (a count or
//     "MIN:MAX", whose MAX is used); PET_NPROC_PER_NODE must then be 1.
//  3. Kubernetes Indexed Job: JOB_COMPLETION_INDEX (marker) is the rank;
//     WORLD_SIZE is required; without MASTER_ADDR the master is rank 0's pod,
//     "<job>-0.<service>", where <job> is the pod's hostname without its
//     "-<index>" suffix and <service> the headless Service named by
//     MLFORGE_DIST_SERVICE (required then).
//  4. OpenMPI (mpirun): OMPI_COMM_WORLD_RANK (marker), OMPI_COMM_WORLD_SIZE,
//     OMPI_COMM_WORLD_LOCAL_RANK, OMPI_COMM_WORLD_LOCAL_SIZE. Without
//     MASTER_ADDR the master is 127.0.0.1 when every rank is local, otherwise
//     it is an error (pass it with `mpirun -x MASTER_ADDR=host`).
//  5. Slurm (srun): SLURM_PROCID (marker), SLURM_NTASKS, SLURM_LOCALID,
//     SLURM_NTASKS_PER_NODE or the first count of SLURM_TASKS_PER_NODE
//     ("2(x3),1"), SLURM_RESTART_COUNT; without MASTER_ADDR the master is the
//     first host of SLURM_JOB_NODELIST (else SLURM_NODELIST), e.g. "node01"
//     of "node[01-03,07]".
//  6. None of them: a single process, rank 0 of 1.
//
// In schemes 2-5 MASTER_ADDR and MASTER_PORT (or PET_MASTER_ADDR and
// PET_MASTER_PORT) override the derived master; the port defaults to 29500.
// Pure functions of their inputs; thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace mlforge::dist {

using Environment = std::map<std::string, std::string>;

// The launchers of the list above.
enum class Launcher { kNone, kMlforge, kTorchrun, kPetElastic, kIndexedJob, kOpenMpi, kSlurm };

// "none", "mlforge", "torchrun", "pytorchjob-elastic", "indexed-job", "openmpi", "slurm".
const char* LauncherName(Launcher launcher);

constexpr uint16_t kDefaultMasterPort = 29500;

struct LaunchEnv {
  Launcher launcher = Launcher::kNone;
  int rank = 0;              // global rank, 0 <= rank < world_size
  int world_size = 1;        // processes in the job
  int local_rank = 0;        // rank among the processes of this host
  int local_world_size = 1;  // processes on this host
  int group_rank = 0;        // index of this host (torchrun's GROUP_RANK)
  int restart_count = 0;     // how often the launcher restarted the group
  // Threads per worker that mlforge's launcher asked for (MLFORGE_DIST_THREADS);
  // 0 when not started by it.
  int threads_per_worker = 0;
  std::string master_addr = "127.0.0.1";  // host of rank 0's store
  uint16_t master_port = kDefaultMasterPort;
  // Where master_addr came from, e.g. "MASTER_ADDR" or "SLURM_JOB_NODELIST".
  std::string master_source = "default";

  bool distributed() const { return world_size > 1; }
};

// The environment of this process (environ), as a map.
Environment ProcessEnvironment();

// The hostname of this machine (gethostname), "" when unknown.
std::string Hostname();

// Detects the launch environment from `env`; `hostname` is this pod's name
// (used for Indexed Jobs only). InvalidArgument names the variable that is
// malformed or missing, and the inconsistency (e.g. RANK >= WORLD_SIZE).
core::Result<LaunchEnv> DetectLaunchEnv(const Environment& env, const std::string& hostname = "");

// Expands a Slurm host list: "node[01-03,07],login" ->
// {node01, node02, node03, node07, login}. Several bracket groups in one name
// expand as a product ("r[1-2]n[1-2]" -> r1n1 r1n2 r2n1 r2n2); zero padding
// follows the width of the lower bound. InvalidArgument for unbalanced
// brackets, a descending range or a non-numeric bound.
core::Result<std::vector<std::string>> ExpandHostList(const std::string& host_list);

// The first host of a Slurm host list without expanding the rest.
core::Result<std::string> FirstHost(const std::string& host_list);

// A human-readable multi-line description, as `mlforge train --print-env` prints.
std::string Describe(const LaunchEnv& env);

}  // namespace mlforge::dist
