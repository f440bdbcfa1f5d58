// Runs the Store conformance suite (tracking/store_conformance_test.cc) on a
// real PostgreSQL server (the "postgres" CTest fixture), one schema per test.

#include <filesystem>

#include "tracking/postgres/postgres_store.h"
#include "tracking/testing/postgres_test_database.h"
#include "tracking/testing/store_conformance.h"

namespace mlforge::tracking {
namespace {

const testing::RegisterConformanceBackend kPostgresBackend({
    "Postgres",
    [](const std::filesystem::path& folder) -> core::Result<std::unique_ptr<Store>> {
      MLFORGE_ASSIGN_OR_RETURN(std::string uri, testing::TestPostgresUriFor(folder));
      return PostgresStore::Open(uri, (folder / "artifacts").string());
    },
});

}  // namespace
}  // namespace mlforge::tracking
