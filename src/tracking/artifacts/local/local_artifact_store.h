#pragma once

// The ArtifactStore on a folder of the local file system: MLflow's
// LocalArtifactRepository, and what `mlflow server --artifacts-destination
// ./mlartifacts` serves through the proxy.
//
//   MLFORGE_ASSIGN_OR_RETURN(auto store, LocalArtifactStore::Open("./mlartifacts"));
//   MLFORGE_ASSIGN_OR_RETURN(std::string relative,
//       ResolveArtifactUri(run.info.artifact_uri, store->root()));
//   MLFORGE_ASSIGN_OR_RETURN(std::string mlmodel, store->Get(relative + "/model/MLmodel"));
//
// Layout: an artifact "a/b.txt" is the file <root>/a/b.txt; folders are real
// folders. A write goes to "<name>.tmp-<12 hex>" beside its target, is
// fsynced, renamed over the target, and the folder is fsynced; new folders
// are fsynced into their parents. So after a crash or SIGKILL a file is
// whole or absent, and a leftover temporary file is never listed. Each
// operation also checks that the path, with symbolic links resolved, stays
// inside the root (MLflow's validate_path_within_directory), so a link
// planted inside the root cannot lead outside it.
//
// Thread safety: holds no mutable state; safe from many threads and many
// processes at once (see ArtifactStore).
//
// Not for: a root on a network file system without atomic rename.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tracking/artifacts/artifact_store.h"

namespace mlforge::tracking {

class LocalArtifactStore final : public ArtifactStore {
 public:
  // Opens the folder `root_dir`, creating it (and its parents) when missing.
  // A relative path is taken from the working folder. InvalidArgument for an
  // empty path or one that names a file; Internal when it cannot be created.
  static core::Result<std::unique_ptr<LocalArtifactStore>> Open(
      const std::filesystem::path& root_dir);

  // The root as an absolute path with symbolic links resolved.
  const std::filesystem::path& root() const { return root_; }

  core::Status Put(std::string_view relative_path, std::string_view bytes) override;
  core::Status PutStream(std::string_view relative_path, std::istream& source) override;
  core::Result<std::string> Get(std::string_view relative_path) override;
  core::Result<std::unique_ptr<std::istream>> OpenForRead(std::string_view relative_path) override;
  core::Result<std::vector<FileInfo>> List(std::string_view relative_dir) override;
  core::Status Delete(std::string_view relative_path) override;
  core::Result<bool> Exists(std::string_view relative_path) override;

  // Whether `file_name` is the name of a temporary file a write in progress
  // (or one cut off by a crash) left: "<name>.tmp-" and 12 hex digits.
  static bool IsTemporaryFileName(std::string_view file_name);

 private:
  // A validated path inside the root.
  struct Target {
    // <root>/<relative>, lexically normal, no trailing separator; symbolic
    // links are not resolved, so Delete removes a link, not what it names.
    std::filesystem::path absolute;
    // The normal relative form, "" for the root: "a/b.txt".
    std::string relative;
    // Whether the path as given can only name a folder ("a/", "a/.").
    bool names_folder = false;
  };

  explicit LocalArtifactStore(std::filesystem::path root) : root_(std::move(root)) {}

  // ValidateArtifactPath, then the lexical join under the root, then the
  // check that symbolic links do not lead outside it. InvalidArgument
  // otherwise.
  core::Result<Target> Resolve(std::string_view relative_path) const;

  // Checks that `target` can take a file and creates its missing parent
  // folders durably.
  core::Status PrepareFileTarget(const Target& target) const;

  const std::filesystem::path root_;
};

// The path inside an artifact proxy root that an artifact URI names, for the
// SDK and `mlforge serve runs:/...`:
//   mlflow-artifacts:/1/abc/artifacts            -> "1/abc/artifacts"
//   mlflow-artifacts://host:5000/1/abc/artifacts -> "1/abc/artifacts"
//   mlflow-artifacts:///1/abc  mlflow-artifacts:/ -> "1/abc", ""
//   file:///data/mlartifacts/1/abc (root /data/mlartifacts)  -> "1/abc"
//   /data/mlartifacts/1/abc  or  relative/path  (against the working folder)
// The host and port of an mlflow-artifacts URI name the server, not a place
// inside it, and are ignored here. The result has passed
// ValidateArtifactPath and has no leading or trailing "/".
// InvalidArgument for a path outside `root`, for an mlflow-artifacts URI
// with a port but no host ("mlflow-artifacts://5000/x", MLflow's message),
// and for an invalid path; Unimplemented for other schemes (s3:, runs:,
// models:, http:; resolve runs:/ and models:/ through the tracking and
// registry stores first).
core::Result<std::string> ResolveArtifactUri(std::string_view uri,
                                             const std::filesystem::path& root);

}  // namespace mlforge::tracking
