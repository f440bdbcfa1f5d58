#include "train/trainer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "core/file.h"
#include "core/ids.h"
#include "models/package.h"

namespace mlforge::train {
namespace {

// Three Gaussian blobs in four dimensions, written as CSV: a small problem
// that a logistic regression separates almost perfectly.
std::string BlobsCsv(int rows, unsigned seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<double> noise(0.0, 0.4);
  std::string csv = "a,b,c,d,kind\n";
  for (int row = 0; row < rows; ++row) {
    int label = row % 3;
    double centre[3][4] = {{2, 0, 0, 1}, {0, 2, 0, -1}, {0, 0, 2, 0}};
    for (int column = 0; column < 4; ++column) {
      csv += std::to_string(centre[label][column] * 10 + 5 + noise(engine)) + ",";
    }
    csv += std::to_string(label) + "\n";
  }
  return csv;
}

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mlforge-trainer-" + core::NewId());
    ASSERT_TRUE(core::WriteFileAtomic(dir_ / "train.csv", BlobsCsv(600, 1)).ok());
    ASSERT_TRUE(core::WriteFileAtomic(dir_ / "test.csv", BlobsCsv(150, 2)).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  core::Config MakeConfig(const std::vector<std::string>& overrides = {}) {
    std::string yaml =
        "seed: 3\n"
        "data:\n  csv: {train: " +
        (dir_ / "train.csv").string() + ", test: " + (dir_ / "test.csv").string() +
        ", label: kind}\n"
        "model: {kind: logreg}\n"
        "optimizer: {name: sgd, lr: 0.1, momentum: 0.9}\n"
        "train: {epochs: 3, batch_size: 32, log_every_steps: 5}\n"
        "checkpoint: {every_steps: 7}\n";
    auto config = core::Config::Parse(yaml, (dir_ / "train.yaml").string(), overrides);
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    return *config;
  }

  std::filesystem::path dir_;
};

TEST_F(TrainerTest, LearnsWritesPackageMetricsAndSummary) {
  RunOptions options{.run_dir = dir_ / "run", .data_dir = dir_, .threads = 1};
  auto sink = JsonLinesSink::Open(options.run_dir / "metrics.jsonl");
  ASSERT_TRUE(sink.ok());
  auto result = Train(MakeConfig(), options, **sink);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_GT(result->val_accuracy, 0.95);
  EXPECT_EQ(result->global_step, 3 * 19);  // 600 rows / 32 = 18.75 -> 19 batches

  auto package = models::LoadPackage(result->model_dir);
  ASSERT_TRUE(package.ok()) << package.status().ToString();
  EXPECT_EQ(package->info.signature.input_columns.size(), 4u);
  EXPECT_EQ(package->info.signature.input_columns[0].name, "a");
  EXPECT_EQ(package->info.run_id, "run");

  auto metrics = core::ReadFile(options.run_dir / "metrics.jsonl");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->find("\"key\":\"val_accuracy\""), std::string::npos);
  EXPECT_NE(metrics->find("\"key\":\"optimizer.lr\""), std::string::npos);
  EXPECT_NE(metrics->find("mlforge.dataset.digest"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(options.run_dir / "summary.json"));
  EXPECT_TRUE(std::filesystem::exists(options.run_dir / "config.yaml"));
}

TEST_F(TrainerTest, SameSeedGivesIdenticalWeights) {
  std::vector<torch::Tensor> weights[2];
  for (int attempt = 0; attempt < 2; ++attempt) {
    RunOptions options{
        .run_dir = dir_ / ("run" + std::to_string(attempt)), .data_dir = dir_, .threads = 1};
    auto sink = JsonLinesSink::Open(options.run_dir / "metrics.jsonl");
    auto result = Train(MakeConfig({"model.kind=mlp", "model.layers=[8]", "model.dropout=0.3"}),
                        options, **sink);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    for (const auto& parameter : models::LoadPackage(result->model_dir)->module.parameters()) {
      weights[attempt].push_back(parameter);
    }
  }
  ASSERT_EQ(weights[0].size(), weights[1].size());
  for (size_t index = 0; index < weights[0].size(); ++index) {
    EXPECT_TRUE(torch::equal(weights[0][index], weights[1][index]));
  }
}

// y = 2a - b + 3 with a little noise: linear regression must find it.
TEST_F(TrainerTest, LinearRegressionOnRealValuedTargets) {
  std::mt19937 engine(5);
  std::normal_distribution<double> value(0.0, 1.0);
  for (const char* name : {"reg_train.csv", "reg_test.csv"}) {
    std::string csv = "a,b,price\n";
    for (int row = 0; row < 400; ++row) {
      double a = value(engine);
      double b = value(engine);
      csv += std::to_string(a) + "," + std::to_string(b) + "," +
             std::to_string(2 * a - b + 3 + 0.01 * value(engine)) + "\n";
    }
    ASSERT_TRUE(core::WriteFileAtomic(dir_ / name, csv).ok());
  }
  auto config = core::Config::Parse("data: {csv: {train: " + (dir_ / "reg_train.csv").string() +
                                        ", test: " + (dir_ / "reg_test.csv").string() +
                                        ", label: price}}\n"
                                        "model: {kind: linear}\noptimizer: {name: adam, lr: 0.05}\n"
                                        "train: {epochs: 20, batch_size: 32}\n",
                                    "regression.yaml");
  ASSERT_TRUE(config.ok());
  RunOptions options{.run_dir = dir_ / "regression", .data_dir = dir_, .threads = 1};
  auto sink = JsonLinesSink::Open(options.run_dir / "metrics.jsonl");
  auto result = Train(*config, options, **sink);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_LT(result->val_loss, 0.01);
  auto package = models::LoadPackage(result->model_dir);
  ASSERT_TRUE(package.ok());
  EXPECT_EQ(package->info.task, models::Task::kRegression);
  auto prediction = models::RunModel(*package, torch::tensor({{1.0f, 1.0f}}));
  ASSERT_TRUE(prediction.ok());
  EXPECT_NEAR(prediction->item<float>(), 4.0, 0.1);
}

TEST_F(TrainerTest, ClearErrorsForBadConfigMissingDataAndMissingCheckpoint) {
  RunOptions options{.run_dir = dir_ / "bad", .data_dir = dir_, .threads = 1};
  auto sink = JsonLinesSink::Open(options.run_dir / "metrics.jsonl");
  auto bad_epochs = Train(MakeConfig({"train.epochs=0"}), options, **sink);
  EXPECT_EQ(bad_epochs.status().code(), core::StatusCode::kInvalidArgument);
  auto no_dataset = Train(*core::Config::Parse("data: {name: mnist}\nmodel: {kind: mlp}", "x.yaml"),
                          options, **sink);
  EXPECT_EQ(no_dataset.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(no_dataset.status().message().find("mlforge data get mnist"), std::string::npos);
  options.resume = true;
  auto no_checkpoint = Train(MakeConfig(), options, **sink);
  EXPECT_EQ(no_checkpoint.status().code(), core::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mlforge::train
