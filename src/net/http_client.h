#pragma once

// A synchronous HTTP/1.1 client for one host:port that keeps its connection
// alive between requests. Used by tests, the tracking client SDK and the
// benchmarks.
//
//   MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> client,
//                            HttpClient::Connect("127.0.0.1", 5000));
//   MLFORGE_ASSIGN_OR_RETURN(HttpResponse response,
//       client->Send("POST", "/api/2.0/mlflow/runs/create", body,
//                    {{"Content-Type", "application/json"}}));
//
// Errors: a refused or unreachable server is Unavailable; a request that does
// not complete within its timeout is DeadlineExceeded (the connection is then
// dropped, and the next request opens a new one); a response body over
// max_response_body_bytes is ResourceExhausted; a malformed response is
// Internal. Any HTTP status, 4xx and 5xx included, is a successful Send().
//
// If the server closed the kept-alive connection (its idle timeout, a
// restart), Send() reconnects and sends again once, but only when nothing of
// the response had arrived, so a request is never answered twice.
//
// Thread safety: none; use one client per thread (a client is one
// connection). Not for: TLS, proxies, redirects, chunked request bodies.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http.h"

namespace mlforge::net {

class HttpClient {
 public:
  struct Options {
    // The limit on one Send(): (re)connecting, writing the request and
    // reading the whole response. Send() may override it. Default 30 s.
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
    // The limit on opening a connection in Connect(). Default 5 s.
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
    // The largest response body accepted, in bytes. Default 1 GiB.
    uint64_t max_response_body_bytes = uint64_t{1} << 30;
    // Headers sent with every request (User-Agent, Authorization), before
    // the request's own. Host and Content-Length are always sent.
    HttpHeaders default_headers;
  };

  // Resolves `host` and opens a connection to host:port. Unavailable when the
  // name does not resolve or the connection is refused or unreachable;
  // DeadlineExceeded after connect_timeout.
  static core::Result<std::unique_ptr<HttpClient>> Connect(std::string host, int port,
                                                           Options options);
  static core::Result<std::unique_ptr<HttpClient>> Connect(std::string host, int port);

  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `method` `target` ("/path?query", already encoded) with `body`
  // (Content-Length is set; none for a bodiless GET/HEAD/DELETE) and
  // `headers`, and returns the response: status, headers, body, and
  // content_type from Content-Type. A HEAD response has an empty body.
  // `timeout` overrides Options::timeout. Errors as in the class comment.
  core::Result<HttpResponse> Send(std::string_view method, std::string_view target,
                                  std::string_view body = {}, const HttpHeaders& headers = {},
                                  std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  core::Result<HttpResponse> Get(std::string_view target) { return Send("GET", target); }
  // POST with the given Content-Type.
  core::Result<HttpResponse> Post(std::string_view target, std::string_view body,
                                  std::string_view content_type = "application/json");

  const std::string& host() const;
  int port() const;
  // How many TCP connections this client has opened (1 after Connect); a
  // keep-alive test checks that it stays 1.
  int connections_opened() const;

 private:
  class Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlforge::net
