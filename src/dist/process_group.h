#pragma once

// A group of training processes joined over a c10d TCPStore and a Gloo
// process group from LibTorch, with collectives that fail with a message
// instead of hanging.
//
//   MLFORGE_ASSIGN_OR_RETURN(LaunchEnv env, DetectLaunchEnv(ProcessEnvironment(), Hostname()));
//   MLFORGE_ASSIGN_OR_RETURN(auto group, ProcessGroup::Join(env, {}));
//   MLFORGE_RETURN_IF_ERROR(group->Broadcast(tensors, /*root=*/0));
//   MLFORGE_RETURN_IF_ERROR(group->AllReduceSum(tensors));
//
// Rank 0 hosts the store at env.master_addr:env.master_port (unless
// TORCHELASTIC_USE_AGENT_STORE=True says torchrun's agent already does);
// every rank connects to it, and Gloo exchanges its addresses through it.
// The Gloo device binds the interface named by GLOO_SOCKET_IFNAME, loopback
// when the master is local, else the address this host's name resolves to.
//
// Every collective waits at most `timeout_ms`. When one fails or times out,
// the error names the ranks that look responsible: each rank records its
// step in the store (MarkStep), so the ranks behind this one, or the rank
// that never reported, are named, and a lost store names rank 0.
//
// All calls must be made in the same order on every rank (Gloo's rule).
// Not thread-safe: one thread drives the group. The pending handles of
// StartAllReduce borrow the group and must be waited before it is destroyed.

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#include <vector>

#include "core/status.h"
#include "dist/launch_env.h"

namespace mlforge::dist {

// The local address this host would use to reach `host`:`port`: the source
// address of a UDP socket "connected" to it (nothing is sent). On a host with
// several interfaces this picks the one that routes there, where Gloo's own
// default (the address the host name resolves to) may be a loopback or
// unrelated address. Empty when it cannot tell.
std::string LocalAddressTowards(const std::string& host, int port);

struct GroupOptions {
  // Longest wait for the other ranks to join and for any one collective, in
  // milliseconds; default 5 minutes.
  int64_t timeout_ms = 300'000;
};

// An all-reduce in flight; Wait() on the group finishes it.
struct PendingReduce {
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<torch::Tensor> tensors;  // keeps the buffers alive while Gloo works
};

class ProcessGroup {
 public:
  // Joins the group `env` describes; returns when all world_size ranks have
  // connected. Unavailable when the store cannot be reached or the group does
  // not form within the timeout, naming the master address and port.
  static core::Result<std::unique_ptr<ProcessGroup>> Join(const LaunchEnv& env,
                                                          const GroupOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }

  // Sums `tensors` element-wise over the ranks, in place.
  core::Status AllReduceSum(std::vector<torch::Tensor>& tensors);
  // Copies root's `tensors` into every rank's, in place.
  core::Status Broadcast(std::vector<torch::Tensor>& tensors, int root);
  core::Status Barrier();

  // Starts summing one contiguous tensor in place and returns at once.
  core::Result<PendingReduce> StartAllReduce(torch::Tensor tensor);
  // Waits for a started all-reduce.
  core::Status Wait(PendingReduce& pending);

  // Records that this rank reached `step`, for the diagnosis of a failed
  // collective. One small store write.
  void MarkStep(int64_t step);

  // Sets `key` in the group's store (keys are private to this attempt of
  // the group), and reads one, waiting up to the timeout for a rank to set
  // it. For side channels such as the parameter server's address.
  core::Status SetValue(const std::string& key, const std::string& value);
  core::Result<std::string> GetValue(const std::string& key);

  // The address other ranks reach this one at: the one the Gloo device
  // bound (loopback for a local group).
  const std::string& address() const { return address_; }
  int64_t timeout_ms() const { return timeout_ms_; }

 private:
  ProcessGroup(int rank, int world_size, int64_t timeout_ms, c10::intrusive_ptr<c10d::Store> store,
               c10::intrusive_ptr<c10d::ProcessGroup> group, std::string address);
  // Waits for `work`; turns a failure into a Status that names suspects.
  core::Status Finish(const c10::intrusive_ptr<c10d::Work>& work, const char* what);
  // Which ranks look responsible for a failed collective.
  std::string Suspects();

  const int rank_;
  const int world_size_;
  const int64_t timeout_ms_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  const std::string address_;
  int64_t step_ = -1;  // the last MarkStep
};

}  // namespace mlforge::dist
