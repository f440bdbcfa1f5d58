#pragma once

// Parameter-server training (dist.strategy: ps), the pattern of
// TensorFlow-on-Spark and DistBelief: one server holds the weights and the
// optimizer and applies updates; every worker computes gradients on its own
// mini-batches, pushes them after each step and pulls fresh weights every
// `sync_every` steps.
//
//   // rank 0 only: the server, over its own copy of the weights
//   MLFORGE_ASSIGN_OR_RETURN(auto server, ParameterServer::Start(*group, master, options, apply));
//   // every rank, rank 0 included:
//   MLFORGE_ASSIGN_OR_RETURN(auto client, ParameterClient::Connect(*group, parameters));
//   for (each step t) {
//     if (t % sync_every == 0) MLFORGE_RETURN_IF_ERROR(client->Pull(t));
//     loss.backward();
//     MLFORGE_RETURN_IF_ERROR(client->Push(t));   // the .grad of the parameters
//   }
//   MLFORGE_RETURN_IF_ERROR(client->Synchronize(t));  // all ranks: same weights
//   if (server) { server->AwaitHold(); ...checkpoint...; server->Release(); }
//   client->Close();  if (server) server->Finish();
//
// Where the server lives. The server is a thread inside rank 0, beside rank
// 0's own worker, not a process of its own: the launchers (mlforge --nproc,
// torchrun, PyTorchJob, MPI, Slurm) and their environment need no change, and
// with --nproc 2 both processes still compute gradients (a dedicated server
// rank would leave one worker). Applying an update costs an optimizer step,
// small beside a forward and backward pass, so the worker that shares rank
// 0 with the server is only a little slower than the others.
//
// Transport. Our own, over TCP: the server listens on an ephemeral port of
// the address the Gloo device uses and publishes "host:port" in the group's
// store; each rank (rank 0's worker too, over loopback) connects and says
// hello. One thread polls every worker's socket, so it serves whichever
// worker speaks (Gloo's point-to-point receive would need a receive from
// any source and per-rank timeouts on top), and a worker that dies is seen
// at once as a closed connection naming its rank. The Gloo group is left to
// the trainer's own collectives (evaluation metrics), so the two never
// interleave. Messages are a 40-byte header (kind, step, version, bytes) and
// the float32 parameters or gradients end to end.
//
// Modes (dist.ps_mode):
//   sync   The server waits for every worker's gradient of step t, averages
//          them in rank order and applies one update per step. A pull at step
//          t waits until steps 0..t-1 are applied. With sync_every 1 this is
//          ddp computed another way (same weights); with k > 1 a worker
//          computes up to k-1 steps on weights it pulled earlier.
//   async  The server applies each gradient as it arrives, divided by the
//          number of workers (so a round of pushes moves the weights as far
//          as one ddp step), with the learning rate of the step it was
//          computed at. A pull returns the current weights at once. Staleness
//          is bounded in the manner of stale synchronous parallel: a worker
//          may start step t only when every worker has pushed its steps
//          before t - max_staleness; a push is acknowledged when that holds
//          for the next step. max_staleness 0 keeps workers in lockstep.
// Either way Synchronize(t) is a barrier: it returns, on every rank, the
// weights after every worker's steps before t, and then holds the server
// (nothing more is applied) until rank 0 calls Release(), so rank 0 can write
// a checkpoint of the server's weights and optimizer state that matches
// step t exactly. Checkpoints and epoch ends use it.
//
// Failures. A worker whose connection closes before it said goodbye fails
// the server with Unavailable naming the rank; when the server waits for a
// rank (a step to complete, a barrier, a push to acknowledge) and hears
// nothing from anyone for the group's timeout, it fails with
// DeadlineExceeded naming the ranks it waits for. A failed server sends its
// error to every worker, so each rank's training fails with the same message
// and the launcher restarts the group. A worker waits at most twice the
// timeout for any one answer of the server (the server's own diagnosis comes
// first) and names rank 0 when the server's connection closes.
//
// Threads: ParameterServer runs one thread, which calls `apply` and reads
// the master parameters; nobody else may touch them except between
// AwaitHold() and Release(). ParameterClient is driven by one thread. Both
// borrow the group for Start/Connect only.

#include <torch/torch.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "dist/process_group.h"
#include "dist/strategy.h"

namespace mlforge::dist {

struct ParameterServerOptions {
  PsMode mode = PsMode::kSync;
  int64_t max_staleness = 4;  // async only
  // Every worker's first step: 0, or a resumed run's global step.
  int64_t start_step = 0;
  // Longest wait for the workers to connect and for a rank the server
  // waits on; 0 means the group's timeout.
  int64_t timeout_ms = 0;
};

// Applies one update to the master parameters. `gradient` is flat (the
// parameters' gradients end to end, in order): the mean over the workers
// (sync), or one worker's gradient divided by the world size (async).
// `step` is the worker step it was computed at (for the learning rate).
// Called on the server's thread.
using ApplyUpdate = std::function<core::Status(const torch::Tensor& gradient, int64_t step)>;

struct ParameterServerStats {
  int64_t updates = 0;  // calls of apply
  // The most updates applied between a worker's pull and the application of
  // a gradient it computed on those weights.
  int64_t max_staleness_seen = 0;
  // Async: the furthest a worker was let run ahead of the slowest, in steps
  // (never more than max_staleness).
  int64_t max_lead = 0;
};

class ParameterServer {
 public:
  // Listens, publishes the address in the group's store and starts serving
  // the group's world_size workers. `parameters` are the master weights
  // (float32, borrowed: they must outlive the server, and `apply` changes
  // them in place).
  static core::Result<std::unique_ptr<ParameterServer>> Start(ProcessGroup& group,
                                                              std::vector<torch::Tensor> parameters,
                                                              const ParameterServerOptions& options,
                                                              ApplyUpdate apply);
  // Stops the thread (without waiting for goodbyes).
  ~ParameterServer();
  ParameterServer(const ParameterServer&) = delete;
  ParameterServer& operator=(const ParameterServer&) = delete;

  // After a Synchronize returned on this rank: waits until the server holds
  // (it does before it answers a barrier), so the caller may read the master
  // parameters and the optimizer. The server's error if it failed instead.
  core::Status AwaitHold();
  // Lets a held server go on.
  void Release();
  // Waits until every worker has said goodbye (at most the timeout) and
  // stops the thread. The server's error if it failed.
  core::Status Finish();

  ParameterServerStats stats() const;

 private:
  ParameterServer(int world_size, std::vector<torch::Tensor> parameters,
                  const ParameterServerOptions& options, ApplyUpdate apply, int listen_fd);
  void Run();
  core::Status AcceptWorkers();
  core::Status Serve();
  core::Status Handle(int rank);
  core::Status ApplyReadySteps();
  core::Status Answer();
  core::Status SendWeights(int rank, int64_t step);
  core::Status CheckTimeout();
  void FailWorkers(const core::Status& status);
  int64_t MinClock() const;

  const int world_size_;
  std::vector<torch::Tensor> parameters_;  // master weights, borrowed
  const ParameterServerOptions options_;
  ApplyUpdate apply_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;   // eventfd: Finish and the destructor wake the poll
  int64_t total_ = 0;  // floats in all parameters

  // Server thread only.
  std::vector<int> fds_;          // per rank; -1 once closed
  std::vector<bool> said_bye_;    // per rank
  std::vector<int64_t> clock_;    // pushes received per rank (start_step-based)
  std::vector<bool> ack_owed_;    // async: a push not yet acknowledged
  std::vector<int64_t> pull_at_;  // a pending pull's step per rank, or -1
  std::vector<bool> pull_barrier_;
  // Sync: gradients of steps not yet applied, per step then per rank.
  std::map<int64_t, std::vector<torch::Tensor>> pending_;
  int64_t applied_steps_ = 0;  // sync: next step to apply
  int64_t version_ = 0;        // updates applied since start
  int64_t weights_version_ = -1;
  torch::Tensor flat_weights_;
  std::chrono::steady_clock::time_point last_heard_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  bool finishing_ = false;
  bool stop_ = false;
  bool done_ = false;
  core::Status error_;
  ParameterServerStats stats_;
  std::thread thread_;
};

class ParameterClient {
 public:
  // Connects this rank's worker to the server whose address rank 0 put in
  // the group's store. `parameters` are the worker's weights (float32,
  // shared with its module): Pull overwrites them and Push reads their
  // .grad. `mode` must be the server's.
  static core::Result<std::unique_ptr<ParameterClient>> Connect(
      ProcessGroup& group, std::vector<torch::Tensor> parameters, PsMode mode);
  ~ParameterClient();
  ParameterClient(const ParameterClient&) = delete;
  ParameterClient& operator=(const ParameterClient&) = delete;

  // Copies the server's weights into the parameters: sync, those after steps
  // before `step`; async, the current ones.
  core::Status Pull(int64_t step);
  // The barrier described above: every rank gets the weights after every
  // worker's steps before `step`. Every rank must call it at the same steps.
  core::Status Synchronize(int64_t step);
  // Sends the parameters' gradients (zeros where .grad is undefined) as this
  // worker's gradient of `step`. Steps go up by one from the start step.
  // Async: returns when the server lets this worker start the next step.
  core::Status Push(int64_t step);
  // Says goodbye; the server then expects nothing more from this rank.
  core::Status Close();

  // The server's update count when the weights were last pulled.
  int64_t version() const { return version_; }

 private:
  ParameterClient(int rank, int fd, std::vector<torch::Tensor> parameters, PsMode mode,
                  int64_t timeout_ms);
  core::Status Fetch(int64_t step, bool barrier);
  core::Status Expect(uint32_t kind, int64_t step, const char* what);

  const int rank_;
  int fd_;
  std::vector<torch::Tensor> parameters_;
  const PsMode mode_;
  const int64_t timeout_ms_;
  torch::Tensor flat_;  // send and receive buffer
  int64_t version_ = 0;
  bool closed_ = false;
};

}  // namespace mlforge::dist
