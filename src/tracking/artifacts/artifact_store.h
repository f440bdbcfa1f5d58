#pragma once

// Where run artifacts live, behind one interface: the files MLflow's
// `mlflow.log_artifact` uploads through the artifact proxy
// (tracking/artifacts/artifact_handler.h) and `mlforge serve runs:/...`
// reads back. Implementations sit in subfolders, one per kind of storage
// (local/ for a folder on the local file system, MLflow's
// `--artifacts-destination ./mlartifacts`).
//
//   MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<ArtifactStore> store,
//                            LocalArtifactStore::Open("/data/mlartifacts"));
//   MLFORGE_RETURN_IF_ERROR(store->Put("1/<run id>/artifacts/model/MLmodel", text));
//   MLFORGE_ASSIGN_OR_RETURN(std::vector<FileInfo> files,
//                            store->List("1/<run id>/artifacts/model"));
//
// Paths: every path is relative to the store's root, "/"-separated, and goes
// through ValidateArtifactPath() first, so no call reads or writes outside
// the root; "" names the root itself. A path that fails validation gives
// InvalidArgument("Invalid path"), MLflow's wording.
//
// Thread safety: every method may be called from many threads at once.
// Writes to different paths do not interfere; two writes to one path leave
// one of them whole (the last to finish).

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mlforge::tracking {

// One entry of a listing, MLflow's FileInfo (mlflow_artifacts.proto).
struct FileInfo {
  // "/"-separated, relative to the store root ("1/abc/artifacts/model/MLmodel"),
  // as MLflow's ArtifactRepository.list_artifacts reports it. The proxy's
  // list route sends only the last segment, as MLflow's server does.
  std::string path;
  bool is_dir = false;
  // Size in bytes; unset for folders, as in MLflow.
  std::optional<int64_t> file_size;

  bool operator==(const FileInfo&) const = default;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;

  // Stores `bytes` at `relative_path`, replacing any file there, creating
  // missing folders. Atomic: a reader, or the store after a crash, sees the
  // old file or the new one, never a part. InvalidArgument for an invalid
  // path, for the root, for a path that is a folder or that has a file where
  // a folder is needed; Internal for I/O errors.
  virtual core::Status Put(std::string_view relative_path, std::string_view bytes) = 0;

  // As Put(), reading the bytes from `source` until its end (in chunks, so a
  // file of any size can be stored without holding it in memory). Internal
  // when `source` fails before its end; nothing is stored then.
  virtual core::Status PutStream(std::string_view relative_path, std::istream& source) = 0;

  // The bytes of the file at `relative_path`. NotFound when nothing is there
  // or it is a folder; InvalidArgument for an invalid path.
  virtual core::Result<std::string> Get(std::string_view relative_path) = 0;

  // The file at `relative_path` opened for reading, to stream it; errors as
  // Get(). The stream is the caller's.
  virtual core::Result<std::unique_ptr<std::istream>> OpenForRead(
      std::string_view relative_path) = 0;

  // The entries directly inside the folder `relative_dir` ("" for the root),
  // sorted by path. Empty (not an error) when the folder does not exist or is
  // a file, as in MLflow. Files still being written are not listed.
  virtual core::Result<std::vector<FileInfo>> List(std::string_view relative_dir) = 0;

  // Removes the file or the whole folder at `relative_path`. OK when nothing
  // is there (MLflow's delete is idempotent). InvalidArgument for the root
  // ("" or "."), which is never deleted.
  virtual core::Status Delete(std::string_view relative_path) = 0;

  // Whether a file or folder is at `relative_path`.
  virtual core::Result<bool> Exists(std::string_view relative_path) = 0;
};

// MLflow's validate_path_is_safe (mlflow/utils/uri.py): decodes %XX escapes
// until the text stops changing (at most 10 rounds, "%252e" is "%2e" is
// "."), then rejects with InvalidArgument("Invalid path"):
//   a ".." segment;  an absolute path ("/etc");  a "#";
//   a backslash or a drive letter ("C:/x", "C:x"), which MLflow rejects on
//   Windows and we reject everywhere, since the client may run on Windows;
//   a control character (NUL included), which MLflow escapes to "%00" and
//   we refuse;  a file: URI whose path is absolute ("file:///etc/passwd");
//   and text still changing after 10 rounds of decoding.
// On success returns the decoded path, which is what callers must use (a
// "file:" URI gives its path). "" (the root) is valid.
core::Result<std::string> ValidateArtifactPath(std::string_view path);

}  // namespace mlforge::tracking
