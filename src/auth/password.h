#pragma once

// Password hashes and access tokens for the tracking server's users.
//
// A password is stored as "pbkdf2:sha256:ITERATIONS$SALT$HASH" (werkzeug's
// layout, so the format is familiar): PBKDF2-HMAC-SHA256 over a random
// 16-byte salt, salt and hash in hex. A token is "mlf_" and 32 random bytes in
// hex; only its SHA-256 is stored, so a stolen database holds no usable token.

#include <string>
#include <string_view>

namespace mlforge::auth {

// Iterations for new hashes. Verifying costs tens of milliseconds by design;
// AuthStore caches successful checks so a busy client pays it once.
inline constexpr int kPasswordIterations = 200000;

std::string HashPassword(std::string_view password, int iterations = kPasswordIterations);
// True when `password` hashes to `stored` (constant-time comparison). False
// for a malformed `stored`.
bool VerifyPassword(std::string_view password, std::string_view stored);

// A new random access token.
std::string NewAccessToken();
// What the store keeps of a token: its SHA-256 in hex.
std::string TokenDigest(std::string_view token);

}  // namespace mlforge::auth
