// Runs the RegistryStore conformance suite (registry_store_conformance_test.cc)
// on a real PostgreSQL server (the "postgres" CTest fixture), one schema per
// test.

#include <filesystem>

#include "registry/postgres/postgres_registry_store.h"
#include "registry/testing/registry_conformance.h"
#include "tracking/testing/postgres_test_database.h"

namespace mlforge::registry {
namespace {

const testing::RegisterRegistryBackend kPostgresBackend({
    "Postgres",
    [](const std::filesystem::path& folder) -> core::Result<std::unique_ptr<RegistryStore>> {
      MLFORGE_ASSIGN_OR_RETURN(std::string uri, tracking::testing::TestPostgresUriFor(folder));
      return OpenPostgresRegistryStore(uri);
    },
});

}  // namespace
}  // namespace mlforge::registry
