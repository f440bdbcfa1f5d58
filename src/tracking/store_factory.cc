#include "tracking/store_factory.h"

#include <string>

#include "tracking/postgres/postgres_store.h"
#include "tracking/rest/rest_store.h"
#include "tracking/sqlite/sqlite_store.h"

namespace mlforge::tracking {

core::Result<std::unique_ptr<Store>> OpenStore(std::string_view uri,
                                               std::string_view default_artifact_root) {
  if (uri.empty()) {
    return core::InvalidArgumentError(
        "Empty store URI. Give a SQLite file path or a URI such as sqlite:///mlflow.db");
  }
  size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) {
    return SqliteStore::Open(std::string(uri), default_artifact_root);
  }
  std::string_view scheme = uri.substr(0, scheme_end);
  std::string_view rest = uri.substr(scheme_end + 3);
  if (scheme == "sqlite") {
    size_t query = rest.find('?');
    if (query != std::string_view::npos) rest = rest.substr(0, query);
    if (rest.empty() || rest == "/" || rest == "/:memory:") {
      return SqliteStore::Open(std::string(SqliteStore::kInMemory), default_artifact_root);
    }
    if (rest.front() != '/') {
      return core::InvalidArgumentError(
          "Invalid SQLite URI '" + std::string(uri) +
          "': a SQLite URI has no host; write sqlite:///relative.db or sqlite:////abs/path.db");
    }
    return SqliteStore::Open(std::string(rest.substr(1)), default_artifact_root);
  }
  if (scheme == "postgresql" || scheme == "postgres" || scheme.starts_with("postgresql+")) {
    return PostgresStore::Open(uri, default_artifact_root);
  }
  if (scheme == "http" || scheme == "https") {
    // A tracking server; it owns the artifact root.
    return rest::RestStore::Open(uri);
  }
  return core::InvalidArgumentError(
      "Unsupported tracking store URI scheme '" + std::string(scheme) +
      "'. Supported: sqlite:// (or a bare file path), http:// (a "
      "tracking server) and postgresql:// (postgres://, postgresql+driver://)");
}

}  // namespace mlforge::tracking
