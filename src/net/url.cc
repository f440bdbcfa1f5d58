#include "net/url.h"

#include <charconv>

namespace mlforge::net {

core::Result<HttpUrl> ParseHttpUrl(std::string_view url, std::string_view scheme,
                                   int default_port) {
  const std::string text(url);
  const std::string prefix = std::string(scheme) + "://";
  if (scheme == "http" && url.starts_with("https://")) {
    return core::UnimplementedError("https:// URLs are not supported yet: '" + text +
                                    "'. Use http:// (for example behind a TLS-terminating "
                                    "proxy on the same host)");
  }
  if (!url.starts_with(prefix)) {
    return core::InvalidArgumentError("Not a " + prefix + " URL: '" + text + "'");
  }
  std::string_view rest = url.substr(prefix.size());
  const size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (size_t query = path.find_first_of("?#"); query != std::string_view::npos) {
    path = path.substr(0, query);
  }
  while (path.ends_with('/')) path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) {
    return core::UnimplementedError("Credentials in the URL '" + text +
                                    "' are not supported; set MLFLOW_TRACKING_USERNAME and "
                                    "MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) instead");
  }

  HttpUrl parsed;
  parsed.port = default_port;
  std::string_view port_text;
  if (authority.starts_with('[')) {  // [v6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return core::InvalidArgumentError("Invalid URL '" + text + "': unclosed '[' in the host");
    }
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return core::InvalidArgumentError("Invalid URL '" + text + "'");
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (parsed.host.empty()) {
    return core::InvalidArgumentError("Invalid URL '" + text + "': no host; write " + prefix +
                                      "host:port");
  }
  if (!port_text.empty()) {
    const char* end = port_text.data() + port_text.size();
    auto [stop, error] = std::from_chars(port_text.data(), end, parsed.port);
    if (error != std::errc() || stop != end || parsed.port < 1 || parsed.port > 65535) {
      return core::InvalidArgumentError("Invalid port '" + std::string(port_text) + "' in URL '" +
                                        text + "'");
    }
  }
  parsed.path = std::string(path);
  return parsed;
}

}  // namespace mlforge::net
