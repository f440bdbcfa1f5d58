// The gate in front of the real MLflow handlers over a real SQLite store,
// driven through the router as the HTTP server drives it.
#include "auth/auth_gate.h"

#include <gtest/gtest.h>

#include "auth/auth_handler.h"
#include "core/base64.h"
#include "core/testing/temp_dir.h"
#include "net/router.h"
#include "tracking/rest/mlflow_handler.h"
#include "tracking/rest/mlflow_json.h"
#include "tracking/sqlite/sqlite_store.h"

namespace mlforge::auth {
namespace {

using tracking::rest::Json;

std::string Basic(std::string_view user, std::string_view password) {
  return "Basic " + core::Base64Encode(std::string(user) + ":" + std::string(password));
}

class AuthGateTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(Permission::kRead); }

  // A fresh server (new databases) whose default permission is the given one.
  void Build(Permission default_permission) {
    gate_.reset();
    router_.reset();
    const std::string prefix = (dir_.path() / std::to_string(++servers_)).string();
    auto users = AuthStore::Open(prefix + "-auth.db");
    ASSERT_TRUE(users.ok());
    users_ = std::move(*users);
    auto store = tracking::SqliteStore::Open(prefix + "-mlruns.db", "/tmp/a");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    ASSERT_TRUE(users_->CreateUser("admin", "root-pw", true).ok());
    ASSERT_TRUE(users_->CreateUser("alice", "alice-pw", false).ok());
    ASSERT_TRUE(users_->CreateUser("bob", "bob-pw", false).ok());
    router_ = std::make_unique<net::Router>();
    tracking_handler_ = std::make_unique<tracking::rest::MlflowRestHandler>(*store_);
    tracking_handler_->Register(*router_);
    auth_handler_ = std::make_unique<AuthHandler>(*users_);
    auth_handler_->Register(*router_);
    gate_ = std::make_unique<AuthGate>(*users_, *store_, AuthGate::Options{default_permission});
    router_->SetInterceptor(
        [this](net::HttpRequest& r, const net::Handler& next) { return gate_->Intercept(r, next); });
  }

  net::HttpResponse Call(std::string method, std::string endpoint, const Json& body,
                         std::optional<std::string> authorization) {
    net::HttpRequest request;
    request.method = std::move(method);
    request.target = "/api/2.0/mlflow/" + endpoint;
    if (request.method == "GET") {
      std::string query;
      for (auto& [key, value] : body.items()) {
        query += (query.empty() ? "?" : "&") + key + "=" + value.get<std::string>();
      }
      request.target += query;
    } else {
      request.body = body.dump();
      request.headers.emplace_back("Content-Type", "application/json");
    }
    EXPECT_TRUE(net::ParseTarget(request.target, &request.path, &request.query).ok());
    if (authorization) request.headers.emplace_back("Authorization", *authorization);
    return router_->Dispatch(request);
  }

  std::string CreateExperiment(const std::string& user, const std::string& password,
                               const std::string& name) {
    net::HttpResponse response = Call("POST", "experiments/create", {{"name", name}},
                                      Basic(user, password));
    EXPECT_EQ(response.status, 200) << response.body;
    return Json::parse(response.body).value("experiment_id", "");
  }

  core::testing::ScopedTempDir dir_;
  int servers_ = 0;
  std::unique_ptr<AuthStore> users_;
  std::unique_ptr<tracking::Store> store_;
  std::unique_ptr<net::Router> router_;
  std::unique_ptr<tracking::rest::MlflowRestHandler> tracking_handler_;
  std::unique_ptr<AuthHandler> auth_handler_;
  std::unique_ptr<AuthGate> gate_;
};

TEST_F(AuthGateTest, NoOrWrongCredentialsAre401WithAChallenge) {
  net::HttpResponse none = Call("GET", "experiments/get", {{"experiment_id", "0"}}, std::nullopt);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Header("WWW-Authenticate"), "Basic realm=\"mlflow\"");
  EXPECT_EQ(Json::parse(none.body)["error_code"], "UNAUTHENTICATED");
  EXPECT_EQ(Call("GET", "experiments/get", {{"experiment_id", "0"}}, Basic("alice", "nope")).status,
            401);
  EXPECT_EQ(Call("GET", "experiments/get", {{"experiment_id", "0"}}, "Bearer mlf_bogus").status, 401);
  EXPECT_EQ(Call("GET", "experiments/get", {{"experiment_id", "0"}}, "Basic !!!").status, 401);
  EXPECT_EQ(Call("GET", "experiments/get", {{"experiment_id", "0"}}, Basic("alice", "alice-pw")).status,
            200);
}

TEST_F(AuthGateTest, CreatorManagesOthersGetTheDefaultUntilGranted) {
  std::string experiment = CreateExperiment("alice", "alice-pw", "alice-exp");
  net::HttpResponse run = Call("POST", "runs/create", {{"experiment_id", experiment}},
                               Basic("alice", "alice-pw"));
  ASSERT_EQ(run.status, 200) << run.body;
  std::string run_id = Json::parse(run.body)["run"]["info"]["run_id"];
  Json metric = {{"run_id", run_id}, {"key", "loss"}, {"value", 0.5}, {"timestamp", 1}, {"step", 0}};

  // bob reads (default READ) but may not write or delete.
  EXPECT_EQ(Call("GET", "runs/get", {{"run_id", run_id}}, Basic("bob", "bob-pw")).status, 200);
  net::HttpResponse denied = Call("POST", "runs/log-metric", metric, Basic("bob", "bob-pw"));
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(Json::parse(denied.body)["error_code"], "PERMISSION_DENIED");
  EXPECT_EQ(Call("POST", "runs/delete", {{"run_id", run_id}}, Basic("bob", "bob-pw")).status, 403);
  // bob may not grant himself more.
  Json grant = {{"experiment_id", experiment}, {"username", "bob"}, {"permission", "EDIT"}};
  EXPECT_EQ(Call("POST", "experiments/permissions/create", grant, Basic("bob", "bob-pw")).status, 403);
  // alice (MANAGE as the creator) grants EDIT; now bob logs.
  ASSERT_EQ(Call("POST", "experiments/permissions/create", grant, Basic("alice", "alice-pw")).status,
            200);
  EXPECT_EQ(Call("POST", "runs/log-metric", metric, Basic("bob", "bob-pw")).status, 200);
  EXPECT_EQ(Call("POST", "runs/delete", {{"run_id", run_id}}, Basic("bob", "bob-pw")).status, 403);
  // NO_PERMISSIONS takes reading away too; the admin is never refused.
  Json none = {{"experiment_id", experiment}, {"username", "bob"}, {"permission", "NO_PERMISSIONS"}};
  ASSERT_EQ(Call("PATCH", "experiments/permissions/update", none, Basic("alice", "alice-pw")).status,
            200);
  EXPECT_EQ(Call("GET", "runs/get", {{"run_id", run_id}}, Basic("bob", "bob-pw")).status, 403);
  EXPECT_EQ(Call("POST", "runs/delete", {{"run_id", run_id}}, Basic("admin", "root-pw")).status, 200);
  // An unknown run is the store's 404, not a permission answer.
  EXPECT_EQ(Call("GET", "runs/get", {{"run_id", "nope"}}, Basic("bob", "bob-pw")).status, 404);
}

TEST_F(AuthGateTest, SearchLeavesOutExperimentsTheUserMayNotRead) {
  Build(Permission::kNoPermissions);
  CreateExperiment("alice", "alice-pw", "private");
  CreateExperiment("bob", "bob-pw", "bobs");
  net::HttpResponse search = Call("POST", "experiments/search", {{"max_results", 100}},
                                  Basic("bob", "bob-pw"));
  ASSERT_EQ(search.status, 200) << search.body;
  std::vector<std::string> names;
  const Json found = Json::parse(search.body);
  for (const Json& experiment : found["experiments"]) {
    names.push_back(experiment["name"]);
  }
  EXPECT_EQ(names, std::vector<std::string>{"bobs"}) << search.body;
  net::HttpResponse admin = Call("POST", "experiments/search", {{"max_results", 100}},
                                 Basic("admin", "root-pw"));
  EXPECT_EQ(Json::parse(admin.body)["experiments"].size(), 3u);  // with Default
}

TEST_F(AuthGateTest, UsersRoutesSelfOrAdminAndTokens) {
  EXPECT_EQ(Call("POST", "users/create", {{"username", "eve"}, {"password", "x"}},
                 Basic("alice", "alice-pw")).status, 403);
  ASSERT_EQ(Call("POST", "users/create", {{"username", "eve"}, {"password", "x"}},
                 Basic("admin", "root-pw")).status, 200);
  EXPECT_EQ(Call("GET", "users/get", {{"username", "bob"}}, Basic("alice", "alice-pw")).status, 403);
  net::HttpResponse self = Call("GET", "users/get", {{"username", "alice"}}, Basic("alice", "alice-pw"));
  ASSERT_EQ(self.status, 200);
  EXPECT_EQ(Json::parse(self.body)["user"]["username"], "alice");
  // A spoofed identity header is dropped: the token goes to the real sender.
  net::HttpRequest request;
  request.method = "POST";
  request.target = request.path = "/api/2.0/mlforge/tokens/create";
  request.body = "{}";
  request.headers = {{"Content-Type", "application/json"},
                     {"Authorization", Basic("bob", "bob-pw")},
                     {std::string(kAuthenticatedUserHeader), "admin"}};
  net::HttpResponse token = router_->Dispatch(request);
  ASSERT_EQ(token.status, 200) << token.body;
  Json issued = Json::parse(token.body);
  EXPECT_EQ(issued["username"], "bob");
  EXPECT_EQ(Call("GET", "users/get", {{"username", "bob"}}, "Bearer " + issued["token"].get<std::string>())
                .status,
            200);
  EXPECT_EQ(Call("PATCH", "users/update-admin", {{"username", "bob"}, {"is_admin", true}},
                 Basic("bob", "bob-pw")).status, 403);
}

}  // namespace
}  // namespace mlforge::auth
