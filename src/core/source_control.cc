#include "core/source_control.h"

#include <array>
#include <cstdio>
#include <system_error>

namespace mlforge::core {
namespace {

// `text` as one single-quoted shell word.
std::string ShellWord(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

bool IsHex40(const std::string& text) {
  if (text.size() != 40) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string GitCommit(const std::filesystem::path& path) {
  std::error_code error;
  std::filesystem::path folder = std::filesystem::absolute(path, error);
  if (error) return "";
  if (!std::filesystem::is_directory(folder, error)) folder = folder.parent_path();
  const std::string command = "git -C " + ShellWord(folder.string()) + " rev-parse HEAD 2>/dev/null";
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  std::array<char, 128> buffer{};
  std::string output;
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  pclose(pipe);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return IsHex40(output) ? output : "";
}

}  // namespace mlforge::core
