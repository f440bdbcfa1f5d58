#include "train/fused_sgd.h"

#include <gtest/gtest.h>

namespace mlforge::train {
namespace {

// The fused update must follow LibTorch's SGD step for step (up to float
// rounding), for every combination of momentum, Nesterov, dampening and
// weight decay, and keep its state where SGD keeps it.
TEST(FusedSgdTest, MatchesLibTorchSgdOverManySteps) {
  struct Case {
    double momentum, dampening, weight_decay;
    bool nesterov;
  };
  for (const Case& c : {Case{0, 0, 0, false}, Case{0.9, 0, 0, false}, Case{0.9, 0, 1e-2, true},
                        Case{0.5, 0.3, 1e-3, false}, Case{0, 0, 0.1, false}}) {
    torch::manual_seed(3);
    auto initial = torch::randn({37, 11});
    auto reference = initial.clone().set_requires_grad(true);
    auto fused = initial.clone().set_requires_grad(true);
    auto options = torch::optim::SGDOptions(0.05)
                       .momentum(c.momentum)
                       .dampening(c.dampening)
                       .weight_decay(c.weight_decay)
                       .nesterov(c.nesterov);
    torch::optim::SGD reference_sgd({reference}, options);
    FusedSgd fused_sgd({fused}, options);
    for (int step = 0; step < 25; ++step) {
      auto target = torch::randn({37, 11});
      for (auto* pair : {&reference, &fused}) {
        pair->mutable_grad() = torch::Tensor();
        (*pair - target).pow(2).sum().backward();
      }
      reference_sgd.step();
      fused_sgd.step();
    }
    EXPECT_TRUE(torch::allclose(reference, fused, 1e-5, 1e-6))
        << "momentum " << c.momentum << " nesterov " << c.nesterov;
    if (c.momentum != 0) {
      auto& state = static_cast<torch::optim::SGDParamState&>(*fused_sgd.state().begin()->second);
      auto& reference_state =
          static_cast<torch::optim::SGDParamState&>(*reference_sgd.state().begin()->second);
      EXPECT_TRUE(
          torch::allclose(state.momentum_buffer(), reference_state.momentum_buffer(), 1e-5, 1e-6));
    }
  }
}

TEST(FusedSgdTest, NonContiguousParametersTakeTheLibTorchPath) {
  auto base = torch::randn({8, 6});
  auto reference = base.t().clone().set_requires_grad(true);         // contiguous copy
  auto strided = base.clone().t().detach().set_requires_grad(true);  // transposed view
  ASSERT_FALSE(strided.is_contiguous());
  auto options = torch::optim::SGDOptions(0.1).momentum(0.9);
  torch::optim::SGD reference_sgd({reference}, options);
  FusedSgd fused_sgd({strided}, options);
  for (int step = 0; step < 5; ++step) {
    for (auto* pair : {&reference, &strided}) {
      pair->mutable_grad() = torch::Tensor();
      pair->pow(2).sum().backward();
    }
    reference_sgd.step();
    fused_sgd.step();
  }
  EXPECT_TRUE(torch::allclose(reference, strided));
}

}  // namespace
}  // namespace mlforge::train
