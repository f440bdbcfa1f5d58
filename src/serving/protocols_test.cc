// The three protocol front ends through the real router and the real HTTP
// server on loopback, over real (linear) models.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "net/http_client.h"
#include "net/http_server.h"
#include "serving/repository.h"
#include "serving/routes.h"
#include "serving/testing/test_models.h"

namespace mlforge::serving {
namespace {

using nlohmann::json;

class ProtocolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Batcher::Options options;
    options.max_delay = std::chrono::microseconds(100);
    options.max_queued_requests = 3;
    repository_ = std::make_unique<ModelRepository>(options, &metrics_);
    ASSERT_TRUE(repository_->Load("digits", 1, testing::TensorClassifier()).ok());
    ASSERT_TRUE(repository_->Load("tab", 2, testing::TabularRegressor()).ok());
    net::HttpServer::Options server_options;
    server_options.worker_threads = 8;
    server_options.metrics = &registry_;
    auto server =
        net::HttpServer::Start(server_options, MakeServingRouter(repository_.get(), "tab"));
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(*server);
    client_ = Connect();
  }

  std::unique_ptr<net::HttpClient> Connect() {
    auto client = net::HttpClient::Connect("127.0.0.1", server_->port());
    EXPECT_TRUE(client.ok());
    return std::move(*client);
  }

  net::HttpResponse Post(const std::string& target, const std::string& body,
                         const std::string& content_type = "application/json") {
    auto response = client_->Post(target, body, content_type);
    EXPECT_TRUE(response.ok()) << response.status().message();
    return *response;
  }
  net::HttpResponse Get(const std::string& target) {
    auto response = client_->Get(target);
    EXPECT_TRUE(response.ok()) << response.status().message();
    return *response;
  }

  net::MetricsRegistry registry_;
  ServingMetrics metrics_{&registry_};
  std::unique_ptr<ModelRepository> repository_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<net::HttpClient> client_;
};

// ---- MLflow scoring -------------------------------------------------------

TEST_F(ProtocolsTest, MlflowHealthAndVersion) {
  EXPECT_EQ(Get("/ping").status, 200);
  EXPECT_EQ(Get("/health").status, 200);
  auto version = Get("/version");
  EXPECT_EQ(version.status, 200);
  EXPECT_EQ(version.body, MLFORGE_VERSION);
}

TEST_F(ProtocolsTest, MlflowEveryInputForm) {
  const json expected = json::parse("[14.5, 32.5]");  // 1+4+9+.5, 4+10+18+.5
  auto split = Post(
      "/invocations",
      R"({"dataframe_split": {"columns": ["x2", "x1", "x0"], "data": [[3, 2, 1], [6, 5, 4]]}})");
  ASSERT_EQ(split.status, 200) << split.body;
  EXPECT_EQ(json::parse(split.body), json({{"predictions", expected}}));
  auto records =
      Post("/invocations",
           R"({"dataframe_records": [{"x0": 1, "x1": 2, "x2": 3}, {"x2": 6, "x1": 5, "x0": 4}]})");
  EXPECT_EQ(json::parse(records.body)["predictions"], expected) << records.body;
  auto instances = Post("/invocations", R"({"instances": [[1, 2, 3], [4, 5, 6]]})");
  EXPECT_EQ(json::parse(instances.body)["predictions"], expected) << instances.body;
  auto inputs = Post("/invocations", R"({"inputs": {"x0": [1, 4], "x1": [2, 5], "x2": [3, 6]}})");
  EXPECT_EQ(json::parse(inputs.body)["predictions"], expected) << inputs.body;
  auto csv = Post("/invocations", "x0,x1,x2\n1,2,3\n4,5,6\n", "text/csv");
  EXPECT_EQ(json::parse(csv.body)["predictions"], expected) << csv.body;
  auto pandas =
      Post("/invocations", R"({"columns": ["x0", "x1", "x2"], "data": [[1, 2, 3], [4, 5, 6]]})",
           "application/json; format=pandas-split");
  ASSERT_EQ(pandas.status, 200) << pandas.body;
  EXPECT_EQ(json::parse(pandas.body), expected) << "MLflow 1.x answered a bare list";
}

TEST_F(ProtocolsTest, MlflowBadInputIsBadRequestInMlflowShape) {
  auto missing =
      Post("/invocations", R"({"dataframe_split": {"columns": ["x0", "x1"], "data": [[1, 2]]}})");
  EXPECT_EQ(missing.status, 400);
  json body = json::parse(missing.body);
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(body["error_code"], "BAD_REQUEST");
  EXPECT_NE(body["message"].get<std::string>().find("missing column(s) [x2]"), std::string::npos);
  auto extra =
      Post("/invocations",
           R"({"dataframe_split": {"columns": ["x0", "x1", "x2", "y"], "data": [[1, 2, 3, 4]]}})");
  EXPECT_EQ(extra.status, 400);
  EXPECT_NE(json::parse(extra.body)["message"].get<std::string>().find("unknown column(s) [y]"),
            std::string::npos);
  auto unknown = Post("/invocations", R"({"rows": []})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("unknown field 'rows'"), std::string::npos) << unknown.body;
  auto two = Post("/invocations", R"({"instances": [[1,2,3]], "inputs": [[1,2,3]]})");
  EXPECT_EQ(two.status, 400);
  auto not_json = Post("/invocations", "{", "application/json");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(json::parse(not_json.body)["error_code"], "BAD_REQUEST");
  auto media = Post("/invocations", "x", "text/plain");
  EXPECT_EQ(media.status, 415);
  EXPECT_EQ(json::parse(media.body)["error_code"], "BAD_REQUEST");
}

TEST_F(ProtocolsTest, MlflowTensorModelTakesInstancesAndSplit) {
  // The /invocations model is "tab"; a second server scores "digits".
  net::HttpServer::Options options;
  auto server = net::HttpServer::Start(options, MakeServingRouter(repository_.get(), "digits"));
  ASSERT_TRUE(server.ok());
  auto client = net::HttpClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok());
  auto response = (*client)->Post(
      "/invocations", R"({"instances": [[[1, 1], [0, 0]], [[0, 0], [2, 2]], [0, 0, 0, 0]]})");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(json::parse(response->body), json::parse(R"({"predictions": [0, 1, 2]})"))
      << response->body;
  response = (*client)->Post("/invocations", R"({"dataframe_split": {"data": [[0, 0, 3, 0]]}})");
  EXPECT_EQ(json::parse(response->body), json::parse(R"({"predictions": [1]})")) << response->body;
  response = (*client)->Post("/invocations", R"({"instances": [[1, 2, 3]]})");
  EXPECT_EQ(response->status, 400);
}

// ---- KServe V2 ------------------------------------------------------------

TEST_F(ProtocolsTest, KserveHealthAndMetadata) {
  EXPECT_EQ(json::parse(Get("/v2/health/live").body), json({{"live", true}}));
  EXPECT_EQ(json::parse(Get("/v2/health/ready").body), json({{"ready", true}}));
  json server = json::parse(Get("/v2").body);
  EXPECT_EQ(server["name"], "mlforge");
  EXPECT_TRUE(server["extensions"].is_array());
  json metadata = json::parse(Get("/v2/models/digits").body);
  EXPECT_EQ(metadata["name"], "digits");
  EXPECT_EQ(metadata["versions"], json::parse(R"(["1"])"));
  EXPECT_EQ(metadata["inputs"],
            json::parse(R"([{"name": "pixels", "datatype": "FP32", "shape": [-1, 2, 2]}])"));
  EXPECT_EQ(metadata["outputs"][0]["name"], "predictions");
  EXPECT_EQ(Get("/v2/models/digits/versions/1").status, 200);
  EXPECT_EQ(json::parse(Get("/v2/models/tab/versions/2/ready").body),
            json::parse(R"({"name": "tab", "ready": true})"));
  auto missing = Get("/v2/models/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(json::parse(missing.body).contains("error"));
  EXPECT_EQ(Get("/v2/models/digits/versions/7").status, 404);
}

TEST_F(ProtocolsTest, KserveInferEchoesIdAndTypesOutputs) {
  auto response = Post("/v2/models/digits/infer", R"({
    "id": "req-42",
    "inputs": [{"name": "pixels", "shape": [2, 2, 2], "datatype": "FP32",
                "data": [[[1, 1], [0, 0]], [[0, 0], [2, 2]]]}]})");
  ASSERT_EQ(response.status, 200) << response.body;
  json body = json::parse(response.body);
  EXPECT_EQ(body["id"], "req-42");
  EXPECT_EQ(body["model_name"], "digits");
  EXPECT_EQ(body["model_version"], "1");
  EXPECT_EQ(
      body["outputs"][0],
      json::parse(R"({"name": "predictions", "datatype": "INT64", "shape": [2], "data": [0, 1]})"));
  EXPECT_EQ(body["outputs"][1]["name"], "scores");
  EXPECT_EQ(body["outputs"][1]["shape"], json::parse("[2, 3]"));
  EXPECT_EQ(body["outputs"][1]["data"], json::parse("[2, 0, 1, 0, 4, 1]"));
  // Only the output asked for, and flat data with an INT datatype.
  response = Post("/v2/models/digits/versions/1/infer", R"({
    "inputs": [{"name": "pixels", "shape": [1, 4], "datatype": "INT32", "data": [0, 0, 0, 0]}],
    "outputs": [{"name": "predictions"}]})");
  body = json::parse(response.body);
  EXPECT_FALSE(body.contains("id"));
  EXPECT_EQ(body["outputs"].size(), 1u);
  EXPECT_EQ(body["outputs"][0]["data"], json::parse("[2]"));
}

TEST_F(ProtocolsTest, KserveTabularModelTakesOneTensorPerColumn) {
  auto response = Post("/v2/models/tab/infer", R"({"inputs": [
    {"name": "x1", "shape": [2], "datatype": "FP64", "data": [2, 5]},
    {"name": "x0", "shape": [2, 1], "datatype": "FP64", "data": [1, 4]},
    {"name": "x2", "shape": [2], "datatype": "FP64", "data": [3, 6]}]})");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(response.body)["outputs"][0]["data"], json::parse("[14.5, 32.5]"));
  response = Post("/v2/models/tab/infer", R"({"inputs": [
    {"name": "x0", "shape": [1], "datatype": "FP32", "data": [1]}]})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(
      json::parse(response.body)["error"].get<std::string>().find("missing column(s) [x1, x2]"),
      std::string::npos)
      << response.body;
}

TEST_F(ProtocolsTest, KserveBadRequestsAnswerErrorObjects) {
  const std::vector<std::string> bad = {
      R"({"inputs": [{"name": "pixels", "shape": [1, 4], "datatype": "BYTES", "data": ["a"]}]})",
      R"({"inputs": [{"name": "pixels", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3]}]})",
      R"({"inputs": [{"name": "other", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]})",
      R"({"inputs": [{"name": "pixels", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}],
          "outputs": [{"name": "nope"}]})",
      R"({"id": 5, "inputs": []})",
      R"([1, 2])",
  };
  for (const auto& body : bad) {
    auto response = Post("/v2/models/digits/infer", body);
    EXPECT_EQ(response.status, 400) << body;
    json error = json::parse(response.body);
    EXPECT_EQ(error.size(), 1u);
    EXPECT_TRUE(error["error"].is_string()) << response.body;
  }
  EXPECT_EQ(Post("/v2/models/nope/infer", "{}").status, 404);
}

// ---- TF Serving -----------------------------------------------------------

TEST_F(ProtocolsTest, TfServingStatusAndMetadata) {
  json status = json::parse(Get("/v1/models/tab").body);
  EXPECT_EQ(status, json::parse(R"({"model_version_status": [{"version": "2", "state": "AVAILABLE",
      "status": {"error_code": "OK", "error_message": ""}}]})"));
  EXPECT_EQ(Get("/v1/models/tab/versions/2").status, 200);
  EXPECT_EQ(Get("/v1/models/tab/versions/3").status, 404);
  auto metadata = json::parse(Get("/v1/models/digits/metadata").body);
  EXPECT_EQ(metadata["model_spec"]["name"], "digits");
  EXPECT_EQ(metadata["model_spec"]["version"], "1");
  const json& def = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"];
  EXPECT_EQ(def["method_name"], "tensorflow/serving/predict");
  EXPECT_EQ(def["inputs"]["pixels"]["dtype"], "DT_FLOAT");
  EXPECT_EQ(def["inputs"]["pixels"]["tensor_shape"]["dim"][1]["size"], "2");
  auto missing = Get("/v1/models/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(json::parse(missing.body)["error"].is_string());
}

TEST_F(ProtocolsTest, TfServingPredictRowAndColumnarForms) {
  auto rows =
      Post("/v1/models/tab:predict", R"({"instances": [{"x0": 1, "x1": 2, "x2": 3}, [4, 5, 6]]})");
  ASSERT_EQ(rows.status, 200) << rows.body;
  EXPECT_EQ(json::parse(rows.body), json::parse(R"({"predictions": [14.5, 32.5]})"));
  auto columns = Post(
      "/v1/models/tab/versions/2:predict",
      R"({"signature_name": "serving_default", "inputs": {"x0": [1, 4], "x1": [2, 5], "x2": [3, 6]}})");
  ASSERT_EQ(columns.status, 200) << columns.body;
  EXPECT_EQ(json::parse(columns.body), json::parse(R"({"outputs": [14.5, 32.5]})"));
  auto classes = Post("/v1/models/digits:predict",
                      R"({"instances": [[[0, 0], [2, 2]], {"pixels": [1, 1, 0, 0]}]})");
  ASSERT_EQ(classes.status, 200) << classes.body;
  json predictions = json::parse(classes.body)["predictions"];
  EXPECT_EQ(predictions[0]["predictions"], 1);
  EXPECT_EQ(predictions[0]["scores"], json::parse("[0, 4, 1]"));
  EXPECT_EQ(predictions[1]["predictions"], 0);
  auto columnar = Post("/v1/models/digits:predict", R"({"inputs": [[0, 0, 0, 0]]})");
  EXPECT_EQ(json::parse(columnar.body)["outputs"]["predictions"], json::parse("[2]"))
      << columnar.body;
}

TEST_F(ProtocolsTest, TfServingErrors) {
  EXPECT_EQ(Post("/v1/models/tab:predict", R"({"instances": [[1, 2]]})").status, 400);
  EXPECT_EQ(
      Post("/v1/models/tab:predict", R"({"instances": [[1, 2, 3]], "inputs": [[1, 2, 3]]})").status,
      400);
  EXPECT_EQ(
      Post("/v1/models/tab:predict", R"({"signature_name": "other", "instances": [[1, 2, 3]]})")
          .status,
      400);
  auto missing = Post("/v1/models/nope:predict", R"({"instances": [[1, 2, 3]]})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(json::parse(missing.body)["error"].get<std::string>().find("Servable not found"),
            std::string::npos);
  EXPECT_EQ(Post("/v1/models/tab:classify", "{}").status, 501);
  EXPECT_EQ(Post("/v1/models/tab", "{}").status, 404);
}

// ---- Shared batcher, back-pressure, drain, metrics -------------------------

TEST_F(ProtocolsTest, RequestsFromAllProtocolsShareOneBatch) {
  auto servable = repository_->Get("tab", std::nullopt);
  ASSERT_TRUE(servable.ok());
  (*servable)->batcher->HoldUntilQueuedForTesting(3);
  std::vector<std::thread> threads;
  std::vector<json> answers(3);
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"/invocations", R"({"instances": [[1, 0, 0]]})"},
      {"/v2/models/tab/infer",
       R"({"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [0, 1, 0]}]})"},
      {"/v1/models/tab:predict", R"({"instances": [[0, 0, 1]]})"},
  };
  for (size_t call = 0; call < calls.size(); ++call) {
    threads.emplace_back([&, call] {
      auto client = Connect();
      auto response = client->Post(calls[call].first, calls[call].second);
      ASSERT_TRUE(response.ok());
      EXPECT_EQ(response->status, 200) << response->body;
      answers[call] = json::parse(response->body);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(answers[0]["predictions"], json::parse("[1.5]"));
  EXPECT_EQ(answers[1]["outputs"][0]["data"], json::parse("[2.5]"));
  EXPECT_EQ(answers[2]["predictions"], json::parse("[3.5]"));
  std::string metrics = Get("/metrics").body;
  EXPECT_NE(metrics.find(R"(mlforge_serving_batch_size_count{model="tab",version="2"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(mlforge_serving_batch_size_sum{model="tab",version="2"} 3)"),
            std::string::npos);
  EXPECT_NE(
      metrics.find(
          R"(mlforge_serving_requests_total{protocol="kserve_v2",model="tab",version="2",status="200"} 1)"),
      std::string::npos);
  EXPECT_NE(
      metrics.find(
          R"(mlforge_serving_requests_total{protocol="tfserving",model="tab",version="2",status="200"} 1)"),
      std::string::npos);
  EXPECT_NE(
      metrics.find(
          R"(mlforge_serving_request_duration_seconds_count{protocol="mlflow",model="tab",version="2"} 1)"),
      std::string::npos);
  EXPECT_NE(metrics.find(R"(mlforge_serving_queue_depth{model="tab",version="2"} 0)"),
            std::string::npos);
}

TEST_F(ProtocolsTest, FullQueueIs503WithRetryAfterOnEveryProtocol) {
  auto servable = repository_->Get("tab", std::nullopt);
  ASSERT_TRUE(servable.ok());
  (*servable)->batcher->HoldUntilQueuedForTesting(100);
  std::vector<std::thread> waiting;
  for (int request = 0; request < 3; ++request) {  // fills the queue of 3
    waiting.emplace_back([&] {
      auto client = Connect();
      auto response = client->Post("/invocations", R"({"instances": [[1, 1, 1]]})");
      ASSERT_TRUE(response.ok());
      EXPECT_EQ(response->status, 200);
    });
  }
  while ((*servable)->batcher->queued() < 3)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto mlflow = Post("/invocations", R"({"instances": [[1, 1, 1]]})");
  EXPECT_EQ(mlflow.status, 503);
  EXPECT_EQ(json::parse(mlflow.body)["error_code"], "TEMPORARILY_UNAVAILABLE");
  EXPECT_EQ(mlflow.Header("Retry-After"), "1");
  auto kserve = Post(
      "/v2/models/tab/infer",
      R"({"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [1, 1, 1]}]})");
  EXPECT_EQ(kserve.status, 503);
  EXPECT_TRUE(json::parse(kserve.body)["error"].is_string());
  EXPECT_EQ(kserve.Header("Retry-After"), "1");
  auto tfs = Post("/v1/models/tab:predict", R"({"instances": [[1, 1, 1]]})");
  EXPECT_EQ(tfs.status, 503);
  (*servable)->batcher->HoldUntilQueuedForTesting(0);
  for (auto& thread : waiting) thread.join();
  EXPECT_NE(
      Get("/metrics")
          .body.find(
              R"(mlforge_serving_requests_total{protocol="mlflow",model="tab",version="2",status="503"} 1)"),
      std::string::npos);
}

TEST_F(ProtocolsTest, DrainingServerIsNotReady) {
  repository_->SetReady(false);
  EXPECT_EQ(Get("/ping").status, 503);
  EXPECT_EQ(Get("/v2/health/ready").status, 503);
  EXPECT_EQ(json::parse(Get("/v2/health/ready").body)["ready"], false);
  EXPECT_EQ(Get("/v2/health/live").status, 200);
  EXPECT_EQ(Get("/v2/models/tab/ready").status, 503);
  // Requests still in flight (or still arriving) are served while draining.
  EXPECT_EQ(Post("/invocations", R"({"instances": [[1, 1, 1]]})").status, 200);
}

TEST_F(ProtocolsTest, UnknownPathIsJson404) {
  auto response = Get("/nope");
  EXPECT_EQ(response.status, 404);
  EXPECT_TRUE(json::parse(response.body)["error"].is_string());
}

}  // namespace
}  // namespace mlforge::serving
