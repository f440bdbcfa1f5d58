// MlflowRegistryHandler over a real HttpServer on 127.0.0.1, spoken to with
// the requests MLflow's Python client sends (mlflow/store/model_registry/
// rest_store.py through mlflow/utils/rest_utils.py call_endpoint: GET
// parameters in the query string, every other method a JSON body sent as
// application/json). Bodies below are literal copies of those shapes.

#include "registry/rest/registry_handler.h"

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "net/http_client.h"
#include "net/http_server.h"
#include "net/router.h"
#include "registry/sqlite/sqlite_registry_store.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::registry::rest {
namespace {

using nlohmann::json;
using tracking::testing::ScopedTempDir;

class RegistryHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteRegistryStore::Open((folder_.path() / "mlflow.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    handler_ = std::make_unique<MlflowRegistryHandler>(*store_);
    net::Router router;
    handler_->Register(router);
    net::HttpServer::Options options;
    options.worker_threads = 2;
    auto server = net::HttpServer::Start(options, std::move(router));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    auto client = net::HttpClient::Connect("127.0.0.1", server_->port());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  // Sends and returns {status, parsed body}.
  std::pair<int, json> Call(const std::string& method, const std::string& path,
                            const std::string& body = "") {
    net::HttpHeaders headers;
    if (method != "GET") headers.push_back({"Content-Type", "application/json"});
    auto response = client_->Send(method, "/api/2.0/mlflow/" + path, body, headers);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    if (!response.ok()) return {0, json()};
    EXPECT_EQ(response->content_type, "application/json") << response->body;
    return {response->status, json::parse(response->body, nullptr, false)};
  }

  ScopedTempDir folder_{"mlforge-registry-rest"};
  std::unique_ptr<RegistryStore> store_;
  std::unique_ptr<MlflowRegistryHandler> handler_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<net::HttpClient> client_;
};

TEST_F(RegistryHandlerTest, RegisterModelFlowAsMlflowClientSendsIt) {
  // mlflow.register_model: create the model, then a version.
  auto [status, body] = Call("POST", "registered-models/create",
                             R"({"name": "mnist", "tags": [{"key": "team", "value": "a"}],
                                 "description": "digits"})");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["registered_model"]["name"], "mnist");
  EXPECT_EQ(body["registered_model"]["description"], "digits");
  EXPECT_TRUE(body["registered_model"]["creation_timestamp"].is_number_integer());
  EXPECT_EQ(body["registered_model"]["tags"], json::parse(R"([{"key":"team","value":"a"}])"));

  std::tie(status, body) = Call("POST", "registered-models/create", R"({"name": "mnist"})");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error_code"], "RESOURCE_ALREADY_EXISTS");
  EXPECT_EQ(body.size(), 2u);

  std::tie(status, body) =
      Call("POST", "model-versions/create",
           R"({"name": "mnist", "source": "mlflow-artifacts:/0/abc123/artifacts/model",
          "run_id": "abc123", "tags": [{"key": "k", "value": "v"}]})");
  ASSERT_EQ(status, 200) << body;
  json created = body["model_version"];
  EXPECT_EQ(created["name"], "mnist");
  EXPECT_EQ(created["version"], "1");  // a string on the wire
  EXPECT_EQ(created["status"], "READY");
  EXPECT_EQ(created["current_stage"], "None");
  EXPECT_EQ(created["run_id"], "abc123");
  EXPECT_EQ(created["source"], "mlflow-artifacts:/0/abc123/artifacts/model");
  EXPECT_TRUE(created["last_updated_timestamp"].is_number_integer());
  EXPECT_FALSE(created.contains("aliases"));  // empty repeated fields are left out
  EXPECT_FALSE(created.contains("description"));

  // _await_model_version_creation polls get.
  std::tie(status, body) = Call("GET", "model-versions/get?name=mnist&version=1");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["model_version"], created);
}

TEST_F(RegistryHandlerTest, AliasesStagesAndSearch) {
  ASSERT_EQ(Call("POST", "registered-models/create", R"({"name": "m"})").first, 200);
  for (int index = 0; index < 3; ++index) {
    ASSERT_EQ(Call("POST", "model-versions/create",
                   R"({"name": "m", "source": "s3://b/m", "run_id": "r)" + std::to_string(index) +
                       R"("})")
                  .first,
              200);
  }
  // MlflowClient().set_registered_model_alias
  auto [status, body] = Call("POST", "registered-models/alias",
                             R"({"name": "m", "alias": "champion", "version": "2"})");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body, json::object());
  std::tie(status, body) = Call("GET", "registered-models/alias?name=m&alias=champion");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["model_version"]["version"], "2");
  EXPECT_EQ(body["model_version"]["aliases"], json::parse(R"(["champion"])"));
  std::tie(status, body) = Call("GET", "registered-models/get?name=m");
  EXPECT_EQ(body["registered_model"]["aliases"],
            json::parse(R"([{"alias":"champion","version":"2"}])"));

  // transition_model_version_stage
  std::tie(status, body) = Call("POST", "model-versions/transition-stage",
                                R"({"name": "m", "version": "1", "stage": "Production",
                                    "archive_existing_versions": false})");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["model_version"]["current_stage"], "Production");
  std::tie(status, body) = Call("POST", "model-versions/transition-stage",
                                R"({"name": "m", "version": "3", "stage": "production",
                                    "archive_existing_versions": true})");
  ASSERT_EQ(status, 200) << body;
  std::tie(status, body) = Call("GET", "model-versions/get?name=m&version=1");
  EXPECT_EQ(body["model_version"]["current_stage"], "Archived");

  // get_latest_versions: POST first (call_all_endpoints), GET also served.
  std::tie(status, body) = Call("POST", "registered-models/get-latest-versions",
                                R"({"name": "m", "stages": ["Production"]})");
  ASSERT_EQ(status, 200) << body;
  ASSERT_EQ(body["model_versions"].size(), 1u);
  EXPECT_EQ(body["model_versions"][0]["version"], "3");
  std::tie(status, body) =
      Call("GET", "registered-models/get-latest-versions?name=m&stages=None&stages=Archived");
  ASSERT_EQ(status, 200) << body;
  ASSERT_EQ(body["model_versions"].size(), 2u);
  EXPECT_EQ(body["model_versions"][0]["version"], "2");
  EXPECT_EQ(body["model_versions"][1]["version"], "1");

  // search_model_versions / search_registered_models, as GET query strings.
  std::tie(status, body) = Call(
      "GET",
      "model-versions/search?filter=name+%3D+%27m%27&max_results=2&order_by=version_number+ASC");
  ASSERT_EQ(status, 200) << body;
  ASSERT_EQ(body["model_versions"].size(), 2u);
  EXPECT_EQ(body["model_versions"][0]["version"], "1");
  ASSERT_TRUE(body.contains("next_page_token"));
  std::string token = body["next_page_token"];
  std::tie(status, body) = Call("GET",
                                "model-versions/search?filter=name+%3D+%27m%27&max_results=2&"
                                "order_by=version_number+ASC&page_token=" +
                                    net::PercentEncode(token));
  ASSERT_EQ(status, 200) << body;
  ASSERT_EQ(body["model_versions"].size(), 1u);
  EXPECT_EQ(body["model_versions"][0]["version"], "3");
  EXPECT_FALSE(body.contains("next_page_token"));
  std::tie(status, body) = Call("GET", "model-versions/search?filter=run_id%3D%27r1%27");
  ASSERT_EQ(body["model_versions"].size(), 1u);
  EXPECT_EQ(body["model_versions"][0]["version"], "2");

  std::tie(status, body) =
      Call("GET", "registered-models/search?filter=name+LIKE+%27m%25%27&max_results=100");
  ASSERT_EQ(status, 200) << body;
  ASSERT_EQ(body["registered_models"].size(), 1u);
  EXPECT_EQ(body["registered_models"][0]["latest_versions"].size(),
            3u);  // None, Production, Archived
  std::tie(status, body) = Call("GET", "registered-models/search?filter=name+%3D+%27zzz%27");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, json::object());

  std::tie(status, body) = Call("GET", "model-versions/get-download-uri?name=m&version=2");
  EXPECT_EQ(body, json::parse(R"({"artifact_uri": "s3://b/m"})"));

  // delete_registered_model_alias, then delete_model_version.
  std::tie(status, body) =
      Call("DELETE", "registered-models/alias", R"({"name": "m", "alias": "champion"})");
  EXPECT_EQ(status, 200) << body;
  std::tie(status, body) = Call("GET", "registered-models/alias?name=m&alias=champion");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(Call("DELETE", "model-versions/delete", R"({"name": "m", "version": "2"})").first, 200);
  std::tie(status, body) = Call("GET", "model-versions/get?name=m&version=2");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error_code"], "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(RegistryHandlerTest, UpdatesTagsRenameAndDelete) {
  ASSERT_EQ(Call("POST", "registered-models/create", R"({"name": "m"})").first, 200);
  ASSERT_EQ(Call("POST", "model-versions/create", R"({"name": "m", "source": "s3://b"})").first,
            200);
  auto [status, body] =
      Call("PATCH", "registered-models/update", R"({"name": "m", "description": "about"})");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["registered_model"]["description"], "about");
  std::tie(status, body) = Call("PATCH", "model-versions/update",
                                R"({"name": "m", "version": "1", "description": "v1"})");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["model_version"]["description"], "v1");

  EXPECT_EQ(
      Call("POST", "registered-models/set-tag", R"({"name": "m", "key": "k", "value": "v"})").first,
      200);
  EXPECT_EQ(Call("POST", "model-versions/set-tag",
                 R"({"name": "m", "version": "1", "key": "k", "value": "v"})")
                .first,
            200);
  std::tie(status, body) = Call("GET", "model-versions/get?name=m&version=1");
  EXPECT_EQ(body["model_version"]["tags"], json::parse(R"([{"key":"k","value":"v"}])"));
  EXPECT_EQ(Call("DELETE", "registered-models/delete-tag", R"({"name": "m", "key": "k"})").first,
            200);
  EXPECT_EQ(
      Call("DELETE", "model-versions/delete-tag", R"({"name": "m", "version": "1", "key": "k"})")
          .first,
      200);
  std::tie(status, body) = Call("GET", "registered-models/get?name=m");
  EXPECT_FALSE(body["registered_model"].contains("tags"));

  std::tie(status, body) =
      Call("POST", "registered-models/rename", R"({"name": "m", "new_name": "n"})");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["registered_model"]["name"], "n");
  EXPECT_EQ(body["registered_model"]["latest_versions"][0]["name"], "n");
  EXPECT_EQ(Call("DELETE", "registered-models/delete", R"({"name": "n"})").first, 200);
  EXPECT_EQ(Call("GET", "registered-models/get?name=n").first, 404);
}

TEST_F(RegistryHandlerTest, ErrorsInMlflowShape) {
  auto [status, body] = Call("POST", "registered-models/create", R"({})");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_NE(body["message"].get<std::string>().find("'name'"), std::string::npos);

  ASSERT_EQ(Call("POST", "registered-models/create", R"({"name": "m"})").first, 200);
  std::tie(status, body) = Call("GET", "model-versions/get?name=m&version=abc");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["message"], "Parameter 'version' must be an integer, got 'abc'.");
  std::tie(status, body) = Call("GET", "registered-models/get?name=nope");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error_code"], "RESOURCE_DOES_NOT_EXIST");
  std::tie(status, body) = Call("GET", "model-versions/search?filter=name+%3E+%27a%27");
  EXPECT_EQ(status, 400);
  std::tie(status, body) = Call("GET", "registered-models/search?max_results=5000");
  EXPECT_EQ(status, 400);
  std::tie(status, body) =
      Call("POST", "model-versions/create", R"({"name": "m", "source": "s3://bucket/../../etc"})");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error_code"], "INVALID_PARAMETER_VALUE");
  std::tie(status, body) = Call("POST", "model-versions/transition-stage",
                                R"({"name": "m", "version": "1", "stage": "Bogus"})");
  EXPECT_EQ(status, 400);

  // POST bodies must be JSON.
  auto response = client_->Send("POST", "/api/2.0/mlflow/registered-models/create",
                                R"({"name": "x"})", {{"Content-Type", "text/plain"}});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  // Methods as MLflow routes them: update is PATCH, delete is DELETE.
  response = client_->Send("POST", "/api/2.0/mlflow/registered-models/update", R"({"name": "m"})",
                           {{"Content-Type", "application/json"}});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 405);
  // The web UI's prefix serves the same routes.
  response = client_->Get("/ajax-api/2.0/mlflow/registered-models/get?name=m");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
}

// MLflow 3's register_model("runs:/<run>/model"): the version names the
// logged model, which must exist; its run fills in, and the download URI is
// the logged model's files.
TEST(RegistryHandlerLoggedModelTest, VersionsFromLoggedModels) {
  ScopedTempDir folder("mlforge-registry-lm");
  std::string path = (folder.path() / "mlflow.db").string();
  auto tracking_store = tracking::SqliteStore::Open(path, "mlflow-artifacts:/");
  ASSERT_TRUE(tracking_store.ok()) << tracking_store.status().ToString();
  auto registry_store = SqliteRegistryStore::Open(path);
  ASSERT_TRUE(registry_store.ok()) << registry_store.status().ToString();
  auto run = (*tracking_store)->CreateRun("0", "me", 1, {}, std::nullopt);
  ASSERT_TRUE(run.ok());
  auto logged = (*tracking_store)->CreateLoggedModel("0", "model", "", run->info.run_id, {}, {});
  ASSERT_TRUE(logged.ok()) << logged.status().ToString();
  MlflowRegistryHandler handler(**registry_store, **tracking_store);
  net::Router router;
  handler.Register(router);
  auto server = net::HttpServer::Start(net::HttpServer::Options(), std::move(router));
  ASSERT_TRUE(server.ok());
  auto client = net::HttpClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok());
  auto call = [&](const std::string& method, const std::string& target, const std::string& body) {
    net::HttpHeaders headers;
    if (method != "GET") headers.push_back({"Content-Type", "application/json"});
    auto response = (*client)->Send(method, "/api/2.0/mlflow/" + target, body, headers);
    EXPECT_TRUE(response.ok());
    return std::make_pair(response.ok() ? response->status : 0,
                          response.ok() ? json::parse(response->body, nullptr, false) : json());
  };
  ASSERT_EQ(call("POST", "registered-models/create", R"({"name": "m"})").first, 200);
  const std::string& model_id = logged->model_id;
  auto [status, body] =
      call("POST", "model-versions/create",
           json{{"name", "m"}, {"source", "models:/" + model_id}, {"model_id", model_id}}.dump());
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["model_version"]["model_id"], model_id);
  EXPECT_EQ(body["model_version"]["run_id"], run->info.run_id);
  auto [get_status, got] = call("GET", "model-versions/get?name=m&version=1", "");
  ASSERT_EQ(get_status, 200);
  EXPECT_EQ(got["model_version"]["model_id"], model_id);
  auto [uri_status, uri] = call("GET", "model-versions/get-download-uri?name=m&version=1", "");
  ASSERT_EQ(uri_status, 200) << uri;
  EXPECT_EQ(uri["artifact_uri"], logged->artifact_uri);
  auto [missing_status, missing] =
      call("POST", "model-versions/create",
           R"({"name": "m", "source": "models:/m-00000000000000000000000000000000",
               "model_id": "m-00000000000000000000000000000000"})");
  EXPECT_EQ(missing_status, 404) << missing;
  EXPECT_EQ(missing["error_code"], "RESOURCE_DOES_NOT_EXIST");
  // A plain version keeps its source as the download URI and has no model_id.
  auto [plain_status, plain] =
      call("POST", "model-versions/create", R"({"name": "m", "source": "s3://b/model"})");
  ASSERT_EQ(plain_status, 200);
  EXPECT_FALSE(plain["model_version"].contains("model_id")) << plain;
  EXPECT_EQ(
      call("GET", "model-versions/get-download-uri?name=m&version=2", "").second["artifact_uri"],
      "s3://b/model");
}

}  // namespace
}  // namespace mlforge::registry::rest
