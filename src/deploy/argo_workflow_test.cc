#include "deploy/argo_workflow.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>

namespace mlforge::deploy {
namespace {

using pipeline::CommandKind;
using pipeline::Output;
using pipeline::OutputType;
using pipeline::ParamType;
using pipeline::Pipeline;
using pipeline::Step;

// The spec of examples/pipeline/hello.yaml, built by hand (the loader lives
// in pipeline/), plus an mlforge step with an input file.
Pipeline Hello(const std::filesystem::path& config) {
  Pipeline spec;
  spec.name = "hello";
  spec.params = {
      {"greeting", ParamType::kString, pipeline::Value{ParamType::kString, "hello", {}}, "", {}},
      {"threshold", ParamType::kFloat, pipeline::Value{ParamType::kFloat, "0.5", {}}, "", {}},
      {"names", ParamType::kList, pipeline::Value{ParamType::kList, "", {"ada", "grace"}}, "", {}},
      {"epochs", ParamType::kInt, std::nullopt, "epochs to train", {}},
  };
  Step write;
  write.name = "write";
  write.command = "echo {{params.greeting}} > {{outputs.text}}";
  write.outputs = {{"text", OutputType::kFile, "", "", {}}};
  Step count;
  count.name = "count_lines";
  count.command = "printf '{\"lines\": 1}' > {{outputs.stats}} # {{steps.write.outputs.text}}";
  count.outputs = {{"stats", OutputType::kFile, "", "", {}},
                   {"lines", OutputType::kInt, "stats", "lines", {}}};
  count.depends = {"write"};
  Step greet;
  greet.name = "greet";
  greet.command = "mkdir -p {{outputs.dir}} && echo {{item}} > {{outputs.dir}}/card.txt";
  greet.outputs = {{"dir", OutputType::kFolder, "", "", {}}};
  greet.for_each = pipeline::ForEach{{}, "names", {}};
  Step train;
  train.name = "train";
  train.kind = CommandKind::kMlforge;
  train.command = "train " + config.filename().string() + " --set train.epochs={{params.epochs}}";
  train.inputs = {config.filename().string()};
  train.when = "{{steps.count_lines.outputs.lines}} > 0 and params.threshold < 1 and not false";
  train.depends = {"count_lines", "greet", "write"};
  train.retry.limit = 2;
  train.retry.backoff = std::chrono::seconds(5);
  train.timeout = std::chrono::milliseconds(90'500);
  train.command += " # {{steps.greet.outputs.dir}}";
  spec.steps = {write, count, greet, train};
  Step exit_step;
  exit_step.name = "on_exit";
  exit_step.command = "echo pipeline {{pipeline.name}} {{pipeline.status}}";
  spec.on_exit = exit_step;
  return spec;
}

class ArgoWorkflowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("argo_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "train.yaml") << "experiment: hello\n";
    options_.image = "mlforge:0.1.0";
    options_.working_dir = dir_;
    options_.tracking_uri = "http://mlforge-server:5000";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  YAML::Node Render(const Pipeline& spec) {
    auto documents = RenderArgoWorkflow(spec, options_);
    EXPECT_TRUE(documents.ok()) << documents.status().message();
    if (!documents.ok()) return {};
    std::vector<YAML::Node> nodes = YAML::LoadAll(ToYaml(*documents));
    EXPECT_EQ(nodes.size(), 1U);
    return nodes.at(0);
  }

  static YAML::Node Named(const YAML::Node& list, const std::string& name) {
    for (const auto& item : list) {
      if (item["name"].as<std::string>() == name) return item;
    }
    ADD_FAILURE() << "nothing named " << name;
    return {};
  }

  std::filesystem::path dir_;
  ArgoOptions options_;
};

TEST_F(ArgoWorkflowTest, DagParametersRetriesWhenLoopsAndExitHandler) {
  YAML::Node workflow = Render(Hello(dir_ / "train.yaml"));
  EXPECT_EQ(workflow["apiVersion"].as<std::string>(), "argoproj.io/v1alpha1");
  EXPECT_EQ(workflow["kind"].as<std::string>(), "Workflow");
  EXPECT_EQ(workflow["metadata"]["generateName"].as<std::string>(), "hello-");
  const YAML::Node spec = workflow["spec"];
  EXPECT_EQ(spec["entrypoint"].as<std::string>(), "main");
  EXPECT_EQ(spec["onExit"].as<std::string>(), "on-exit");

  const YAML::Node parameters = spec["arguments"]["parameters"];
  EXPECT_EQ(Named(parameters, "greeting")["value"].as<std::string>(), "hello");
  EXPECT_EQ(Named(parameters, "names")["value"].as<std::string>(), R"(["ada","grace"])");
  EXPECT_FALSE(Named(parameters, "epochs")["value"]) << "no default: given at submit time";

  const YAML::Node tasks = Named(spec["templates"], "main")["dag"]["tasks"];
  ASSERT_EQ(tasks.size(), 4U);
  EXPECT_FALSE(Named(tasks, "write")["depends"]);
  const YAML::Node count = Named(tasks, "count-lines");
  EXPECT_EQ(count["depends"].as<std::string>(), "write.Succeeded") << "uses write's output";
  EXPECT_EQ(Named(count["arguments"]["parameters"], "write--text")["value"].as<std::string>(),
            "{{tasks.write.outputs.parameters.text}}");
  const YAML::Node greet = Named(tasks, "greet");
  EXPECT_EQ(greet["withParam"].as<std::string>(), "{{workflow.parameters.names}}");
  EXPECT_EQ(Named(greet["arguments"]["parameters"], "item")["value"].as<std::string>(), "{{item}}");
  const YAML::Node train = Named(tasks, "train");
  EXPECT_EQ(train["depends"].as<std::string>(),
            "count-lines.Succeeded && greet.Succeeded && (write.Succeeded || write.Skipped)");
  EXPECT_EQ(train["when"].as<std::string>(),
            "{{=jsonpath(tasks['count-lines'].outputs.parameters['lines'], '$.lines')}} > 0 && "
            "{{workflow.parameters.threshold}} < 1 && ! false");

  const YAML::Node train_template = Named(spec["templates"], "train");
  EXPECT_EQ(train_template["retryStrategy"]["limit"].as<int>(), 2);
  EXPECT_EQ(train_template["retryStrategy"]["backoff"]["duration"].as<std::string>(), "5s");
  EXPECT_EQ(train_template["retryStrategy"]["backoff"]["factor"].as<int>(), 2);
  EXPECT_EQ(train_template["activeDeadlineSeconds"].as<int>(), 91);
  const YAML::Node container = train_template["container"];
  EXPECT_EQ(container["image"].as<std::string>(), "mlforge:0.1.0");
  const std::string script = container["args"][0].as<std::string>();
  EXPECT_NE(
      script.find("mlforge train train.yaml --set train.epochs={{workflow.parameters.epochs}}"),
      std::string::npos)
      << script;
  EXPECT_NE(script.find("{{inputs.parameters.greet--dir}}"), std::string::npos) << script;
  // The config file rides along as a raw artifact in the working folder.
  const YAML::Node artifact = train_template["inputs"]["artifacts"][0];
  EXPECT_EQ(artifact["path"].as<std::string>(), "/mnt/mlforge/work/train.yaml");
  EXPECT_EQ(artifact["raw"]["data"].as<std::string>(), "experiment: hello\n");
  EXPECT_EQ(Named(container["env"], "MLFLOW_TRACKING_URI")["value"].as<std::string>(),
            "http://mlforge-server:5000");

  const YAML::Node write_template = Named(spec["templates"], "write");
  const std::string write_script = write_template["container"]["args"][0].as<std::string>();
  EXPECT_NE(write_script.find("echo {{workflow.parameters.greeting}} > "
                              "/mnt/mlforge/pipelines/{{workflow.name}}/write/text"),
            std::string::npos)
      << write_script;
  EXPECT_EQ(write_template["outputs"]["parameters"][0]["valueFrom"]["path"].as<std::string>(),
            "/tmp/mlforge-outputs/text");
  const std::string greet_script =
      Named(spec["templates"], "greet")["container"]["args"][0].as<std::string>();
  EXPECT_NE(greet_script.find("greet/{{pod.name}}/dir"), std::string::npos) << greet_script;
  EXPECT_NE(greet_script.find("echo {{inputs.parameters.item}}"), std::string::npos);

  const std::string exit_script =
      Named(spec["templates"], "on-exit")["container"]["args"][0].as<std::string>();
  EXPECT_NE(exit_script.find("echo pipeline hello {{workflow.status}}"), std::string::npos);
  // Without --pvc, Argo makes a claim per workflow.
  EXPECT_EQ(spec["volumeClaimTemplates"][0]["metadata"]["name"].as<std::string>(), "work");
}

TEST_F(ArgoWorkflowTest, WithItemsAndPvc) {
  Pipeline spec = Hello(dir_ / "train.yaml");
  spec.steps[2].for_each = pipeline::ForEach{{"mnist", "fashion-mnist"}, "", {}};
  options_.pvc = "pipeline-work";
  YAML::Node workflow = Render(spec);
  const YAML::Node tasks = Named(workflow["spec"]["templates"], "main")["dag"]["tasks"];
  const YAML::Node items = Named(tasks, "greet")["withItems"];
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items[1].as<std::string>(), "fashion-mnist");
  EXPECT_EQ(workflow["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"].as<std::string>(),
            "pipeline-work");
}

TEST_F(ArgoWorkflowTest, AReferencedRunIdComesFromARunTheStepOpens) {
  Pipeline spec = Hello(dir_ / "train.yaml");
  spec.steps[3].command = "echo {{steps.write.run_id}}";
  YAML::Node workflow = Render(spec);
  const YAML::Node templates = workflow["spec"]["templates"];
  const YAML::Node write = Named(templates, "write");
  const std::string script = write["container"]["args"][0].as<std::string>();
  EXPECT_NE(script.find("MLFLOW_RUN_ID=$(mlforge runs create --experiment 'hello' --run-name "
                        "'write'"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("mlforge runs end \"$MLFLOW_RUN_ID\" --status FAILED"), std::string::npos);
  EXPECT_EQ(Named(write["outputs"]["parameters"], "mlforge-run-id")["valueFrom"]["path"]
                .as<std::string>(),
            "/tmp/mlforge-outputs/mlforge-run-id");
  const std::string user = spec.steps[3].name;
  const YAML::Node task = Named(Named(templates, "main")["dag"]["tasks"], user);
  EXPECT_EQ(Named(task["arguments"]["parameters"], "write--mlforge-run-id")["value"].as<std::string>(),
            "{{tasks.write.outputs.parameters.mlforge-run-id}}");
  // Steps nobody names keep their plain script.
  EXPECT_EQ(Named(templates, "count-lines")["container"]["args"][0].as<std::string>().find("runs create"),
            std::string::npos);
}

TEST_F(ArgoWorkflowTest, WhatArgoCannotExpressIsAClearError) {
  Pipeline exit_run_id = Hello(dir_ / "train.yaml");
  exit_run_id.on_exit->command = "echo {{steps.write.run_id}}";
  auto rendered = RenderArgoWorkflow(exit_run_id, options_);
  ASSERT_FALSE(rendered.ok());
  EXPECT_NE(rendered.status().message().find("exit handler"), std::string::npos);

  Pipeline exit_outputs = Hello(dir_ / "train.yaml");
  exit_outputs.on_exit->command = "cat {{steps.write.outputs.text}}";
  rendered = RenderArgoWorkflow(exit_outputs, options_);
  ASSERT_FALSE(rendered.ok());
  EXPECT_NE(rendered.status().message().find("exit handler"), std::string::npos);

  Pipeline collide = Hello(dir_ / "train.yaml");
  collide.steps[0].name = "count-lines";
  rendered = RenderArgoWorkflow(collide, options_);
  ASSERT_FALSE(rendered.ok());
  EXPECT_NE(rendered.status().message().find("rename one"), std::string::npos);

  ArgoOptions bad = options_;
  bad.image = "No Image";
  rendered = RenderArgoWorkflow(Hello(dir_ / "train.yaml"), bad);
  ASSERT_FALSE(rendered.ok());
  EXPECT_NE(rendered.status().message().find("--image"), std::string::npos);
}

}  // namespace
}  // namespace mlforge::deploy
