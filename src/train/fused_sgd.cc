#include "train/fused_sgd.h"

#include <c10/util/string_utils.h>

namespace mlforge::train {
namespace {

bool Fusable(const torch::Tensor& parameter, const torch::Tensor& gradient) {
  return parameter.device().is_cpu() && parameter.scalar_type() == torch::kFloat32 &&
         gradient.scalar_type() == torch::kFloat32 && parameter.is_contiguous() &&
         gradient.is_contiguous() && !gradient.is_sparse();
}

// One parameter's update; `buffer` is null without momentum. Kept free of
// aliasing so the compiler vectorises the loop.
void Update(float* __restrict parameter, const float* __restrict gradient, float* __restrict buffer,
            int64_t count, bool first_step, float lr, float momentum, float dampening,
            float weight_decay, bool nesterov) {
  if (buffer == nullptr) {
    for (int64_t index = 0; index < count; ++index) {
      parameter[index] -= lr * (gradient[index] + weight_decay * parameter[index]);
    }
    return;
  }
  const float keep = 1.0f - dampening;
  for (int64_t index = 0; index < count; ++index) {
    const float g = gradient[index] + weight_decay * parameter[index];
    const float b = first_step ? g : momentum * buffer[index] + keep * g;
    buffer[index] = b;
    parameter[index] -= lr * (nesterov ? g + momentum * b : b);
  }
}

}  // namespace

torch::Tensor FusedSgd::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const torch::optim::SGDOptions&>(group.options());
    const auto lr = static_cast<float>(options.lr());
    const auto momentum = static_cast<float>(options.momentum());
    const auto dampening = static_cast<float>(options.dampening());
    const auto weight_decay = static_cast<float>(options.weight_decay());
    for (auto& parameter : group.params()) {
      const torch::Tensor& gradient = parameter.grad();
      if (!gradient.defined()) continue;
      if (!Fusable(parameter, gradient)) {
        // LibTorch's arithmetic for anything unusual (same state layout).
        torch::Tensor d_p = gradient;
        if (weight_decay != 0) d_p = d_p.add(parameter, weight_decay);
        if (momentum != 0) {
          const std::string key = c10::guts::to_string(parameter.unsafeGetTensorImpl());
          auto found = state_.find(key);
          torch::Tensor buffer;
          if (found == state_.end()) {
            buffer = d_p.clone().detach();
            auto state = std::make_unique<torch::optim::SGDParamState>();
            state->momentum_buffer(buffer);
            state_[key] = std::move(state);
          } else {
            buffer = static_cast<torch::optim::SGDParamState&>(*found->second).momentum_buffer();
            buffer.mul_(momentum).add_(d_p, 1 - dampening);
          }
          d_p = options.nesterov() ? d_p.add(buffer, momentum) : buffer;
        }
        parameter.add_(d_p, -lr);
        continue;
      }
      float* buffer = nullptr;
      bool first_step = false;
      if (momentum != 0) {
        const std::string key = c10::guts::to_string(parameter.unsafeGetTensorImpl());
        auto found = state_.find(key);
        if (found == state_.end()) {
          auto state = std::make_unique<torch::optim::SGDParamState>();
          state->momentum_buffer(torch::empty_like(parameter));
          buffer = state->momentum_buffer().data_ptr<float>();
          state_[key] = std::move(state);
          first_step = true;
        } else {
          auto& state = static_cast<torch::optim::SGDParamState&>(*found->second);
          if (!state.momentum_buffer().is_contiguous()) {
            state.momentum_buffer(state.momentum_buffer().contiguous());
          }
          buffer = state.momentum_buffer().data_ptr<float>();
        }
      }
      Update(parameter.data_ptr<float>(), gradient.data_ptr<float>(), buffer, parameter.numel(),
             first_step, lr, momentum, dampening, weight_decay, options.nesterov());
    }
  }
  return loss;
}

}  // namespace mlforge::train
