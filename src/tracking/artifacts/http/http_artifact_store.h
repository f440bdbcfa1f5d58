#pragma once

// The ArtifactStore behind a tracking server's artifact proxy
// (/api/2.0/mlflow-artifacts/artifacts, tracking/artifacts/artifact_handler.h):
// what MLflow's client does for `mlflow-artifacts:/...` artifact URIs, so
// `mlforge train --tracking-uri http://host:5000` uploads its model package
// through the server, and `mlforge serve runs:/...` downloads it back.
//
//   HttpArtifactStore store("127.0.0.1", 5000, "/api/2.0/mlflow-artifacts/artifacts");
//   MLFORGE_RETURN_IF_ERROR(store.Put("1/<run>/artifacts/model/MLmodel", text));
//
// Paths are validated with ValidateArtifactPath() before anything is sent,
// and sent percent-encoded. The server's errors keep their MLflow message
// (MlflowErrorStatus: 404 is NotFound, 400 InvalidArgument, ...); a server
// that cannot be reached is Unavailable.
//
// Bodies are held whole in memory (net::HttpClient has no streaming), so
// PutStream reads its stream to the end first and OpenForRead returns the
// downloaded bytes as a stream.
//
// Thread safety: safe from many threads; each call takes an idle connection
// (or opens one) and gives it back.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/http.h"
#include "tracking/artifacts/artifact_store.h"

namespace mlforge::net {
class HttpClient;
}

namespace mlforge::tracking {

class HttpArtifactStore final : public ArtifactStore {
 public:
  // The proxy's route prefix on MLflow's server and ours.
  static constexpr std::string_view kProxyPath = "/api/2.0/mlflow-artifacts/artifacts";

  // `base_path` is the URL path of the store root on host:port, usually
  // kProxyPath (after any path prefix of the server). `headers` go with every
  // request (Authorization). Connects lazily.
  HttpArtifactStore(std::string host, int port, std::string base_path,
                    net::HttpHeaders headers = {});
  ~HttpArtifactStore() override;
  HttpArtifactStore(const HttpArtifactStore&) = delete;
  HttpArtifactStore& operator=(const HttpArtifactStore&) = delete;

  core::Status Put(std::string_view relative_path, std::string_view bytes) override;
  core::Status PutStream(std::string_view relative_path, std::istream& source) override;
  core::Result<std::string> Get(std::string_view relative_path) override;
  core::Result<std::unique_ptr<std::istream>> OpenForRead(std::string_view relative_path) override;
  core::Result<std::vector<FileInfo>> List(std::string_view relative_dir) override;
  core::Status Delete(std::string_view relative_path) override;
  core::Result<bool> Exists(std::string_view relative_path) override;

  // "http://host:port<base_path>", for messages.
  std::string url() const;

 private:
  // Sends one request and returns the response with status 200, or the
  // server's error as a Status (with the method and URL as context).
  core::Result<net::HttpResponse> Call(std::string_view method, const std::string& target,
                                       std::string_view body);
  // The target for an artifact path: base path + "/" + encoded path.
  core::Result<std::string> Target(std::string_view relative_path) const;

  const std::string host_;
  const int port_;
  const std::string base_path_;
  const net::HttpHeaders headers_;

  std::mutex mutex_;
  std::vector<std::unique_ptr<net::HttpClient>> idle_;  // guarded by mutex_
};

}  // namespace mlforge::tracking
