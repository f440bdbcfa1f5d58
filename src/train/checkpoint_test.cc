#include "train/checkpoint.h"

#include <gtest/gtest.h>

#include "core/file.h"
#include "core/ids.h"
#include "models/zoo.h"
#include "train/optimizer.h"

namespace mlforge::train {
namespace {

struct Fixture {
  torch::jit::Module module;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
};

Fixture Make(const std::string& model_yaml) {
  auto config = core::Config::Parse(model_yaml, "m.yaml");
  auto built = models::BuildModel(*config, models::InputSpec{{6}, 3, 0, 1});
  EXPECT_TRUE(built.ok());
  std::vector<torch::Tensor> parameters;
  for (const auto& parameter : built->module.parameters()) parameters.push_back(parameter);
  auto sgd = core::Config::Parse("name: sgd\nlr: 0.1\nmomentum: 0.9", "o.yaml");
  return {built->module, std::move(MakeOptimizer(*sgd, parameters)).value()};
}

void Step(Fixture& fixture) {
  fixture.optimizer->zero_grad();
  auto output = fixture.module.forward({torch::rand({8, 6})}).toTensor();
  torch::nn::functional::cross_entropy(output, torch::randint(0, 3, {8})).backward();
  fixture.optimizer->step();
}

TEST(CheckpointTest, RestoresWeightsOptimizerStateAndRandomStream) {
  auto path = std::filesystem::temp_directory_path() / ("mlforge-ckpt-" + core::NewId()) / "c.pt";
  torch::manual_seed(1);
  Fixture original = Make("kind: mlp\nlayers: [5]");
  Step(original);
  TrainProgress progress;
  progress.epoch = 2;
  progress.batch_in_epoch = 17;
  progress.samples_in_epoch = 2176;
  progress.global_step = 123;
  progress.epoch_loss_sum = 4.5;
  ASSERT_TRUE(SaveCheckpoint(path, original.module, *original.optimizer, progress).ok());
  // Continue the original two steps further: the reference.
  Step(original);
  Step(original);

  torch::manual_seed(999);  // a different stream and different initial weights
  Fixture restored = Make("kind: mlp\nlayers: [5]");
  auto loaded = LoadCheckpoint(path, restored.module, *restored.optimizer);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->epoch, 2);
  EXPECT_EQ(loaded->batch_in_epoch, 17);
  EXPECT_EQ(loaded->samples_in_epoch, 2176);  // what a resume under another world size needs
  EXPECT_EQ(loaded->global_step, 123);
  EXPECT_DOUBLE_EQ(loaded->epoch_loss_sum, 4.5);
  Step(restored);
  Step(restored);
  // Same weights, momentum and random draws give bit-identical results.
  auto expected = original.module.parameters();
  auto it = expected.begin();
  for (const auto& parameter : restored.module.parameters()) {
    EXPECT_TRUE(torch::equal(parameter, *it++));
  }
  std::filesystem::remove_all(path.parent_path());
}

TEST(CheckpointTest, MismatchedModelOrMissingFileIsAClearError) {
  auto path = std::filesystem::temp_directory_path() / ("mlforge-ckpt-" + core::NewId()) / "c.pt";
  Fixture small = Make("kind: mlp\nlayers: [5]");
  ASSERT_TRUE(SaveCheckpoint(path, small.module, *small.optimizer, {}).ok());
  Fixture wide = Make("kind: mlp\nlayers: [7]");
  auto mismatch = LoadCheckpoint(path, wide.module, *wide.optimizer);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("fc0_weight"), std::string::npos);
  EXPECT_EQ(
      LoadCheckpoint(path.parent_path() / "none.pt", wide.module, *wide.optimizer).status().code(),
      core::StatusCode::kNotFound);
  ASSERT_TRUE(core::WriteFileAtomic(path, "garbage").ok());
  EXPECT_FALSE(LoadCheckpoint(path, small.module, *small.optimizer).ok());
  std::filesystem::remove_all(path.parent_path());
}

}  // namespace
}  // namespace mlforge::train
