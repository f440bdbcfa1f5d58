#include "tracking/rest/rest_transport.h"

#include <thread>
#include <utility>

#include "net/http.h"
#include "net/url.h"
#include "tracking/rest/credentials.h"

namespace mlforge::tracking::rest {
namespace {

// Statuses that say "try again later" rather than "this request is wrong".
bool RetryableHttpStatus(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

}  // namespace

core::Result<std::unique_ptr<RestTransport>> RestTransport::Open(std::string_view uri,
                                                                 Options options) {
  core::Result<net::HttpUrl> url = net::ParseHttpUrl(uri);
  if (!url.ok()) {
    return core::Status(url.status().code(), url.status().message() +
                                                 " (a tracking or registry URI is "
                                                 "http://host:port, sqlite:///PATH or a path)");
  }
  return std::make_unique<RestTransport>(std::move(url->host), url->port, std::move(url->path),
                                         std::move(options));
}

core::Result<std::unique_ptr<RestTransport>> RestTransport::Open(std::string_view uri) {
  return Open(uri, Options());
}

RestTransport::RestTransport(std::string host, int port, const std::string& path_prefix,
                             Options options)
    : host_(std::move(host)),
      port_(port),
      api_prefix_(path_prefix + "/api/2.0/mlflow/"),
      options_(std::move(options)) {}

RestTransport::~RestTransport() = default;

std::string RestTransport::address() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
}

core::Result<std::unique_ptr<net::HttpClient>> RestTransport::Borrow() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<net::HttpClient> client = std::move(idle_.back());
      idle_.pop_back();
      return client;
    }
  }
  net::HttpClient::Options connect;
  // MLflow's client credentials (MLFLOW_TRACKING_USERNAME/PASSWORD or
  // MLFLOW_TRACKING_TOKEN) go with every request.
  connect.default_headers = CredentialHeadersFromEnvironment();
  core::Result<std::unique_ptr<net::HttpClient>> client =
      net::HttpClient::Connect(host_, port_, connect);
  if (!client.ok()) return client.status().WithContext(options_.server_kind + " " + address());
  return client;
}

void RestTransport::GiveBack(std::unique_ptr<net::HttpClient> client) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(client));
}

core::Result<Json> RestTransport::CallOnce(std::string_view method, const std::string& target,
                                           std::string_view body, bool& retry) {
  retry = false;
  core::Result<std::unique_ptr<net::HttpClient>> client = Borrow();
  if (!client.ok()) {
    retry = client.status().code() == core::StatusCode::kUnavailable;
    return client.status();
  }
  net::HttpHeaders headers;
  if (!body.empty()) headers.push_back({"Content-Type", "application/json"});
  core::Result<net::HttpResponse> response = (*client)->Send(method, target, body, headers);
  if (!response.ok()) {
    // The connection is in an unknown state: drop it rather than give it back.
    retry = response.status().code() == core::StatusCode::kUnavailable;
    return response.status().WithContext(std::string(method) + " " + address() + target);
  }
  GiveBack(std::move(client).value());
  if (response->status != 200) {
    retry = RetryableHttpStatus(response->status);
    return MlflowErrorStatus(response->status, response->body);
  }
  if (response->body.empty()) return Json::object();
  Json parsed = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    return core::InternalError(
        options_.server_kind + " answered " + target +
        " with something other than a JSON object: " + response->body.substr(0, 200));
  }
  return parsed;
}

core::Result<Json> RestTransport::Call(std::string_view method, std::string_view endpoint_path,
                                       std::string_view body) {
  const std::string target = api_prefix_ + std::string(endpoint_path);
  std::chrono::milliseconds backoff = options_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    bool retry = false;
    core::Result<Json> result = CallOnce(method, target, body, retry);
    if (result.ok() || !retry || attempt >= options_.max_attempts) return result;
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
}

core::Result<Json> RestTransport::Post(std::string_view name, const Json& body) {
  return Call("POST", name, DumpJson(body));
}

core::Result<Json> RestTransport::Send(std::string_view method, std::string_view name,
                                       const Json& body) {
  return Call(method, name, DumpJson(body));
}

core::Result<Json> RestTransport::Get(
    std::string_view name, const std::vector<std::pair<std::string, std::string>>& query) {
  std::string target(name);
  char separator = '?';
  for (const auto& [key, value] : query) {
    target += separator;
    target += net::PercentEncode(key);
    target += '=';
    target += net::PercentEncode(value);
    separator = '&';
  }
  return Call("GET", target, {});
}

}  // namespace mlforge::tracking::rest
