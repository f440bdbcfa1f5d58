#include "deploy/train_job.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace mlforge::deploy {
namespace {

constexpr const char* kConfig = "experiment: mnist\ndata:\n  name: mnist\ntrain:\n  epochs: 3\n";

TrainJobOptions Options() {
  TrainJobOptions options;
  options.config_name = "train.yaml";
  options.config_text = kConfig;
  options.workers = 4;
  options.image = "registry.example.com/mlforge:0.1.0";
  options.tracking_uri = "http://mlforge-server:5000";
  return options;
}

std::vector<YAML::Node> Render(const TrainJobOptions& options) {
  auto documents = RenderTrainJob(options);
  EXPECT_TRUE(documents.ok()) << documents.status().message();
  if (!documents.ok()) return {};
  return YAML::LoadAll(ToYaml(*documents));
}

// The value of env var `name` in `container`, "" when absent.
std::string EnvValue(const YAML::Node& container, const std::string& name) {
  for (const auto& entry : container["env"]) {
    if (entry["name"].as<std::string>() == name && entry["value"]) {
      return entry["value"].as<std::string>();
    }
  }
  return "";
}

TEST(RenderTrainJobTest, IndexedJobWithHeadlessService) {
  std::vector<YAML::Node> objects = Render(Options());
  ASSERT_EQ(objects.size(), 3U);
  EXPECT_EQ(objects[0]["kind"].as<std::string>(), "ConfigMap");
  EXPECT_EQ(objects[0]["metadata"]["name"].as<std::string>(), "mlforge-train-mnist-config");
  EXPECT_EQ(objects[0]["data"]["train.yaml"].as<std::string>(), kConfig);

  const YAML::Node& service = objects[1];
  EXPECT_EQ(service["kind"].as<std::string>(), "Service");
  EXPECT_EQ(service["spec"]["clusterIP"].as<std::string>(), "None");
  const std::string name = service["metadata"]["name"].as<std::string>();
  EXPECT_EQ(name, "mlforge-train-mnist");

  const YAML::Node& job = objects[2];
  EXPECT_EQ(job["apiVersion"].as<std::string>(), "batch/v1");
  EXPECT_EQ(job["spec"]["completionMode"].as<std::string>(), "Indexed");
  EXPECT_EQ(job["spec"]["completions"].as<int>(), 4);
  EXPECT_EQ(job["spec"]["parallelism"].as<int>(), 4);
  EXPECT_EQ(job["spec"]["backoffLimit"].as<int>(), 0);
  const YAML::Node pod = job["spec"]["template"]["spec"];
  EXPECT_EQ(pod["subdomain"].as<std::string>(), name);
  EXPECT_EQ(pod["restartPolicy"].as<std::string>(), "Never");
  // The Service selects exactly the Job's pods.
  for (const auto& label : service["spec"]["selector"]) {
    EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"][label.first.as<std::string>()]
                  .as<std::string>(),
              label.second.as<std::string>());
  }
  const YAML::Node container = pod["containers"][0];
  EXPECT_EQ(EnvValue(container, "WORLD_SIZE"), "4");
  EXPECT_EQ(EnvValue(container, "MASTER_ADDR"), name + "-0." + name);
  EXPECT_EQ(EnvValue(container, "MASTER_PORT"), "29500");
  EXPECT_EQ(EnvValue(container, "MLFLOW_TRACKING_URI"), "http://mlforge-server:5000");
  EXPECT_EQ(container["command"][0].as<std::string>(), "mlforge");
  EXPECT_EQ(container["args"][0].as<std::string>(), "train");
  EXPECT_EQ(container["args"][1].as<std::string>(), "/etc/mlforge/train.yaml");
  // The dataset the config names is fetched before training.
  EXPECT_EQ(pod["initContainers"][0]["args"][2].as<std::string>(), "mnist");
  EXPECT_TRUE(pod["volumes"][1]["emptyDir"]);
}

TEST(RenderTrainJobTest, RestartsPvcNamespaceAndOverrides) {
  TrainJobOptions options = Options();
  options.max_restarts = 2;
  options.pvc = "mnist-data";
  options.name_space = "ml";
  options.name = "mnist";
  options.overrides = {"train.epochs=1"};
  std::vector<YAML::Node> objects = Render(options);
  ASSERT_EQ(objects.size(), 3U);
  for (const auto& object : objects) {
    EXPECT_EQ(object["metadata"]["namespace"].as<std::string>(), "ml");
  }
  const YAML::Node& job = objects[2];
  EXPECT_EQ(job["spec"]["backoffLimit"].as<int>(), 8) << "2 group restarts of 4 pods";
  const YAML::Node pod = job["spec"]["template"]["spec"];
  EXPECT_EQ(pod["volumes"][1]["persistentVolumeClaim"]["claimName"].as<std::string>(),
            "mnist-data");
  const YAML::Node args = pod["containers"][0]["args"];
  EXPECT_EQ(args[args.size() - 2].as<std::string>(), "--set");
  EXPECT_EQ(args[args.size() - 1].as<std::string>(), "train.epochs=1");
}

TEST(RenderTrainJobTest, PyTorchJobMasterAndWorkers) {
  TrainJobOptions options = Options();
  options.kind = TrainKind::kPyTorchJob;
  options.max_restarts = 3;
  std::vector<YAML::Node> objects = Render(options);
  ASSERT_EQ(objects.size(), 2U);
  const YAML::Node& job = objects[1];
  EXPECT_EQ(job["apiVersion"].as<std::string>(), "kubeflow.org/v1");
  EXPECT_EQ(job["kind"].as<std::string>(), "PyTorchJob");
  EXPECT_EQ(job["spec"]["runPolicy"]["backoffLimit"].as<int>(), 3);
  const YAML::Node replicas = job["spec"]["pytorchReplicaSpecs"];
  EXPECT_EQ(replicas["Master"]["replicas"].as<int>(), 1);
  EXPECT_EQ(replicas["Worker"]["replicas"].as<int>(), 3);
  EXPECT_EQ(replicas["Worker"]["restartPolicy"].as<std::string>(), "OnFailure");
  const YAML::Node container = replicas["Master"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(container["name"].as<std::string>(), "pytorch");
  EXPECT_EQ(container["ports"][0]["name"].as<std::string>(), "pytorchjob-port");
  // The operator sets these itself.
  EXPECT_EQ(EnvValue(container, "MASTER_ADDR"), "");
  EXPECT_EQ(EnvValue(container, "WORLD_SIZE"), "");

  options.workers = 1;
  objects = Render(options);
  ASSERT_EQ(objects.size(), 2U);
  EXPECT_FALSE(objects[1]["spec"]["pytorchReplicaSpecs"]["Worker"]) << "one pod: a Master only";
}

TEST(RenderTrainJobTest, SeveralRanksPerPodRunUnderTheWrapper) {
  TrainJobOptions options = Options();
  options.nproc_per_pod = 2;
  std::vector<YAML::Node> objects = Render(options);
  ASSERT_EQ(objects.size(), 3U);
  const YAML::Node container = objects[2]["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(EnvValue(container, "WORLD_SIZE"), "8");
  ASSERT_EQ(container["command"].size(), 4U);
  EXPECT_EQ(container["command"][0].as<std::string>(), "/bin/sh");
  const std::string script = container["command"][2].as<std::string>();
  EXPECT_NE(script.find("RANK=$((node * 2 + local_rank))"), std::string::npos) << script;
  EXPECT_NE(script.find("WORLD_SIZE=8"), std::string::npos) << script;
  EXPECT_EQ(container["command"][3].as<std::string>(), "mlforge");
}

TEST(RenderTrainJobTest, BadOptionsNameTheFlag) {
  struct Case {
    void (*change)(TrainJobOptions&);
    const char* expected;
  };
  const Case cases[] = {
      {[](TrainJobOptions& o) { o.workers = 0; }, "--workers is 0; it must be at least 1"},
      {[](TrainJobOptions& o) { o.nproc_per_pod = 0; }, "--nproc-per-pod"},
      {[](TrainJobOptions& o) { o.max_restarts = -1; }, "--max-restarts"},
      {[](TrainJobOptions& o) { o.image = "Registry/MLforge"; }, "--image 'Registry/MLforge'"},
      {[](TrainJobOptions& o) { o.image = ""; }, "--image is empty"},
      {[](TrainJobOptions& o) { o.cpu = "lots"; }, "--cpu 'lots'"},
      {[](TrainJobOptions& o) { o.name = "My_Job"; }, "--name 'My_Job'"},
      {[](TrainJobOptions& o) { o.name = std::string(51, 'a'); }, "at most 50"},
      {[](TrainJobOptions& o) { o.pvc = "Bad Claim"; }, "--pvc"},
      {[](TrainJobOptions& o) { o.tracking_uri.clear(); }, "neither --tracking-uri nor --pvc"},
      {[](TrainJobOptions& o) { o.config_text = "- a\n- b\n"; }, "must be a mapping"},
      {[](TrainJobOptions& o) { o.config_text = "a: [1, 2\n"; }, "training config"},
      {[](TrainJobOptions& o) { o.overrides = {"no-equals-sign"}; }, "no-equals-sign"},
      {[](TrainJobOptions& o) { o.master_port = 0; }, "--master-port"},
  };
  for (const Case& test_case : cases) {
    TrainJobOptions options = Options();
    test_case.change(options);
    auto rendered = RenderTrainJob(options);
    ASSERT_FALSE(rendered.ok()) << test_case.expected;
    EXPECT_EQ(rendered.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(rendered.status().message().find(test_case.expected), std::string::npos)
        << rendered.status().message();
  }
}

TEST(ParseTrainKindTest, KnownKinds) {
  EXPECT_EQ(*ParseTrainKind("job"), TrainKind::kIndexedJob);
  EXPECT_EQ(*ParseTrainKind("pytorchjob"), TrainKind::kPyTorchJob);
  auto unknown = ParseTrainKind("mpijob");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'mpijob'"), std::string::npos);
}

}  // namespace
}  // namespace mlforge::deploy
