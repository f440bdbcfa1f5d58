#include "tracking/artifacts/artifact_store.h"

#include <string>

namespace mlforge::tracking {
namespace {

constexpr int kMaxDecodeRounds = 10;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python's urllib.parse.unquote on bytes: a "%" not followed by two hex
// digits stays as it is, so decoding never fails.
std::string UnquoteLenient(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = HexValue(text[i + 1]);
      int low = HexValue(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

core::Status InvalidPath() { return core::InvalidArgumentError("Invalid path"); }

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

core::Result<std::string> ValidateArtifactPath(std::string_view path) {
  // Decode until stable: a client may hide "../" behind one or more layers
  // of %-encoding, and the server already decoded the URL once.
  std::string decoded(path);
  bool stable = false;
  for (int round = 0; round < kMaxDecodeRounds; ++round) {
    std::string next = UnquoteLenient(decoded);
    if (next == decoded) {
      stable = true;
      break;
    }
    decoded = std::move(next);
  }
  if (!stable) return InvalidPath();

  for (char c : decoded) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return InvalidPath();
  }
  if (decoded.find('#') != std::string::npos) return InvalidPath();

  // MLflow turns a file: URI into its path before the checks below.
  if (StartsWithIgnoreCase(decoded, "file:")) {
    std::string_view rest = std::string_view(decoded).substr(5);
    if (rest.substr(0, 2) == "//") {
      size_t path_start = rest.find('/', 2);
      rest = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
    }
    size_t query = rest.find('?');
    if (query != std::string_view::npos) rest = rest.substr(0, query);
    decoded = std::string(rest);
  }

  if (decoded.find('\\') != std::string::npos) return InvalidPath();
  if (!decoded.empty() && decoded.front() == '/') return InvalidPath();
  if (decoded.size() >= 2 && IsAsciiLetter(decoded[0]) && decoded[1] == ':') return InvalidPath();
  size_t start = 0;
  while (start <= decoded.size()) {
    size_t end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    if (std::string_view(decoded).substr(start, end - start) == "..") return InvalidPath();
    start = end + 1;
  }
  return decoded;
}

}  // namespace mlforge::tracking
