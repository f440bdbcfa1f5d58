#pragma once

// MLflow's artifact proxy (mlflow/protos/mlflow_artifacts.proto, served by
// `mlflow server --serve-artifacts`) over an ArtifactStore, so the real
// MLflow client's `mlflow.log_artifact(...)` uploads through our server when
// a run's artifact URI is `mlflow-artifacts:/<experiment>/<run>/artifacts`.
// <path> is relative to the store root, e.g. "1/<run id>/artifacts/model.pt".
//
// Routes, each under /api/2.0/mlflow-artifacts/ and /ajax-api/2.0/mlflow-artifacts/:
//   PUT    artifacts/<path>       Upload: stores the raw request body; `{}`.
//   GET    artifacts/<path>       Download: the bytes, as an attachment, with
//                                 MLflow's Content-Type for the file name.
//   GET    artifacts?path=<dir>   List: `{"files":[{"path","is_dir","file_size"}]}`
//                                 with paths relative to <dir>, sorted; `{}`
//                                 when <dir> is empty, missing or a file.
//   DELETE artifacts/<path>       Delete a file or folder; `{}`, also when
//                                 nothing was there.
//   POST   mpu/create|complete|abort/<path>
//                                 Multipart upload: 501 NOT_IMPLEMENTED, as
//                                 MLflow answers for a local destination.
// Errors are MLflow's `{"error_code","message"}`, written by
// rest::MlflowErrorResponse (tracking/rest/mlflow_json.h): an unsafe path
// ("../x", "%2e%2e/x", "/etc/passwd", "C:/x") is 400 INVALID_PARAMETER_VALUE
// "Invalid path" and touches nothing; a missing file, or a folder, on
// download is 404 RESOURCE_DOES_NOT_EXIST.
//
// Upload size: the request body is held in memory and bounded by the
// HttpServer's max_body_bytes (default 1 MiB), one limit for the whole
// server; larger uploads get 413 before they are read. A server that mounts
// these routes should be started with max_body_bytes set for the largest
// artifact it accepts (e.g. kSuggestedMaxArtifactBytes below).
//
// The handler borrows its store, which must outlive it; the handler must
// outlive every router it registered with. Thread-safe when the store is.

#include <cstddef>
#include <string>
#include <string_view>

#include "net/http.h"
#include "net/router.h"
#include "tracking/artifacts/artifact_store.h"

namespace mlforge::tracking {

// A max_body_bytes for servers that mount the artifact proxy: 2 GiB.
inline constexpr size_t kSuggestedMaxArtifactBytes = size_t{2} << 30;

class ArtifactProxyHandler {
 public:
  explicit ArtifactProxyHandler(ArtifactStore& store) : store_(store) {}
  ArtifactProxyHandler(const ArtifactProxyHandler&) = delete;
  ArtifactProxyHandler& operator=(const ArtifactProxyHandler&) = delete;

  // Adds every route above to `router`.
  void Register(net::Router& router);

 private:
  net::HttpResponse Upload(const net::HttpRequest& request);
  net::HttpResponse Download(const net::HttpRequest& request);
  net::HttpResponse List(const net::HttpRequest& request);
  net::HttpResponse Delete(const net::HttpRequest& request);
  net::HttpResponse MultipartUpload(const net::HttpRequest& request);

  ArtifactStore& store_;
};

// MLflow's _guess_mime_type (mlflow/utils/mime_type_utils.py): "text/plain"
// for its list of text extensions (json, yaml, csv, py, ...) and the files
// "MLmodel" and "mlproject" (compared case-sensitively, as MLflow does);
// otherwise the type Python's mimetypes module gives the name (a built-in
// subset of its table here, e.g. "image/png", "text/html"; a ".gz" or ".bz2"
// encoding suffix is looked through, ".tar.gz" is "application/x-tar");
// "application/octet-stream" when none.
std::string GuessArtifactMimeType(std::string_view file_name);

}  // namespace mlforge::tracking
