#include "registry/registry_store_factory.h"

#include <string>

#include "registry/postgres/postgres_registry_store.h"
#include "registry/rest/rest_registry_store.h"
#include "registry/sqlite/sqlite_registry_store.h"

namespace mlforge::registry {

core::Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(std::string_view uri) {
  if (uri.empty()) {
    return core::InvalidArgumentError(
        "Empty registry URI. Give a SQLite file path, a URI such as sqlite:///mlflow.db, or a "
        "tracking server such as http://127.0.0.1:5000");
  }
  const size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return SqliteRegistryStore::Open(std::string(uri));
  const std::string_view scheme = uri.substr(0, scheme_end);
  std::string_view rest = uri.substr(scheme_end + 3);
  if (scheme == "sqlite") {
    if (size_t query = rest.find('?'); query != std::string_view::npos) {
      rest = rest.substr(0, query);
    }
    if (rest.empty() || rest == "/" || rest == "/:memory:") {
      return SqliteRegistryStore::Open(std::string(SqliteRegistryStore::kInMemory));
    }
    if (rest.front() != '/') {
      return core::InvalidArgumentError(
          "Invalid SQLite URI '" + std::string(uri) +
          "': a SQLite URI has no host; write sqlite:///relative.db or sqlite:////abs/path.db");
    }
    return SqliteRegistryStore::Open(std::string(rest.substr(1)));
  }
  if (scheme == "postgresql" || scheme == "postgres" || scheme.starts_with("postgresql+")) {
    return OpenPostgresRegistryStore(uri);
  }
  if (scheme == "http" || scheme == "https") return rest::RestRegistryStore::Open(uri);
  return core::InvalidArgumentError("Unsupported model registry URI scheme '" +
                                    std::string(scheme) + "' in '" + std::string(uri) +
                                    "'. Supported: sqlite:// (or a bare file path), postgresql:// "
                                    "and http:// (a tracking server)");
}

}  // namespace mlforge::registry
