#include "tracking/artifacts/artifact_repository.h"

#include <fstream>
#include <system_error>

#include "core/file.h"
#include "core/ids.h"
#include "net/url.h"
#include "tracking/artifacts/http/http_artifact_store.h"
#include "tracking/artifacts/local/local_artifact_store.h"
#include "tracking/rest/credentials.h"

namespace mlforge::tracking {
namespace {

namespace fs = std::filesystem;

// Folders nest at most this deep in a download, so a server that lists a
// folder inside itself cannot make us recurse forever.
constexpr int kMaxDownloadDepth = 64;

std::string JoinPath(std::string_view left, std::string_view right) {
  if (left.empty()) return std::string(right);
  if (right.empty()) return std::string(left);
  return std::string(left) + "/" + std::string(right);
}

// "/1/abc/" -> "1/abc"
std::string TrimSlashes(std::string_view path) {
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);
  return std::string(path);
}

}  // namespace

core::Result<std::unique_ptr<ArtifactRepository>> ArtifactRepository::Open(
    std::string_view artifact_uri, std::string_view tracking_uri, net::HttpHeaders headers) {
  if (headers.empty()) headers = rest::CredentialHeadersFromEnvironment();
  const std::string uri(artifact_uri);
  auto repository = [&](std::unique_ptr<ArtifactStore> store,
                        std::string prefix) -> core::Result<std::unique_ptr<ArtifactRepository>> {
    MLFORGE_ASSIGN_OR_RETURN(std::string checked, ValidateArtifactPath(TrimSlashes(prefix)));
    return std::unique_ptr<ArtifactRepository>(
        new ArtifactRepository(uri, std::move(store), TrimSlashes(checked)));
  };

  constexpr std::string_view kProxyScheme = "mlflow-artifacts:";
  if (artifact_uri.starts_with(kProxyScheme)) {
    std::string_view rest = artifact_uri.substr(kProxyScheme.size());
    if (rest.starts_with("//") && !rest.starts_with("///")) {
      // mlflow-artifacts://host:port/path: the proxy on that server.
      MLFORGE_ASSIGN_OR_RETURN(net::HttpUrl url,
                               net::ParseHttpUrl(artifact_uri, "mlflow-artifacts", 80));
      return repository(
          std::make_unique<HttpArtifactStore>(
              url.host, url.port, std::string(HttpArtifactStore::kProxyPath), std::move(headers)),
          url.path);
    }
    if (!tracking_uri.starts_with("http://") && !tracking_uri.starts_with("https://")) {
      return core::FailedPreconditionError(
          "artifact URI '" + uri +
          "' is served by a tracking server's artifact proxy, but the "
          "tracking URI is '" +
          std::string(tracking_uri) +
          "'; pass --tracking-uri http://HOST:PORT (or set MLFLOW_TRACKING_URI)");
    }
    MLFORGE_ASSIGN_OR_RETURN(net::HttpUrl server, net::ParseHttpUrl(tracking_uri));
    return repository(
        std::make_unique<HttpArtifactStore>(
            server.host, server.port, server.path + std::string(HttpArtifactStore::kProxyPath),
            std::move(headers)),
        std::string(rest));
  }
  if (artifact_uri.starts_with("http://") || artifact_uri.starts_with("https://")) {
    MLFORGE_ASSIGN_OR_RETURN(net::HttpUrl url, net::ParseHttpUrl(artifact_uri));
    return repository(
        std::make_unique<HttpArtifactStore>(url.host, url.port, url.path, std::move(headers)), "");
  }
  std::string_view local = artifact_uri;
  if (local.starts_with("file://")) {
    local.remove_prefix(7);  // file:///abs -> /abs
  } else if (size_t colon = local.find(':');
             colon != std::string_view::npos && colon > 1 && local.find('/') > colon) {
    return core::UnimplementedError("artifact URI '" + uri +
                                    "': only mlflow-artifacts:, http: and local paths are "
                                    "supported");
  }
  if (local.empty()) return core::InvalidArgumentError("empty artifact URI");
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<LocalArtifactStore> store,
                           LocalArtifactStore::Open(fs::path(std::string(local))));
  return repository(std::move(store), "");
}

std::string ArtifactRepository::StorePath(std::string_view artifact_path) const {
  return JoinPath(prefix_, TrimSlashes(artifact_path));
}

std::string ArtifactRepository::ArtifactPath(std::string_view store_path) const {
  if (prefix_.empty()) return std::string(store_path);
  if (store_path.size() > prefix_.size() && store_path.starts_with(prefix_) &&
      store_path[prefix_.size()] == '/') {
    return std::string(store_path.substr(prefix_.size() + 1));
  }
  return std::string(store_path);
}

core::Status ArtifactRepository::LogFile(const fs::path& local_file,
                                         std::string_view artifact_dir) {
  std::ifstream source(local_file, std::ios::binary);
  if (!source) return core::NotFoundError("cannot read " + local_file.string());
  const std::string target = JoinPath(TrimSlashes(artifact_dir), local_file.filename().string());
  return store_->PutStream(StorePath(target), source)
      .WithContext("uploading " + local_file.string() + " to " + uri_ + "/" + target);
}

core::Status ArtifactRepository::LogFolder(const fs::path& local_dir,
                                           std::string_view artifact_dir) {
  std::error_code error;
  if (!fs::is_directory(local_dir, error)) {
    return core::NotFoundError(local_dir.string() + " is not a folder");
  }
  for (fs::recursive_directory_iterator entry(local_dir, error), end; !error && entry != end;
       entry.increment(error)) {
    if (!entry->is_regular_file()) continue;
    const fs::path relative = fs::relative(entry->path(), local_dir).parent_path();
    MLFORGE_RETURN_IF_ERROR(
        LogFile(entry->path(), JoinPath(TrimSlashes(artifact_dir), relative.generic_string())));
  }
  if (error) return core::InternalError("listing " + local_dir.string() + ": " + error.message());
  return core::Status::Ok();
}

core::Result<std::vector<FileInfo>> ArtifactRepository::List(std::string_view artifact_dir) {
  MLFORGE_ASSIGN_OR_RETURN(std::vector<FileInfo> files, store_->List(StorePath(artifact_dir)));
  for (FileInfo& file : files) file.path = ArtifactPath(file.path);
  return files;
}

core::Result<std::string> ArtifactRepository::Read(std::string_view artifact_path) {
  return store_->Get(StorePath(artifact_path));
}

core::Status ArtifactRepository::DownloadInto(std::string_view artifact_dir,
                                              const fs::path& local_dir, int depth) {
  if (depth > kMaxDownloadDepth) {
    return core::InternalError("artifact folders nest deeper than " +
                               std::to_string(kMaxDownloadDepth) + " under " + uri_);
  }
  MLFORGE_ASSIGN_OR_RETURN(std::vector<FileInfo> files, List(artifact_dir));
  std::error_code error;
  fs::create_directories(local_dir, error);
  if (error) return core::InternalError("creating " + local_dir.string() + ": " + error.message());
  for (const FileInfo& file : files) {
    const std::string name = file.path.substr(file.path.rfind('/') + 1);
    if (name.empty() || name == "." || name == "..") {
      return core::InternalError("artifact listing of " + uri_ + " holds a bad name: " + file.path);
    }
    if (file.is_dir) {
      MLFORGE_RETURN_IF_ERROR(DownloadInto(file.path, local_dir / name, depth + 1));
      continue;
    }
    MLFORGE_ASSIGN_OR_RETURN(std::string bytes, Read(file.path));
    MLFORGE_RETURN_IF_ERROR(core::WriteFileAtomic(local_dir / name, bytes));
  }
  return core::Status::Ok();
}

core::Status ArtifactRepository::DownloadFolder(std::string_view artifact_dir,
                                                const fs::path& local_dir) {
  std::error_code error;
  if (fs::exists(local_dir, error)) {
    return core::AlreadyExistsError(local_dir.string() + " exists already");
  }
  MLFORGE_ASSIGN_OR_RETURN(std::vector<FileInfo> top, List(artifact_dir));
  if (top.empty()) {
    return core::NotFoundError("no artifacts at " + uri_ + "/" + TrimSlashes(artifact_dir));
  }
  fs::path staging = local_dir;
  staging += ".download-" + core::NewId().substr(0, 12);
  core::Status downloaded = DownloadInto(artifact_dir, staging, 0);
  if (downloaded.ok()) downloaded = core::RenameDurably(staging, local_dir);
  if (!downloaded.ok()) fs::remove_all(staging, error);
  return downloaded;
}

}  // namespace mlforge::tracking
