#include "lineage/reproduce.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/config.h"
#include "core/hash.h"
#include "core/testing/temp_dir.h"
#include "data/datasets.h"
#include "tracking/store_factory.h"

namespace mlforge::lineage {
namespace {

class ReproduceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uri_ = "sqlite:///" + (dir_.path() / "mlruns.db").string();
    auto store = tracking::OpenStore(uri_, (dir_.path() / "artifacts").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto experiment = store_->CreateExperiment("repro", "", {});
    ASSERT_TRUE(experiment.ok());
    experiment_ = *experiment;
    // A small dataset folder with a manifest whose file digests are real.
    data_dir_ = dir_.path() / "data";
    const std::filesystem::path folder = data_dir_ / "tiny";
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "t10k-images-idx3-ubyte") << "images";
    data::Manifest manifest;
    manifest.name = "tiny";
    manifest.source = "test";
    manifest.digest = "feedbeefcafe0000111122223333444455556666777788889999aaaabbbbcccc";
    manifest.files["t10k-images-idx3-ubyte"] = *core::Sha256File(folder / "t10k-images-idx3-ubyte");
    manifest.rows = {{"test", 1}};
    manifest.feature_shape = {1};
    manifest.num_classes = 2;
    ASSERT_TRUE(data::WriteManifest(folder, manifest).ok());
  }

  // A finished run shaped like one of `mlforge train`'s.
  std::string TrainedRun(const std::string& digest, bool with_config_artifact) {
    auto run = store_->CreateRun(experiment_, "tester", 1, {{"mlflow.source.name", "t.yaml"}},
                                 std::nullopt);
    EXPECT_TRUE(run.ok());
    const std::string id = run->info.run_id;
    EXPECT_TRUE(store_
                    ->LogBatch(id,
                               {tracking::Metric("val_accuracy", 0.5, 1, 10),
                                tracking::Metric("samples_per_second", 1234, 1, 10)},
                               {{"seed", "3"}, {"data.name", "tiny"}, {"model.layers", "[8, 4]"}},
                               {{"mlforge.dataset.name", "tiny"},
                                {"mlforge.dataset.digest", digest},
                                {"mlforge.intra_op_threads", "2"}})
                    .ok());
    if (with_config_artifact) {
      std::filesystem::path artifacts = run->info.artifact_uri;
      if (run->info.artifact_uri.rfind("file://", 0) == 0) {
        artifacts = run->info.artifact_uri.substr(7);
      }
      std::filesystem::create_directories(artifacts);
      std::ofstream(artifacts / "config.yaml") << "seed: 3\ndata:\n  name: tiny\n";
    }
    EXPECT_TRUE(store_->UpdateRun(id, tracking::RunStatus::kFinished, 2, std::nullopt).ok());
    return id;
  }

  core::testing::ScopedTempDir dir_;
  std::string uri_;
  std::string experiment_;
  std::filesystem::path data_dir_;
  std::unique_ptr<tracking::Store> store_;
};

constexpr char kDigest[] = "feedbeefcafe0000111122223333444455556666777788889999aaaabbbbcccc";

TEST_F(ReproduceTest, PlanUsesConfigArtifactAndChecksTheDigest) {
  const std::string id = TrainedRun(kDigest, true);
  auto plan = PlanReproduction(*store_, id, uri_, data_dir_);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->config_origin, "artifact config.yaml");
  EXPECT_EQ(plan->config_yaml, "seed: 3\ndata:\n  name: tiny\n");
  EXPECT_EQ(plan->experiment_name, "repro");
  EXPECT_EQ(plan->dataset_name, "tiny");
  EXPECT_EQ(plan->local_digest, kDigest);
  EXPECT_EQ(plan->intra_op_threads, 2);
}

TEST_F(ReproduceTest, PlanFallsBackToParamsAndAcceptsADigestPrefix) {
  const std::string id = TrainedRun(std::string(kDigest).substr(0, 16), false);
  auto plan = PlanReproduction(*store_, id, uri_, data_dir_);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->config_origin, "params");
  auto config = core::Config::Parse(plan->config_yaml, "rebuilt");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(*config->Int("seed"), 3);
  EXPECT_EQ(*config->IntList("model.layers"), (std::vector<int64_t>{8, 4}));
}

TEST_F(ReproduceTest, OtherDataIsAClearError) {
  const std::string id = TrainedRun(std::string(64, '0'), true);
  auto plan = PlanReproduction(*store_, id, uri_, data_dir_);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_NE(plan.status().message().find("has digest " + std::string(kDigest)), std::string::npos)
      << plan.status().message();
  EXPECT_NE(plan.status().message().find("trained on digest " + std::string(64, '0')),
            std::string::npos);

  // A data file changed after the fetch is caught too.
  std::ofstream(data_dir_ / "tiny" / "t10k-images-idx3-ubyte") << "other";
  const std::string good = TrainedRun(kDigest, true);
  auto changed = PlanReproduction(*store_, good, uri_, data_dir_);
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.status().message().find("has changed since it was fetched"), std::string::npos);

  auto absent = PlanReproduction(*store_, good, uri_, dir_.path() / "nowhere");
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.status().message().find("mlforge data get tiny"), std::string::npos);
}

TEST(CompareRunsTest, ChecksModelMetricsWithinToleranceAndSkipsTiming) {
  tracking::Run source;
  source.info.run_id = "a";
  source.data.metrics = {tracking::Metric("samples_per_second", 100, 0, 1),
                         tracking::Metric("test_accuracy", 0.9, 0, 1),
                         tracking::Metric("val_accuracy", 0.9, 0, 1),
                         tracking::Metric("val_loss", 0.3, 0, 1)};
  tracking::Run same;
  same.info.run_id = "b";
  same.data.metrics = {tracking::Metric("samples_per_second", 200, 0, 1),
                       tracking::Metric("val_accuracy", 0.9, 0, 1),
                       tracking::Metric("val_loss", 0.3 + 1e-9, 0, 1)};
  ReproductionReport report = CompareRuns(source, same, 1e-6);
  EXPECT_TRUE(report.matches());
  ASSERT_EQ(report.checks.size(), 2u);
  EXPECT_EQ(report.skipped, (std::vector<std::string>{"samples_per_second", "test_accuracy"}));

  same.data.metrics[2].value = 0.31;
  report = CompareRuns(source, same, 1e-6);
  EXPECT_FALSE(report.matches());
  EXPECT_FALSE(report.checks[1].matches);
  EXPECT_NEAR(report.checks[1].difference, 0.01, 1e-12);
  EXPECT_NE(FormatReport(report, 1e-6).find("MISMATCH"), std::string::npos);
  EXPECT_TRUE(CompareRuns(source, same, 0.1).matches());

  tracking::Run nothing_in_common;
  EXPECT_FALSE(CompareRuns(source, nothing_in_common, 1).matches());

  tracking::Run nan_source;
  nan_source.data.metrics = {tracking::Metric("loss", std::nan(""), 0, 1)};
  EXPECT_TRUE(CompareRuns(nan_source, nan_source, 0).matches());
  EXPECT_TRUE(IsTimingMetric("samples_per_second_rank_1"));
  EXPECT_TRUE(IsTimingMetric("epoch_seconds"));
  EXPECT_FALSE(IsTimingMetric("val_loss"));
}

}  // namespace
}  // namespace mlforge::lineage
