// RestTransport against a real net::HttpServer on 127.0.0.1 whose routes
// answer with chosen statuses: what is retried, what is not, and how error
// bodies come back.

#include "tracking/rest/rest_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include "net/http_server.h"
#include "net/router.h"

namespace mlforge::tracking::rest {
namespace {

class RestTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net::Router router;
    // Busy twice, then fine.
    router.Add("POST", "/api/2.0/mlflow/flaky", [this](const net::HttpRequest& request) {
      if (flaky_calls_.fetch_add(1) < 2) {
        return net::HttpResponse::Json(
            503, R"({"error_code":"TEMPORARILY_UNAVAILABLE","message":"busy"})");
      }
      return net::HttpResponse::Json(200, R"({"echo":)" + request.body + "}");
    });
    router.Add("GET", "/api/2.0/mlflow/missing", [this](const net::HttpRequest&) {
      ++missing_calls_;
      return net::HttpResponse::Json(
          404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"No run 'x'"})");
    });
    router.Add("GET", "/api/2.0/mlflow/broken", [this](const net::HttpRequest&) {
      ++broken_calls_;
      return net::HttpResponse::Json(500, R"({"error_code":"INTERNAL_ERROR","message":"bug"})");
    });
    router.Add("GET", "/api/2.0/mlflow/query", [](const net::HttpRequest& request) {
      std::string name;
      for (const auto& [key, value] : request.query) {
        if (key == "name") name = value;
      }
      return net::HttpResponse::Json(200, Json{{"name", name}}.dump());
    });
    router.Add("GET", "/api/2.0/mlflow/not-json",
               [](const net::HttpRequest&) { return net::HttpResponse::Text(200, "hello"); });
    auto started = net::HttpServer::Start(net::HttpServer::Options{}, std::move(router));
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
  }

  std::unique_ptr<RestTransport> Open(int max_attempts) {
    RestTransport::Options options;
    options.max_attempts = max_attempts;
    options.initial_backoff = std::chrono::milliseconds(1);
    auto transport =
        RestTransport::Open("http://127.0.0.1:" + std::to_string(server_->port()), options);
    EXPECT_TRUE(transport.ok()) << transport.status().ToString();
    return std::move(transport).value();
  }

  std::atomic<int> flaky_calls_{0};
  std::atomic<int> missing_calls_{0};
  std::atomic<int> broken_calls_{0};
  std::unique_ptr<net::HttpServer> server_;
};

TEST_F(RestTransportTest, RetriesBusyAnswersUntilOneSucceeds) {
  auto transport = Open(3);
  core::Result<Json> answer = transport->Post("flaky", Json{{"x", 1}});
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ((*answer)["echo"]["x"], 1);
  EXPECT_EQ(flaky_calls_.load(), 3);
}

TEST_F(RestTransportTest, GivesUpAfterMaxAttemptsWithTheServersMessage) {
  auto transport = Open(2);
  core::Result<Json> answer = transport->Post("flaky", Json::object());
  EXPECT_EQ(answer.status().code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(answer.status().message(), "busy");
  EXPECT_EQ(flaky_calls_.load(), 2);
}

TEST_F(RestTransportTest, ClientErrorsAndInternalErrorsAreNotRetried) {
  auto transport = Open(5);
  core::Result<Json> missing = transport->Get("missing", {});
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "No run 'x'");
  EXPECT_EQ(missing_calls_.load(), 1);
  EXPECT_EQ(transport->Get("broken", {}).status().code(), core::StatusCode::kInternal);
  EXPECT_EQ(broken_calls_.load(), 1);
}

TEST_F(RestTransportTest, QueryValuesAreEncoded) {
  auto transport = Open(1);
  core::Result<Json> answer = transport->Get("query", {{"name", "a b&c=d/é"}});
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ((*answer)["name"], "a b&c=d/é");
}

TEST_F(RestTransportTest, ABodyThatIsNotJsonIsInternal) {
  auto transport = Open(3);
  core::Result<Json> answer = transport->Get("not-json", {});
  EXPECT_EQ(answer.status().code(), core::StatusCode::kInternal);
  EXPECT_NE(answer.status().message().find("hello"), std::string::npos);
}

TEST(RestTransportOpenTest, RefusedConnectionsAreRetriedThenUnavailable) {
  // A bound socket that never listens: connecting to it is refused for
  // sure, and no test running in parallel can take the port.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int port = ntohs(address.sin_port);
  RestTransport::Options options;
  options.initial_backoff = std::chrono::milliseconds(1);
  options.server_kind = "Model registry";
  auto transport = RestTransport::Open("http://127.0.0.1:" + std::to_string(port), options);
  ASSERT_TRUE(transport.ok());
  core::Result<Json> answer = (*transport)->Get("anything", {});
  EXPECT_EQ(answer.status().code(), core::StatusCode::kUnavailable);
  EXPECT_NE(answer.status().message().find("Model registry http://127.0.0.1:"), std::string::npos)
      << answer.status().message();
  ::close(fd);
}

TEST(RestTransportOpenTest, UriErrors) {
  EXPECT_EQ(RestTransport::Open("https://example.com").status().code(),
            core::StatusCode::kUnimplemented);
  EXPECT_EQ(RestTransport::Open("http://").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(RestTransport::Open("ftp://host").status().code(), core::StatusCode::kInvalidArgument);
  auto prefixed = RestTransport::Open("http://[::1]:5000/mlflow/");
  ASSERT_TRUE(prefixed.ok());
  EXPECT_EQ((*prefixed)->address(), "http://[::1]:5000");
}

}  // namespace
}  // namespace mlforge::tracking::rest
