#include "models/evaluate.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/config.h"
#include "core/testing/temp_dir.h"

namespace mlforge::models {
namespace {

// A small MLP package on 4x4 "images" with 3 classes and a dataset of 50
// rows, scored in uneven batches and checked against one plain LibTorch pass.
TEST(EvaluateTest, BatchedScoresMatchOneFullPass) {
  core::testing::ScopedTempDir dir;
  torch::manual_seed(5);
  auto config = core::Config::Parse("kind: mlp\nlayers: [8]", "m.yaml");
  ASSERT_TRUE(config.ok());
  auto built = BuildModel(*config, InputSpec{{1, 4, 4}, 3, 100.0, 50.0});
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  PackageInfo info;
  info.model_kind = "mlp";
  info.class_names = {"a", "b", "c"};
  info.signature.input_shape = {-1, 1, 4, 4};
  info.signature.output_shape = {-1, 3};
  ASSERT_TRUE(WritePackage(dir.path() / "model", built->module, info).ok());
  auto package = LoadPackage(dir.path() / "model");
  ASSERT_TRUE(package.ok()) << package.status().ToString();

  data::Dataset dataset;
  dataset.feature_shape = {1, 4, 4};
  for (int row = 0; row < 50; ++row) {
    for (int value = 0; value < 16; ++value) {
      dataset.features.push_back(static_cast<float>((row * 37 + value * 11) % 256));
    }
    dataset.labels.push_back(row % 3);
  }
  auto result = EvaluatePackage(*package, dataset, 7);
  ASSERT_TRUE(result.ok()) << result.status().ToString();

  auto inputs = torch::from_blob(dataset.features.data(), {50, 1, 4, 4}, torch::kFloat32);
  auto labels = torch::from_blob(dataset.labels.data(), {50}, torch::kInt64);
  torch::NoGradGuard no_grad;
  auto outputs = package->module.forward({inputs}).toTensor();
  const double expected_loss = torch::nn::functional::cross_entropy(outputs, labels).item<double>();
  const double expected_accuracy = outputs.argmax(1).eq(labels).sum().item<double>() / 50.0;

  EXPECT_EQ(result->samples, 50);
  EXPECT_NEAR(result->loss, expected_loss, 1e-5);
  EXPECT_DOUBLE_EQ(result->accuracy, expected_accuracy);
  ASSERT_EQ(result->per_class.size(), 3u);
  EXPECT_EQ(result->per_class[1].name, "b");
  int64_t samples = 0;
  int64_t correct = 0;
  for (const auto& entry : result->per_class) {
    samples += entry.samples;
    correct += entry.correct;
  }
  EXPECT_EQ(samples, 50);
  EXPECT_EQ(result->per_class[0].samples, 17);
  EXPECT_DOUBLE_EQ(static_cast<double>(correct) / 50.0, expected_accuracy);

  dataset.labels[3] = 7;  // beyond the model's 3 classes
  auto bad_label = EvaluatePackage(*package, dataset, 7);
  ASSERT_FALSE(bad_label.ok());
  EXPECT_NE(bad_label.status().message().find("outside the model's 3 classes"), std::string::npos);
  dataset.labels.clear();
  EXPECT_FALSE(EvaluatePackage(*package, dataset, 7).ok());
}

}  // namespace
}  // namespace mlforge::models
