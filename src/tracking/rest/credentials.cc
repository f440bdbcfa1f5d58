#include "tracking/rest/credentials.h"

#include <cstdlib>
#include <string>

#include "core/base64.h"

namespace mlforge::tracking::rest {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

net::HttpHeaders CredentialHeadersFromEnvironment() {
  std::string username = Env("MLFLOW_TRACKING_USERNAME");
  std::string password = Env("MLFLOW_TRACKING_PASSWORD");
  if (!username.empty() && !password.empty()) {
    return {{"Authorization", "Basic " + core::Base64Encode(username + ":" + password)}};
  }
  std::string token = Env("MLFLOW_TRACKING_TOKEN");
  if (!token.empty()) return {{"Authorization", "Bearer " + token}};
  return {};
}

}  // namespace mlforge::tracking::rest
