#pragma once

// The HTTP/1.1 server under every mlforge server (tracking on 5000, model
// serving on 8080).
//
//   Router router;
//   router.Get("/health", [](const HttpRequest&) { return HttpResponse::Text(200, "OK"); });
//   HttpServer::Options options;
//   options.port = 8080;
//   MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> server,
//                            HttpServer::Start(options, std::move(router)));
//   ...                                     // serves on its own threads
//   server->Stop();                         // or let the destructor do it
//
// What it does for every handler: keep-alive and pipelined requests (answered
// in order), `Connection: close` and HTTP/1.0, `Expect: 100-continue`, HEAD
// (the GET response without its body), Content-Length, Date and Server on
// every response, X-Request-Id echoed (or generated), bodies over
// max_body_bytes refused with 413 before they are read, headers over
// max_header_bytes with 431, malformed requests with 400 and a close, idle and
// slow connections closed by timeouts, a handler's exception turned into a 500
// (logged; the server keeps serving), an access-log line per request at debug
// level, and Prometheus metrics:
//   mlforge_http_requests_total{method,route,status}          counter
//   mlforge_http_request_duration_seconds{method,route}       histogram
//   mlforge_http_requests_in_flight                           gauge
//   mlforge_http_connections_open                             gauge
// `route` is the Router pattern that matched ("" when none did, or when the
// server was started with a plain Handler), so label sets stay bounded.
// With expose_metrics, `GET /metrics` is answered by the server itself, in
// front of the handler, with the registry in the exposition format.
//
// Threads: worker_threads threads run all socket I/O and the handlers. A
// handler runs on one of them and may block; while it does, that thread
// serves nobody else, so worker_threads bounds the number of blocking
// requests handled at once. A handler that waits on other work instead
// calls request.Defer() and answers through the Responder later, from any
// thread (the model server's batched calls do): the thread is free at once,
// so a few threads (about one per core) carry any number of such requests,
// and the fewer threads, the less time goes to waking them. One
// connection's requests are handled one after another.
//
// Not for: TLS (terminate it in front), HTTP/2, WebSockets, streaming bodies
// (request and response bodies are held whole in memory).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "core/status.h"
#include "net/http.h"
#include "net/metrics.h"
#include "net/router.h"

namespace mlforge::net {

class HttpServer {
 public:
  struct Options {
    // The address to listen on: an IPv4/IPv6 literal or a name that resolves
    // to one ("0.0.0.0" for every interface). Default "127.0.0.1".
    std::string host = "127.0.0.1";
    // The TCP port; 0 picks a free one, which port() reports. Default 0.
    int port = 0;
    // Threads running I/O and handlers, also the most requests handled at
    // once (see the class comment). 0 means max(4, hardware threads).
    int worker_threads = 0;
    // The largest request body accepted, in bytes; a larger declared
    // Content-Length gets 413 without the body being read, a chunked body
    // that grows past it 413 once it does. Default 1 MiB.
    size_t max_body_bytes = size_t{1} << 20;
    // The largest request line plus headers, in bytes; larger gets 431.
    // Default 64 KiB.
    size_t max_header_bytes = size_t{64} << 10;
    // How long a connection may sit idle between requests before the server
    // closes it. Default 60 s.
    std::chrono::milliseconds keep_alive_timeout{std::chrono::seconds(60)};
    // How long a request may take to arrive, from its first byte to the end
    // of its body; a slower one is dropped (connection closed). Default 30 s.
    std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
    // How long writing one response may take. Default 30 s.
    std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
    // How long Stop() waits for requests in flight (and requests already
    // being received) before it closes their connections. Default 10 s.
    std::chrono::milliseconds drain_timeout{std::chrono::seconds(10)};
    // Whether the server answers GET/HEAD /metrics itself. Default true.
    bool expose_metrics = true;
    // The registry the server's metrics go to, and which /metrics renders;
    // borrowed, and it must outlive the server. nullptr (default): the server
    // makes its own, reachable through metrics().
    MetricsRegistry* metrics = nullptr;
    // The Server header. Default "mlforge/<version>".
    std::string server_name = std::string("mlforge/") + MLFORGE_VERSION;
  };

  // Binds, listens and starts serving `handler` (or `router`, whose path
  // parameters are then filled without copying the request). Returns once the
  // socket is listening, so a client may connect at once. Unavailable when
  // the address cannot be bound (in use, not local, no permission), naming
  // host:port; InvalidArgument for options out of range.
  static core::Result<std::unique_ptr<HttpServer>> Start(Options options, Handler handler);
  static core::Result<std::unique_ptr<HttpServer>> Start(Options options, Router router);

  // Stop()s the server.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops accepting, closes idle keep-alive connections, lets requests in
  // flight finish and answers them with `Connection: close`, waiting up to
  // drain_timeout; then closes what is left and joins the threads. A handler
  // still running is waited for (it cannot be interrupted). Idempotent; must
  // not be called from a handler.
  void Stop();

  // The bound port (the chosen one when Options::port was 0).
  int port() const;
  // The host as given in the options.
  const std::string& host() const;
  // "host:port", for logs and clients.
  std::string address() const;
  // The registry the server records into (Options::metrics or its own).
  // Components may add their metrics here to have them on /metrics.
  MetricsRegistry& metrics();

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlforge::net
