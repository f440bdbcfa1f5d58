#pragma once

// The elastic agent behind
//   mlforge train CONFIG --nnodes MIN:MAX --nproc-per-node N --rdzv-endpoint HOST:PORT
// one per host, in the manner of torchrun: the agents meet at a c10d
// TCPStore, agree on the group of a round, start their workers for it and
// watch them; when a worker or a host is lost, or a node waits to join, the
// agents stop their workers and meet again, and the next round continues
// the run from its latest checkpoint with whatever nodes are there.
//
//   ElasticOptions options{.argv = {"/usr/bin/mlforge", "train", "cfg.yaml"}, .min_nodes = 2,
//                          .max_nodes = 3, .endpoint_host = "10.0.0.1", .endpoint_port = 29400};
//   MLFORGE_ASSIGN_OR_RETURN(ElasticOutcome outcome, RunElasticAgent(options));
//
// The store. The agent that can bind HOST:PORT hosts the store: each agent
// first tries to listen there and, when the address is not its own or the
// port is taken (another agent got it first), connects as a client. Its
// keys live under "mlforge-rdzv/<rdzv_id>/". The hosting agent must live as
// long as the job: when it dies the others lose the store and fail.
//
// A round R (0, 1, ...), with keys under "<R>/":
//  1. Join: an agent takes the next arrival index of the round (an atomic
//     add) and publishes its name, address and worker count. Indices are
//     node ranks.
//  2. Close: once MIN nodes joined, the agents wait `last_call_ms` more
//     for others (or until MAX joined); then the first agent to claim the
//     close writes the round's size, min(joined, MAX). An agent whose index
//     is >= size waits for the next round (see 4). When fewer than MIN join
//     within `join_timeout_ms`, every waiting agent fails, naming the
//     nodes that joined and, from the previous round, the ones missing.
//  3. Run: node 0 picks a free port on its address for the workers' own
//     store (so workers of an older round cannot join this one) and
//     publishes it; every node starts its workers with world size = the
//     sum of the members' worker counts, ranks by node rank, and
//     MLFORGE_DIST_RESTART_COUNT = R (above 0, workers resume the run from
//     its latest checkpoint). Each agent beats a counter in the store.
//  4. End of a round: the first agent that sees one of these ends the
//     round for all (one key, first writer wins) and says why:
//      - one of its workers exited non-zero or was killed;
//      - a member's heartbeat did not change for `heartbeat_timeout_ms`
//        (its host died or the link was cut);
//      - a node waits (joined the round after it closed) while the round
//        has fewer than MAX nodes: it is admitted by the next round.
//     Every member stops its workers (SIGTERM, SIGKILL after
//     `stop_grace_ms`) and joins round R + 1. Rounds ended by a failure
//     count against `max_restarts`; admissions do not (as in torchrun).
//  5. Success: when every member's workers exited 0, each agent returns.
//
// Call from one thread; it waits for children with waitpid.

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace mlforge::dist {

struct ElasticOptions {
  // The worker command; argv[0] is an executable path (not looked up on PATH).
  std::vector<std::string> argv;
  // Nodes a round needs (min_nodes >= 1) and admits (max_nodes >= min_nodes).
  int min_nodes = 1;
  int max_nodes = 1;
  // Worker processes this agent starts each round; at least 1.
  int nproc_per_node = 1;
  // The rendezvous store's address and port (--rdzv-endpoint HOST:PORT).
  std::string endpoint_host = "127.0.0.1";
  int endpoint_port = 29400;
  // Names the job in the store, so jobs can share an endpoint; default "default".
  std::string rdzv_id = "default";
  // Rounds ended by a failure that may still be followed by another; 0
  // means the first failure is final.
  int max_restarts = 0;
  // Intra-op threads per worker (OMP_NUM_THREADS, MLFORGE_DIST_THREADS); default 1.
  int threads_per_worker = 1;
  // Extra environment for every worker (added to this process's).
  std::map<std::string, std::string> extra_env;
  // How long a round stays open for more nodes once MIN joined, in ms;
  // default 3000.
  int last_call_ms = 3000;
  // How long a round waits for MIN nodes before the agent fails, in ms;
  // default 300000 (5 minutes). Connecting to the store is retried as long.
  int join_timeout_ms = 300'000;
  // A member whose heartbeat stays unchanged this long is taken as lost, in
  // ms; default 15000. Agents beat every 100 ms. Also the longest a store
  // call may take (at least 10 s) before this agent counts the store as lost.
  int heartbeat_timeout_ms = 15'000;
  // How long stopped workers get between SIGTERM and SIGKILL, in ms; default 10000.
  int stop_grace_ms = 10'000;
  // This node's name in messages and in the store; default "<hostname>:<pid>".
  std::string node_name;
  // When set (e.g. by a SIGTERM handler), the workers are stopped, the
  // round is ended for the others, and the agent returns. Borrowed; must
  // outlive the call.
  const std::atomic<bool>* stop_requested = nullptr;
};

struct ElasticOutcome {
  int rounds = 0;      // rounds this agent ran workers in
  int restarts = 0;    // rounds ended by a failure
  int world_size = 0;  // workers of the last round this agent ran
  // 0 when the job finished (every worker of the last round exited 0), else
  // the exit code of the failed worker that ended the job (128 + signal), or
  // 1 when the job ended for another reason (see `message`).
  int exit_code = 0;
  std::string message;  // why the last round ended, when it failed
};

// Runs this node's agent as described above. Returns the outcome when the
// job ran (exit_code says whether it succeeded); InvalidArgument for bad
// options, Unavailable when the store cannot be reached or lost,
// DeadlineExceeded when a round did not get MIN nodes in time (the message
// names the nodes that joined and those missing), Internal when a worker
// cannot be started.
core::Result<ElasticOutcome> RunElasticAgent(const ElasticOptions& options);

// Parses --nnodes: "N" or "MIN:MAX" with 1 <= MIN <= MAX. InvalidArgument otherwise.
core::Result<std::pair<int, int>> ParseNodeRange(const std::string& text);

// Parses --rdzv-endpoint "HOST:PORT" (IPv6 as "[::1]:PORT"). InvalidArgument otherwise.
core::Result<std::pair<std::string, int>> ParseEndpoint(const std::string& text);

}  // namespace mlforge::dist
