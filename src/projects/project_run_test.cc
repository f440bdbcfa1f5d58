#include "projects/project_run.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "core/file.h"
#include "core/testing/temp_dir.h"
#include "tracking/store_factory.h"

namespace mlforge::projects {
namespace {

class ProjectRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_ = dir_.path() / "project";
    std::filesystem::create_directories(project_);
    std::ofstream(project_ / "MLproject") << R"(
name: envcheck
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      rate: {type: float, default: 0.1}
      steps: int
    command: "echo \"$MLFLOW_RUN_ID $MLFLOW_EXPERIMENT_ID $MLFLOW_TRACKING_URI {rate} {steps}\" > out.txt"
  fail:
    command: "exit 3"
  slow:
    command: "touch started; sleep 30"
)";
    options_.project_dir = project_;
    options_.tracking_uri = "sqlite:///" + (dir_.path() / "mlruns.db").string();
    options_.default_artifact_root = (dir_.path() / "artifacts").string();
    options_.experiment = "projects";
    options_.warn = [this](const std::string& line) { warnings_.push_back(line); };
  }

  tracking::Run GetRun(const std::string& run_id) {
    auto store = tracking::OpenStore(options_.tracking_uri, options_.default_artifact_root);
    EXPECT_TRUE(store.ok());
    auto run = (*store)->GetRun(run_id);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return *run;
  }

  static std::map<std::string, std::string> Tags(const tracking::Run& run) {
    std::map<std::string, std::string> tags;
    for (const auto& tag : run.data.tags) tags[tag.key] = tag.value;
    return tags;
  }

  core::testing::ScopedTempDir dir_;
  std::filesystem::path project_;
  ProjectRunOptions options_;
  std::vector<std::string> warnings_;
};

TEST_F(ProjectRunTest, RunsEntryPointAsTrackedRunWithMlflowEnvironment) {
  options_.parameters = {{"steps", "7"}, {"note", "hello"}};
  options_.tags = {{"mlflow.parentRunId", "0123456789abcdef0123456789abcdef"}};
  auto result = RunProject(options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, "FINISHED");
  EXPECT_EQ(result->exit_code, 0);
  auto written = core::ReadFile(project_ / "out.txt");
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(*written, result->run_id + " " + result->experiment_id + " " + result->tracking_uri +
                          " 0.1 7 --note hello\n");

  tracking::Run run = GetRun(result->run_id);
  EXPECT_EQ(run.info.status, tracking::RunStatus::kFinished);
  ASSERT_TRUE(run.info.end_time.has_value());
  auto tags = Tags(run);
  EXPECT_EQ(tags["mlflow.source.type"], "PROJECT");
  EXPECT_EQ(tags["mlflow.project.entryPoint"], "main");
  EXPECT_EQ(tags["mlflow.parentRunId"], "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(tags["mlflow.source.name"], std::filesystem::absolute(project_).string());
  std::map<std::string, std::string> params;
  for (const auto& param : run.data.params) params[param.key] = param.value;
  EXPECT_EQ(params, (std::map<std::string, std::string>{
                        {"rate", "0.1"}, {"steps", "7"}, {"note", "hello"}}));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("python_env"), std::string::npos);
}

TEST_F(ProjectRunTest, NonZeroExitMarksRunFailed) {
  options_.entry_point = "fail";
  auto result = RunProject(options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, "FAILED");
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(GetRun(result->run_id).info.status, tracking::RunStatus::kFailed);
}

TEST_F(ProjectRunTest, BadParameterFailsBeforeAnyRunIsCreated) {
  options_.parameters = {{"steps", "many"}};
  auto result = RunProject(options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "parameter 'steps' is of type int: 'many' is not an integer (e.g. 10)");
  auto store = tracking::OpenStore(options_.tracking_uri, options_.default_artifact_root);
  ASSERT_TRUE(store.ok());
  EXPECT_FALSE((*store)->GetExperimentByName("projects").ok());
}

TEST_F(ProjectRunTest, StopSignalKillsCommandAndMarksRunKilled) {
  std::atomic<int> stop{0};
  options_.entry_point = "slow";
  options_.stop_signal = &stop;
  std::thread stopper([&] {
    for (int attempt = 0; attempt < 1000 && !std::filesystem::exists(project_ / "started");
         ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop.store(SIGTERM);
  });
  auto result = RunProject(options_);
  stopper.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, "KILLED");
  EXPECT_EQ(result->exit_code, 128 + SIGTERM);
  EXPECT_EQ(GetRun(result->run_id).info.status, tracking::RunStatus::kKilled);
}

}  // namespace
}  // namespace mlforge::projects
