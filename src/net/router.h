#pragma once

// Matches a request's method and path to a handler.
//
//   Router router;
//   router.Get("/v2/health/ready", Ready);
//   router.Post("/v2/models/{name}/versions/{version}/infer", Infer);
//   router.Get("/api/2.0/mlflow-artifacts/artifacts/*", DownloadArtifact);
//   MLFORGE_ASSIGN_OR_RETURN(auto server, HttpServer::Start(options, std::move(router)));
//
// Patterns are split at "/" into segments once, when added; a request is
// matched by walking a tree of segments, with no regular expression and no
// allocation beyond the captured values. A segment is either literal text,
// `{name}` (exactly one segment, captured decoded into request.path_params),
// or, as the last segment only, `*` (one or more remaining segments, captured
// decoded under the name "*"; "/a/*" matches "/a/" and "/a/b/c" but not "/a").
// A literal segment wins over `{name}`, which wins over `*`, and the router
// backtracks, so "/runs/search" and "/runs/{id}" can live side by side.
// Trailing slashes are significant: "/a/b" does not match "/a/b/".
//
// Unmatched path: the fallback handler when one is set, otherwise 404. A path
// matched only for other methods: 405 with an Allow header. HEAD falls back to
// the GET route (the server drops the body). A captured segment with a bad
// %-escape: 400.
//
// Thread safety: add every route before the router serves; Dispatch() is
// const and safe to call from many threads at once.

#include <memory>
#include <string>
#include <string_view>

#include "net/http.h"

namespace mlforge::net {

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Adds `handler` for `method` (case-sensitive, "GET") and `pattern` (which
  // starts with "/"). A malformed pattern (no leading "/", an unclosed or
  // empty "{}", "*" not last, two parameters with one name) or a second route
  // for the same method and pattern is a programmer error: it is logged and
  // the process aborts, so a bad route table never serves.
  Router& Add(std::string_view method, std::string_view pattern, Handler handler);
  Router& Get(std::string_view pattern, Handler handler);
  Router& Post(std::string_view pattern, Handler handler);
  Router& Put(std::string_view pattern, Handler handler);
  Router& Patch(std::string_view pattern, Handler handler);
  Router& Delete(std::string_view pattern, Handler handler);

  // Called instead of the 404 response for paths no route matches (a web UI
  // serving its files, a protocol's own not-found body). Not called for 405.
  Router& SetFallback(Handler handler);

  // Wraps every matched route and the fallback: `interceptor` sees the
  // request with `route` and `path_params` filled in and decides whether and
  // how to call `next` (the route's handler), e.g. to authenticate, to check
  // a permission, or to rewrite the response. 404 and 405 answers do not pass
  // through it. One interceptor per router; set it before serving.
  using Interceptor = std::function<HttpResponse(HttpRequest& request, const Handler& next)>;
  Router& SetInterceptor(Interceptor interceptor);

  // Matches `request` by its target's path (or by `path` when `target` is
  // empty), fills request.route and request.path_params, and calls the
  // handler; see the class comment for 404, 405 and 400. Exceptions from the
  // handler propagate (the server turns them into 500).
  HttpResponse Dispatch(HttpRequest& request) const;

  // A Handler that dispatches through this router, for callers that want to
  // wrap it. It copies the request to fill in the path parameters, so servers
  // take the Router itself (HttpServer::Start) to avoid that. The router must
  // outlive the handler.
  Handler AsHandler() const;

 private:
  struct Node;
  struct Route;
  std::unique_ptr<Node> root_;
  Handler fallback_;
  Interceptor interceptor_;
};

}  // namespace mlforge::net
