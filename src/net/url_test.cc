#include "net/url.h"

#include <gtest/gtest.h>

namespace mlforge::net {
namespace {

TEST(ParseHttpUrl, HostPortAndPath) {
  auto url = ParseHttpUrl("http://127.0.0.1:5000/mlflow/?x=1#y");
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 5000);
  EXPECT_EQ(url->path, "/mlflow");
}

TEST(ParseHttpUrl, DefaultsAndIpv6) {
  auto plain = ParseHttpUrl("http://tracking");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->path, "");
  auto v6 = ParseHttpUrl("http://[::1]:8080/a/b");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_EQ(v6->path, "/a/b");
}

TEST(ParseHttpUrl, OtherSchemes) {
  auto artifacts = ParseHttpUrl("mlflow-artifacts://host:5001/1/abc", "mlflow-artifacts", 5000);
  ASSERT_TRUE(artifacts.ok());
  EXPECT_EQ(artifacts->host, "host");
  EXPECT_EQ(artifacts->port, 5001);
  EXPECT_EQ(artifacts->path, "/1/abc");
  EXPECT_EQ(ParseHttpUrl("mlflow-artifacts://h/x", "mlflow-artifacts", 5000)->port, 5000);
}

TEST(ParseHttpUrl, Errors) {
  EXPECT_EQ(ParseHttpUrl("https://h").status().code(), core::StatusCode::kUnimplemented);
  EXPECT_EQ(ParseHttpUrl("ftp://h").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHttpUrl("http://:80").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHttpUrl("http://h:0").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHttpUrl("http://h:99999").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHttpUrl("http://h:8x").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHttpUrl("http://[::1").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHttpUrl("http://u:p@h").status().code(), core::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace mlforge::net
