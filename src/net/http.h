#pragma once

// The plain HTTP types every mlforge server and client speaks: a request as a
// handler sees it, the response it returns, and the handler signature.
// Nothing here depends on the HTTP library underneath (Boost.Beast lives only
// in net/*.cc), so protocol layers include this header alone.
//
//   HttpResponse GetExperiment(const HttpRequest& request) {
//     std::optional<std::string> id = request.Query("experiment_id");
//     if (!id) return HttpResponse::Json(400, R"({"error_code":"INVALID_PARAMETER_VALUE"})");
//     ...
//     return HttpResponse::Json(200, std::move(body));
//   }
//
// Both types are plain values: copyable, movable, not synchronised.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace mlforge::net {

// Ordered name/value pairs. Header names keep the case they were sent or set
// with; lookups through the helpers below ignore case.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;
// Ordered, decoded query parameters; a name may repeat ("?tag=a&tag=b").
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse;
// Answers a deferred request (HttpRequest::Defer) from any thread. The first
// call sends its response; later calls are ignored. When every copy is
// destroyed without a call, the client gets a 500, so a lost callback never
// leaves a connection waiting forever.
using Responder = std::function<void(HttpResponse)>;

struct HttpRequest {
  // As sent, upper case by convention: "GET", "POST", ...
  std::string method;
  // The raw request target: "/api/2.0/mlflow/runs/get?run_id=ab%20c".
  std::string target;
  // The path of the target with %XX escapes decoded ("+" stays "+").
  std::string path;
  // The query string decoded, "+" read as a space, in the order sent.
  QueryParams query;
  // Request headers in the order received.
  HttpHeaders headers;
  // The whole body (already bounded by the server's max_body_bytes).
  std::string body;
  // The peer as "ip:port" ("127.0.0.1:53122"); empty when not from a socket.
  std::string remote_address;
  // The X-Request-Id the client sent, or one the server generated. The
  // server echoes it in the response and in its access log.
  std::string request_id;

  // Set by Router on a match: the route pattern ("/v2/models/{name}/infer"),
  // which is also the `route` label of the server's metrics, and the values of
  // its `{name}` segments (decoded); a prefix route's remainder is under "*".
  std::string route;
  std::vector<std::pair<std::string, std::string>> path_params;

  // The first header called `name` (any case), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
  // The first query parameter called `name` (exact case), or nullopt.
  std::optional<std::string> Query(std::string_view name) const;
  // Every value of the query parameter `name`, in order; empty when absent.
  std::vector<std::string> QueryAll(std::string_view name) const;
  // The value captured for `{name}` (or "*" for a prefix route's remainder).
  // An empty string when the matched route has no such segment, which is a
  // programmer error in the handler.
  const std::string& PathParam(std::string_view name) const;

  // Takes over answering this request, for a handler that waits on other
  // work (a batched model call) without holding a server thread while it
  // waits: the handler's return value is then ignored, and the client is
  // answered when the returned Responder is called, from any thread. Empty
  // when whoever called the handler cannot wait (a test calling it directly,
  // a wrapper); the handler then returns its response as usual. The request
  // itself is valid only until the handler returns: copy what the answer
  // needs.
  Responder Defer() const { return deferrer ? deferrer() : Responder(); }
  // Set by a server that supports Defer(): makes its Responder. Called at
  // most once per request.
  std::function<Responder()> deferrer;
};

struct HttpResponse {
  // The status code; the reason phrase comes from ReasonPhrase().
  int status = 200;
  // Sent as the Content-Type header when not empty.
  std::string content_type;
  // Extra headers. The server owns the framing headers: any Content-Length,
  // Transfer-Encoding or Connection set here is ignored.
  HttpHeaders headers;
  // The body. The server moves it into the socket write; it is not copied.
  std::string body;
  // When set, sent instead of `body`, again without a copy: for bytes shared
  // between responses (a static file, a cached model metadata document). The
  // server keeps its reference until the write completes.
  std::shared_ptr<const std::string> shared_body;

  // `body` with "application/json" as the content type.
  static HttpResponse Json(int status, std::string body);
  // `body` with "text/plain; charset=utf-8" as the content type.
  static HttpResponse Text(int status, std::string body);

  // The first header called `name` (any case), or nullopt. Content-Type is
  // found here only when it was put in `headers`.
  std::optional<std::string> Header(std::string_view name) const;
  // Replaces every header called `name` (any case) by one with `value`.
  void SetHeader(std::string_view name, std::string value);
  // The bytes to send: *shared_body when set, otherwise body.
  std::string_view BodyView() const { return shared_body ? *shared_body : body; }
};

// Serves one request. Runs on a server thread and may block (a store query, a
// batched model call); it is called concurrently for different requests, so it
// must be thread-safe. An exception escaping it becomes a 500 response and an
// error log line; the server keeps serving.
using Handler = std::function<HttpResponse(const HttpRequest&)>;

// "OK", "Not Found", ... ; "Unknown" for codes without a standard phrase.
std::string_view ReasonPhrase(int status);

// ASCII case-insensitive equality, the comparison HTTP uses for header names.
bool EqualsIgnoreCase(std::string_view left, std::string_view right);

// Decodes %XX escapes; with `plus_as_space` (query strings), "+" becomes " ".
// InvalidArgument on a truncated or non-hex escape.
core::Result<std::string> PercentDecode(std::string_view text, bool plus_as_space);

// Encodes every byte outside RFC 3986's unreserved set as %XX; with
// `keep_slash`, "/" is kept (for paths).
std::string PercentEncode(std::string_view text, bool keep_slash = false);

// Splits a raw request target into its decoded path and query parameters.
// Accepts origin form ("/a?b=c") and absolute form ("http://host/a?b=c").
// InvalidArgument on a target that is not one of these or has a bad escape.
core::Status ParseTarget(std::string_view target, std::string* path, QueryParams* query);

}  // namespace mlforge::net
