#include "tracking/page_token.h"

#include <cctype>
#include <string>

namespace mlforge::tracking {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  size_t index = 0;
  while (index + 3 <= bytes.size()) {
    uint32_t chunk = (static_cast<uint8_t>(bytes[index]) << 16) |
                     (static_cast<uint8_t>(bytes[index + 1]) << 8) |
                     static_cast<uint8_t>(bytes[index + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(chunk >> shift) & 0x3f];
    index += 3;
  }
  size_t rest = bytes.size() - index;
  if (rest > 0) {
    uint32_t chunk = static_cast<uint8_t>(bytes[index]) << 16;
    if (rest == 2) chunk |= static_cast<uint8_t>(bytes[index + 1]) << 8;
    out += kAlphabet[(chunk >> 18) & 0x3f];
    out += kAlphabet[(chunk >> 12) & 0x3f];
    out += rest == 2 ? kAlphabet[(chunk >> 6) & 0x3f] : '=';
    out += '=';
  }
  return out;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Strict: length a multiple of 4, padding only at the end.
bool Base64Decode(std::string_view text, std::string* out) {
  if (text.empty() || text.size() % 4 != 0) return false;
  size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  for (size_t index = 0; index < text.size(); index += 4) {
    uint32_t chunk = 0;
    for (size_t offset = 0; offset < 4; ++offset) {
      char c = text[index + offset];
      bool in_padding = index + 4 == text.size() && offset >= 4 - padding;
      int value = in_padding ? 0 : Base64Value(c);
      if (value < 0 || (in_padding && c != '=')) return false;
      chunk = (chunk << 6) | static_cast<uint32_t>(value);
    }
    size_t bytes = index + 4 == text.size() ? 3 - padding : 3;
    for (size_t byte = 0; byte < bytes; ++byte) {
      out->push_back(static_cast<char>((chunk >> (16 - 8 * byte)) & 0xff));
    }
  }
  return true;
}

core::Status BadToken(std::string_view token) {
  std::string shown(token.substr(0, 64));
  return core::InvalidArgumentError("Invalid page token '" + shown +
                                    "'. Pass the next_page_token of the previous response "
                                    "unchanged, or none for the first page.");
}

}  // namespace

std::string EncodePageToken(int64_t offset) {
  return Base64Encode("{\"offset\": " + std::to_string(offset) + "}");
}

core::Result<int64_t> DecodePageToken(std::string_view token) {
  if (token.empty()) return int64_t{0};
  std::string decoded;
  if (token.size() > 128 || !Base64Decode(token, &decoded)) return BadToken(token);
  // Exactly {"offset": N} with optional blanks, N a positive decimal integer.
  std::string_view rest = decoded;
  auto skip_blanks = [&rest] {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\n')) rest.remove_prefix(1);
  };
  auto expect = [&rest, &skip_blanks](std::string_view literal) {
    skip_blanks();
    if (!rest.starts_with(literal)) return false;
    rest.remove_prefix(literal.size());
    return true;
  };
  if (!expect("{") || !expect("\"offset\"") || !expect(":")) return BadToken(token);
  skip_blanks();
  int64_t offset = 0;
  size_t digits = 0;
  while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
    if (++digits > 15) return BadToken(token);
    offset = offset * 10 + (rest.front() - '0');
    rest.remove_prefix(1);
  }
  if (digits == 0 || offset <= 0 || !expect("}")) return BadToken(token);
  skip_blanks();
  if (!rest.empty()) return BadToken(token);
  return offset;
}

}  // namespace mlforge::tracking
