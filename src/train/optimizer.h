#pragma once

// Optimizers and learning-rate schedules from the `optimizer:` and
// `schedule:` sections of a training config.
//
//   optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0}
//   optimizer: {name: adam, lr: 0.001, betas: [0.9, 0.999], eps: 1e-8}
//   optimizer: {name: adamw, lr: 0.001, weight_decay: 0.01}
//   schedule:  {name: cosine, warmup_steps: 100, min_lr: 0}
//   schedule:  {name: step, step_size: 1000, gamma: 0.5}   # step_size in steps
//   schedule:  {name: constant}

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace mlforge::train {

// The optimizer the section names, over `parameters`. InvalidArgument for an
// unknown name or a bad hyper-parameter, naming the key.
core::Result<std::unique_ptr<torch::optim::Optimizer>> MakeOptimizer(
    const core::Config& optimizer_config, const std::vector<torch::Tensor>& parameters);

// The learning rate as a pure function of the global step, so a resumed run
// needs no schedule state: linear warm-up from 0 over `warmup_steps`, then
// the named decay over the remaining steps up to `total_steps`.
class LrSchedule {
 public:
  static core::Result<LrSchedule> Create(const core::Config& schedule_config, double base_lr,
                                         int64_t total_steps);

  double LearningRate(int64_t step) const;

  // Sets the rate of `step` on every parameter group of `optimizer`.
  void Apply(torch::optim::Optimizer& optimizer, int64_t step) const;

 private:
  enum class Kind { kConstant, kStep, kCosine };
  Kind kind_ = Kind::kConstant;
  double base_lr_ = 0.01;
  double min_lr_ = 0.0;
  double gamma_ = 0.1;
  int64_t step_size_ = 1;
  int64_t warmup_steps_ = 0;
  int64_t total_steps_ = 1;
};

}  // namespace mlforge::train
