#include "dist/data_parallel.h"

#include <fmt/format.h>

namespace mlforge::dist {

GradientSync::GradientSync(ProcessGroup& group, std::vector<torch::Tensor> parameters)
    : group_(group), parameters_(std::move(parameters)) {}

core::Result<std::unique_ptr<GradientSync>> GradientSync::Create(
    ProcessGroup& group, const std::vector<torch::Tensor>& parameters,
    const GradientSyncOptions& options) {
  if (parameters.empty()) return core::InvalidArgumentError("no parameters to synchronise");
  for (size_t index = 0; index < parameters.size(); ++index) {
    if (!parameters[index].requires_grad() || !parameters[index].is_floating_point()) {
      return core::InvalidArgumentError(
          fmt::format("parameter {} does not require a floating-point gradient", index));
    }
  }
  std::unique_ptr<GradientSync> sync(new GradientSync(group, parameters));
  const size_t count = parameters.size();
  sync->bucket_of_.resize(count);
  sync->slot_of_.resize(count);
  sync->arrived_.assign(count, false);
  // Reverse order: the last layers' gradients come first in backward.
  std::vector<std::vector<size_t>> groups;
  int64_t bytes = 0;
  for (size_t position = count; position-- > 0;) {
    const torch::Tensor& parameter = parameters[position];
    // A bucket holds one dtype.
    if (groups.empty() || bytes >= options.bucket_bytes ||
        parameters[groups.back().front()].scalar_type() != parameter.scalar_type()) {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(position);
    bytes += parameter.numel() * static_cast<int64_t>(parameter.element_size());
  }
  for (const std::vector<size_t>& members : groups) {
    Bucket bucket;
    int64_t elements = 0;
    for (size_t parameter : members) {
      sync->bucket_of_[parameter] = sync->buckets_.size();
      sync->slot_of_[parameter] = bucket.parameters.size();
      bucket.parameters.push_back(parameter);
      bucket.offsets.push_back(elements);
      elements += parameters[parameter].numel();
    }
    bucket.flat =
        torch::zeros({elements}, parameters[members.front()].options().requires_grad(false));
    sync->buckets_.push_back(std::move(bucket));
  }
  GradientSync* self = sync.get();
  for (size_t index = 0; index < count; ++index) {
    torch::Tensor parameter = parameters[index];
    sync->hook_handles_.push_back(parameter.register_hook(
        [self, index](const torch::Tensor& gradient) { self->OnGradient(index, gradient); }));
  }
  sync->StartStep();
  return sync;
}

GradientSync::~GradientSync() {
  for (size_t index = 0; index < parameters_.size() && index < hook_handles_.size(); ++index) {
    parameters_[index].remove_hook(hook_handles_[index]);
  }
  // Gloo may still write into a bucket that was started but not waited.
  for (Bucket& bucket : buckets_) {
    if (bucket.pending.work) (void)group_.Wait(bucket.pending);
  }
}

void GradientSync::StartStep() {
  for (Bucket& bucket : buckets_) {
    bucket.missing = static_cast<int64_t>(bucket.parameters.size());
    bucket.started = false;
  }
  std::fill(arrived_.begin(), arrived_.end(), false);
  next_to_start_ = 0;
  started_in_backward_ = 0;
  start_error_ = core::Status::Ok();
}

void GradientSync::OnGradient(size_t parameter, const torch::Tensor& gradient) {
  Bucket& bucket = buckets_[bucket_of_[parameter]];
  const int64_t offset = bucket.offsets[slot_of_[parameter]];
  torch::NoGradGuard no_grad;
  auto slice = bucket.flat.narrow(0, offset, gradient.numel());
  if (arrived_[parameter]) {
    // A parameter used twice in the graph gets several gradients: sum them.
    slice.add_(gradient.reshape({-1}));
    return;
  }
  slice.copy_(gradient.reshape({-1}));
  arrived_[parameter] = true;
  if (--bucket.missing == 0) StartReadyBuckets(/*in_backward=*/true);
}

void GradientSync::StartReadyBuckets(bool in_backward) {
  while (next_to_start_ < buckets_.size() && buckets_[next_to_start_].missing == 0) {
    Bucket& bucket = buckets_[next_to_start_];
    auto pending = group_.StartAllReduce(bucket.flat);
    if (pending.ok()) {
      bucket.pending = std::move(*pending);
    } else if (start_error_.ok()) {
      start_error_ = pending.status();
    }
    bucket.started = true;
    if (in_backward) ++started_in_backward_;
    ++next_to_start_;
  }
}

core::Status GradientSync::FinishStep() {
  torch::NoGradGuard no_grad;
  // Parameters that got no gradient this step contribute zeros.
  for (size_t index = 0; index < parameters_.size(); ++index) {
    if (arrived_[index]) continue;
    Bucket& bucket = buckets_[bucket_of_[index]];
    bucket.flat.narrow(0, bucket.offsets[slot_of_[index]], parameters_[index].numel()).zero_();
    arrived_[index] = true;
    --bucket.missing;
  }
  StartReadyBuckets(/*in_backward=*/false);
  core::Status status = start_error_;
  const double world = static_cast<double>(group_.world_size());
  for (Bucket& bucket : buckets_) {
    if (bucket.pending.work) {
      core::Status waited = group_.Wait(bucket.pending);
      if (status.ok()) status = waited;
    }
    if (!status.ok()) continue;
    bucket.flat.div_(world);
    for (size_t slot = 0; slot < bucket.parameters.size(); ++slot) {
      torch::Tensor& parameter = parameters_[bucket.parameters[slot]];
      auto averaged =
          bucket.flat.narrow(0, bucket.offsets[slot], parameter.numel()).view(parameter.sizes());
      // A copy rather than a view of the bucket, so optimizers may detach_
      // and zero_ the gradients as they like (zero_grad does).
      torch::Tensor& grad = parameter.mutable_grad();
      if (grad.defined()) {
        grad.copy_(averaged);
      } else {
        grad = averaged.clone();
      }
    }
  }
  return status;
}

core::Status BroadcastState(ProcessGroup& group, const std::vector<torch::Tensor>& tensors) {
  if (tensors.empty() || group.world_size() == 1) return core::Status::Ok();
  torch::NoGradGuard no_grad;
  // One message per dtype keeps it to a broadcast or two for any model.
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_type;
  for (const torch::Tensor& tensor : tensors) by_type[tensor.scalar_type()].push_back(tensor);
  for (auto& [type, members] : by_type) {
    std::vector<torch::Tensor> flat_parts;
    for (const torch::Tensor& tensor : members) flat_parts.push_back(tensor.reshape({-1}));
    std::vector<torch::Tensor> flat = {torch::cat(flat_parts)};
    MLFORGE_RETURN_IF_ERROR(group.Broadcast(flat, 0));
    int64_t offset = 0;
    for (const torch::Tensor& tensor : members) {
      torch::Tensor target = tensor;
      target.copy_(flat[0].narrow(0, offset, tensor.numel()).view(tensor.sizes()));
      offset += tensor.numel();
    }
  }
  return core::Status::Ok();
}

}  // namespace mlforge::dist
