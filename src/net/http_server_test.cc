#include "net/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <future>
#include <iostream>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "net/testing/raw_socket.h"

namespace mlforge::net {
namespace {

using std::chrono::milliseconds;
using testing::RawConnection;

// A router with the routes most tests use.
Router TestRouter() {
  Router router;
  router.Get("/page", [](const HttpRequest&) { return HttpResponse::Text(200, "hello"); });
  router.Get("/echo", [](const HttpRequest& request) {
    return HttpResponse::Text(200, request.Query("v").value_or("-"));
  });
  router.Post("/echo",
              [](const HttpRequest& request) { return HttpResponse::Json(200, request.body); });
  router.Get("/v2/models/{name}/versions/{version}", [](const HttpRequest& request) {
    std::string body = request.PathParam("name") + "|" + request.PathParam("version");
    for (const auto& [name, value] : request.query) body += "|" + name + "=" + value;
    return HttpResponse::Text(200, body);
  });
  router.Get("/files/*", [](const HttpRequest& request) {
    return HttpResponse::Text(200, request.PathParam("*"));
  });
  router.Get("/boom",
             [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom"); });
  router.Get("/whoami", [](const HttpRequest& request) {
    return HttpResponse::Text(200, request.remote_address + " " + request.request_id);
  });
  auto shared = std::make_shared<const std::string>("shared bytes");
  router.Get("/shared", [shared](const HttpRequest&) {
    HttpResponse response;
    response.content_type = "text/plain";
    response.shared_body = shared;
    return response;
  });
  return router;
}

std::unique_ptr<HttpServer> StartServer(Router router, HttpServer::Options options = {}) {
  core::Result<std::unique_ptr<HttpServer>> server =
      HttpServer::Start(std::move(options), std::move(router));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

std::unique_ptr<HttpClient> ConnectTo(const HttpServer& server) {
  core::Result<std::unique_ptr<HttpClient>> client =
      HttpClient::Connect("127.0.0.1", server.port());
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

TEST(HttpServerTest, RoutesParametersAndDecodedQueries) {
  auto server = StartServer(TestRouter());
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  auto client = ConnectTo(*server);
  ASSERT_NE(client, nullptr);

  auto response = client->Get("/v2/models/team%2Fmnist/versions/3?path=a%2Fb&q=x+y&q=%2B");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "team/mnist|3|path=a/b|q=x y|q=+");
  EXPECT_EQ(response->content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(response->Header("Content-Length"), std::to_string(response->body.size()));
  EXPECT_TRUE(response->Header("Date").has_value());
  EXPECT_EQ(response->Header("Server"), std::string("mlforge/") + MLFORGE_VERSION);

  EXPECT_EQ(client->Get("/files/run1/model/MLmodel")->body, "run1/model/MLmodel");
  EXPECT_EQ(client->Get("/nowhere")->status, 404);
  auto wrong_method = client->Send("DELETE", "/page");
  ASSERT_TRUE(wrong_method.ok());
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->Header("Allow"), "GET, HEAD");
  auto bad_escape = client->Get("/page%zz");
  ASSERT_TRUE(bad_escape.ok());
  EXPECT_EQ(bad_escape->status, 400);
  EXPECT_EQ(client->Get("/shared")->body, "shared bytes");
  EXPECT_EQ(client->connections_opened(), 1);
}

TEST(HttpServerTest, PlainHandlerSeesEveryRequest) {
  auto server = HttpServer::Start({}, [](const HttpRequest& request) {
    return HttpResponse::Text(201, request.method + " " + request.path + " " + request.body);
  });
  ASSERT_TRUE(server.ok());
  auto client = ConnectTo(**server);
  auto response = client->Send("PUT", "/any/where", "data");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "PUT /any/where data");
}

TEST(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  auto server = StartServer(TestRouter());
  auto client = ConnectTo(*server);
  for (int index = 0; index < 300; ++index) {
    std::string value = std::to_string(index);
    auto response = index % 2 == 0 ? client->Get("/echo?v=" + value)
                                   : client->Post("/echo", "{\"v\":" + value + "}");
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->body, index % 2 == 0 ? value : "{\"v\":" + value + "}");
  }
  EXPECT_EQ(client->connections_opened(), 1);
}

TEST(HttpServerTest, ConcurrentKeepAliveClientsAllGetTheirAnswers) {
  HttpServer::Options options;
  options.worker_threads = 8;
  auto server = StartServer(TestRouter(), options);
  constexpr int kClients = 16;
  constexpr int kRequests = 200;
  std::atomic<int> correct{0};
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int client_index = 0; client_index < kClients; ++client_index) {
    threads.emplace_back([&, client_index] {
      auto client = HttpClient::Connect("127.0.0.1", server->port());
      if (!client.ok()) return;
      for (int index = 0; index < kRequests; ++index) {
        std::string value = std::to_string(client_index) + "-" + std::to_string(index);
        auto response = (*client)->Get("/echo?v=" + value);
        if (response.ok() && response->status == 200 && response->body == value) ++correct;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(correct.load(), kClients * kRequests);
  std::cout << "[ info     ] " << kClients * kRequests << " requests from " << kClients
            << " keep-alive clients in " << seconds
            << " s = " << static_cast<int>(kClients * kRequests / seconds) << " requests/s\n";
}

TEST(HttpServerTest, PipelinedRequestsAreAnsweredInOrderAndHeadHasNoBody) {
  auto server = StartServer(TestRouter());
  RawConnection raw(server->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(
      raw.Send("GET /echo?v=first HTTP/1.1\r\nHost: t\r\n\r\n"
               "HEAD /page HTTP/1.1\r\nHost: t\r\n\r\n"
               "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nthird"
               "GET /echo?v=last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  std::string all = raw.ReadAll();
  EXPECT_TRUE(raw.closed_by_peer());
  size_t first = all.find("\r\n\r\nfirst");
  size_t head = all.find("Content-Length: 5\r\n", first);
  size_t third = all.find("\r\n\r\nthird", head);
  size_t last = all.find("\r\n\r\nlast", third);
  EXPECT_NE(first, std::string::npos) << all;
  EXPECT_NE(head, std::string::npos) << all;
  EXPECT_NE(third, std::string::npos) << all;
  EXPECT_NE(last, std::string::npos) << all;
  EXPECT_EQ(all.find("hello"), std::string::npos) << "HEAD must not send the body: " << all;
  EXPECT_NE(all.find("Connection: close\r\n", third), std::string::npos);
  EXPECT_TRUE(all.ends_with("last")) << all;
}

TEST(HttpServerTest, Http10ClosesAfterTheResponse) {
  auto server = StartServer(TestRouter());
  RawConnection raw(server->port());
  ASSERT_TRUE(raw.Send("GET /page HTTP/1.0\r\n\r\n"));
  std::string all = raw.ReadAll();
  EXPECT_TRUE(all.starts_with("HTTP/1.1 200 OK\r\n")) << all;
  EXPECT_TRUE(all.ends_with("\r\n\r\nhello")) << all;
  EXPECT_TRUE(raw.closed_by_peer());
}

TEST(HttpServerTest, MalformedRequestsGet400AndAClose) {
  auto server = StartServer(TestRouter());
  for (std::string garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /page HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("GET /page HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
        std::string("POST /echo HTTP/1.1\r\nContent-Length: 1\r\n"
                    "Content-Length: 2\r\n\r\nab")}) {
    RawConnection raw(server->port());
    ASSERT_TRUE(raw.Send(garbage));
    std::string all = raw.ReadAll();
    EXPECT_TRUE(all.starts_with("HTTP/1.1 400 Bad Request\r\n")) << garbage << " -> " << all;
    EXPECT_NE(all.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(raw.closed_by_peer());
  }
  // The server is fine afterwards.
  EXPECT_EQ(ConnectTo(*server)->Get("/page")->body, "hello");
}

TEST(HttpServerTest, OversizedBodiesGet413BeforeTheyAreRead) {
  auto server = StartServer(TestRouter());
  auto client = ConnectTo(*server);
  std::string big(2 << 20, 'x');
  auto response = client->Post("/echo", big);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 413);
  EXPECT_NE(response->body.find("of 2097152 bytes exceeds this server's limit of 1048576 bytes"),
            std::string::npos)
      << response->body;
  // Exactly at the limit is fine (the client reconnects: 413 closed the connection).
  std::string fits(1 << 20, 'y');
  auto accepted = client->Post("/echo", fits);
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->status, 200);
  EXPECT_EQ(accepted->body.size(), fits.size());

  // With Expect: 100-continue the client never has to send the body.
  RawConnection raw(server->port());
  ASSERT_TRUE(
      raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 50000000\r\n"
               "Expect: 100-continue\r\n\r\n"));
  std::string answer = raw.ReadAll(milliseconds(3000));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413 Payload Too Large\r\n")) << answer;
}

TEST(HttpServerTest, ChunkedBodyOverTheLimitGets413) {
  HttpServer::Options options;
  options.max_body_bytes = 1000;
  auto server = StartServer(TestRouter(), options);
  RawConnection raw(server->port());
  std::string chunk(600, 'z');
  ASSERT_TRUE(
      raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               "258\r\n" +
               chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n"));
  std::string answer = raw.ReadAll();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413 ")) << answer;
}

TEST(HttpServerTest, ChunkedBodyWithinTheLimitIsAssembled) {
  auto server = StartServer(TestRouter());
  RawConnection raw(server->port());
  ASSERT_TRUE(
      raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
               "Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  std::string answer = raw.ReadAll();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n")) << answer;
  EXPECT_TRUE(answer.ends_with("\r\n\r\nabcde")) << answer;
}

TEST(HttpServerTest, ExpectContinueIsAnswered) {
  auto server = StartServer(TestRouter());
  RawConnection raw(server->port());
  ASSERT_TRUE(
      raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
               "Expect: 100-continue\r\n\r\n"));
  EXPECT_EQ(raw.ReadUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(raw.Send("body"));
  std::string answer = raw.ReadUntil("body");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n")) << answer;
}

TEST(HttpServerTest, OversizedHeadersGet431) {
  HttpServer::Options options;
  options.max_header_bytes = 4096;
  auto server = StartServer(TestRouter(), options);
  RawConnection raw(server->port());
  ASSERT_TRUE(raw.Send("GET /page HTTP/1.1\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n"));
  std::string answer = raw.ReadAll();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n")) << answer;
}

TEST(HttpServerTest, HandlerExceptionIs500AndTheServerKeepsServing) {
  auto server = StartServer(TestRouter());
  auto client = ConnectTo(*server);
  for (int round = 0; round < 3; ++round) {
    auto failed = client->Get("/boom");
    ASSERT_TRUE(failed.ok());
    EXPECT_EQ(failed->status, 500);
    EXPECT_NE(failed->body.find("kaboom"), std::string::npos);
    EXPECT_EQ(client->Get("/page")->body, "hello");
  }
  EXPECT_EQ(client->connections_opened(), 1);
}

TEST(HttpServerTest, RequestIdIsEchoedOrGeneratedAndPeerIsKnown) {
  auto server = StartServer(TestRouter());
  auto client = ConnectTo(*server);
  auto echoed = client->Send("GET", "/whoami", "", {{"X-Request-Id", "trace-42"}});
  ASSERT_TRUE(echoed.ok());
  EXPECT_EQ(echoed->Header("x-request-id"), "trace-42");
  EXPECT_TRUE(echoed->body.starts_with("127.0.0.1:")) << echoed->body;
  EXPECT_TRUE(echoed->body.ends_with(" trace-42"));

  auto generated = client->Get("/whoami");
  std::optional<std::string> id = generated->Header("X-Request-Id");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->size(), 32u);
  EXPECT_TRUE(generated->body.ends_with(" " + *id));
}

TEST(HttpServerTest, MetricsEndpointCountsRequestsByRoute) {
  auto server = StartServer(TestRouter());
  auto client = ConnectTo(*server);
  for (int index = 0; index < 5; ++index) client->Get("/page");
  client->Get("/v2/models/a/versions/1");
  client->Get("/nowhere");
  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->content_type, MetricsRegistry::kContentType);
  const std::string& text = metrics->body;
  EXPECT_NE(text.find("# TYPE mlforge_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(
      text.find("mlforge_http_requests_total{method=\"GET\",route=\"/page\",status=\"200\"} 5\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("mlforge_http_requests_total{method=\"GET\",route=\"/v2/models/{name}/"
                      "versions/{version}\",status=\"200\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("mlforge_http_requests_total{method=\"GET\",route=\"\",status=\"404\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("mlforge_http_request_duration_seconds_count{method=\"GET\",route=\"/page\"} 5\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("mlforge_http_connections_open 1\n"), std::string::npos) << text;
  // The /metrics request itself is in flight while it renders.
  EXPECT_NE(text.find("mlforge_http_requests_in_flight 1\n"), std::string::npos) << text;

  HttpServer::Options hidden;
  hidden.expose_metrics = false;
  auto private_server = StartServer(TestRouter(), hidden);
  EXPECT_EQ(ConnectTo(*private_server)->Get("/metrics")->status, 404);
}

TEST(HttpServerTest, BindFailureNamesTheAddress) {
  auto first = StartServer(TestRouter());
  HttpServer::Options options;
  options.port = first->port();
  auto second = HttpServer::Start(options, TestRouter());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), core::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("127.0.0.1:" + std::to_string(first->port())),
            std::string::npos)
      << second.status().message();
  EXPECT_NE(second.status().message().find("another port"), std::string::npos);
}

TEST(HttpServerTest, StopLetsTheRequestInFlightFinish) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Router router;
  router.Get("/slow", [&](const HttpRequest&) {
    entered.set_value();
    released.wait_for(std::chrono::seconds(10));  // bounded even if the test fails
    return HttpResponse::Text(200, "finished");
  });
  auto server = StartServer(std::move(router));
  int port = server->port();

  core::Result<HttpResponse> slow = core::InternalError("not sent");
  std::thread client_thread([&] {
    auto client = HttpClient::Connect("127.0.0.1", port);
    if (client.ok()) slow = (*client)->Get("/slow");
  });
  EXPECT_EQ(entered.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server->Stop();
    stopped = true;
  });
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_FALSE(stopped.load()) << "Stop() must wait for the request in flight";
  // No new connections once stopping.
  EXPECT_EQ(HttpClient::Connect("127.0.0.1", port).status().code(), core::StatusCode::kUnavailable);

  release.set_value();
  client_thread.join();
  stopper.join();
  EXPECT_TRUE(stopped.load());
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->body, "finished");
  EXPECT_EQ(slow->Header("Connection"), "close");
}

// A thread that answers deferred requests after a delay, as a batcher does.
class DeferredAnswerer {
 public:
  ~DeferredAnswerer() {
    for (std::thread& thread : threads_) thread.join();
  }
  void Answer(Responder respond, std::string body, milliseconds delay) {
    std::lock_guard<std::mutex> lock(mutex_);
    threads_.emplace_back([respond = std::move(respond), body = std::move(body), delay] {
      std::this_thread::sleep_for(delay);
      respond(HttpResponse::Text(200, body));
      respond(HttpResponse::Text(500, "a second answer must be ignored"));
    });
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

// Deferred answers come from another thread, in order on one keep-alive
// connection, and from one server thread for many clients at once: the
// thread is not held while an answer is pending.
TEST(HttpServerTest, DeferredResponsesAreSentFromAnotherThread) {
  DeferredAnswerer answerer;
  Router router;
  router.Get("/later", [&](const HttpRequest& request) {
    Responder respond = request.Defer();
    EXPECT_TRUE(respond);
    answerer.Answer(std::move(respond), "later " + request.Query("n").value_or("?"),
                    milliseconds(100));
    return HttpResponse::Text(200, "placeholder: never sent");
  });
  router.Get("/page", [](const HttpRequest&) { return HttpResponse::Text(200, "hello"); });
  HttpServer::Options options;
  options.worker_threads = 1;
  auto server = StartServer(std::move(router), options);
  ASSERT_NE(server, nullptr);

  auto client = ConnectTo(*server);
  for (int n = 0; n < 3; ++n) {
    auto response = client->Get("/later?n=" + std::to_string(n));
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "later " + std::to_string(n));
  }
  EXPECT_EQ(client->Get("/page")->body, "hello");

  // Eight clients on one server thread: every request is pending at once
  // before any is answered, which a handler holding the thread could not do.
  constexpr int kClients = 8;
  std::mutex pending_mutex;
  std::condition_variable pending_changed;
  std::vector<std::pair<int, Responder>> pending;
  Router gathering;
  gathering.Get("/gather", [&](const HttpRequest& request) {
    std::lock_guard<std::mutex> lock(pending_mutex);
    pending.emplace_back(std::stoi(request.Query("n").value_or("0")), request.Defer());
    pending_changed.notify_all();
    return HttpResponse();
  });
  auto gather_server = StartServer(std::move(gathering), options);
  ASSERT_NE(gather_server, nullptr);
  std::vector<std::thread> clients;
  std::atomic<int> answered{0};
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto own = HttpClient::Connect("127.0.0.1", gather_server->port());
      if (!own.ok()) return;
      auto response = (*own)->Get("/gather?n=" + std::to_string(c));
      if (response.ok() && response->body == "gathered " + std::to_string(c)) ++answered;
    });
  }
  {
    std::unique_lock<std::mutex> lock(pending_mutex);
    EXPECT_TRUE(pending_changed.wait_for(lock, std::chrono::seconds(20),
                                         [&] { return pending.size() == kClients; }))
        << pending.size() << " of " << kClients << " requests reached the handler";
    for (auto& [n, respond] : pending) respond(HttpResponse::Text(200, "gathered " + std::to_string(n)));
    pending.clear();
  }
  for (std::thread& thread : clients) thread.join();
  EXPECT_EQ(answered.load(), kClients);
}

TEST(HttpServerTest, ALostResponderIs500AndAThrowingHandlerStays500) {
  DeferredAnswerer answerer;
  Router router;
  router.Get("/lost", [](const HttpRequest& request) {
    Responder respond = request.Defer();  // dropped without a call
    return HttpResponse::Text(200, "placeholder");
  });
  router.Get("/throws", [&](const HttpRequest& request) -> HttpResponse {
    answerer.Answer(request.Defer(), "too late", milliseconds(50));
    throw std::runtime_error("failed after deferring");
  });
  auto server = StartServer(std::move(router));
  auto client = ConnectTo(*server);
  auto lost = client->Get("/lost");
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_EQ(lost->status, 500);
  EXPECT_NE(lost->body.find("never answered"), std::string::npos) << lost->body;
  auto thrown = client->Get("/throws");
  ASSERT_TRUE(thrown.ok()) << thrown.status().ToString();
  EXPECT_EQ(thrown->status, 500);
  EXPECT_NE(thrown->body.find("failed after deferring"), std::string::npos) << thrown->body;
  // The late answer of the throwing request is dropped: the connection
  // stays in step.
  std::this_thread::sleep_for(milliseconds(100));
  auto next = client->Get("/lost");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_NE(next->body.find("never answered"), std::string::npos) << next->body;
}

TEST(HttpServerTest, StopWaitsForADeferredAnswer) {
  DeferredAnswerer answerer;
  Router router;
  router.Get("/later", [&](const HttpRequest& request) {
    answerer.Answer(request.Defer(), "finished", milliseconds(300));
    return HttpResponse();
  });
  auto server = StartServer(std::move(router));
  int port = server->port();
  core::Result<HttpResponse> later = core::InternalError("not sent");
  std::thread client_thread([&] {
    auto client = HttpClient::Connect("127.0.0.1", port);
    if (client.ok()) later = (*client)->Get("/later");
  });
  std::this_thread::sleep_for(milliseconds(100));
  server->Stop();
  client_thread.join();
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_EQ(later->status, 200);
  EXPECT_EQ(later->body, "finished");
  EXPECT_EQ(later->Header("Connection"), "close");
}

TEST(HttpServerTest, StopClosesIdleKeepAliveConnectionsAtOnce) {
  auto server = StartServer(TestRouter());
  auto client = ConnectTo(*server);
  ASSERT_EQ(client->Get("/page")->status, 200);
  RawConnection idle_before_any_request(server->port());
  auto started = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  server->Stop();  // idempotent
  EXPECT_EQ(client->Get("/page").status().code(), core::StatusCode::kUnavailable);
}

TEST(HttpServerTest, IdleAndSlowConnectionsAreClosedByTimeouts) {
  HttpServer::Options options;
  options.keep_alive_timeout = milliseconds(150);
  options.read_timeout = milliseconds(150);
  auto server = StartServer(TestRouter(), options);

  RawConnection idle(server->port());
  ASSERT_TRUE(idle.Send("GET /page HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_NE(idle.ReadUntil("hello").find("200 OK"), std::string::npos);
  auto waited_from = std::chrono::steady_clock::now();
  idle.ReadAll(milliseconds(3000));
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - waited_from, std::chrono::seconds(2));

  RawConnection slow(server->port());
  ASSERT_TRUE(slow.Send("GET /page HTTP/1.1\r\nHost:"));
  slow.ReadAll(milliseconds(3000));
  EXPECT_TRUE(slow.closed_by_peer());
}

TEST(HttpServerTest, InvalidOptionsAreRejected) {
  HttpServer::Options options;
  options.port = 70000;
  EXPECT_EQ(HttpServer::Start(options, TestRouter()).status().code(),
            core::StatusCode::kInvalidArgument);
  options.port = 0;
  options.host = "192.0.2.1";  // TEST-NET-1: not an address of this machine
  EXPECT_EQ(HttpServer::Start(options, TestRouter()).status().code(),
            core::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace mlforge::net
