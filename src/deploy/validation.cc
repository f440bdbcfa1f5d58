#include "deploy/validation.h"

#include <fmt/format.h>

#include "deploy/internal/regex.h"

namespace mlforge::deploy {

core::Status ValidateName(const std::string& what, const std::string& value, size_t max_length) {
  static const std::regex label_pattern("[a-z]([-a-z0-9]*[a-z0-9])?");
  if (value.empty()) {
    return core::InvalidArgumentError(
        fmt::format("{} is empty; give a name such as 'mnist'", what));
  }
  if (value.size() > max_length) {
    return core::InvalidArgumentError(
        fmt::format("{} '{}' is {} characters long; Kubernetes allows at most {} here", what, value,
                    value.size(), max_length));
  }
  if (!std::regex_match(value, label_pattern)) {
    return core::InvalidArgumentError(fmt::format(
        "{} '{}' is not a valid Kubernetes name; use lower-case letters, digits and '-', "
        "starting with a letter and ending with a letter or digit",
        what, value));
  }
  return core::Status::Ok();
}

core::Status ValidateImage(const std::string& what, const std::string& image) {
  // Docker's reference grammar: an optional registry host (with a dot or a
  // port, or "localhost"), lower-case path components separated by '/', an
  // optional tag and an optional digest.
  static const std::regex reference_pattern(
      R"((([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*)"
      R"((:[0-9]+)?/)?)"
      R"([a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*)"
      R"((:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?)"
      R"((@sha256:[0-9a-f]{64})?)");
  if (image.empty()) {
    return core::InvalidArgumentError(
        fmt::format("{} is empty; give the image built from the Dockerfile, e.g. "
                    "registry.example.com/mlforge:0.1.0",
                    what));
  }
  if (image.size() > 255 + 128 + 72 || !std::regex_match(image, reference_pattern)) {
    return core::InvalidArgumentError(fmt::format(
        "{} '{}' is not a container image reference; use [registry/]name[:tag][@sha256:digest] "
        "with a lower-case name, e.g. registry.example.com/mlforge:0.1.0",
        what, image));
  }
  return core::Status::Ok();
}

core::Status ValidateQuantity(const std::string& what, const std::string& quantity) {
  static const std::regex quantity_pattern(
      R"(([0-9]+(\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][-+]?[0-9]+)?)");
  if (!std::regex_match(quantity, quantity_pattern)) {
    return core::InvalidArgumentError(fmt::format(
        "{} '{}' is not a Kubernetes quantity; use e.g. 500m or 2 (CPU), 512Mi or 4Gi (memory)",
        what, quantity));
  }
  return core::Status::Ok();
}

core::Status ValidatePort(const std::string& what, int port) {
  if (port < 1 || port > 65535) {
    return core::InvalidArgumentError(
        fmt::format("{} {} is not a TCP port; use 1-65535", what, port));
  }
  return core::Status::Ok();
}

core::Status ValidateAtLeast(const std::string& what, int64_t value, int64_t minimum) {
  if (value < minimum) {
    return core::InvalidArgumentError(
        fmt::format("{} is {}; it must be at least {}", what, value, minimum));
  }
  return core::Status::Ok();
}

core::Status ValidateConfigKey(const std::string& what, const std::string& key) {
  static const std::regex key_pattern("[-._a-zA-Z0-9]+");
  if (key.empty() || key.size() > 253 || !std::regex_match(key, key_pattern) || key == "." ||
      key == "..") {
    return core::InvalidArgumentError(fmt::format(
        "{} '{}' cannot be a ConfigMap key; rename the file to letters, digits, '-', '_' and '.'",
        what, key));
  }
  return core::Status::Ok();
}

std::string ToNameFragment(const std::string& text, size_t max_length) {
  std::string label;
  for (char character : text) {
    char lower = (character >= 'A' && character <= 'Z') ? static_cast<char>(character - 'A' + 'a')
                                                        : character;
    const bool keep = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
    if (keep) {
      label += lower;
    } else if (!label.empty() && label.back() != '-') {
      label += '-';
    }
  }
  if (label.size() > max_length) label.resize(max_length);
  while (!label.empty() && label.back() == '-') label.pop_back();
  return label;
}

}  // namespace mlforge::deploy
