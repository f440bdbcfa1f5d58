#pragma once

// The parts of an http:// URL that a client needs to connect: what the
// tracking URI "http://host:5000/prefix" and the artifact URI
// "mlflow-artifacts://host:5000/1/abc" give.
//
//   MLFORGE_ASSIGN_OR_RETURN(HttpUrl url, ParseHttpUrl("http://127.0.0.1:5000/mlflow"));
//   // url.host == "127.0.0.1", url.port == 5000, url.path == "/mlflow"

#include <string>
#include <string_view>

#include "core/status.h"

namespace mlforge::net {

struct HttpUrl {
  std::string host;  // without brackets for IPv6 literals
  int port = 80;
  // The path, "" or starting with "/", with no trailing "/", no query and
  // no fragment; not percent-decoded.
  std::string path;
};

// Parses "SCHEME://host[:port][/path][?query][#fragment]" where SCHEME is
// `scheme` ("http" by default). The port defaults to `default_port`.
// InvalidArgument for another scheme, no host, a bad port or an unclosed
// "[" (naming the URL); Unimplemented for credentials in the URL
// ("user:pass@host", which would end up in logs: use the environment) and
// for https:// when "http" was asked for.
core::Result<HttpUrl> ParseHttpUrl(std::string_view url, std::string_view scheme = "http",
                                   int default_port = 80);

}  // namespace mlforge::net
