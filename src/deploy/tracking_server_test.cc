#include "deploy/tracking_server.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace mlforge::deploy {
namespace {

TrackingServerOptions Options() {
  TrackingServerOptions options;
  options.image = "mlforge:0.1.0";
  options.postgres_uri_secret = "mlforge-postgres";
  options.artifacts_pvc = "mlforge-artifacts";
  options.auth_secret = "mlforge-admin";
  return options;
}

std::vector<YAML::Node> Render(const TrackingServerOptions& options) {
  auto documents = RenderTrackingServer(options);
  EXPECT_TRUE(documents.ok()) << documents.status().message();
  if (!documents.ok()) return {};
  return YAML::LoadAll(ToYaml(*documents));
}

std::vector<std::string> Strings(const YAML::Node& list) {
  std::vector<std::string> values;
  for (const auto& item : list) values.push_back(item.as<std::string>());
  return values;
}

TEST(RenderTrackingServerTest, PostgresFromSecretWithArtifactVolume) {
  std::vector<YAML::Node> objects = Render(Options());
  ASSERT_EQ(objects.size(), 2U);
  const YAML::Node pod = objects[0]["spec"]["template"]["spec"];
  const YAML::Node container = pod["containers"][0];
  const std::vector<std::string> args = Strings(container["args"]);
  const std::vector<std::string> expected = {"server",
                                             "--host",
                                             "0.0.0.0",
                                             "--port",
                                             "5000",
                                             "--backend-store-uri",
                                             "$(MLFORGE_BACKEND_STORE_URI)",
                                             "--artifacts-destination",
                                             "/mnt/mlforge/artifacts",
                                             "--auth",
                                             "--auth-db",
                                             "/mnt/mlforge/basic_auth.db"};
  EXPECT_EQ(args, expected);
  EXPECT_EQ(container["env"][1]["name"].as<std::string>(), "MLFORGE_BACKEND_STORE_URI");
  EXPECT_EQ(container["env"][1]["valueFrom"]["secretKeyRef"]["name"].as<std::string>(),
            "mlforge-postgres");
  EXPECT_EQ(container["env"][2]["name"].as<std::string>(), "MLFORGE_ADMIN_PASSWORD");
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/health");
  EXPECT_EQ(pod["volumes"][0]["persistentVolumeClaim"]["claimName"].as<std::string>(),
            "mlforge-artifacts");
  EXPECT_EQ(objects[1]["spec"]["ports"][0]["port"].as<int>(), 5000);
}

TEST(RenderTrackingServerTest, SqliteWithoutSecretIsOneReplica) {
  TrackingServerOptions options = Options();
  options.postgres_uri_secret.clear();
  options.auth_secret.clear();
  options.insecure_no_auth = true;
  std::vector<YAML::Node> objects = Render(options);
  ASSERT_EQ(objects.size(), 2U);
  const std::vector<std::string> args =
      Strings(objects[0]["spec"]["template"]["spec"]["containers"][0]["args"]);
  EXPECT_EQ(args[6], "sqlite:////mnt/mlforge/mlruns.db");
  EXPECT_EQ(args.back(), "--insecure-no-auth");
  EXPECT_EQ(objects[0]["spec"]["strategy"]["type"].as<std::string>(), "Recreate");

  options.replicas = 2;
  auto rendered = RenderTrackingServer(options);
  ASSERT_FALSE(rendered.ok());
  EXPECT_NE(rendered.status().message().find("--postgres-uri-secret"), std::string::npos);
}

TEST(RenderTrackingServerTest, AuthMustBeChosen) {
  TrackingServerOptions options = Options();
  options.auth_secret.clear();
  auto neither = RenderTrackingServer(options);
  ASSERT_FALSE(neither.ok());
  EXPECT_NE(neither.status().message().find("--auth-secret NAME"), std::string::npos);
  options.auth_secret = "admin";
  options.insecure_no_auth = true;
  EXPECT_FALSE(RenderTrackingServer(options).ok());
  options = Options();
  options.image = "";
  EXPECT_FALSE(RenderTrackingServer(options).ok());
}

}  // namespace
}  // namespace mlforge::deploy
