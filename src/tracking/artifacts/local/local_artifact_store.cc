#include "tracking/artifacts/local/local_artifact_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <utility>

#include "core/file.h"
#include "core/ids.h"
#include "net/http.h"

namespace mlforge::tracking {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTemporaryInfix = ".tmp-";
constexpr size_t kTemporarySuffixDigits = 12;
constexpr size_t kStreamChunkBytes = size_t{1} << 20;

core::Status ErrnoError(const std::string& what, const fs::path& path) {
  return core::InternalError(what + " " + path.string() + ": " + std::strerror(errno));
}

// The relative path in normal form: no ".", no empty segments, no leading
// or trailing "/"; "" for the root. `validated` has no ".." segments.
std::string NormalRelative(std::string_view validated) {
  std::string normal = fs::path(std::string(validated)).lexically_normal().generic_string();
  while (!normal.empty() && normal.back() == '/') normal.pop_back();
  while (!normal.empty() && normal.front() == '/') normal.erase(0, 1);
  if (normal == ".") normal.clear();
  return normal;
}

// Whether `path` lies in `folder` (or is it); both absolute and normal.
bool IsWithin(const fs::path& path, const fs::path& folder) {
  fs::path relative = path.lexically_relative(folder);
  if (relative.empty()) return false;
  auto first = relative.begin();
  return first == relative.end() || *first != "..";
}

core::Status WriteAll(int fd, const char* data, size_t size, const fs::path& path) {
  while (size > 0) {
    ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path);
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
  return core::Status::Ok();
}

fs::path TemporaryPathFor(const fs::path& target) {
  fs::path temp = target;
  temp += std::string(kTemporaryInfix) + core::NewId().substr(0, kTemporarySuffixDigits);
  return temp;
}

}  // namespace

core::Result<std::unique_ptr<LocalArtifactStore>> LocalArtifactStore::Open(
    const fs::path& root_dir) {
  if (root_dir.empty()) {
    return core::InvalidArgumentError("artifact root folder is empty; pass a folder path");
  }
  std::error_code error;
  fs::path absolute = fs::absolute(root_dir, error);
  if (error)
    return core::InternalError("cannot resolve " + root_dir.string() + ": " + error.message());
  fs::create_directories(absolute, error);
  if (error && !fs::is_directory(absolute)) {
    if (fs::exists(absolute)) {
      return core::InvalidArgumentError("artifact root " + absolute.string() +
                                        " is a file; pass a folder");
    }
    return core::InternalError("cannot create artifact root " + absolute.string() + ": " +
                               error.message());
  }
  if (!fs::is_directory(absolute)) {
    return core::InvalidArgumentError("artifact root " + absolute.string() +
                                      " is not a folder; pass a folder");
  }
  fs::path canonical = fs::canonical(absolute, error);
  if (error) {
    return core::InternalError("cannot resolve " + absolute.string() + ": " + error.message());
  }
  return std::unique_ptr<LocalArtifactStore>(new LocalArtifactStore(std::move(canonical)));
}

bool LocalArtifactStore::IsTemporaryFileName(std::string_view file_name) {
  size_t suffix = kTemporaryInfix.size() + kTemporarySuffixDigits;
  if (file_name.size() <= suffix) return false;
  std::string_view tail = file_name.substr(file_name.size() - suffix);
  if (tail.substr(0, kTemporaryInfix.size()) != kTemporaryInfix) return false;
  return std::all_of(tail.begin() + static_cast<ptrdiff_t>(kTemporaryInfix.size()), tail.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

core::Result<LocalArtifactStore::Target> LocalArtifactStore::Resolve(
    std::string_view relative_path) const {
  MLFORGE_ASSIGN_OR_RETURN(std::string validated, ValidateArtifactPath(relative_path));
  Target target;
  target.relative = NormalRelative(validated);
  std::string_view last = std::string_view(validated).substr(validated.rfind('/') + 1);
  target.names_folder = last.empty() || last == ".";
  target.absolute = target.relative.empty() ? root_ : root_ / target.relative;
  // Symbolic links inside the root may point anywhere; follow them and
  // refuse what ends up outside (MLflow's validate_path_within_directory).
  std::error_code error;
  fs::path resolved = fs::weakly_canonical(target.absolute, error);
  if (error) {
    return core::InternalError("cannot resolve artifact path '" + target.relative +
                               "': " + error.message());
  }
  if (!IsWithin(resolved, root_)) {
    return core::InvalidArgumentError(
        "Invalid path: resolved path is outside the artifact directory");
  }
  return target;
}

core::Status LocalArtifactStore::PrepareFileTarget(const Target& target) const {
  if (target.relative.empty()) {
    return core::InvalidArgumentError(
        "Invalid path: cannot write a file at the artifact root; name a file under it");
  }
  if (target.names_folder) {
    return core::InvalidArgumentError("Invalid path: '" + target.relative +
                                      "/' names a folder; add a file name");
  }
  std::error_code error;
  if (fs::is_directory(target.absolute, error)) {
    return core::InvalidArgumentError("Invalid path: artifact '" + target.relative +
                                      "' is a folder; a file cannot replace it");
  }
  // Create missing folders one at a time, fsyncing each new entry into its
  // parent, so a file acknowledged later survives a crash with its folders.
  fs::path relative_parent = fs::path(target.relative).parent_path();
  fs::path current = root_;
  std::string walked;
  for (const fs::path& segment : relative_parent) {
    current /= segment;
    walked += (walked.empty() ? "" : "/") + segment.string();
    if (::mkdir(current.c_str(), 0755) == 0) {
      MLFORGE_RETURN_IF_ERROR(core::SyncPath(current.parent_path()));
      continue;
    }
    if (errno == EEXIST || errno == ENOTDIR) {
      if (fs::is_directory(current, error)) continue;
      return core::InvalidArgumentError("Invalid path: artifact '" + walked + "' is a file, so '" +
                                        target.relative + "' cannot be created under it");
    }
    return ErrnoError("cannot create folder", current);
  }
  return core::Status::Ok();
}

core::Status LocalArtifactStore::Put(std::string_view relative_path, std::string_view bytes) {
  MLFORGE_ASSIGN_OR_RETURN(Target target, Resolve(relative_path));
  MLFORGE_RETURN_IF_ERROR(PrepareFileTarget(target));
  // Same temporary-name scheme as below, which IsTemporaryFileName matches.
  return core::WriteFileAtomic(target.absolute, bytes);
}

core::Status LocalArtifactStore::PutStream(std::string_view relative_path, std::istream& source) {
  MLFORGE_ASSIGN_OR_RETURN(Target target, Resolve(relative_path));
  MLFORGE_RETURN_IF_ERROR(PrepareFileTarget(target));
  fs::path temp = TemporaryPathFor(target.absolute);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", temp);
  std::string buffer(kStreamChunkBytes, '\0');
  core::Status status;
  while (status.ok()) {
    source.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    auto count = static_cast<size_t>(source.gcount());
    if (count > 0) status = WriteAll(fd, buffer.data(), count, temp);
    if (source.eof()) break;
    if (!source) {
      status = core::InternalError("cannot read the bytes for artifact '" + target.relative +
                                   "': the source stream failed");
    }
  }
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("cannot fsync", temp);
  ::close(fd);
  if (status.ok()) status = core::RenameDurably(temp, target.absolute);
  if (!status.ok()) {
    std::error_code ignored;
    fs::remove(temp, ignored);
  }
  return status;
}

core::Result<std::string> LocalArtifactStore::Get(std::string_view relative_path) {
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<std::istream> stream, OpenForRead(relative_path));
  std::string bytes;
  std::string buffer(kStreamChunkBytes, '\0');
  while (*stream) {
    stream->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    bytes.append(buffer.data(), static_cast<size_t>(stream->gcount()));
  }
  if (stream->bad())
    return core::InternalError("read error in artifact '" + std::string(relative_path) + "'");
  return bytes;
}

core::Result<std::unique_ptr<std::istream>> LocalArtifactStore::OpenForRead(
    std::string_view relative_path) {
  MLFORGE_ASSIGN_OR_RETURN(Target target, Resolve(relative_path));
  std::error_code error;
  fs::file_status status = fs::status(target.absolute, error);
  if (!fs::exists(status)) {
    return core::NotFoundError("Artifact '" + target.relative + "' does not exist");
  }
  if (fs::is_directory(status)) {
    return core::NotFoundError("Artifact '" + target.relative +
                               "' is a folder, not a file; list it instead");
  }
  auto stream = std::make_unique<std::ifstream>(target.absolute, std::ios::binary);
  if (!*stream) {
    return core::NotFoundError("Artifact '" + target.relative + "' cannot be opened");
  }
  return std::unique_ptr<std::istream>(std::move(stream));
}

core::Result<std::vector<FileInfo>> LocalArtifactStore::List(std::string_view relative_dir) {
  MLFORGE_ASSIGN_OR_RETURN(Target target, Resolve(relative_dir));
  std::vector<FileInfo> files;
  std::error_code error;
  if (!fs::is_directory(target.absolute, error)) return files;
  fs::directory_iterator entries(target.absolute, error);
  if (error) {
    return core::InternalError("cannot list artifact folder '" + target.relative +
                               "': " + error.message());
  }
  for (const fs::directory_entry& entry : entries) {
    std::string name = entry.path().filename().string();
    if (IsTemporaryFileName(name)) continue;
    FileInfo info;
    info.path = target.relative.empty() ? name : target.relative + "/" + name;
    std::error_code entry_error;
    info.is_dir = entry.is_directory(entry_error);
    if (!info.is_dir) {
      uintmax_t size = entry.file_size(entry_error);
      if (!entry_error) info.file_size = static_cast<int64_t>(size);
    }
    files.push_back(std::move(info));
  }
  std::sort(files.begin(), files.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return files;
}

core::Status LocalArtifactStore::Delete(std::string_view relative_path) {
  MLFORGE_ASSIGN_OR_RETURN(Target target, Resolve(relative_path));
  if (target.relative.empty()) {
    return core::InvalidArgumentError(
        "Invalid path: the artifact root cannot be deleted; name a file or folder under it");
  }
  std::error_code error;
  if (!fs::exists(fs::symlink_status(target.absolute, error))) return core::Status::Ok();
  fs::remove_all(target.absolute, error);
  if (error) {
    return core::InternalError("cannot delete artifact '" + target.relative +
                               "': " + error.message());
  }
  return core::SyncPath(target.absolute.parent_path());
}

core::Result<bool> LocalArtifactStore::Exists(std::string_view relative_path) {
  MLFORGE_ASSIGN_OR_RETURN(Target target, Resolve(relative_path));
  std::error_code error;
  return fs::exists(target.absolute, error);
}

namespace {

constexpr std::string_view kMlflowArtifactsScheme = "mlflow-artifacts:";
constexpr std::string_view kFileScheme = "file:";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Splits "//authority/path" into its authority and "/path"; `rest` is what
// follows the scheme's colon.
std::pair<std::string_view, std::string_view> SplitAuthority(std::string_view rest) {
  if (!StartsWith(rest, "//")) return {std::string_view(), rest};
  size_t slash = rest.find('/', 2);
  if (slash == std::string_view::npos) return {rest.substr(2), std::string_view()};
  return {rest.substr(2, slash - 2), rest.substr(slash)};
}

// A URI scheme of two or more characters ("s3:", "runs:"); one letter and a
// colon is a Windows drive, which ValidateArtifactPath rejects.
std::optional<std::string_view> SchemeOf(std::string_view uri) {
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon < 2) return std::nullopt;
  std::string_view scheme = uri.substr(0, colon);
  auto is_scheme_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '-' || c == '.';
  };
  if (!std::all_of(scheme.begin(), scheme.end(), is_scheme_char)) return std::nullopt;
  return scheme;
}

bool IsNumeric(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

core::Result<std::string> ValidatedRelative(std::string_view path) {
  MLFORGE_ASSIGN_OR_RETURN(std::string validated, ValidateArtifactPath(path));
  return NormalRelative(validated);
}

core::Result<std::string> LocalPathInRoot(std::string_view uri, const fs::path& local_path,
                                          const fs::path& root) {
  std::error_code error;
  fs::path absolute = fs::absolute(local_path, error);
  if (error)
    return core::InvalidArgumentError("cannot resolve artifact URI '" + std::string(uri) + "'");
  fs::path resolved = fs::weakly_canonical(absolute, error);
  if (error) resolved = absolute.lexically_normal();
  fs::path resolved_root = fs::weakly_canonical(fs::absolute(root, error), error);
  if (error) resolved_root = root.lexically_normal();
  if (!IsWithin(resolved, resolved_root)) {
    return core::InvalidArgumentError("artifact URI '" + std::string(uri) +
                                      "' is outside the artifact root " + resolved_root.string() +
                                      "; open a store at its folder instead");
  }
  std::string relative = resolved.lexically_relative(resolved_root).generic_string();
  return ValidatedRelative(relative == "." ? std::string() : relative);
}

}  // namespace

core::Result<std::string> ResolveArtifactUri(std::string_view uri, const fs::path& root) {
  if (StartsWith(uri, kMlflowArtifactsScheme)) {
    auto [authority, path] = SplitAuthority(uri.substr(kMlflowArtifactsScheme.size()));
    if (IsNumeric(authority)) {
      return core::InvalidArgumentError(
          "The mlflow-artifacts uri was supplied with a port number: " + std::string(authority) +
          ", but no host was defined.");
    }
    size_t query = path.find('?');
    if (query != std::string_view::npos) path = path.substr(0, query);
    while (StartsWith(path, "/")) path.remove_prefix(1);
    return ValidatedRelative(path);
  }
  if (StartsWith(uri, kFileScheme)) {
    auto [authority, path] = SplitAuthority(uri.substr(kFileScheme.size()));
    (void)authority;  // "file://localhost/x": the host is this machine.
    MLFORGE_ASSIGN_OR_RETURN(std::string decoded, net::PercentDecode(path, false));
    if (decoded.empty())
      return core::InvalidArgumentError("artifact URI '" + std::string(uri) + "' names no path");
    return LocalPathInRoot(uri, decoded, root);
  }
  if (std::optional<std::string_view> scheme = SchemeOf(uri)) {
    return core::UnimplementedError(
        "artifact URI scheme '" + std::string(*scheme) + "' is not supported here (in '" +
        std::string(uri) + "'); use mlflow-artifacts:/, file:// or a local path" +
        (*scheme == "runs" || *scheme == "models"
             ? ", after resolving it through the tracking or registry store"
             : ""));
  }
  if (uri.empty()) return core::InvalidArgumentError("artifact URI is empty");
  return LocalPathInRoot(uri, fs::path(std::string(uri)), root);
}

}  // namespace mlforge::tracking
