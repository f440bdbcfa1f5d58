// The MLflow REST front end end to end: a real HttpServer on loopback over a
// real SqliteStore file, spoken to the way MLflow's Python client speaks
// (request bodies copied from mlflow/store/tracking/rest_store.py: protos
// rendered by message_to_json, so enums are names, int64 are numbers, unset
// fields are absent; GETs carry the same fields as query parameters).

#include "tracking/rest/mlflow_handler.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "net/http_client.h"
#include "net/http_server.h"
#include "net/router.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::tracking::rest {
namespace {

struct Reply {
  int status = 0;
  Json body;
};

class MlflowRestHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The proxied-artifact root `mlflow server --serve-artifacts` uses.
    core::Result<std::unique_ptr<Store>> store =
        SqliteStore::Open((folder_.path() / "mlflow.db").string(), "mlflow-artifacts:/");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    handler_ = std::make_unique<MlflowRestHandler>(*store_);
    net::Router router;
    handler_->Register(router);
    core::Result<std::unique_ptr<net::HttpServer>> server =
        net::HttpServer::Start(net::HttpServer::Options(), std::move(router));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    core::Result<std::unique_ptr<net::HttpClient>> client =
        net::HttpClient::Connect("127.0.0.1", server_->port());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  Reply Send(const std::string& method, const std::string& target, const std::string& body,
             const net::HttpHeaders& headers) {
    core::Result<net::HttpResponse> response = client_->Send(method, target, body, headers);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    if (!response.ok()) return {};
    Json json = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(json.is_discarded()) << target << " answered non-JSON: " << response->body;
    return {response->status, std::move(json)};
  }
  // As the Python client posts: requests' json= sets application/json.
  Reply Post(const std::string& endpoint, const std::string& body) {
    return Send("POST", "/api/2.0/mlflow/" + endpoint, body,
                {{"Content-Type", "application/json"}});
  }
  Reply Get(const std::string& endpoint_and_query) {
    return Send("GET", "/api/2.0/mlflow/" + endpoint_and_query, "", {});
  }

  // Asserts an MLflow error body: exactly error_code and message.
  static void ExpectError(const Reply& reply, int status, const std::string& code) {
    EXPECT_EQ(reply.status, status) << reply.body.dump();
    ASSERT_TRUE(reply.body.is_object());
    EXPECT_EQ(reply.body.size(), 2u) << reply.body.dump();
    EXPECT_EQ(reply.body.value("error_code", ""), code) << reply.body.dump();
    EXPECT_TRUE(reply.body.contains("message") && reply.body["message"].is_string());
  }

  std::string CreateExperiment(const std::string& name) {
    Reply reply = Post("experiments/create", Json{{"name", name}}.dump());
    EXPECT_EQ(reply.status, 200) << reply.body.dump();
    return reply.body.value("experiment_id", "");
  }

  std::string CreateRun(const std::string& experiment_id) {
    Reply reply = Post(
        "runs/create",
        Json{{"experiment_id", experiment_id}, {"user_id", "alice"}, {"start_time", 1700000000000}}
            .dump());
    EXPECT_EQ(reply.status, 200) << reply.body.dump();
    return reply.body["run"]["info"].value("run_id", "");
  }

  testing::ScopedTempDir folder_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<MlflowRestHandler> handler_;
  std::unique_ptr<net::HttpServer> server_;  // stopped before the handler goes
  std::unique_ptr<net::HttpClient> client_;
};

TEST_F(MlflowRestHandlerTest, ExperimentLifecycle) {
  // rest_store.create_experiment: artifact_location None is not sent.
  Reply created =
      Post("experiments/create", R"({"name": "exp-a", "tags": [{"key": "team", "value": "ml"}]})");
  ASSERT_EQ(created.status, 200) << created.body.dump();
  ASSERT_EQ(created.body.size(), 1u);
  std::string id = created.body["experiment_id"];

  Reply got = Get("experiments/get?experiment_id=" + id);
  ASSERT_EQ(got.status, 200);
  const Json& experiment = got.body["experiment"];
  EXPECT_EQ(experiment["experiment_id"], id);
  EXPECT_EQ(experiment["name"], "exp-a");
  EXPECT_EQ(experiment["artifact_location"], "mlflow-artifacts:/" + id);
  EXPECT_EQ(experiment["lifecycle_stage"], "active");
  EXPECT_TRUE(experiment["creation_time"].is_number_integer());
  EXPECT_TRUE(experiment["last_update_time"].is_number_integer());
  EXPECT_EQ(experiment["tags"], Json::parse(R"([{"key": "team", "value": "ml"}])"));

  Reply by_name = Get("experiments/get-by-name?experiment_name=exp-a");
  EXPECT_EQ(by_name.status, 200);
  EXPECT_EQ(by_name.body, got.body);
  Reply missing_name = Get("experiments/get-by-name?experiment_name=nope");
  ExpectError(missing_name, 404, "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(missing_name.body["message"], "Could not find experiment with name 'nope'");

  ExpectError(Post("experiments/create", R"({"name": "exp-a"})"), 400, "RESOURCE_ALREADY_EXISTS");

  EXPECT_EQ(Post("experiments/set-experiment-tag",
                 Json{{"experiment_id", id}, {"key", "k"}, {"value", "v"}}.dump())
                .body,
            Json::object());
  EXPECT_EQ(
      Post("experiments/delete-experiment-tag", Json{{"experiment_id", id}, {"key", "k"}}.dump())
          .status,
      200);
  ExpectError(
      Post("experiments/delete-experiment-tag", Json{{"experiment_id", id}, {"key", "k"}}.dump()),
      404, "RESOURCE_DOES_NOT_EXIST");

  EXPECT_EQ(
      Post("experiments/update", Json{{"experiment_id", id}, {"new_name", "exp-b"}}.dump()).status,
      200);
  EXPECT_EQ(Get("experiments/get?experiment_id=" + id).body["experiment"]["name"], "exp-b");

  EXPECT_EQ(Post("experiments/delete", Json{{"experiment_id", id}}.dump()).body, Json::object());
  EXPECT_EQ(Get("experiments/get?experiment_id=" + id).body["experiment"]["lifecycle_stage"],
            "deleted");
  EXPECT_EQ(Post("experiments/restore", Json{{"experiment_id", id}}.dump()).status, 200);
  EXPECT_EQ(Get("experiments/get?experiment_id=" + id).body["experiment"]["lifecycle_stage"],
            "active");
  ExpectError(Get("experiments/get?experiment_id=999"), 404, "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(MlflowRestHandlerTest, SearchExperimentsFilterOrderAndPages) {
  for (const char* name : {"exp-1", "exp-2", "exp-3", "other"}) CreateExperiment(name);
  // rest_store.search_experiments: view_type as its enum name.
  Reply first = Post("experiments/search", R"({"view_type": "ACTIVE_ONLY", "max_results": 2,
      "order_by": ["name DESC"], "filter": "name LIKE 'exp-%'"})");
  ASSERT_EQ(first.status, 200) << first.body.dump();
  ASSERT_EQ(first.body["experiments"].size(), 2u);
  EXPECT_EQ(first.body["experiments"][0]["name"], "exp-3");
  EXPECT_EQ(first.body["experiments"][1]["name"], "exp-2");
  ASSERT_TRUE(first.body.contains("next_page_token"));

  Reply second = Post("experiments/search", Json{{"view_type", "ACTIVE_ONLY"},
                                                 {"max_results", 2},
                                                 {"order_by", {"name DESC"}},
                                                 {"filter", "name LIKE 'exp-%'"},
                                                 {"page_token", first.body["next_page_token"]}}
                                                .dump());
  ASSERT_EQ(second.status, 200) << second.body.dump();
  ASSERT_EQ(second.body["experiments"].size(), 1u);
  EXPECT_EQ(second.body["experiments"][0]["name"], "exp-1");
  EXPECT_FALSE(second.body.contains("next_page_token"));

  // The same search as a GET, repeated order_by, numeric enum.
  Reply get =
      Get("experiments/search?view_type=1&max_results=2&order_by=name+DESC"
          "&filter=name+LIKE+%27exp-%25%27");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, first.body);

  // Nothing matches: {} (empty repeated fields are left out, as in MLflow).
  EXPECT_EQ(Post("experiments/search", R"({"filter": "name = 'none'"})").body, Json::object());
  ExpectError(Post("experiments/search", R"({"filter": "name >< 'x'"})"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post("experiments/search", R"({"page_token": "not-a-token"})"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post("experiments/search", R"({"view_type": "SOMETIMES"})"), 400,
              "INVALID_PARAMETER_VALUE");
}

TEST_F(MlflowRestHandlerTest, RunWorkflowAsThePythonClientSendsIt) {
  std::string experiment_id = CreateExperiment("runs");
  // rest_store.create_run (tags from the context providers, run_name given).
  Reply created = Post("runs/create", Json::parse(R"({"experiment_id": ")" + experiment_id + R"(",
      "user_id": "alice", "start_time": 1700000000000,
      "tags": [{"key": "mlflow.user", "value": "alice"},
               {"key": "mlflow.source.name", "value": "train.py"}],
      "run_name": "first"})")
                                          .dump());
  ASSERT_EQ(created.status, 200) << created.body.dump();
  const Json& info = created.body["run"]["info"];
  std::string run_id = info["run_id"];
  EXPECT_EQ(info["run_uuid"], run_id);
  EXPECT_EQ(info["run_name"], "first");
  EXPECT_EQ(info["experiment_id"], experiment_id);
  EXPECT_EQ(info["user_id"], "alice");
  EXPECT_EQ(info["status"], "RUNNING");
  EXPECT_EQ(info["start_time"], 1700000000000);
  EXPECT_FALSE(info.contains("end_time"));
  EXPECT_EQ(info["artifact_uri"],
            "mlflow-artifacts:/" + experiment_id + "/" + run_id + "/artifacts");
  EXPECT_EQ(info["lifecycle_stage"], "active");
  EXPECT_TRUE(created.body["run"]["data"]["tags"].is_array());

  // rest_store.log_param sends run_uuid and run_id.
  std::string param =
      Json{{"run_uuid", run_id}, {"run_id", run_id}, {"key", "lr"}, {"value", "0.01"}}.dump();
  EXPECT_EQ(Post("runs/log-parameter", param).body, Json::object());
  EXPECT_EQ(Post("runs/log-parameter", param).status, 200) << "the same value again is fine";
  ExpectError(
      Post("runs/log-parameter", Json{{"run_id", run_id}, {"key", "lr"}, {"value", "0.1"}}.dump()),
      400, "INVALID_PARAMETER_VALUE");

  // rest_store.log_metric; a duplicate is ignored.
  std::string metric = Json{{"run_uuid", run_id}, {"run_id", run_id},           {"key", "acc"},
                            {"value", 0.9},       {"timestamp", 1700000000100}, {"step", 0}}
                           .dump();
  EXPECT_EQ(Post("runs/log-metric", metric).status, 200);
  EXPECT_EQ(Post("runs/log-metric", metric).status, 200);
  // Legacy run_uuid alone, step left out (default 0), NaN as protobuf writes it.
  EXPECT_EQ(
      Post("runs/log-metric",
           Json{{"run_uuid", run_id}, {"key", "odd"}, {"value", "NaN"}, {"timestamp", 5}}.dump())
          .status,
      200);

  // rest_store.log_batch: 1000 metrics, empty params/tags left out.
  Json batch = {{"run_id", run_id}, {"metrics", Json::array()}};
  for (int step = 0; step < 1000; ++step) {
    batch["metrics"].push_back({{"key", "loss"},
                                {"value", 1.0 / (step + 1)},
                                {"timestamp", 1700000001000 + step},
                                {"step", step}});
  }
  Reply logged = Post("runs/log-batch", batch.dump());
  EXPECT_EQ(logged.status, 200) << logged.body.dump();

  // rest_store.get_metric_history: a GET with run_id, run_uuid and metric_key.
  Reply history =
      Get("metrics/get-history?run_id=" + run_id + "&run_uuid=" + run_id + "&metric_key=loss");
  ASSERT_EQ(history.status, 200) << history.body.dump();
  ASSERT_EQ(history.body["metrics"].size(), 1000u);
  EXPECT_EQ(history.body["metrics"][0], Json::parse(R"({"key": "loss", "value": 1.0,
      "timestamp": 1700000001000, "step": 0})"));
  Reply acc = Get("metrics/get-history?run_id=" + run_id + "&metric_key=acc");
  EXPECT_EQ(acc.body["metrics"].size(), 1u) << "the duplicate was not stored";
  EXPECT_EQ(
      Get("metrics/get-history?run_id=" + run_id + "&metric_key=odd").body["metrics"][0]["value"],
      "NaN");
  Reply paged = Get("metrics/get-history?run_id=" + run_id + "&metric_key=loss&max_results=300");
  EXPECT_EQ(paged.body["metrics"].size(), 300u);
  EXPECT_TRUE(paged.body.contains("next_page_token"));
  EXPECT_EQ(Get("metrics/get-history?run_id=" + run_id + "&metric_key=never").body, Json::object());

  // A second run that does not match the filter.
  std::string other = CreateRun(experiment_id);
  Post("runs/log-parameter", Json{{"run_id", other}, {"key", "lr"}, {"value", "0.1"}}.dump());

  // rest_store.search_runs.
  Reply search = Post("runs/search", Json{{"experiment_ids", {experiment_id}},
                                          {"filter", "metrics.acc > 0.5 and params.lr = '0.01'"},
                                          {"run_view_type", "ACTIVE_ONLY"},
                                          {"max_results", 1000}}
                                         .dump());
  ASSERT_EQ(search.status, 200) << search.body.dump();
  ASSERT_EQ(search.body["runs"].size(), 1u);
  const Json& found = search.body["runs"][0];
  EXPECT_EQ(found["info"]["run_id"], run_id);
  EXPECT_EQ(found["data"]["params"], Json::parse(R"([{"key": "lr", "value": "0.01"}])"));
  bool saw_acc = false;
  for (const Json& latest : found["data"]["metrics"]) {
    if (latest["key"] == "acc") {
      saw_acc = true;
      EXPECT_EQ(latest["value"], 0.9);
    }
  }
  EXPECT_TRUE(saw_acc);
  Reply both = Post("runs/search", Json{{"experiment_ids", {std::stoi(experiment_id)}},
                                        {"order_by", {"attributes.start_time DESC"}}}
                                       .dump());
  EXPECT_EQ(both.body["runs"].size(), 2u) << "integer experiment ids are read as strings";

  // rest_store.update_run_info: status by name, end_time, no run_name.
  Reply updated = Post("runs/update", Json{{"run_uuid", run_id},
                                           {"run_id", run_id},
                                           {"status", "FINISHED"},
                                           {"end_time", 1700000009000}}
                                          .dump());
  ASSERT_EQ(updated.status, 200) << updated.body.dump();
  EXPECT_EQ(updated.body["run_info"]["status"], "FINISHED");
  EXPECT_EQ(updated.body["run_info"]["end_time"], 1700000009000);
  EXPECT_EQ(updated.body["run_info"]["run_name"], "first");

  // Tags.
  EXPECT_EQ(Post("runs/set-tag", Json{{"run_id", run_id}, {"key", "note"}, {"value", "hi"}}.dump())
                .status,
            200);
  EXPECT_EQ(Post("runs/delete-tag", Json{{"run_id", run_id}, {"key", "note"}}.dump()).status, 200);
  ExpectError(Post("runs/delete-tag", Json{{"run_id", run_id}, {"key", "note"}}.dump()), 404,
              "RESOURCE_DOES_NOT_EXIST");

  // Delete and restore.
  EXPECT_EQ(Post("runs/delete", Json{{"run_id", run_id}}.dump()).body, Json::object());
  Reply deleted = Get("runs/get?run_id=" + run_id + "&run_uuid=" + run_id);
  EXPECT_EQ(deleted.body["run"]["info"]["lifecycle_stage"], "deleted");
  EXPECT_EQ(
      Post("runs/search",
           Json{{"experiment_ids", {experiment_id}}, {"run_view_type", "DELETED_ONLY"}}.dump())
          .body["runs"]
          .size(),
      1u);
  EXPECT_EQ(Post("runs/restore", Json{{"run_id", run_id}}.dump()).status, 200);
  EXPECT_EQ(Get("runs/get?run_id=" + run_id).body["run"]["info"]["lifecycle_stage"], "active");
}

TEST_F(MlflowRestHandlerTest, LogInputsShowUpInTheRun) {
  std::string run_id = CreateRun(CreateExperiment("data"));
  Reply logged = Post("runs/log-inputs", Json::parse(R"({"run_id": ")" + run_id + R"(",
      "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
                    "dataset": {"name": "mnist", "digest": "abc123", "source_type": "local",
                                "source": "{\"uri\": \"/data/mnist\"}",
                                "schema": "{\"x\": 1}"}}]})")
                                             .dump());
  ASSERT_EQ(logged.status, 200) << logged.body.dump();
  Reply run = Get("runs/get?run_id=" + run_id);
  const Json& input = run.body["run"]["inputs"]["dataset_inputs"][0];
  EXPECT_EQ(input["dataset"]["name"], "mnist");
  EXPECT_EQ(input["dataset"]["schema"], "{\"x\": 1}");
  EXPECT_FALSE(input["dataset"].contains("profile"));
  EXPECT_EQ(input["tags"][0]["value"], "training");
  ExpectError(
      Post("runs/log-inputs",
           Json::parse(R"({"run_id": ")" + run_id + R"(", "datasets": [{"tags": []}]})").dump()),
      400, "INVALID_PARAMETER_VALUE");
}

TEST_F(MlflowRestHandlerTest, MetricHistoryBulkIntervalSamplesSteps) {
  std::string experiment_id = CreateExperiment("bulk");
  std::string first = CreateRun(experiment_id);
  std::string second = CreateRun(experiment_id);
  for (const std::string& run_id : {first, second}) {
    Json batch = {{"run_id", run_id}, {"metrics", Json::array()}};
    for (int step = 0; step < 50; ++step) {
      batch["metrics"].push_back(
          {{"key", "loss"}, {"value", step}, {"timestamp", step}, {"step", step}});
    }
    ASSERT_EQ(Post("runs/log-batch", batch.dump()).status, 200);
  }
  Reply all = Get("metrics/get-history-bulk-interval?run_ids=" + first + "&run_ids=" + second +
                  "&metric_key=loss");
  ASSERT_EQ(all.status, 200) << all.body.dump();
  EXPECT_EQ(all.body["metrics"].size(), 100u);
  EXPECT_EQ(all.body["metrics"][0]["run_id"], first);

  Reply sampled = Get("metrics/get-history-bulk-interval?run_ids=" + first +
                      "&metric_key=loss&max_results=10&start_step=10&end_step=29");
  ASSERT_EQ(sampled.status, 200) << sampled.body.dump();
  const Json& metrics = sampled.body["metrics"];
  ASSERT_GE(metrics.size(), 10u);
  EXPECT_LE(metrics.size(), 11u);
  EXPECT_EQ(metrics.front()["step"], 10);
  EXPECT_EQ(metrics.back()["step"], 29);

  ExpectError(Get("metrics/get-history-bulk-interval?metric_key=loss"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(
      Get("metrics/get-history-bulk-interval?run_ids=" + first + "&metric_key=loss&start_step=5"),
      400, "INVALID_PARAMETER_VALUE");
}

TEST_F(MlflowRestHandlerTest, ErrorsInMlflowsShape) {
  // Unknown run.
  Reply unknown = Get("runs/get?run_id=0123456789abcdef0123456789abcdef");
  ExpectError(unknown, 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Post("runs/log-metric", R"({"run_id": "nope", "key": "a", "value": 1,
      "timestamp": 1})"),
              404, "RESOURCE_DOES_NOT_EXIST");

  // POST without Content-Type, and with the wrong one.
  Reply no_type = Send("POST", "/api/2.0/mlflow/experiments/create", R"({"name": "x"})", {});
  ExpectError(no_type, 400, "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(no_type.body["message"],
            "Bad Request. Content-Type must be one of [application/json].");
  Reply text = Send("POST", "/api/2.0/mlflow/experiments/create", R"({"name": "x"})",
                    {{"Content-Type", "text/plain"}});
  EXPECT_EQ(text.body["message"],
            "Bad Request. Content-Type must be one of [application/json]. Got 'text/plain'.");

  // Malformed JSON, wrong type, missing field.
  ExpectError(Post("experiments/create", R"({"name": )"), 400, "INVALID_PARAMETER_VALUE");
  Reply wrong_type = Post("experiments/create", R"({"name": 5})");
  ExpectError(wrong_type, 400, "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(wrong_type.body["message"],
            "Invalid value 5 for parameter 'name' supplied:  Hint: Value was of type 'int'. "
            "See the API docs for more information about request parameters.");
  Reply missing = Post("experiments/create", R"({"artifact_location": "/tmp/x"})");
  EXPECT_EQ(missing.body["message"],
            "Missing value for required parameter 'name'. See the API docs for more "
            "information about request parameters.");
  ExpectError(Post("runs/log-metric", R"({"run_id": "r", "key": "a", "value": 1})"), 400,
              "INVALID_PARAMETER_VALUE");  // timestamp is required
  ExpectError(Post("runs/log-batch", R"({"run_id": "r", "metrics": [{"key": "a", "value": 1}]})"),
              400, "INVALID_PARAMETER_VALUE");
  // Unknown fields are ignored, as ParseDict(ignore_unknown_fields=True) does.
  EXPECT_EQ(Post("experiments/create", R"({"name": "extra", "colour": "blue"})").status, 200);

  // Bad filter and bad page token.
  ExpectError(Post("runs/search", R"({"experiment_ids": ["0"], "filter": "metrics.acc >>> 1"})"),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post("runs/search", R"({"experiment_ids": ["0"], "page_token": "garbage"})"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post("runs/update", R"({"run_id": "r", "status": "DONE"})"), 400,
              "INVALID_PARAMETER_VALUE");

  // Unknown endpoints under the API prefixes.
  ExpectError(Post("runs/frobnicate", "{}"), 404, "ENDPOINT_NOT_FOUND");
  ExpectError(Get("no/such/thing"), 404, "ENDPOINT_NOT_FOUND");
  ExpectError(Send("GET", "/ajax-api/2.0/mlflow/nope", "", {}), 404, "ENDPOINT_NOT_FOUND");

  // Bodies over the server's max_body_bytes (1 MiB) never reach the handler.
  std::string huge = R"({"run_id": "r", "tags": [{"key": "k", "value": ")" +
                     std::string(size_t{1} << 20, 'x') + R"("}]})";
  core::Result<net::HttpResponse> too_big = client_->Post("/api/2.0/mlflow/runs/log-batch", huge);
  ASSERT_TRUE(too_big.ok());
  EXPECT_EQ(too_big->status, 413);
}

// MLflow 3's logged-model routes, with the request shapes of its
// rest_store.py: path parameters, PATCH bodies, a DELETE without a body, the
// finalize status as a name or a proto number.
TEST_F(MlflowRestHandlerTest, LoggedModelRoutesAsMlflow3SendsThem) {
  std::string experiment_id = CreateExperiment("lm");
  Reply created = Post("logged-models", Json{{"experiment_id", experiment_id},
                                             {"name", "model"},
                                             {"model_type", "agent"},
                                             {"params", {{{"key", "lr"}, {"value", "0.1"}}}},
                                             {"tags", {{{"key", "t"}, {"value", "1"}}}}}
                                            .dump());
  ASSERT_EQ(created.status, 200) << created.body.dump();
  const Json& info = created.body["model"]["info"];
  std::string model_id = info.value("model_id", "");
  EXPECT_EQ(info.value("status", ""), "LOGGED_MODEL_PENDING");
  EXPECT_EQ(info.value("artifact_uri", ""),
            "mlflow-artifacts:/" + experiment_id + "/models/" + model_id + "/artifacts");
  EXPECT_TRUE(info["creation_timestamp_ms"].is_number_integer());
  EXPECT_FALSE(info.contains("source_run_id")) << info.dump();
  EXPECT_EQ(created.body["model"]["data"]["params"],
            Json::parse(R"([{"key": "lr", "value": "0.1"}])"));

  Reply fetched = Get("logged-models/" + model_id);
  ASSERT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.body["model"]["info"]["tags"], Json::parse(R"([{"key": "t", "value": "1"}])"));

  // Finalize by proto number (2 = READY); the path's id wins over the body's.
  Reply ready = Send("PATCH", "/api/2.0/mlflow/logged-models/" + model_id,
                     Json{{"model_id", "m-elsewhere"}, {"status", 2}}.dump(),
                     {{"Content-Type", "application/json"}});
  ASSERT_EQ(ready.status, 200) << ready.body.dump();
  EXPECT_EQ(ready.body["model"]["info"].value("status", ""), "LOGGED_MODEL_READY");
  ExpectError(Send("PATCH", "/api/2.0/mlflow/logged-models/" + model_id, "{}",
                   {{"Content-Type", "application/json"}}),
              400, "INVALID_PARAMETER_VALUE");

  Reply tagged =
      Send("PATCH", "/api/2.0/mlflow/logged-models/" + model_id + "/tags",
           R"({"tags": [{"key": "a b", "value": "x"}]})", {{"Content-Type", "application/json"}});
  ASSERT_EQ(tagged.status, 200) << tagged.body.dump();
  EXPECT_EQ(tagged.body, Json::object());
  // MLflow's client deletes a tag with no body at all; the key is %-encoded.
  Reply untagged =
      Send("DELETE", "/api/2.0/mlflow/logged-models/" + model_id + "/tags/a%20b", "", {});
  ASSERT_EQ(untagged.status, 200) << untagged.body.dump();
  ExpectError(Send("DELETE", "/api/2.0/mlflow/logged-models/" + model_id + "/tags/a%20b", "", {}),
              404, "RESOURCE_DOES_NOT_EXIST");

  Reply params = Post("logged-models/" + model_id + "/params",
                      R"({"params": [{"key": "lr", "value": "0.2"}]})");
  ExpectError(params, 400, "INVALID_PARAMETER_VALUE");

  Reply found = Post("logged-models/search",
                     Json{{"experiment_ids", {experiment_id}},
                          {"filter", "params.lr = '0.1' and model_type = 'agent'"},
                          {"order_by", {{{"field_name", "metrics.acc"}, {"ascending", false}}}}}
                         .dump());
  ASSERT_EQ(found.status, 200) << found.body.dump();
  ASSERT_EQ(found.body["models"].size(), 1u);
  EXPECT_EQ(found.body["models"][0]["info"].value("model_id", ""), model_id);
  ExpectError(Post("logged-models/search", R"({"experiment_ids": ["0"], "filter": "tags.x >"})"),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post("logged-models/search", R"({"experiment_ids": ["0"],
      "order_by": [{"field_name": "name", "ascending": "sideways"}]})"),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post("logged-models/search", "{}"), 400, "INVALID_PARAMETER_VALUE");

  // log-outputs, then the run shows them.
  Reply run = Post("runs/create", Json{{"experiment_id", experiment_id}}.dump());
  std::string run_id = run.body["run"]["info"].value("run_id", "");
  EXPECT_EQ(run.body["run"]["outputs"], Json::object());
  ASSERT_EQ(
      Post("runs/outputs",
           Json{{"run_id", run_id}, {"models", {{{"model_id", model_id}, {"step", 4}}}}}.dump())
          .status,
      200);
  Reply got = Get("runs/get?run_id=" + run_id);
  EXPECT_EQ(got.body["run"]["outputs"]["model_outputs"],
            Json::parse(R"([{"model_id": ")" + model_id + R"(", "step": 4}])"));
  ExpectError(
      Post("runs/outputs",
           Json{{"run_id", run_id}, {"models", {{{"model_id", "m-nope"}, {"step", 0}}}}}.dump()),
      404, "RESOURCE_DOES_NOT_EXIST");

  Reply deleted = Send("DELETE", "/api/2.0/mlflow/logged-models/" + model_id, "", {});
  ASSERT_EQ(deleted.status, 200) << deleted.body.dump();
  ExpectError(Get("logged-models/" + model_id), 404, "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(MlflowRestHandlerTest, AjaxApiPrefixServesTheSameRoutes) {
  std::string id = CreateExperiment("ajax");
  Reply api = Get("experiments/get?experiment_id=" + id);
  Reply ajax = Send("GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=" + id, "", {});
  EXPECT_EQ(ajax.status, 200);
  EXPECT_EQ(ajax.body, api.body);
  Reply created = Send("POST", "/ajax-api/2.0/mlflow/runs/create",
                       Json{{"experiment_id", id}, {"start_time", 1}}.dump(),
                       {{"Content-Type", "application/json; charset=utf-8"}});
  EXPECT_EQ(created.status, 200) << created.body.dump();
}

}  // namespace
}  // namespace mlforge::tracking::rest

namespace mlforge::tracking::rest {
namespace {

// A server that also proxies artifacts accepts large bodies; the handler
// still holds JSON requests to MLflow's 1 MB.
TEST(MlflowRestHandlerLimitTest, JsonBodiesOverTheHandlerLimitGet413) {
  testing::ScopedTempDir folder;
  auto store = SqliteStore::Open((folder.path() / "mlflow.db").string(), "mlflow-artifacts:/");
  ASSERT_TRUE(store.ok());
  MlflowRestHandler handler(**store);
  net::Router router;
  handler.Register(router);
  net::HttpServer::Options options;
  options.max_body_bytes = size_t{8} << 20;
  auto server = net::HttpServer::Start(options, std::move(router));
  ASSERT_TRUE(server.ok());
  auto client = net::HttpClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok());
  std::string big = R"({"run_id": "x", "metrics": [)";
  while (big.size() < (size_t{1} << 20) + 100) {
    big += R"({"key": "loss", "value": 0.5, "timestamp": 1, "step": 0},)";
  }
  big.back() = ']';
  big += "}";
  auto response = (*client)->Post("/api/2.0/mlflow/runs/log-batch", big);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 413);
  auto json = nlohmann::json::parse(response->body);
  EXPECT_EQ(json["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_NE(json["message"].get<std::string>().find("exceeds the limit"), std::string::npos);
}

}  // namespace
}  // namespace mlforge::tracking::rest
