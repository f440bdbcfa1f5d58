#pragma once

// Data-parallel gradient synchronisation (strategy: ddp) over a
// ProcessGroup, the way PyTorch's DistributedDataParallel does it, with our
// own autograd hooks instead of c10d's Reducer:
//
//   MLFORGE_ASSIGN_OR_RETURN(auto sync, GradientSync::Create(*group, parameters, {}));
//   MLFORGE_RETURN_IF_ERROR(BroadcastState(*group, module_tensors));  // rank 0's start
//   for (each step) {
//     sync->StartStep();
//     loss.backward();                      // buckets start reducing during backward
//     MLFORGE_RETURN_IF_ERROR(sync->FinishStep());  // grads are now the mean over ranks
//     optimizer.step();
//   }
//
// The parameters are grouped into buckets of about `bucket_bytes`, in
// reverse order (the order backward produces gradients). A hook on each
// parameter copies its gradient into its bucket's flat buffer; when the last
// gradient of bucket k has arrived and buckets 0..k-1 have been started, the
// bucket's all-reduce starts, so communication overlaps the rest of backward.
// Buckets always start in the same order on every rank, as Gloo requires.
// FinishStep starts any bucket whose gradients never came (unused parameters
// count as zero), waits for all, divides by the world size and copies each
// parameter's share into its .grad. Gradients accumulated in .grad from
// earlier steps are replaced, not added to (no gradient accumulation).
//
// Every rank must run the same number of steps with the same parameters.
// Not thread-safe. Borrows the group, which must outlive this object; the
// hooks are removed on destruction.

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "core/status.h"
#include "dist/process_group.h"

namespace mlforge::dist {

struct GradientSyncOptions {
  // Target size of one bucket in bytes; default 1 MiB. Smaller buckets start
  // sooner during backward but pay more per-message latency.
  int64_t bucket_bytes = 1 << 20;
};

class GradientSync {
 public:
  // Hooks `parameters` (float tensors that require grad; shared with the
  // caller's module). InvalidArgument for an empty list or a parameter that
  // does not require grad.
  static core::Result<std::unique_ptr<GradientSync>> Create(
      ProcessGroup& group, const std::vector<torch::Tensor>& parameters,
      const GradientSyncOptions& options);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // Call before backward: forgets the previous step's buckets.
  void StartStep();
  // Call after backward: leaves the averaged gradients in .grad. The error of
  // a failed collective (which names the suspect ranks) is returned.
  core::Status FinishStep();

  int64_t bucket_count() const { return static_cast<int64_t>(buckets_.size()); }
  // Buckets whose all-reduce started inside backward in the last step, for
  // tests and metrics.
  int64_t buckets_started_in_backward() const { return started_in_backward_; }

 private:
  struct Bucket {
    torch::Tensor flat;              // the gradients of its parameters, end to end
    std::vector<size_t> parameters;  // indices into parameters_
    std::vector<int64_t> offsets;    // where each starts in flat
    int64_t missing = 0;             // gradients not yet arrived this step
    bool started = false;
    PendingReduce pending;
  };

  GradientSync(ProcessGroup& group, std::vector<torch::Tensor> parameters);
  void OnGradient(size_t parameter, const torch::Tensor& gradient);
  // Starts ready buckets in order from next_to_start_.
  void StartReadyBuckets(bool in_backward);

  ProcessGroup& group_;  // borrowed
  std::vector<torch::Tensor> parameters_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;  // parameter -> bucket
  std::vector<size_t> slot_of_;    // parameter -> position in its bucket
  std::vector<unsigned> hook_handles_;
  std::vector<bool> arrived_;  // parameter -> gradient seen this step
  size_t next_to_start_ = 0;
  int64_t started_in_backward_ = 0;
  core::Status start_error_;  // first failure to start a bucket
};

// Copies rank 0's values of `tensors` (parameters and buffers) into every
// rank's, in one flat broadcast.
core::Status BroadcastState(ProcessGroup& group, const std::vector<torch::Tensor>& tensors);

}  // namespace mlforge::dist
