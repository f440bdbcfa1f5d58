#pragma once

// SHA-256 digests, as lower-case hex, of bytes, files and folders.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace mlforge::core {

// Incremental SHA-256. Not thread-safe; one hasher per thread.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // The hex digest of everything fed so far. The hasher must not be used after.
  std::string FinishHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string Sha256Hex(std::string_view bytes);

// Digest of a file's contents, read in chunks. NotFound if it cannot be opened.
Result<std::string> Sha256File(const std::filesystem::path& path);

// Merkle digest of a folder: the hash over sorted "relative-path\0file-digest\n"
// lines of every regular file below it. Independent of timestamps and of the
// order the file system lists entries in.
Result<std::string> Sha256Tree(const std::filesystem::path& folder);

}  // namespace mlforge::core
