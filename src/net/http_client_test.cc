#include "net/http_client.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "net/http_server.h"

namespace mlforge::net {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<HttpServer> StartServer(Router router, HttpServer::Options options = {}) {
  auto server = HttpServer::Start(std::move(options), std::move(router));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

// A port that nothing listens on: a server's, after it stopped.
int ClosedPort() {
  Router router;
  router.Get("/", [](const HttpRequest&) { return HttpResponse::Text(200, ""); });
  auto server = StartServer(std::move(router));
  int port = server->port();
  server.reset();
  return port;
}

TEST(HttpClientTest, RefusedConnectionIsUnavailable) {
  int port = ClosedPort();
  auto client = HttpClient::Connect("127.0.0.1", port);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), core::StatusCode::kUnavailable);
  EXPECT_NE(client.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << client.status().message();
  EXPECT_EQ(HttpClient::Connect("127.0.0.1", 0).status().code(),
            core::StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, StatusesHeadersAndHeadResponses) {
  Router router;
  router.Get("/doc", [](const HttpRequest& request) {
    HttpResponse response = HttpResponse::Json(200, R"({"ok":true})");
    response.SetHeader("X-Seen-Agent", request.Header("User-Agent").value_or("none"));
    return response;
  });
  router.Post("/missing", [](const HttpRequest&) { return HttpResponse::Text(404, "gone"); });
  auto server = StartServer(std::move(router));
  HttpClient::Options options;
  options.default_headers = {{"User-Agent", "mlforge-test"}};
  auto client = HttpClient::Connect("127.0.0.1", server->port(), options);
  ASSERT_TRUE(client.ok());

  auto document = (*client)->Get("/doc");
  ASSERT_TRUE(document.ok());
  EXPECT_EQ(document->status, 200);
  EXPECT_EQ(document->content_type, "application/json");
  EXPECT_EQ(document->body, R"({"ok":true})");
  EXPECT_EQ(document->Header("X-Seen-Agent"), "mlforge-test");

  auto head = (*client)->Send("HEAD", "/doc");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->Header("Content-Length"), "11");

  // An HTTP error status is a response, not a failed Send().
  auto missing = (*client)->Post("/missing", "");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "gone");
  EXPECT_EQ((*client)->connections_opened(), 1);
}

TEST(HttpClientTest, TimeoutIsDeadlineExceededAndTheClientRecovers) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Router router;
  router.Get("/slow", [&](const HttpRequest&) {
    released.wait_for(std::chrono::seconds(10));
    return HttpResponse::Text(200, "late");
  });
  router.Get("/fast", [](const HttpRequest&) { return HttpResponse::Text(200, "fast"); });
  auto server = StartServer(std::move(router));
  auto client = HttpClient::Connect("127.0.0.1", server->port());
  ASSERT_TRUE(client.ok());

  auto started = std::chrono::steady_clock::now();
  auto timed_out = (*client)->Send("GET", "/slow", "", {}, milliseconds(200));
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.status().code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_GE(waited, milliseconds(200));
  EXPECT_LT(waited, std::chrono::seconds(3));
  release.set_value();

  auto fast = (*client)->Get("/fast");
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_EQ(fast->body, "fast");
  EXPECT_EQ((*client)->connections_opened(), 2);
}

TEST(HttpClientTest, ReconnectsOnceWhenTheServerClosedTheIdleConnection) {
  HttpServer::Options options;
  options.keep_alive_timeout = milliseconds(100);
  Router router;
  router.Post("/count", [](const HttpRequest& request) {
    return HttpResponse::Text(200, "got " + request.body);
  });
  auto server = StartServer(std::move(router), options);
  auto client = HttpClient::Connect("127.0.0.1", server->port());
  ASSERT_TRUE(client.ok());
  ASSERT_EQ((*client)->Post("/count", "1")->body, "got 1");
  std::this_thread::sleep_for(milliseconds(400));  // the server drops the idle connection
  auto after = (*client)->Post("/count", "2");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->body, "got 2");
  EXPECT_EQ((*client)->connections_opened(), 2);
}

TEST(HttpClientTest, ServerGoneIsUnavailable) {
  Router router;
  router.Get("/", [](const HttpRequest&) { return HttpResponse::Text(200, "up"); });
  auto server = StartServer(std::move(router));
  auto client = HttpClient::Connect("127.0.0.1", server->port());
  ASSERT_TRUE(client.ok());
  ASSERT_EQ((*client)->Get("/")->body, "up");
  server.reset();
  auto response = (*client)->Get("/");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), core::StatusCode::kUnavailable);
}

TEST(HttpClientTest, ResponseBodyLimitIsResourceExhausted) {
  Router router;
  router.Get("/big",
             [](const HttpRequest&) { return HttpResponse::Text(200, std::string(10000, 'b')); });
  router.Get("/small", [](const HttpRequest&) { return HttpResponse::Text(200, "s"); });
  auto server = StartServer(std::move(router));
  HttpClient::Options options;
  options.max_response_body_bytes = 1000;
  auto client = HttpClient::Connect("127.0.0.1", server->port(), options);
  ASSERT_TRUE(client.ok());
  auto big = (*client)->Get("/big");
  EXPECT_EQ(big.status().code(), core::StatusCode::kResourceExhausted);
  EXPECT_EQ((*client)->Get("/small")->body, "s");
}

}  // namespace
}  // namespace mlforge::net
