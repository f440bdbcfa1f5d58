#pragma once

// The artifacts under one artifact URI, wherever they live: MLflow's
// ArtifactRepository. Training uploads its model package and checkpoint to
// its run's artifact URI with it; serving downloads `runs:/...` packages.
//
//   MLFORGE_ASSIGN_OR_RETURN(auto repository,
//       ArtifactRepository::Open(run.info.artifact_uri, "http://127.0.0.1:5000"));
//   MLFORGE_RETURN_IF_ERROR(repository->LogFolder(run_dir / "model", "model"));
//   MLFORGE_RETURN_IF_ERROR(repository->DownloadFolder("model", cache / "model"));
//
// Artifact URIs, as MLflow reads them:
//   mlflow-artifacts:/1/abc/artifacts       through the artifact proxy of the
//                                           tracking server `tracking_uri`
//                                           (which must then be http://...)
//   mlflow-artifacts://host:port/1/abc      through the proxy on host:port
//   http://host:port/api/2.0/mlflow-artifacts/artifacts/1/abc
//                                           MLflow's HttpArtifactRepository
//   file:///data/mlruns/1/abc  /data/...  relative/path
//                                           a local folder
// Other schemes (s3:, gs:, ...) are Unimplemented, naming the URI.
//
// Artifact paths given to the methods are relative to the URI ("model",
// "checkpoints/checkpoint.pt"; "" for the URI itself) and validated like
// every ArtifactStore path.
//
// Thread safety: as the underlying ArtifactStore (safe from many threads).

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "net/http.h"
#include "tracking/artifacts/artifact_store.h"

namespace mlforge::tracking {

class ArtifactRepository {
 public:
  // See the header comment for the URIs. `headers` go with every request to
  // an artifact server (Authorization); when empty, the MLflow client
  // credentials in the environment are sent (rest/credentials.h). InvalidArgument for a malformed URI;
  // FailedPrecondition for mlflow-artifacts:/ without an http:// tracking
  // URI to reach it through; Unimplemented for other schemes.
  static core::Result<std::unique_ptr<ArtifactRepository>> Open(std::string_view artifact_uri,
                                                                std::string_view tracking_uri,
                                                                net::HttpHeaders headers = {});

  // Uploads the file `local_file` as `<artifact_dir>/<its file name>`.
  // Each file is stored atomically (ArtifactStore::Put).
  core::Status LogFile(const std::filesystem::path& local_file, std::string_view artifact_dir);
  // Uploads every file under `local_dir`, keeping the tree, as
  // `<artifact_dir>/<relative path>` (MLflow's log_artifacts).
  core::Status LogFolder(const std::filesystem::path& local_dir, std::string_view artifact_dir);

  // The entries directly in `artifact_dir`, with paths relative to the URI.
  core::Result<std::vector<FileInfo>> List(std::string_view artifact_dir);
  // The bytes of one artifact file. NotFound when it is not there.
  core::Result<std::string> Read(std::string_view artifact_path);

  // Downloads the folder `artifact_dir` with everything under it into
  // `local_dir`, which must not exist yet: the files go to a temporary
  // sibling folder that is renamed into place at the end, so a failed or
  // killed download leaves no partial `local_dir`. NotFound when the folder
  // holds nothing; AlreadyExists when `local_dir` exists.
  core::Status DownloadFolder(std::string_view artifact_dir,
                              const std::filesystem::path& local_dir);

  // The URI this repository was opened on.
  const std::string& uri() const { return uri_; }

 private:
  ArtifactRepository(std::string uri, std::unique_ptr<ArtifactStore> store, std::string prefix)
      : uri_(std::move(uri)), store_(std::move(store)), prefix_(std::move(prefix)) {}
  // The store path of an artifact path: prefix + "/" + path.
  std::string StorePath(std::string_view artifact_path) const;
  // The artifact path of a store path (drops the prefix).
  std::string ArtifactPath(std::string_view store_path) const;
  core::Status DownloadInto(std::string_view artifact_dir, const std::filesystem::path& local_dir,
                            int depth);

  const std::string uri_;
  const std::unique_ptr<ArtifactStore> store_;
  const std::string prefix_;  // the URI's place in the store, "" for its root
};

}  // namespace mlforge::tracking
