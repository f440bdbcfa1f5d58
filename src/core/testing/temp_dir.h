#pragma once

// A fresh folder under the system temp folder, removed with everything in it
// when the object goes out of scope. For tests only.

#include <filesystem>
#include <string>

#include "core/ids.h"

namespace mlforge::core::testing {

class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& prefix = "mlforge-test")
      : path_(std::filesystem::temp_directory_path() / (prefix + "-" + core::NewId())) {
    std::filesystem::create_directories(path_);
  }
  ~ScopedTempDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace mlforge::core::testing
