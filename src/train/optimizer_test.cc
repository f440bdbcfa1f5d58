#include "train/optimizer.h"

#include <gtest/gtest.h>

namespace mlforge::train {
namespace {

core::Config Parse(const std::string& yaml) {
  auto config = core::Config::Parse(yaml, "test.yaml");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return *config;
}

TEST(LrScheduleTest, WarmupThenCosineDecay) {
  auto schedule =
      LrSchedule::Create(Parse("name: cosine\nwarmup_steps: 10\nmin_lr: 0.001"), 0.1, 110);
  ASSERT_TRUE(schedule.ok());
  EXPECT_NEAR(schedule->LearningRate(0), 0.01, 1e-12);
  EXPECT_NEAR(schedule->LearningRate(9), 0.1, 1e-12);
  EXPECT_NEAR(schedule->LearningRate(10), 0.1, 1e-12);
  EXPECT_NEAR(schedule->LearningRate(60), 0.001 + 0.5 * 0.099, 1e-9);
  EXPECT_NEAR(schedule->LearningRate(110), 0.001, 1e-12);
  for (int64_t step = 11; step < 110; ++step) {
    EXPECT_LE(schedule->LearningRate(step), schedule->LearningRate(step - 1));
  }
}

TEST(LrScheduleTest, StepDecayAndConstant) {
  auto step = LrSchedule::Create(Parse("name: step\nstep_size: 5\ngamma: 0.5"), 1.0, 100);
  ASSERT_TRUE(step.ok());
  EXPECT_DOUBLE_EQ(step->LearningRate(4), 1.0);
  EXPECT_DOUBLE_EQ(step->LearningRate(5), 0.5);
  EXPECT_DOUBLE_EQ(step->LearningRate(12), 0.25);
  auto constant = LrSchedule::Create(Parse("{}"), 0.3, 100);
  EXPECT_DOUBLE_EQ(constant->LearningRate(99), 0.3);
  EXPECT_FALSE(LrSchedule::Create(Parse("name: exponential"), 0.1, 10).ok());
}

// Each optimizer must drive a convex quadratic toward its minimum.
TEST(OptimizerTest, EveryOptimizerMinimisesAQuadratic) {
  for (const char* yaml :
       {"name: sgd\nlr: 0.1", "name: sgd\nlr: 0.05\nmomentum: 0.9\nnesterov: true",
        "name: adam\nlr: 0.1", "name: adamw\nlr: 0.1\nweight_decay: 0.0"}) {
    auto weights = torch::tensor({3.0, -2.0}).set_requires_grad(true);
    auto optimizer = MakeOptimizer(Parse(yaml), {weights});
    ASSERT_TRUE(optimizer.ok()) << yaml;
    double first = 0;
    for (int step = 0; step < 200; ++step) {
      (*optimizer)->zero_grad();
      auto loss = (weights - torch::tensor({1.0, 1.0})).pow(2).sum();
      if (step == 0) first = loss.item<double>();
      loss.backward();
      (*optimizer)->step();
    }
    double last = (weights - torch::tensor({1.0, 1.0})).pow(2).sum().item<double>();
    EXPECT_LT(last, first * 1e-3) << yaml;
  }
}

TEST(OptimizerTest, RejectsBadSettings) {
  auto weights = torch::zeros({2}).set_requires_grad(true);
  EXPECT_NE(MakeOptimizer(Parse("name: lbfgs"), {weights}).status().message().find("adamw"),
            std::string::npos);
  EXPECT_FALSE(MakeOptimizer(Parse("name: sgd\nlr: -1"), {weights}).ok());
  EXPECT_FALSE(MakeOptimizer(Parse("name: sgd\nnesterov: true"), {weights}).ok());
  EXPECT_FALSE(MakeOptimizer(Parse("name: adam\nbetas: [0.9]"), {weights}).ok());
  EXPECT_FALSE(MakeOptimizer(Parse("name: adam\nlr: fast"), {weights}).ok());
}

}  // namespace
}  // namespace mlforge::train
