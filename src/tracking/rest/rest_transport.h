#pragma once

// tracking::rest::RestTransport: the client half of MLflow's REST API that
// every REST-backed store shares (tracking::rest::RestStore,
// registry::rest::RestRegistryStore): one server's base URI, a pool of
// keep-alive connections, JSON in and out, retries of transient failures,
// and MLflow's error bodies decoded into core::Status.
//
//   MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<RestTransport> transport,
//                            RestTransport::Open("http://127.0.0.1:5000"));
//   MLFORGE_ASSIGN_OR_RETURN(Json body, transport->Post("runs/create", request));
//   MLFORGE_ASSIGN_OR_RETURN(Json run, transport->Get("runs/get", {{"run_id", id}}));
//
// Endpoint names ("runs/create", "registered-models/alias") are relative to
// "<path prefix>/api/2.0/mlflow/".
//
// Retries: a request is sent again, after a pause that doubles each time,
// when no connection could be opened or the connection failed (Unavailable)
// or when the server answered 429, 502, 503 or 504 (busy, restarting or
// behind a proxy that lost it), as MLflow's Python client does. A 500 is not
// retried: this server sends it for INTERNAL_ERROR and INVALID_STATE, which
// a second try does not change. DeadlineExceeded is not retried either (the
// request may have been applied; its timeout is long already).
//
// Errors: an MLflow error body {"error_code", "message"} becomes a Status
// with the server's message (MlflowErrorStatus() in mlflow_json.h); a
// refused or dropped connection is Unavailable, named with the server's
// address; a request over the timeout is DeadlineExceeded; a 200 whose body
// is not a JSON object is Internal.
//
// Thread safety: every method may be called from many threads at once.
// net::HttpClient is one connection and not thread-safe, so a call borrows
// an idle connection, or opens a new one when all are busy, and gives it
// back afterwards (a connection that failed is dropped instead).
//
// Not for: https (Unimplemented), authentication headers.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "net/http_client.h"
#include "tracking/rest/mlflow_json.h"

namespace mlforge::tracking::rest {

class RestTransport {
 public:
  struct Options {
    // Tries per request, the first included; 1 turns retrying off.
    // Default 3.
    int max_attempts = 3;
    // The pause before the first retry, doubled before each further one.
    // Default 100 ms (so 100 ms + 200 ms with the default attempts).
    std::chrono::milliseconds initial_backoff{100};
    // The most idle connections kept for reuse. Default 8.
    size_t max_idle_connections = 8;
    // How error messages name the server: "Tracking server", "Model
    // registry". Default "Tracking server".
    std::string server_kind = "Tracking server";
  };

  // `uri` is "http://host[:port][/path prefix]" (port 80 when absent; the
  // prefix, if any, goes before "/api/2.0/mlflow/"). Connects lazily: a
  // server that is down shows up as Unavailable on the first call.
  // InvalidArgument for a malformed URI; Unimplemented for https and for
  // credentials in the URI.
  static core::Result<std::unique_ptr<RestTransport>> Open(std::string_view uri, Options options);
  static core::Result<std::unique_ptr<RestTransport>> Open(std::string_view uri);

  RestTransport(std::string host, int port, const std::string& path_prefix, Options options);
  RestTransport(const RestTransport&) = delete;
  RestTransport& operator=(const RestTransport&) = delete;
  ~RestTransport();

  // POSTs `body` as JSON to endpoint `name` and returns the response body
  // (`{}` for an empty one), or the error it carries.
  core::Result<Json> Post(std::string_view name, const Json& body);
  // The same with another method (PATCH, DELETE) and a JSON body.
  core::Result<Json> Send(std::string_view method, std::string_view name, const Json& body);
  // GETs endpoint `name` with `query` (pairs, percent-encoded here).
  core::Result<Json> Get(std::string_view name,
                         const std::vector<std::pair<std::string, std::string>>& query);
  // Sends `method` to `endpoint_path` (relative to the API prefix, already
  // encoded) with a raw body (empty: none), for routes with ids in the path.
  core::Result<Json> Call(std::string_view method, std::string_view endpoint_path,
                          std::string_view body);

  // "http://host:port" (for messages).
  std::string address() const;

 private:
  // One try of a request: the parsed body, or an error; `retry` says
  // whether the failure is one worth another try.
  core::Result<Json> CallOnce(std::string_view method, const std::string& target,
                              std::string_view body, bool& retry);
  // A pooled connection, or a new one.
  core::Result<std::unique_ptr<net::HttpClient>> Borrow();
  void GiveBack(std::unique_ptr<net::HttpClient> client);

  const std::string host_;
  const int port_;
  const std::string api_prefix_;  // "<path prefix>/api/2.0/mlflow/"
  const Options options_;

  std::mutex mutex_;
  std::vector<std::unique_ptr<net::HttpClient>> idle_;  // guarded by mutex_
};

}  // namespace mlforge::tracking::rest
