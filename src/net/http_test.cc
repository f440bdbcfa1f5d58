#include "net/http.h"

#include <gtest/gtest.h>

#include "net/status_http.h"

namespace mlforge::net {
namespace {

TEST(HttpTest, ParseTargetDecodesPathAndQuery) {
  std::string path;
  QueryParams query;
  ASSERT_TRUE(ParseTarget("/a%20b/c%2Fd?x=1%2F2&y=a+b&y=c%2Bd&flag&=empty&z=", &path, &query).ok());
  EXPECT_EQ(path, "/a b/c/d");
  QueryParams expected = {{"x", "1/2"}, {"y", "a b"},  {"y", "c+d"},
                          {"flag", ""}, {"", "empty"}, {"z", ""}};
  EXPECT_EQ(query, expected);
}

TEST(HttpTest, ParseTargetKeepsPlusInPathAndAcceptsAbsoluteForm) {
  std::string path;
  QueryParams query;
  ASSERT_TRUE(ParseTarget("/a+b", &path, &query).ok());
  EXPECT_EQ(path, "/a+b");
  EXPECT_TRUE(query.empty());
  ASSERT_TRUE(ParseTarget("http://example.test:8080/v1/x?y=2", &path, &query).ok());
  EXPECT_EQ(path, "/v1/x");
  ASSERT_EQ(query.size(), 1u);
  EXPECT_EQ(query[0].second, "2");
}

TEST(HttpTest, ParseTargetRejectsBadEscapesAndTargets) {
  std::string path;
  QueryParams query;
  EXPECT_EQ(ParseTarget("/a%zz", &path, &query).code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTarget("/a?b=%2", &path, &query).code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTarget("nonsense", &path, &query).code(), core::StatusCode::kInvalidArgument);
}

TEST(HttpTest, PercentEncodeRoundTrips) {
  std::string raw = "a b/c?d=e&f+g%\xff";
  EXPECT_EQ(PercentEncode(raw), "a%20b%2Fc%3Fd%3De%26f%2Bg%25%FF");
  EXPECT_EQ(PercentEncode("dir/file name", /*keep_slash=*/true), "dir/file%20name");
  EXPECT_EQ(*PercentDecode(PercentEncode(raw), /*plus_as_space=*/true), raw);
}

TEST(HttpTest, RequestLookups) {
  HttpRequest request;
  request.headers = {{"Content-Type", "application/json"}, {"X-Thing", "1"}};
  request.query = {{"tag", "a"}, {"tag", "b"}, {"n", "3"}};
  request.path_params = {{"name", "mnist"}};
  EXPECT_EQ(request.Header("content-type"), "application/json");
  EXPECT_EQ(request.Header("CONTENT-TYPE"), "application/json");
  EXPECT_FALSE(request.Header("Accept").has_value());
  EXPECT_EQ(request.Query("tag"), "a");
  EXPECT_EQ(request.QueryAll("tag"), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(request.Query("TAG").has_value());
  EXPECT_EQ(request.PathParam("name"), "mnist");
  EXPECT_EQ(request.PathParam("version"), "");
}

TEST(HttpTest, ResponseHelpers) {
  HttpResponse json = HttpResponse::Json(201, "{}");
  EXPECT_EQ(json.status, 201);
  EXPECT_EQ(json.content_type, "application/json");
  HttpResponse text = HttpResponse::Text(404, "nope");
  EXPECT_EQ(text.content_type, "text/plain; charset=utf-8");
  text.SetHeader("Allow", "GET");
  text.SetHeader("allow", "POST");
  ASSERT_EQ(text.headers.size(), 1u);
  EXPECT_EQ(text.Header("ALLOW"), "POST");
  text.shared_body = std::make_shared<const std::string>("shared");
  EXPECT_EQ(text.BodyView(), "shared");
  EXPECT_EQ(ReasonPhrase(413), "Payload Too Large");
  EXPECT_EQ(ReasonPhrase(299), "Unknown");
}

TEST(StatusHttpTest, ConventionalMapping) {
  using core::StatusCode;
  EXPECT_EQ(HttpStatusFor(StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDeadlineExceeded), 504);
}

}  // namespace
}  // namespace mlforge::net
