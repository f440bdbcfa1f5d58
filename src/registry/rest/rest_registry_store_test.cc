// What only the REST registry client has, beyond the conformance suite
// (which runs it through a real server in registry_store_conformance_test.cc):
// JSON reading of every field, the server's words in errors, a stopped
// server, and models:/ URIs resolved over REST.

#include "registry/rest/rest_registry_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "registry/model_uri.h"
#include "registry/rest/registry_json.h"
#include "registry/testing/registry_conformance.h"
#include "registry/testing/served_rest_registry.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::registry::rest {
namespace {

// The registry conformance suite also runs on the REST client, through a
// real server on loopback over a SQLite file.
const testing::RegisterRegistryBackend kRestBackend({"Rest", testing::ServedRestRegistryStore::Open});

using testing::ServedRestRegistryStore;
using tracking::testing::ScopedTempDir;

TEST(RegistryJsonTest, ModelVersionRoundTrips) {
  ModelVersion version;
  version.name = "mnist";
  version.version = 7;
  version.creation_timestamp = 1700000000123;
  version.last_updated_timestamp = 1700000000456;
  version.user_id = "ana";
  version.current_stage = "Staging";
  version.description = "words";
  version.source = "mlflow-artifacts:/1/abc/artifacts/model";
  version.run_id = "abc";
  version.run_link = "http://x/#/runs/abc";
  version.status = ModelVersionStatus::kPendingRegistration;
  version.status_message = "copying";
  version.model_id = "m-0123";
  version.tags = {{"a", "1"}, {"b", ""}};
  version.aliases = {"champion", "prod"};
  core::Result<ModelVersion> back = ModelVersionFromJson(ModelVersionToJson(version));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, version);
}

TEST(RegistryJsonTest, RegisteredModelRoundTrips) {
  RegisteredModel model;
  model.name = "mnist";
  model.creation_timestamp = 1;
  model.last_updated_timestamp = 2;
  model.description = "d";
  ModelVersion latest;
  latest.name = "mnist";
  latest.version = 2;
  model.latest_versions = {latest};
  model.tags = {{"team", "a"}};
  model.aliases = {{"champion", 2}};
  core::Result<RegisteredModel> back = RegisteredModelFromJson(RegisteredModelToJson(model));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, model);
}

TEST(RegistryJsonTest, LenientAndStrictWhereMlflowIs) {
  // A version as a JSON number, unknown fields ignored.
  core::Result<ModelVersion> lenient =
      ModelVersionFromJson(Json{{"name", "m"}, {"version", 3}, {"extra", {1, 2}}});
  ASSERT_TRUE(lenient.ok()) << lenient.status().ToString();
  EXPECT_EQ(lenient->version, 3);
  EXPECT_EQ(lenient->status, ModelVersionStatus::kReady);
  EXPECT_EQ(ModelVersionFromJson(Json{{"version", "three"}}).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ModelVersionFromJson(Json{{"status", "DONE"}}).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ModelVersionFromJson(Json{{"aliases", {1}}}).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(RegisteredModelFromJson(Json::array()).status().code(),
            core::StatusCode::kInvalidArgument);
}

TEST(RestRegistryStoreTest, ServerErrorsKeepTheirCodeAndWords) {
  ScopedTempDir folder;
  auto store = ServedRestRegistryStore::Open(folder.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->CreateRegisteredModel("m", {}, "").ok());
  core::Result<RegisteredModel> again = (*store)->CreateRegisteredModel("m", {}, "");
  EXPECT_EQ(again.status().code(), core::StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("m"), std::string::npos);
  core::Result<ModelVersion> alias = (*store)->GetModelVersionByAlias("m", "champion");
  EXPECT_EQ(alias.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(alias.status().message(), "Registered model alias champion not found.");
  // Names that need encoding in a query string and a JSON body.
  const std::string odd = "a b&c=d?é";
  ASSERT_TRUE((*store)->CreateRegisteredModel(odd, {}, "").ok());
  ASSERT_TRUE((*store)->CreateModelVersion(odd, "s3://x/y", "", {}, "", "", "").ok());
  ASSERT_TRUE((*store)->SetRegisteredModelAlias(odd, "champion", 1).ok());
  core::Result<ResolvedModelUri> resolved =
      ResolveModelUri(**store, "models:/" + odd + "@champion");
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->download_uri, "s3://x/y");
}

TEST(RestRegistryStoreTest, AStoppedServerIsUnavailable) {
  ScopedTempDir folder;
  auto server = ServedRestRegistryStore::StartServer(folder.path());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string uri = "http://127.0.0.1:" + std::to_string((*server)->http->port());
  auto store = RestRegistryStore::Open(uri);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateRegisteredModel("m", {}, "").ok());
  server->reset();
  core::Result<RegisteredModel> after = (*store)->GetRegisteredModel("m");
  EXPECT_EQ(after.status().code(), core::StatusCode::kUnavailable) << after.status().ToString();
  EXPECT_NE(after.status().message().find("127.0.0.1"), std::string::npos);
}

TEST(RestRegistryStoreTest, OpenChecksTheUri) {
  EXPECT_TRUE(RestRegistryStore::Open("http://127.0.0.1:5000/prefix/").ok());
  EXPECT_EQ(RestRegistryStore::Open("https://example.com").status().code(),
            core::StatusCode::kUnimplemented);
  EXPECT_EQ(RestRegistryStore::Open("http://host:port").status().code(),
            core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlforge::registry::rest
