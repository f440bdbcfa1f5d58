#include "auth/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "core/hash.h"

namespace mlforge::auth {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

std::string Hex(const unsigned char* bytes, size_t size) {
  std::string text;
  text.reserve(size * 2);
  for (size_t index = 0; index < size; ++index) {
    text += kHexDigits[bytes[index] >> 4];
    text += kHexDigits[bytes[index] & 0xF];
  }
  return text;
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("OpenSSL could not produce random bytes");
  }
  return Hex(buffer.data(), bytes);
}

std::string Pbkdf2Hex(std::string_view password, std::string_view salt, int iterations) {
  unsigned char key[32];
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof(key),
                        key) != 1) {
    throw std::runtime_error("OpenSSL PBKDF2 failed");
  }
  return Hex(key, sizeof(key));
}

}  // namespace

std::string HashPassword(std::string_view password, int iterations) {
  std::string salt = RandomHex(16);
  return "pbkdf2:sha256:" + std::to_string(iterations) + "$" + salt + "$" +
         Pbkdf2Hex(password, salt, iterations);
}

bool VerifyPassword(std::string_view password, std::string_view stored) {
  constexpr std::string_view kMethod = "pbkdf2:sha256:";
  if (stored.substr(0, kMethod.size()) != kMethod) return false;
  std::string_view rest = stored.substr(kMethod.size());
  size_t first = rest.find('$');
  if (first == std::string_view::npos) return false;
  size_t second = rest.find('$', first + 1);
  if (second == std::string_view::npos) return false;
  std::string iterations_text(rest.substr(0, first));
  char* end = nullptr;
  long iterations = std::strtol(iterations_text.c_str(), &end, 10);
  if (end == iterations_text.c_str() || *end != '\0' || iterations < 1 || iterations > 10000000) {
    return false;
  }
  std::string_view salt = rest.substr(first + 1, second - first - 1);
  std::string_view expected = rest.substr(second + 1);
  std::string actual = Pbkdf2Hex(password, salt, static_cast<int>(iterations));
  return actual.size() == expected.size() &&
         CRYPTO_memcmp(actual.data(), expected.data(), actual.size()) == 0;
}

std::string NewAccessToken() { return "mlf_" + RandomHex(32); }

std::string TokenDigest(std::string_view token) { return core::Sha256Hex(token); }

}  // namespace mlforge::auth
