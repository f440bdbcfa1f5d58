#include "deploy/serving.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "net/http_server.h"

namespace mlforge::deploy {
namespace {

ServeOptions Options() {
  ServeOptions options;
  options.model_uri = "models:/mnist@champion";
  options.image = "mlforge:0.1.0";
  options.tracking_uri = "http://mlforge-server:5000";
  options.replicas = 2;
  return options;
}

std::vector<YAML::Node> Render(const ServeOptions& options) {
  auto documents = RenderServe(options);
  EXPECT_TRUE(documents.ok()) << documents.status().message();
  if (!documents.ok()) return {};
  return YAML::LoadAll(ToYaml(*documents));
}

TEST(RenderServeTest, DeploymentServiceAutoscaler) {
  std::vector<YAML::Node> objects = Render(Options());
  ASSERT_EQ(objects.size(), 3U);
  const YAML::Node& deployment = objects[0];
  EXPECT_EQ(deployment["kind"].as<std::string>(), "Deployment");
  EXPECT_EQ(deployment["metadata"]["name"].as<std::string>(), "mlforge-serve-mnist");
  EXPECT_EQ(deployment["spec"]["replicas"].as<int>(), 2);
  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  const YAML::Node container = pod["containers"][0];
  EXPECT_EQ(container["args"][1].as<std::string>(), "models:/mnist@champion");
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/v2/health/ready");
  EXPECT_EQ(container["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/v2/health/live");
  EXPECT_EQ(container["lifecycle"]["preStop"]["exec"]["command"][0].as<std::string>(), "sleep");
  // The grace period covers the preStop sleep and the server's own drain.
  const int drain_seconds = static_cast<int>(
      std::chrono::ceil<std::chrono::seconds>(net::HttpServer::Options{}.drain_timeout).count());
  EXPECT_GT(pod["terminationGracePeriodSeconds"].as<int>(), PreStopSeconds() + drain_seconds);
  EXPECT_EQ(container["resources"]["requests"]["cpu"].as<std::string>(), "1");

  const YAML::Node& service = objects[1];
  EXPECT_EQ(service["spec"]["ports"][0]["port"].as<int>(), 8080);

  const YAML::Node& hpa = objects[2];
  EXPECT_EQ(hpa["apiVersion"].as<std::string>(), "autoscaling/v2");
  EXPECT_EQ(hpa["spec"]["minReplicas"].as<int>(), 2);
  EXPECT_EQ(hpa["spec"]["maxReplicas"].as<int>(), 8);
  EXPECT_EQ(hpa["spec"]["scaleTargetRef"]["name"].as<std::string>(), "mlforge-serve-mnist");
  ASSERT_EQ(hpa["spec"]["metrics"].size(), 2U);
  EXPECT_EQ(hpa["spec"]["metrics"][1]["pods"]["metric"]["name"].as<std::string>(),
            "mlforge_serving_queue_depth");

  ServeOptions cpu_only = Options();
  cpu_only.cpu_only = true;
  objects = Render(cpu_only);
  ASSERT_EQ(objects.size(), 3U);
  EXPECT_EQ(objects[2]["spec"]["metrics"].size(), 1U);
}

TEST(RenderServeTest, NamesFromOtherUris) {
  ServeOptions options = Options();
  options.model_uri = "runs:/0123456789abcdef0123/model";
  EXPECT_EQ(Render(options)[0]["metadata"]["name"].as<std::string>(),
            "mlforge-serve-run-0123456789ab");
  options.model_uri = "/models/Fashion_CNN/model";
  options.tracking_uri.clear();
  EXPECT_EQ(Render(options)[0]["metadata"]["name"].as<std::string>(), "mlforge-serve-fashion-cnn");
}

TEST(RenderServeTest, BadOptionsNameTheFlag) {
  struct Case {
    void (*change)(ServeOptions&);
    const char* expected;
  };
  const Case cases[] = {
      {[](ServeOptions& o) { o.replicas = 0; }, "--replicas is 0"},
      {[](ServeOptions& o) { o.max_replicas = 1; }, "--max-replicas 1 is below --replicas 2"},
      {[](ServeOptions& o) { o.image = "bad image"; }, "--image 'bad image'"},
      {[](ServeOptions& o) { o.port = 99999; }, "--port 99999"},
      {[](ServeOptions& o) { o.target_cpu_percent = 0; }, "--target-cpu"},
      {[](ServeOptions& o) { o.tracking_uri.clear(); }, "no --tracking-uri"},
      {[](ServeOptions& o) { o.model_uri.clear(); }, "model URI is empty"},
      {[](ServeOptions& o) { o.memory = "1 GB"; }, "--memory"},
      {[](ServeOptions& o) { o.name = "Serve!"; }, "--name 'Serve!'"},
  };
  for (const Case& test_case : cases) {
    ServeOptions options = Options();
    test_case.change(options);
    auto rendered = RenderServe(options);
    ASSERT_FALSE(rendered.ok()) << test_case.expected;
    EXPECT_NE(rendered.status().message().find(test_case.expected), std::string::npos)
        << rendered.status().message();
  }
}

}  // namespace
}  // namespace mlforge::deploy
