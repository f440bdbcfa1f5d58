// Runs the RegistryStore conformance suite (registry_store_conformance_test.cc)
// on a real SQLite file in a temporary folder.

#include <filesystem>

#include "registry/sqlite/sqlite_registry_store.h"
#include "registry/testing/registry_conformance.h"

namespace mlforge::registry {
namespace {

const testing::RegisterRegistryBackend kSqliteBackend({
    "Sqlite",
    [](const std::filesystem::path& folder) {
      return SqliteRegistryStore::Open((folder / "mlflow.db").string());
    },
});

}  // namespace
}  // namespace mlforge::registry
