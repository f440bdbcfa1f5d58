#include "registry/model_fetch.h"

#include <system_error>

#include "core/hash.h"
#include "registry/model_uri.h"
#include "registry/registry_store_factory.h"
#include "tracking/artifacts/artifact_repository.h"
#include "tracking/store_factory.h"

namespace mlforge::registry {
namespace {

// The local folder of a URI that names one, else nullopt.
std::optional<std::filesystem::path> LocalFolder(std::string_view uri) {
  if (uri.starts_with("file://")) return std::filesystem::path(std::string(uri.substr(7)));
  if (uri.find(':') == std::string_view::npos) return std::filesystem::path(std::string(uri));
  return std::nullopt;
}

// `artifact_dir` under `artifact_uri`, local when it already is, otherwise
// downloaded into the cache.
core::Result<std::filesystem::path> Materialise(const std::string& artifact_uri,
                                                std::string_view artifact_dir,
                                                const ModelStores& stores,
                                                const std::filesystem::path& cache_root) {
  if (std::optional<std::filesystem::path> local = LocalFolder(artifact_uri)) {
    std::filesystem::path folder = artifact_dir.empty() ? *local : *local / std::string(artifact_dir);
    std::error_code error;
    if (!std::filesystem::is_directory(folder, error)) {
      return core::NotFoundError("No model folder at " + folder.string());
    }
    return folder;
  }
  std::string key = artifact_uri + "\n" + std::string(artifact_dir);
  std::filesystem::path target = cache_root / core::Sha256Hex(key).substr(0, 24);
  std::error_code error;
  if (std::filesystem::is_directory(target, error)) return target;
  std::filesystem::create_directories(cache_root, error);
  if (error) {
    return core::UnavailableError("Cannot create the model cache " + cache_root.string() + ": " +
                                  error.message());
  }
  MLFORGE_ASSIGN_OR_RETURN(auto repository,
                           tracking::ArtifactRepository::Open(artifact_uri, stores.tracking_uri));
  core::Status downloaded = repository->DownloadFolder(artifact_dir, target);
  // Another process may have finished the same download first.
  if (downloaded.code() == core::StatusCode::kAlreadyExists) return target;
  MLFORGE_RETURN_IF_ERROR(downloaded.WithContext("Downloading " + artifact_uri +
                                                 (artifact_dir.empty() ? "" : "/") +
                                                 std::string(artifact_dir)));
  return target;
}

core::Result<FetchedModel> FetchRunModel(std::string_view uri, const ModelStores& stores,
                                         const std::filesystem::path& cache_root) {
  std::string_view rest = uri.substr(std::string_view("runs:/").size());
  while (rest.starts_with("/")) rest.remove_prefix(1);
  size_t slash = rest.find('/');
  std::string run_id(rest.substr(0, slash));
  std::string path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
  if (run_id.empty()) {
    return core::InvalidArgumentError("'" + std::string(uri) +
                                      "' names no run; write runs:/RUN_ID/PATH (e.g. runs:/abc/model)");
  }
  if (stores.tracking_uri.empty()) {
    return core::FailedPreconditionError("'" + std::string(uri) +
                                         "' needs a tracking store: pass --tracking-uri or set "
                                         "MLFLOW_TRACKING_URI");
  }
  MLFORGE_ASSIGN_OR_RETURN(auto tracking, tracking::OpenStore(stores.tracking_uri, ""));
  MLFORGE_ASSIGN_OR_RETURN(tracking::Run run, tracking->GetRun(run_id));
  FetchedModel fetched;
  fetched.source_uri = run.info.artifact_uri + (path.empty() ? "" : "/" + path);
  MLFORGE_ASSIGN_OR_RETURN(fetched.folder,
                           Materialise(run.info.artifact_uri, path, stores, cache_root));
  return fetched;
}

}  // namespace

core::Result<FetchedModel> FetchModel(std::string_view uri, const ModelStores& stores,
                                      const std::filesystem::path& cache_root) {
  if (uri.starts_with("runs:/")) return FetchRunModel(uri, stores, cache_root);
  if (!IsModelsUri(uri)) {
    FetchedModel fetched;
    fetched.source_uri = std::string(uri);
    MLFORGE_ASSIGN_OR_RETURN(fetched.folder, Materialise(std::string(uri), "", stores, cache_root));
    return fetched;
  }
  const std::string& registry_uri =
      stores.registry_uri.empty() ? stores.tracking_uri : stores.registry_uri;
  if (registry_uri.empty()) {
    return core::FailedPreconditionError("'" + std::string(uri) +
                                         "' needs a model registry: pass --tracking-uri or set "
                                         "MLFLOW_TRACKING_URI");
  }
  MLFORGE_ASSIGN_OR_RETURN(auto registry, OpenRegistryStore(registry_uri));
  MLFORGE_ASSIGN_OR_RETURN(ResolvedModelUri resolved, ResolveModelUri(*registry, uri));
  core::Result<FetchedModel> fetched =
      resolved.download_uri.starts_with("runs:/")
          ? FetchRunModel(resolved.download_uri, stores, cache_root)
          : FetchModel(resolved.download_uri, stores, cache_root);
  if (!fetched.ok()) {
    return fetched.status().WithContext(std::string(uri) + " (version " +
                                        std::to_string(resolved.version) + ")");
  }
  fetched->name = resolved.name;
  fetched->version = resolved.version;
  return fetched;
}

}  // namespace mlforge::registry
