#include "core/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/ids.h"

namespace mlforge::core {
namespace {

Status ErrnoError(const std::string& what, const std::filesystem::path& path) {
  return InternalError(what + " " + path.string() + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path);
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return Status::Ok();
}

}  // namespace

Status SyncPath(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoError("cannot fsync", path);
  return Status::Ok();
}

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents) {
  std::filesystem::path parent = path.parent_path();
  if (parent.empty()) parent = ".";
  std::error_code error;
  std::filesystem::create_directories(parent, error);
  if (error) {
    return InternalError("cannot create folder " + parent.string() + ": " + error.message());
  }
  std::filesystem::path temp = path;
  temp += ".tmp-" + NewId().substr(0, 12);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", temp);
  Status status = WriteAll(fd, contents, temp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("cannot fsync", temp);
  ::close(fd);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("cannot rename into place", path);
  }
  if (!status.ok()) {
    std::filesystem::remove(temp, error);
    return status;
  }
  return SyncPath(parent);
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return InternalError("read error in " + path.string());
  return buffer.str();
}

Status RenameDurably(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoError("cannot rename " + from.string() + " to", to);
  }
  std::filesystem::path parent = to.parent_path();
  return SyncPath(parent.empty() ? "." : parent);
}

}  // namespace mlforge::core
