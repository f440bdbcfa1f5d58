// RestStore end to end: the Store conformance suite (compiled into this
// binary from tracking/store_conformance_test.cc) run against a RestStore
// that talks to a real net::HttpServer on 127.0.0.1 serving
// MlflowRestHandler over a real SqliteStore file. Plus what only the client
// has: URI parsing, a stopped server, error-body mapping, JSON parsing.

#include "tracking/rest/rest_store.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>

#include "net/http_server.h"
#include "net/router.h"
#include "tracking/rest/mlflow_handler.h"
#include "tracking/rest/mlflow_json.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/store_factory.h"
#include "tracking/testing/store_conformance.h"
#include "tracking/testing/store_wrapper.h"
#include "tracking/testing/temp_dir.h"

namespace mlforge::tracking::rest {
namespace {

// A tracking server on loopback over a SQLite file: the store, its handler
// and the HTTP server, torn down in reverse.
struct LoopbackServer {
  std::unique_ptr<Store> store;
  std::unique_ptr<MlflowRestHandler> handler;
  std::unique_ptr<net::HttpServer> server;  // stopped before the handler goes

  static core::Result<std::unique_ptr<LoopbackServer>> Start(const std::filesystem::path& folder) {
    auto loopback = std::make_unique<LoopbackServer>();
    MLFORGE_ASSIGN_OR_RETURN(loopback->store, SqliteStore::Open((folder / "mlflow.db").string(),
                                                                (folder / "artifacts").string()));
    loopback->handler = std::make_unique<MlflowRestHandler>(*loopback->store);
    net::Router router;
    loopback->handler->Register(router);
    net::HttpServer::Options options;
    options.worker_threads = 4;
    MLFORGE_ASSIGN_OR_RETURN(loopback->server,
                             net::HttpServer::Start(std::move(options), std::move(router)));
    return loopback;
  }

  std::string uri() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

// The RestStore the suite sees; it owns the server it talks to, so the
// suite's Reopen() restarts the server over the same SQLite file.
class ServedRestStore : public testing::StoreWrapper {
 public:
  ServedRestStore(std::unique_ptr<Store> client, std::unique_ptr<LoopbackServer> server)
      : StoreWrapper(std::move(client)), server_(std::move(server)) {}
  ~ServedRestStore() override { server_->server->Stop(); }

 private:
  std::unique_ptr<LoopbackServer> server_;
};

core::Result<std::unique_ptr<Store>> OpenServedRestStore(const std::filesystem::path& folder) {
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<LoopbackServer> server, LoopbackServer::Start(folder));
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Store> client, RestStore::Open(server->uri()));
  return std::unique_ptr<Store>(
      std::make_unique<ServedRestStore>(std::move(client), std::move(server)));
}

const testing::RegisterConformanceBackend kRestBackend({
    .name = "Rest",
    .open = OpenServedRestStore,
    .over_rest = true,
});

// ---- the client's own behaviour -------------------------------------------------

TEST(RestStoreTest, OpenParsesHttpUris) {
  EXPECT_TRUE(RestStore::Open("http://127.0.0.1:5000").ok());
  EXPECT_TRUE(RestStore::Open("http://localhost").ok());
  EXPECT_TRUE(RestStore::Open("http://tracking.example:8080/mlflow/").ok());
  EXPECT_TRUE(RestStore::Open("http://[::1]:5000").ok());
  core::Result<std::unique_ptr<Store>> https = RestStore::Open("https://example.com");
  EXPECT_EQ(https.status().code(), core::StatusCode::kUnimplemented);
  EXPECT_NE(https.status().message().find("https"), std::string::npos);
  EXPECT_EQ(RestStore::Open("http://").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(RestStore::Open("http://host:99999").status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(RestStore::Open("http://host:port").status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(RestStore::Open("ftp://host").status().code(), core::StatusCode::kInvalidArgument);
}

TEST(RestStoreTest, OpenStoreDispatchesHttpToTheRestStore) {
  testing::ScopedTempDir folder;
  core::Result<std::unique_ptr<LoopbackServer>> server = LoopbackServer::Start(folder.path());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  core::Result<std::unique_ptr<Store>> store = OpenStore((*server)->uri(), "ignored");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_NE(dynamic_cast<RestStore*>(store->get()), nullptr);
  core::Result<Experiment> fallback = (*store)->GetExperiment("0");
  ASSERT_TRUE(fallback.ok()) << fallback.status().ToString();
  EXPECT_EQ(fallback->name, "Default");
  EXPECT_EQ(OpenStore("https://example.com", "").status().code(), core::StatusCode::kUnimplemented);
}

TEST(RestStoreTest, PathPrefixIsPutBeforeTheApi) {
  testing::ScopedTempDir folder;
  core::Result<std::unique_ptr<LoopbackServer>> server = LoopbackServer::Start(folder.path());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  // The server serves no /proxy/ prefix, so a prefixed call is 404: proof
  // that the prefix is sent.
  core::Result<std::unique_ptr<Store>> store = RestStore::Open((*server)->uri() + "/proxy/");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->GetExperiment("0").status().code(), core::StatusCode::kNotFound);
}

// Holds a loopback port with a bound socket that never listens, so
// connecting to it is refused for sure: a port merely freed could be taken
// by a test running in parallel. Returns -1 when `port` cannot be bound.
class ReservedPort {
 public:
  explicit ReservedPort(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (fd_ >= 0 &&
        ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
      socklen_t length = sizeof(address);
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
      port_ = ntohs(address.sin_port);
    }
  }
  ~ReservedPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = -1;
};

TEST(RestStoreTest, StoppedServerIsUnavailable) {
  testing::ScopedTempDir folder;
  core::Result<std::unique_ptr<LoopbackServer>> server = LoopbackServer::Start(folder.path());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  core::Result<std::unique_ptr<Store>> store = RestStore::Open((*server)->uri());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->GetExperiment("0").ok());  // a kept-alive connection now
  const int port = (*server)->server->port();
  (*server)->server->Stop();
  ReservedPort reserved(port);
  if (reserved.port() != port) GTEST_SKIP() << "port " << port << " was taken in between";

  core::Result<Experiment> after_stop = (*store)->GetExperiment("0");
  EXPECT_EQ(after_stop.status().code(), core::StatusCode::kUnavailable)
      << after_stop.status().ToString();
  core::Status write = (*store)->SetExperimentTag("0", {"k", "v"});
  EXPECT_EQ(write.code(), core::StatusCode::kUnavailable) << write.ToString();
}

TEST(RestStoreTest, NothingListeningIsUnavailable) {
  ReservedPort reserved(0);  // bound, never listening
  ASSERT_GT(reserved.port(), 0);
  core::Result<std::unique_ptr<Store>> store =
      RestStore::Open("http://127.0.0.1:" + std::to_string(reserved.port()));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->GetRun("abc").status().code(), core::StatusCode::kUnavailable);
}

TEST(RestStoreTest, ServerMessagesSurviveTheRoundTrip) {
  testing::ScopedTempDir folder;
  core::Result<std::unique_ptr<Store>> store = OpenServedRestStore(folder.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  core::Result<Experiment> missing = (*store)->GetExperimentByName("nope");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Could not find experiment with name 'nope'");
}

TEST(MlflowErrorStatusTest, MapsCodesAndKeepsTheMessage) {
  struct Case {
    int http_status;
    std::string body;
    core::StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 'x' not found"})",
       core::StatusCode::kNotFound, "Run 'x' not found"},
      {400, R"({"error_code":"RESOURCE_ALREADY_EXISTS","message":"dup"})",
       core::StatusCode::kAlreadyExists, "dup"},
      {400, R"({"error_code":"INVALID_PARAMETER_VALUE","message":"bad"})",
       core::StatusCode::kInvalidArgument, "bad"},
      {400, R"({"error_code":"BAD_REQUEST","message":"bad"})", core::StatusCode::kInvalidArgument,
       "bad"},
      {401, R"({"error_code":"UNAUTHENTICATED","message":"who"})",
       core::StatusCode::kUnauthenticated, "who"},
      {403, R"({"error_code":"PERMISSION_DENIED","message":"no"})",
       core::StatusCode::kPermissionDenied, "no"},
      {503, R"({"error_code":"TEMPORARILY_UNAVAILABLE","message":"busy"})",
       core::StatusCode::kUnavailable, "busy"},
      {500, R"({"error_code":"INTERNAL_ERROR","message":"boom"})", core::StatusCode::kInternal,
       "boom"},
      {401, "Unauthorized", core::StatusCode::kUnauthenticated, "HTTP 401: Unauthorized"},
      {403, "", core::StatusCode::kPermissionDenied, "HTTP 403"},
      {502, "<html>bad gateway</html>", core::StatusCode::kInternal,
       "HTTP 502: <html>bad gateway</html>"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    core::Status status = MlflowErrorStatus(c.http_status, c.body);
    EXPECT_EQ(status.code(), c.code);
    EXPECT_EQ(status.message(), c.message);
  }
}

TEST(MlflowJsonFromTest, EntitiesRoundTrip) {
  tracking::Run run;
  run.info = {"r1", "r1",        "7",         "name",  "alice", RunStatus::kFinished,
              10,   int64_t{20}, "file:///a", "active"};
  run.data.metrics = {{"a", std::numeric_limits<double>::quiet_NaN(), 1, 2},
                      {"b", std::numeric_limits<double>::infinity(), 3, 4},
                      {"c", -std::numeric_limits<double>::infinity(), 5, 6},
                      {"d", 0.25, 7, 8}};
  run.data.params = {{"p", "1"}};
  run.data.tags = {{"t", "x"}};
  run.inputs.dataset_inputs = {
      {{{"mlflow.data.context", "train"}}, {"ds", "dig", "local", "src", "{}", ""}}};
  core::Result<tracking::Run> parsed = RunFromJson(Json::parse(DumpJson(RunToJson(run))));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->info, run.info);
  ASSERT_EQ(parsed->data.metrics.size(), 4u);
  for (size_t index = 0; index < 4; ++index) {
    EXPECT_TRUE(SameMetric(parsed->data.metrics[index], run.data.metrics[index])) << index;
  }
  EXPECT_EQ(parsed->data.params, run.data.params);
  EXPECT_EQ(parsed->data.tags, run.data.tags);
  EXPECT_EQ(parsed->inputs.dataset_inputs, run.inputs.dataset_inputs);

  Experiment experiment{"3", "exp", "s3://b/3", "deleted", 100, 200, {{"k", "v"}}};
  core::Result<Experiment> parsed_experiment =
      ExperimentFromJson(Json::parse(DumpJson(ExperimentToJson(experiment))));
  ASSERT_TRUE(parsed_experiment.ok());
  EXPECT_EQ(*parsed_experiment, experiment);
}

TEST(MlflowJsonFromTest, LenientWhereProtobufJsonIs) {
  // int64 as strings (protobuf's JSON mapping), unset fields absent.
  core::Result<RunInfo> info = RunInfoFromJson(
      Json{{"run_uuid", "r"}, {"start_time", "1700000000000"}, {"status", "RUNNING"}});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->run_id, "r");
  EXPECT_EQ(info->start_time, 1700000000000);
  EXPECT_FALSE(info->end_time.has_value());
  EXPECT_FALSE(RunInfoFromJson(Json{{"status", "DONE"}}).ok());
  EXPECT_FALSE(MetricFromJson(Json{{"key", "m"}, {"value", "lots"}}).ok());
  EXPECT_FALSE(MetricFromJson(Json{{"key", "m"}, {"step", 1.5}}).ok());
  EXPECT_FALSE(ExperimentFromJson(Json::array()).ok());
}

}  // namespace
}  // namespace mlforge::tracking::rest
