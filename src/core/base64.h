#pragma once

// Base64 (RFC 4648, standard alphabet), for HTTP basic credentials.

#include <optional>
#include <string>
#include <string_view>

namespace mlforge::core {

// With "=" padding.
std::string Base64Encode(std::string_view bytes);
// Padding optional; whitespace is not allowed. Nullopt on any character
// outside the alphabet or a truncated final group.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace mlforge::core
