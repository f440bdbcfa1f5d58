#include "models/zoo.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mlforge::models {
namespace {

core::Config ModelConfig(const std::string& yaml) {
  auto config = core::Config::Parse(yaml, "model.yaml");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return *config;
}

InputSpec Mnist() { return InputSpec{{1, 28, 28}, 10, 33.3, 78.6}; }

torch::Tensor Forward(torch::jit::Module& module, const torch::Tensor& input) {
  return module.forward({input}).toTensor();
}

TEST(ZooTest, EveryImageKindMapsABatchToLogits) {
  for (const char* yaml : {"kind: mlp\nlayers: [32, 16]\ndropout: 0.1", "kind: cnn",
                           "kind: cnn\nchannels: [4, 8, 8]\nkernel: 3\nhidden: 16",
                           "kind: resnet\nchannels: [4, 8]\nblocks: [1, 2]", "kind: logreg"}) {
    auto built = BuildModel(ModelConfig(yaml), Mnist());
    ASSERT_TRUE(built.ok()) << yaml << ": " << built.status().ToString();
    auto output = Forward(built->module, torch::rand({5, 1, 28, 28}) * 255);
    EXPECT_EQ(output.sizes(), (std::vector<int64_t>{5, 10})) << yaml;
    EXPECT_TRUE(torch::isfinite(output).all().item<bool>()) << yaml;
  }
}

TEST(ZooTest, GradientsReachEveryParameter) {
  auto built = BuildModel(ModelConfig("kind: resnet\nchannels: [4, 8]"), Mnist());
  ASSERT_TRUE(built.ok());
  auto output = Forward(built->module, torch::rand({3, 1, 28, 28}) * 255);
  torch::nn::functional::cross_entropy(output, torch::tensor({1, 2, 3})).backward();
  int count = 0;
  for (const auto& parameter : built->module.parameters()) {
    ASSERT_TRUE(parameter.grad().defined());
    ++count;
  }
  EXPECT_GT(count, 10);
}

TEST(ZooTest, DropoutFollowsTrainingMode) {
  auto built = BuildModel(ModelConfig("kind: mlp\nlayers: [64]\ndropout: 0.5"), Mnist());
  ASSERT_TRUE(built.ok());
  auto input = torch::rand({4, 784}) * 255;
  built->module.train(true);
  EXPECT_FALSE(torch::equal(Forward(built->module, input), Forward(built->module, input)));
  built->module.eval();
  EXPECT_TRUE(torch::equal(Forward(built->module, input), Forward(built->module, input)));
}

TEST(ZooTest, SameSeedSameWeights) {
  torch::manual_seed(7);
  auto first = BuildModel(ModelConfig("kind: cnn"), Mnist());
  torch::manual_seed(7);
  auto second = BuildModel(ModelConfig("kind: cnn"), Mnist());
  ASSERT_TRUE(first.ok() && second.ok());
  auto a = first->module.parameters();
  auto b = second->module.parameters();
  auto it_b = b.begin();
  for (const auto& parameter : a) EXPECT_TRUE(torch::equal(parameter, *it_b++));
}

TEST(ZooTest, TabularLinearModels) {
  InputSpec tabular{{3}, 1, 0.0, 1.0};
  auto regression = BuildModel(ModelConfig("kind: linear"), tabular);
  ASSERT_TRUE(regression.ok());
  EXPECT_EQ(regression->task, Task::kRegression);
  EXPECT_EQ(Forward(regression->module, torch::rand({6, 3})).sizes(), (std::vector<int64_t>{6, 1}));
  tabular.num_outputs = 3;
  auto classifier = BuildModel(ModelConfig("kind: logreg"), tabular);
  ASSERT_TRUE(classifier.ok());
  EXPECT_EQ(classifier->task, Task::kClassification);
}

TEST(ZooTest, BadConfigsNameTheProblem) {
  auto unknown = BuildModel(ModelConfig("kind: transformer"), Mnist());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("known kinds"), std::string::npos);
  auto negative = BuildModel(ModelConfig("kind: mlp\nlayers: [0]"), Mnist());
  EXPECT_NE(negative.status().message().find("model.layers"), std::string::npos);
  auto cnn_on_table = BuildModel(ModelConfig("kind: cnn"), InputSpec{{13}, 3, 0, 1});
  EXPECT_NE(cnn_on_table.status().message().find("image input"), std::string::npos);
  auto too_deep = BuildModel(ModelConfig("kind: cnn\nchannels: [2,2,2,2,2,2]"), Mnist());
  EXPECT_FALSE(too_deep.ok());
  auto missing_file = BuildModel(ModelConfig("torchscript: /nonexistent.pt"), Mnist());
  EXPECT_EQ(missing_file.status().code(), core::StatusCode::kNotFound);
  auto bad_dropout = BuildModel(ModelConfig("kind: cnn\ndropout: 1.5"), Mnist());
  EXPECT_NE(bad_dropout.status().message().find("dropout"), std::string::npos);
}

}  // namespace
}  // namespace mlforge::models
