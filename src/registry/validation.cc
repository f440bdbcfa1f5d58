#include "registry/validation.h"

#include <cctype>
#include <charconv>
#include <string>

#include "net/http.h"
#include "tracking/validation.h"

namespace mlforge::registry {

namespace {

std::string Trim(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

bool IsWordByte(char c) {
  auto byte = static_cast<unsigned char>(c);
  // Bytes >= 0x80 stand for the letters of other scripts Python's \w allows.
  return std::isalnum(byte) || c == '_' || byte >= 0x80;
}

}  // namespace

core::Status ValidateModelName(std::string_view name, std::string_view field) {
  if (name.empty()) {
    return core::InvalidArgumentError("Missing value for required parameter '" +
                                      std::string(field) + "'.");
  }
  return core::Status::Ok();
}

core::Result<int64_t> ParseModelVersionNumber(std::string_view text) {
  std::string trimmed = Trim(text);
  std::string_view digits = trimmed;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  int64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return core::InvalidArgumentError("Parameter 'version' must be an integer, got '" +
                                      std::string(text) + "'.");
  }
  return value;
}

core::Status ValidateRegistryTagKey(std::string_view key) {
  return tracking::ValidateEntityKey(key, "key");
}

core::Status ValidateRegistryTag(std::string_view key, std::string_view value) {
  MLFORGE_RETURN_IF_ERROR(ValidateRegistryTagKey(key));
  if (tracking::CodePointLength(value) > static_cast<size_t>(kMaxRegistryTagValueLength)) {
    return core::InvalidArgumentError("'value' exceeds the maximum length of " +
                                      std::to_string(kMaxRegistryTagValueLength) + " characters");
  }
  return core::Status::Ok();
}

core::Status ValidateAliasName(std::string_view alias) {
  if (alias.empty()) {
    return core::InvalidArgumentError("Registered model alias name cannot be empty.");
  }
  for (char c : alias) {
    if (!IsWordByte(c) && c != '-') {
      return core::InvalidArgumentError(
          "Invalid alias name: '" + std::string(alias) +
          "'. Names may only contain alphanumerics, underscores (_), and dashes (-).");
    }
  }
  if (tracking::CodePointLength(alias) > static_cast<size_t>(kMaxAliasLength)) {
    return core::InvalidArgumentError(
        "'Registered model alias name' exceeds the maximum length of " +
        std::to_string(kMaxAliasLength) + " characters");
  }
  std::string lower;
  for (char c : alias) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "latest") {
    return core::InvalidArgumentError("'latest' alias name (case insensitive) is reserved.");
  }
  if (alias.size() >= 2 && (alias[0] == 'v' || alias[0] == 'V')) {
    bool all_digits = true;
    for (char c : alias.substr(1))
      all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
    if (all_digits) {
      return core::InvalidArgumentError("Version alias name '" + std::string(alias) +
                                        "' is reserved.");
    }
  }
  return core::Status::Ok();
}

core::Status ValidateModelVersionSource(std::string_view source) {
  std::string decoded(source);
  for (int layer = 0; layer < 16; ++layer) {
    core::Result<std::string> once = net::PercentDecode(decoded, /*plus_as_space=*/true);
    if (!once.ok() || *once == decoded) break;
    decoded = std::move(*once);
  }
  // The path: after "scheme://authority", or after "scheme:", or all of it.
  std::string_view path = decoded;
  size_t colon = path.find(':');
  size_t slash = path.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
    path.remove_prefix(colon + 1);
    if (path.starts_with("//")) {
      path.remove_prefix(2);
      size_t authority_end = path.find('/');
      path =
          authority_end == std::string_view::npos ? std::string_view() : path.substr(authority_end);
    }
  }
  bool bad = path.find('\0') != std::string_view::npos;
  size_t start = 0;
  while (!bad && start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    bad = segment == "." || segment == "..";
    start = end + 1;
  }
  if (bad) {
    return core::InvalidArgumentError(
        "Invalid model version source: '" + std::string(source) +
        "'. If supplying a source as an http, https, local file path, ftp, objectstore, or "
        "mlflow-artifacts uri, an absolute path must be provided without relative path "
        "references present. Please provide an absolute path.");
  }
  return core::Status::Ok();
}

}  // namespace mlforge::registry
