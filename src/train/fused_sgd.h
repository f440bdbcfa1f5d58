#pragma once

// SGD with momentum, Nesterov and weight decay in one pass over each
// parameter. LibTorch's SGD makes five passes (and two temporaries) per
// parameter per step; on the MNIST MLP that update costs about as much as the
// forward and backward passes together. The arithmetic is PyTorch's
// (dampening included):
//   g = grad + weight_decay * p
//   buf = g on the first step, else momentum * buf + (1 - dampening) * g
//   d = nesterov ? g + momentum * buf : (momentum != 0 ? buf : g)
//   p -= lr * d
// State lives exactly where torch::optim::SGD keeps it, so save() and load()
// (and checkpoints written by either class) are interchangeable. Parameters
// that are not contiguous float32 CPU tensors take LibTorch's path.

#include <torch/torch.h>

#include <vector>

namespace mlforge::train {

class FusedSgd : public torch::optim::SGD {
 public:
  FusedSgd(const std::vector<torch::Tensor>& parameters, const torch::optim::SGDOptions& options)
      : torch::optim::SGD(parameters, options) {}

  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace mlforge::train
