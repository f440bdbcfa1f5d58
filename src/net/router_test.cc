#include "net/router.h"

#include <gtest/gtest.h>

namespace mlforge::net {
namespace {

// A handler that answers "<tag> k=v k=v ..." with the captured parameters.
Handler Echo(std::string tag) {
  return [tag](const HttpRequest& request) {
    std::string body = tag;
    for (const auto& [name, value] : request.path_params) body += " " + name + "=" + value;
    return HttpResponse::Text(200, body);
  };
}

HttpResponse Call(const Router& router, std::string method, std::string target,
                  HttpRequest* seen = nullptr) {
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  EXPECT_TRUE(ParseTarget(request.target, &request.path, &request.query).ok());
  HttpResponse response = router.Dispatch(request);
  if (seen != nullptr) *seen = request;
  return response;
}

TEST(RouterTest, ExactParameterAndPrefixRoutes) {
  Router router;
  router.Get("/v2/health/ready", Echo("ready"))
      .Post("/v2/models/{name}/versions/{version}/infer", Echo("infer"))
      .Get("/api/2.0/mlflow-artifacts/artifacts/*", Echo("artifact"))
      .Get("/", Echo("root"));

  EXPECT_EQ(Call(router, "GET", "/v2/health/ready").body, "ready");
  EXPECT_EQ(Call(router, "GET", "/").body, "root");
  HttpRequest seen;
  EXPECT_EQ(Call(router, "POST", "/v2/models/my%2Fmodel/versions/3/infer?x=1", &seen).body,
            "infer name=my/model version=3");
  EXPECT_EQ(seen.route, "/v2/models/{name}/versions/{version}/infer");
  EXPECT_EQ(seen.PathParam("version"), "3");
  EXPECT_EQ(Call(router, "GET", "/api/2.0/mlflow-artifacts/artifacts/1/abc/model/MLmodel").body,
            "artifact *=1/abc/model/MLmodel");
  EXPECT_EQ(Call(router, "GET", "/api/2.0/mlflow-artifacts/artifacts/a%20b%2Fc").body,
            "artifact *=a b/c");
  EXPECT_EQ(Call(router, "GET", "/api/2.0/mlflow-artifacts/artifacts/").body, "artifact *=");
  // "/x/*" needs the slash; trailing slashes are significant elsewhere too.
  EXPECT_EQ(Call(router, "GET", "/api/2.0/mlflow-artifacts/artifacts").status, 404);
  EXPECT_EQ(Call(router, "GET", "/v2/health/ready/").status, 404);
  // A `{name}` segment is never empty.
  EXPECT_EQ(Call(router, "POST", "/v2/models//versions/3/infer").status, 404);
}

TEST(RouterTest, LiteralWinsAndTheRouterBacktracks) {
  Router router;
  router.Get("/runs/search", Echo("search"))
      .Get("/runs/{id}", Echo("get"))
      .Post("/runs/{id}/tags", Echo("tag"))
      .Get("/runs/search/saved", Echo("saved"))
      .Get("/files/*", Echo("files"))
      .Get("/files/special/{name}", Echo("special"));
  EXPECT_EQ(Call(router, "GET", "/runs/search").body, "search");
  EXPECT_EQ(Call(router, "GET", "/runs/abc").body, "get id=abc");
  EXPECT_EQ(Call(router, "GET", "/runs/search/saved").body, "saved");
  // "search" is literal at depth 2, but only "{id}/tags" continues.
  EXPECT_EQ(Call(router, "POST", "/runs/search/tags").body, "tag id=search");
  EXPECT_EQ(Call(router, "GET", "/files/special/x").body, "special name=x");
  EXPECT_EQ(Call(router, "GET", "/files/special/x/y").body, "files *=special/x/y");
}

TEST(RouterTest, NotFoundAndMethodNotAllowed) {
  Router router;
  router.Get("/items/{id}", Echo("get")).Delete("/items/{id}", Echo("delete"));
  HttpResponse missing = Call(router, "GET", "/nothing/here");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("/nothing/here"), std::string::npos);

  HttpResponse wrong = Call(router, "POST", "/items/7");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header("Allow"), "GET, HEAD, DELETE");
}

TEST(RouterTest, HeadUsesGetAndFallbackCatchesUnmatchedPaths) {
  Router router;
  router.Get("/page", Echo("page"));
  EXPECT_EQ(Call(router, "HEAD", "/page").body, "page");
  router.SetFallback(
      [](const HttpRequest& request) { return HttpResponse::Text(200, "ui " + request.path); });
  EXPECT_EQ(Call(router, "GET", "/static/app.js").body, "ui /static/app.js");
  // The fallback is for unknown paths, not for wrong methods.
  EXPECT_EQ(Call(router, "PUT", "/page").status, 405);
}

TEST(RouterTest, BadEscapeInCapturedSegmentIs400) {
  Router router;
  router.Get("/m/{name}", Echo("m"));
  HttpRequest request;
  request.method = "GET";
  request.target = "/m/bad%zz";
  request.path = "/m/bad%zz";
  EXPECT_EQ(router.Dispatch(request).status, 400);
}

TEST(RouterTest, AsHandlerDispatchesACopy) {
  Router router;
  router.Get("/a/{x}", Echo("a"));
  Handler handler = router.AsHandler();
  HttpRequest request;
  request.method = "GET";
  request.target = "/a/1";
  request.path = "/a/1";
  EXPECT_EQ(handler(request).body, "a x=1");
}

TEST(RouterTest, InterceptorWrapsRoutesAndFallbackButNot404Or405) {
  Router router;
  router.Get("/runs/{id}", Echo("run"));
  int calls = 0;
  router.SetInterceptor([&calls](HttpRequest& request, const Handler& next) {
    ++calls;
    if (request.Header("Authorization") == std::nullopt && request.route == "/runs/{id}" &&
        request.PathParam("id") == "secret") {
      return HttpResponse::Text(401, "who are you");
    }
    HttpResponse response = next(request);
    response.SetHeader("X-Seen-Route", request.route);
    return response;
  });
  EXPECT_EQ(Call(router, "GET", "/runs/secret").status, 401);
  HttpResponse open = Call(router, "GET", "/runs/7");
  EXPECT_EQ(open.body, "run id=7");
  EXPECT_EQ(open.Header("X-Seen-Route"), "/runs/{id}");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(Call(router, "POST", "/runs/7").status, 405);
  EXPECT_EQ(Call(router, "GET", "/nothing").status, 404);
  EXPECT_EQ(calls, 2);
  router.SetFallback(Echo("ui"));
  EXPECT_EQ(Call(router, "GET", "/nothing").Header("X-Seen-Route"), "");
  EXPECT_EQ(calls, 3);
}

TEST(RouterDeathTest, InvalidPatternsAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(Router().Get("no-slash", Echo("x")), "must start with /");
  EXPECT_DEATH(Router().Get("/a/*/b", Echo("x")), "last segment");
  EXPECT_DEATH(Router().Get("/a/{x}/{x}", Echo("x")), "appears twice");
  EXPECT_DEATH(Router().Get("/a/{x", Echo("x")), "\\{name\\}");
  EXPECT_DEATH(Router().Get("/a", Echo("x")).Get("/a", Echo("y")), "duplicates");
}

}  // namespace
}  // namespace mlforge::net
