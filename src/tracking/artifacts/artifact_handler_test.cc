#include "tracking/artifacts/artifact_handler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/file.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/router.h"
#include "tracking/artifacts/local/local_artifact_store.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::tracking {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kApi = "/api/2.0/mlflow-artifacts/artifacts";
constexpr size_t kMaxBodyBytes = size_t{8} << 20;

std::map<std::string, std::string> Snapshot(const fs::path& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    files[fs::relative(entry.path(), folder).generic_string()] = *core::ReadFile(entry.path());
  }
  return files;
}

class ArtifactProxyHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_.path() / "root";
    outside_ = temp_.path() / "outside";
    fs::create_directories(outside_);
    ASSERT_TRUE(core::WriteFileAtomic(outside_ / "secret.txt", "do not touch").ok());
    auto store = LocalArtifactStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    handler_ = std::make_unique<ArtifactProxyHandler>(*store_);

    net::Router router;
    handler_->Register(router);
    net::HttpServer::Options options;
    options.max_body_bytes = kMaxBodyBytes;
    auto server = net::HttpServer::Start(options, std::move(router));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    client_ = Connect();
  }

  std::unique_ptr<net::HttpClient> Connect() {
    auto client = net::HttpClient::Connect("127.0.0.1", server_->port());
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  net::HttpResponse Send(std::string_view method, const std::string& target,
                         std::string_view body = {}, const net::HttpHeaders& headers = {}) {
    auto response = client_->Send(method, target, body, headers);
    EXPECT_TRUE(response.ok()) << method << " " << target << ": " << response.status().ToString();
    return response.ok() ? std::move(response).value() : net::HttpResponse{};
  }

  // PUT as MLflow's HttpArtifactRepository.log_artifact sends it.
  net::HttpResponse Upload(const std::string& path, std::string_view bytes,
                           const std::string& mime = "application/octet-stream") {
    return Send("PUT", std::string(kApi) + "/" + path, bytes, {{"Content-Type", mime}});
  }

  static void ExpectMlflowError(const net::HttpResponse& response, int status,
                                const std::string& code, const std::string& context) {
    EXPECT_EQ(response.status, status) << context << ": " << response.body;
    EXPECT_EQ(response.content_type, "application/json") << context;
    Json body = Json::parse(response.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << context << ": " << response.body;
    EXPECT_EQ(body.size(), 2u) << context;
    EXPECT_EQ(body.value("error_code", ""), code) << context;
    EXPECT_TRUE(body.contains("message")) << context;
  }

  tracking::testing::ScopedTempDir temp_{"mlforge-artifact-proxy-test"};
  fs::path root_;
  fs::path outside_;
  std::unique_ptr<LocalArtifactStore> store_;
  std::unique_ptr<ArtifactProxyHandler> handler_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<net::HttpClient> client_;
};

TEST_F(ArtifactProxyHandlerTest, UploadDownloadRoundTripsBinaryBytes) {
  std::string bytes;
  for (int value = 0; value < 256; ++value) bytes.push_back(static_cast<char>(value));
  bytes += std::string(100000, '\0');

  net::HttpResponse put = Upload("1/abc/artifacts/model/weights.bin", bytes);
  EXPECT_EQ(put.status, 200);
  EXPECT_EQ(put.content_type, "application/json");
  EXPECT_EQ(put.body, "{}");
  EXPECT_EQ(*core::ReadFile(root_ / "1/abc/artifacts/model/weights.bin"), bytes);

  net::HttpResponse get = Send("GET", std::string(kApi) + "/1/abc/artifacts/model/weights.bin");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, bytes);
  EXPECT_EQ(get.content_type, "application/octet-stream");
  EXPECT_EQ(get.Header("Content-Disposition").value_or(""), "attachment; filename=weights.bin");
  EXPECT_EQ(get.Header("X-Content-Type-Options").value_or(""), "nosniff");
}

TEST_F(ArtifactProxyHandlerTest, DownloadContentTypeFollowsMlflow) {
  const std::map<std::string, std::string> expected = {
      {"MLmodel", "text/plain"},
      {"metrics.json", "text/plain"},
      {"conda.yaml", "text/plain"},
      {"notes.txt", "text/plain"},
      {"plot.png", "image/png"},
      {"report.html", "text/html"},
      {"bundle.tar.gz", "application/x-tar"},
      {"model.pkl", "application/octet-stream"},
      {"data.gz", "application/octet-stream"},
      {"MLproject", "application/octet-stream"},
  };
  for (const auto& [name, mime] : expected) {
    ASSERT_EQ(Upload("run/" + name, "x").status, 200) << name;
    net::HttpResponse get = Send("GET", std::string(kApi) + "/run/" + name);
    EXPECT_EQ(get.status, 200) << name;
    EXPECT_EQ(get.content_type, mime) << name;
    EXPECT_EQ(GuessArtifactMimeType(name), mime) << name;
  }
}

TEST_F(ArtifactProxyHandlerTest, ListReturnsNamesRelativeToTheFolder) {
  ASSERT_EQ(Upload("1/abc/artifacts/a.txt", "hello").status, 200);
  ASSERT_EQ(Upload("1/abc/artifacts/model/MLmodel", "flavors: {}").status, 200);
  ASSERT_EQ(Upload("1/abc/artifacts/model/data/w.bin", "1234").status, 200);

  net::HttpResponse list = Send("GET", std::string(kApi) + "?path=1/abc/artifacts");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.content_type, "application/json");
  EXPECT_EQ(Json::parse(list.body), Json::parse(R"({"files":[
      {"path":"a.txt","is_dir":false,"file_size":5},
      {"path":"model","is_dir":true}]})"));

  net::HttpResponse nested =
      Send("GET", std::string(kApi) + "?path=" + net::PercentEncode("1/abc/artifacts/model"));
  EXPECT_EQ(Json::parse(nested.body), Json::parse(R"({"files":[
      {"path":"MLmodel","is_dir":false,"file_size":11},
      {"path":"data","is_dir":true}]})"));

  // No path lists the root.
  EXPECT_EQ(Json::parse(Send("GET", kApi).body),
            Json::parse(R"({"files":[{"path":"1","is_dir":true}]})"));

  // Missing folder, empty folder, a file: `{}` as MLflow's message_to_json
  // renders an empty ListArtifacts.Response.
  fs::create_directories(root_ / "empty");
  for (const char* path : {"missing", "empty", "1/abc/artifacts/a.txt"}) {
    net::HttpResponse empty = Send("GET", std::string(kApi) + "?path=" + path);
    EXPECT_EQ(empty.status, 200) << path;
    EXPECT_EQ(empty.body, "{}") << path;
  }
}

TEST_F(ArtifactProxyHandlerTest, DeleteRemovesFileOrFolder) {
  ASSERT_EQ(Upload("run/a.txt", "a").status, 200);
  ASSERT_EQ(Upload("run/model/MLmodel", "m").status, 200);

  net::HttpResponse deleted = Send("DELETE", std::string(kApi) + "/run/model");
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.body, "{}");
  EXPECT_FALSE(fs::exists(root_ / "run" / "model"));
  EXPECT_EQ(Send("DELETE", std::string(kApi) + "/run/a.txt").status, 200);
  EXPECT_EQ(Send("DELETE", std::string(kApi) + "/run/never-was").status, 200);
  EXPECT_EQ(Send("GET", std::string(kApi) + "?path=run").body, "{}");
}

TEST_F(ArtifactProxyHandlerTest, MissingFileOrFolderDownloadIsResourceDoesNotExist) {
  ASSERT_EQ(Upload("run/a.txt", "a").status, 200);
  ExpectMlflowError(Send("GET", std::string(kApi) + "/run/b.txt"), 404, "RESOURCE_DOES_NOT_EXIST",
                    "missing file");
  ExpectMlflowError(Send("GET", std::string(kApi) + "/run"), 404, "RESOURCE_DOES_NOT_EXIST",
                    "folder");
  ExpectMlflowError(Send("GET", std::string(kApi) + "/"), 404, "RESOURCE_DOES_NOT_EXIST", "root");
}

TEST_F(ArtifactProxyHandlerTest, UploadToAFolderNameIsRefused) {
  ASSERT_EQ(Upload("run/a.txt", "a").status, 200);
  ExpectMlflowError(Upload("run", "x"), 400, "INVALID_PARAMETER_VALUE", "existing folder");
  ExpectMlflowError(Upload("new/", "x"), 400, "INVALID_PARAMETER_VALUE", "trailing slash");
  ExpectMlflowError(Send("PUT", std::string(kApi) + "/", "x"), 400, "INVALID_PARAMETER_VALUE",
                    "root");
  ExpectMlflowError(Upload("run/a.txt/b", "x"), 400, "INVALID_PARAMETER_VALUE", "under a file");
  EXPECT_EQ(Snapshot(root_), (std::map<std::string, std::string>{{"run/a.txt", "a"}}));
}

// Raw request targets (after the artifacts/ prefix) that try to leave the
// root; each must be refused with 400 for every method.
constexpr const char* kTraversalTargets[] = {
    "../outside/new.txt",
    "a/../../outside/new.txt",
    "%2e%2e/outside/new.txt",
    "%2E%2E%2Foutside%2Fnew.txt",
    "..%2Foutside%2Fnew.txt",
    "%252e%252e%252foutside%252fnew.txt",
    "a%2F..%2F..%2Foutside%2Fnew.txt",
    "%2Ftmp%2Fnew.txt",
    "C:/outside/new.txt",
    "a%5C..%5C..%5Coutside%5Cnew.txt",
    "new%00.txt",
    "new%23.txt",
};

TEST_F(ArtifactProxyHandlerTest, TraversalIsRefusedAndTouchesNothingOutside) {
  ASSERT_EQ(Upload("inside.txt", "in").status, 200);
  const std::map<std::string, std::string> outside_before = Snapshot(outside_);
  const std::map<std::string, std::string> root_before = Snapshot(root_);
  for (const char* target : kTraversalTargets) {
    for (const char* prefix : {"/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"}) {
      std::string url = std::string(prefix) + "/artifacts/" + target;
      ExpectMlflowError(Send("PUT", url, "pwned"), 400, "INVALID_PARAMETER_VALUE", "PUT " + url);
      ExpectMlflowError(Send("GET", url), 400, "INVALID_PARAMETER_VALUE", "GET " + url);
      ExpectMlflowError(Send("DELETE", url), 400, "INVALID_PARAMETER_VALUE", "DELETE " + url);
      std::string list = std::string(prefix) + "/artifacts?path=" + target;
      ExpectMlflowError(Send("GET", list), 400, "INVALID_PARAMETER_VALUE", "GET " + list);
    }
  }
  net::HttpResponse refused = Send("PUT", std::string(kApi) + "/../outside/new.txt", "pwned");
  EXPECT_EQ(Json::parse(refused.body).value("message", ""), "Invalid path");

  // A double slash makes an absolute-looking remainder; it must not escape.
  Send("PUT", std::string(kApi) + "//" + (outside_ / "new.txt").string().substr(1), "pwned");

  EXPECT_EQ(Snapshot(outside_), outside_before);
  EXPECT_EQ(Snapshot(root_), root_before);
}

TEST_F(ArtifactProxyHandlerTest, AjaxPrefixServesTheSameStore) {
  ASSERT_EQ(Send("PUT", "/ajax-api/2.0/mlflow-artifacts/artifacts/x/y.txt", "ajax").status, 200);
  EXPECT_EQ(Send("GET", std::string(kApi) + "/x/y.txt").body, "ajax");
  EXPECT_EQ(Json::parse(Send("GET", "/ajax-api/2.0/mlflow-artifacts/artifacts?path=x").body),
            Json::parse(R"({"files":[{"path":"y.txt","is_dir":false,"file_size":4}]})"));
}

TEST_F(ArtifactProxyHandlerTest, MultipartUploadIsNotImplemented) {
  net::HttpResponse response =
      Send("POST", "/api/2.0/mlflow-artifacts/mpu/create/run/big.bin", R"({"path":"big.bin"})");
  ExpectMlflowError(response, 501, "NOT_IMPLEMENTED", "mpu create");
  EXPECT_EQ(Json::parse(response.body).value("message", ""),
            "Multipart upload is not supported for the current artifact repository");
}

TEST_F(ArtifactProxyHandlerTest, UploadOverTheServerBodyLimitIsRefused) {
  net::HttpResponse response = Upload("run/huge.bin", std::string(kMaxBodyBytes + 1, 'x'));
  EXPECT_EQ(response.status, 413);
  EXPECT_FALSE(fs::exists(root_ / "run" / "huge.bin"));
}

TEST_F(ArtifactProxyHandlerTest, ConcurrentUploadsToDifferentPaths) {
  constexpr int kThreads = 6;
  constexpr int kFilesPerThread = 15;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::vector<int> failures(kThreads, 0);
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      auto client = net::HttpClient::Connect("127.0.0.1", server_->port());
      if (!client.ok()) {
        failures[thread] = kFilesPerThread;
        return;
      }
      for (int file = 0; file < kFilesPerThread; ++file) {
        std::string path = "0/run" + std::to_string(file % 3) + "/artifacts/t" +
                           std::to_string(thread) + "_" + std::to_string(file) + ".bin";
        auto response = (*client)->Send("PUT", std::string(kApi) + "/" + path, path);
        if (!response.ok() || response->status != 200) ++failures[thread];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int thread = 0; thread < kThreads; ++thread) EXPECT_EQ(failures[thread], 0);
  std::map<std::string, std::string> files = Snapshot(root_);
  ASSERT_EQ(files.size(), static_cast<size_t>(kThreads * kFilesPerThread));
  for (const auto& [path, bytes] : files) EXPECT_EQ(bytes, path);
}

}  // namespace
}  // namespace mlforge::tracking
