#include "serving/model_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/testing/temp_dir.h"
#include "net/http_client.h"
#include "registry/registry_store_factory.h"
#include "serving/testing/test_models.h"

namespace mlforge::serving {
namespace {

using nlohmann::json;

// A model folder for the test loader: "weights.txt" holds w0 w1 w2 b of
// y = w0 x0 + w1 x1 + w2 x2 + b over columns x0..x2; "poison" in the file
// makes a model that fails every call on a zero (its warm-up request).
std::filesystem::path WriteFolder(const std::filesystem::path& root, const std::string& name,
                                  const std::string& weights) {
  std::filesystem::path folder = root / name;
  std::filesystem::create_directories(folder);
  std::ofstream(folder / "weights.txt") << weights;
  return folder;
}

core::Result<std::shared_ptr<const Model>> LoadLinear(const std::filesystem::path& folder) {
  std::ifstream file(folder / "weights.txt");
  if (!file) return core::NotFoundError("no weights.txt in " + folder.string());
  std::string first;
  file >> first;
  const bool poison = first == "poison";
  std::vector<float> numbers;
  std::istringstream rest(poison ? "" : first);
  float value = 0;
  while (rest >> value) numbers.push_back(value);
  while (file >> value) numbers.push_back(value);
  if (numbers.size() != 4) {
    return core::InvalidArgumentError("weights.txt in " + folder.string() + " is corrupt");
  }
  ModelSignature signature;
  signature.columns = {"x0", "x1", "x2"};
  signature.input = {"input", "FP32", {-1, 3}};
  signature.output = {"output", "FP32", {-1, 1}};
  MLFORGE_ASSIGN_OR_RETURN(
      std::shared_ptr<LinearModel> model,
      LinearModel::Create(signature, {numbers[0], numbers[1], numbers[2]}, {numbers[3]}));
  if (poison) return std::shared_ptr<const Model>(new testing::PoisonModel(model, 0));
  return std::shared_ptr<const Model>(model);
}

struct Answer {
  int status = 0;
  std::string version;
  double prediction = 0;
};

Answer Invoke(net::HttpClient& client, const std::string& path, double x0) {
  json body = {{"dataframe_split", {{"columns", {"x0", "x1", "x2"}}, {"data", {{x0, 1, 1}}}}}};
  auto response = client.Post(path, body.dump());
  Answer answer;
  if (!response.ok()) return answer;
  answer.status = response->status;
  answer.version = response->Header("X-Model-Version").value_or("");
  if (answer.status == 200) {
    answer.prediction = json::parse(response->body)["predictions"][0].get<double>();
  }
  return answer;
}

TEST(ParseDurationTest, ReadsUnits) {
  EXPECT_EQ(*ParseDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseDuration("10s"), std::chrono::milliseconds(10000));
  EXPECT_EQ(*ParseDuration("2m"), std::chrono::milliseconds(120000));
  EXPECT_EQ(*ParseDuration("1.5"), std::chrono::milliseconds(1500));
  EXPECT_EQ(*ParseDuration("0"), std::chrono::milliseconds(0));
  EXPECT_EQ(ParseDuration("soon").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDuration("-1s").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDuration("ms").status().code(), core::StatusCode::kInvalidArgument);
}

TEST(FollowedLabelTest, OnlyUrisThatCanMove) {
  EXPECT_EQ(FollowedLabel("models:/mnist@champion"), "champion");
  EXPECT_EQ(FollowedLabel("models:/mnist/latest"), "latest");
  EXPECT_EQ(FollowedLabel("models:/mnist/Production"), "Production");
  EXPECT_EQ(FollowedLabel("models:/mnist/3"), "");
  EXPECT_EQ(FollowedLabel("runs:/abc/model"), "");
  EXPECT_EQ(FollowedLabel("/some/folder"), "");
}

TEST(RepositoryFileTest, ReadsEntriesAndRejectsMistakes) {
  core::testing::ScopedTempDir dir;
  const std::filesystem::path file = dir.path() / "models.yaml";
  std::ofstream(file) << "poll_interval: 500ms\n"
                         "models:\n"
                         "  - name: a\n"
                         "    uri: folder-a\n"
                         "    max_batch: 8\n"
                         "    max_delay_us: 0\n"
                         "    queue: 16\n"
                         "  - uri: models:/b@champion\n";
  Batcher::Options defaults;
  defaults.max_batch_rows = 32;
  auto read = ReadRepositoryFile(file, defaults);
  ASSERT_TRUE(read.ok()) << read.status().message();
  ASSERT_EQ(read->models.size(), 2u);
  EXPECT_EQ(read->poll_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(read->models[0].name, "a");
  EXPECT_EQ(read->models[0].uri, (dir.path() / "folder-a").string()) << "relative to the file";
  EXPECT_EQ(read->models[0].batching.max_batch_rows, 8);
  EXPECT_EQ(read->models[0].batching.max_delay.count(), 0);
  EXPECT_EQ(read->models[0].batching.max_queued_requests, 16u);
  EXPECT_EQ(read->models[1].uri, "models:/b@champion");
  EXPECT_EQ(read->models[1].batching.max_batch_rows, 32) << "the default";

  auto expect_error = [&](const std::string& text, const std::string& words) {
    std::ofstream(file) << text;
    auto result = ReadRepositoryFile(file, defaults);
    ASSERT_EQ(result.status().code(), core::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(result.status().message().find(words), std::string::npos)
        << result.status().message();
    EXPECT_NE(result.status().message().find("models.yaml"), std::string::npos);
  };
  expect_error("models:\n  - uri: x\n    max_bach: 3\n", "unknown key 'max_bach'");
  expect_error("models:\n  - name: a\n", "needs a 'uri'");
  expect_error("models:\n  - {name: a, uri: x}\n  - {name: a, uri: y}\n", "given twice");
  expect_error("models:\n  - {uri: x, max_batch: 0}\n", "max_batch");
  expect_error("models: []\n", "non-empty");
  expect_error("modles: []\n", "unknown key 'modles'");
  EXPECT_EQ(ReadRepositoryFile(dir.path() / "missing.yaml", defaults).status().code(),
            core::StatusCode::kNotFound);
}

class FollowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_uri_ = "sqlite:///" + (dir_.path() / "registry.db").string();
    auto store = registry::OpenRegistryStore(registry_uri_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->CreateRegisteredModel("tab", {}, "").ok());
  }

  int64_t Register(const std::filesystem::path& folder) {
    auto version = store_->CreateModelVersion("tab", folder.string(), "", {}, "", "", "");
    EXPECT_TRUE(version.ok()) << version.status().message();
    return version.ok() ? version->version : 0;
  }

  ModelServer::Options ServerOptions(std::vector<ServedModelSpec> models) {
    ModelServer::Options options;
    options.models = std::move(models);
    options.stores = {registry_uri_, ""};
    options.cache_root = dir_.path() / "cache";
    options.poll_interval = std::chrono::milliseconds(0);  // the test polls
    options.http.port = 0;
    options.http.worker_threads = 8;
    return options;
  }

  core::testing::ScopedTempDir dir_;
  std::string registry_uri_;
  std::unique_ptr<registry::RegistryStore> store_;
};

// Client threads score all the time while the alias moves to a version that
// does not load, to one that fails its warm-up, and to a good one and back:
// no request fails, every answer matches the version that gave it, and the
// answering version switches exactly when a swap succeeds.
TEST_F(FollowTest, SwapsUnderLoadAndRejectsBrokenVersions) {
  const int64_t one = Register(WriteFolder(dir_.path(), "v1", "1 2 3 0.5"));  // y = x0 + 5.5
  const int64_t two = Register(WriteFolder(dir_.path(), "v2", "10 0 0 1"));   // y = 10 x0 + 1
  const int64_t corrupt = Register(WriteFolder(dir_.path(), "v3", "1 2"));    // fails to load
  const int64_t poisoned = Register(WriteFolder(dir_.path(), "v4", "poison 1 1 1 1"));
  ASSERT_TRUE(store_->SetRegisteredModelAlias("tab", "champion", one).ok());

  auto server =
      ModelServer::Start(ServerOptions({{"", "models:/tab@champion", 1, {}}}), LoadLinear);
  ASSERT_TRUE(server.ok()) << server.status().message();
  const int port = (*server)->port();
  ASSERT_EQ((*server)->models().at(0).name, "tab");
  ASSERT_EQ((*server)->models().at(0).version, one);

  auto expected = [&](const std::string& version, double x0) {
    return version == std::to_string(one) ? x0 + 5.5 : 10 * x0 + 1;
  };
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> answered{0};
  std::mutex seen_mutex;
  std::vector<std::string> seen;  // answering versions, in the order one client saw them
  std::vector<std::thread> clients;
  for (int client_index = 0; client_index < 4; ++client_index) {
    clients.emplace_back([&, client_index] {
      auto client = net::HttpClient::Connect("127.0.0.1", port);
      if (!client.ok()) {
        ++failures;
        return;
      }
      for (int request = 0; !stop; ++request) {
        const double x0 = request % 7;
        Answer answer = Invoke(**client, "/invocations", x0);
        if (answer.status != 200 || answer.prediction != expected(answer.version, x0)) {
          ++failures;
          continue;
        }
        ++answered;
        if (client_index == 0) {
          std::lock_guard<std::mutex> lock(seen_mutex);
          if (seen.empty() || seen.back() != answer.version) seen.push_back(answer.version);
        }
      }
    });
  }
  auto wait_for_answers = [&] {
    const int target = answered + 40;
    while (answered < target && failures == 0) std::this_thread::yield();
  };
  wait_for_answers();
  for (int64_t broken : {corrupt, poisoned}) {
    ASSERT_TRUE(store_->SetRegisteredModelAlias("tab", "champion", broken).ok());
    (*server)->PollNowForTesting();
    EXPECT_EQ((*server)->models().at(0).version, one) << "version " << broken << " was rejected";
    wait_for_answers();
  }
  ASSERT_TRUE(store_->SetRegisteredModelAlias("tab", "champion", two).ok());
  (*server)->PollNowForTesting();
  EXPECT_EQ((*server)->models().at(0).version, two);
  wait_for_answers();
  // Back to a lower version: the alias decides, not the highest number.
  ASSERT_TRUE(store_->SetRegisteredModelAlias("tab", "champion", one).ok());
  (*server)->PollNowForTesting();
  EXPECT_EQ((*server)->models().at(0).version, one);
  wait_for_answers();
  stop = true;
  for (auto& thread : clients) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "1"}));

  // The label follows the alias; the rejected versions are counted.
  auto client = net::HttpClient::Connect("127.0.0.1", port);
  ASSERT_TRUE(client.ok());
  auto label = (*client)->Get("/v1/models/tab/labels/champion");
  ASSERT_TRUE(label.ok());
  EXPECT_EQ(label->status, 200) << label->body;
  EXPECT_EQ(json::parse(label->body)["model_version_status"][0]["version"], "1");
  auto unknown = (*client)->Get("/v1/models/tab/labels/nope");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
  auto labelled = (*client)->Post("/v1/models/tab/labels/champion:predict",
                                  R"({"instances": [{"x0": 1, "x1": 1, "x2": 1}]})");
  ASSERT_TRUE(labelled.ok());
  EXPECT_EQ(labelled->status, 200) << labelled->body;
  EXPECT_EQ(json::parse(labelled->body)["predictions"][0].get<double>(), 6.5);
  auto metrics = (*client)->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  for (int64_t broken : {corrupt, poisoned}) {
    EXPECT_NE(metrics->body.find(R"(mlforge_serving_model_events_total{model="tab",version=")" +
                                 std::to_string(broken) + R"(",event="load_failure"} 1)"),
              std::string::npos)
        << metrics->body;
  }
  EXPECT_NE(metrics->body.find(
                R"(mlforge_serving_model_events_total{model="tab",version="2",event="unload"} 1)"),
            std::string::npos);
  // A rejected version is not tried again while the alias stays on it.
  ASSERT_TRUE(store_->SetRegisteredModelAlias("tab", "champion", corrupt).ok());
  (*server)->PollNowForTesting();
  (*server)->PollNowForTesting();
  metrics = (*client)->Get("/metrics");
  EXPECT_NE(
      metrics->body.find(R"(version=")" + std::to_string(corrupt) + R"(",event="load_failure"} 2)"),
      std::string::npos)
      << "tried again once the alias came back to it, and only once";
  (*server)->Drain();
}

TEST_F(FollowTest, ServesSeveralModelsByName) {
  const int64_t one = Register(WriteFolder(dir_.path(), "v1", "1 2 3 0.5"));
  ASSERT_TRUE(store_->SetRegisteredModelAlias("tab", "champion", one).ok());
  const std::filesystem::path other = WriteFolder(dir_.path(), "other/model", "10 0 0 1");
  auto server = ModelServer::Start(
      ServerOptions({{"", "models:/tab@champion", 1, {}}, {"", other.string(), 4, {}}}),
      LoadLinear);
  ASSERT_TRUE(server.ok()) << server.status().message();
  auto models = (*server)->models();
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(models[1].name, "other") << "the folder's parent names a folder called model";
  EXPECT_EQ(models[1].version, 4);
  auto client = net::HttpClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok());
  Answer first = Invoke(**client, "/invocations", 2);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.prediction, 7.5) << "/invocations scores the first model";
  Answer second = Invoke(**client, "/serving-endpoints/other/invocations", 2);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.prediction, 21);
  EXPECT_EQ(second.version, "4");
  EXPECT_EQ(Invoke(**client, "/serving-endpoints/nope/invocations", 2).status, 404);
  auto kserve = (*client)->Post(
      "/v2/models/other/infer",
      R"({"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [1, 0, 0]}]})");
  ASSERT_TRUE(kserve.ok());
  EXPECT_EQ(kserve->status, 200) << kserve->body;
  EXPECT_EQ(json::parse(kserve->body)["model_version"], "4");
  auto tfs = (*client)->Post("/v1/models/tab:predict", R"({"instances": [[0, 0, 0]]})");
  ASSERT_TRUE(tfs.ok());
  EXPECT_EQ(json::parse(tfs->body)["predictions"][0].get<double>(), 0.5);

  // Two entries that would serve under one name are refused.
  auto twice = ModelServer::Start(
      ServerOptions({{"same", other.string(), 1, {}}, {"same", other.string(), 2, {}}}),
      LoadLinear);
  EXPECT_EQ(twice.status().code(), core::StatusCode::kInvalidArgument);
  // A model that does not load fails the start, naming it.
  auto broken = ModelServer::Start(
      ServerOptions({{"", WriteFolder(dir_.path(), "bad", "1").string(), 1, {}}}), LoadLinear);
  EXPECT_EQ(broken.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("corrupt"), std::string::npos);
}

}  // namespace
}  // namespace mlforge::serving
