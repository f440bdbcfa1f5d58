#include "core/hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <vector>

namespace mlforge::core {

struct Sha256::State {
  EVP_MD_CTX* context = nullptr;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(state_->context, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(state_->context); }

void Sha256::Update(std::string_view bytes) {
  EVP_DigestUpdate(state_->context, bytes.data(), bytes.size());
}

std::string Sha256::FinishHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(state_->context, digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(static_cast<size_t>(length) * 2);
  for (unsigned int index = 0; index < length; ++index) {
    hex.push_back(kHex[digest[index] >> 4]);
    hex.push_back(kHex[digest[index] & 0xf]);
  }
  return hex;
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 hasher;
  hasher.Update(bytes);
  return hasher.FinishHex();
}

Result<std::string> Sha256File(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path.string() + " to hash it");
  Sha256 hasher;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hasher.Update(std::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return InternalError("read error while hashing " + path.string());
  return hasher.FinishHex();
}

Result<std::string> Sha256Tree(const std::filesystem::path& folder) {
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) {
    return NotFoundError(folder.string() + " is not a folder");
  }
  std::vector<std::string> lines;
  for (auto it = std::filesystem::recursive_directory_iterator(folder, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (!it->is_regular_file()) continue;
    MLFORGE_ASSIGN_OR_RETURN(std::string digest, Sha256File(it->path()));
    std::string relative = std::filesystem::relative(it->path(), folder).generic_string();
    lines.push_back(relative + '\0' + digest + '\n');
  }
  if (error) {
    return InternalError("cannot list " + folder.string() + ": " + error.message());
  }
  std::sort(lines.begin(), lines.end());
  Sha256 hasher;
  for (const std::string& line : lines) hasher.Update(line);
  return hasher.FinishHex();
}

}  // namespace mlforge::core
