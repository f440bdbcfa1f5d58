// Runs the Store conformance suite (tracking/store_conformance_test.cc) on a
// real SQLite file in a temporary folder.

#include <filesystem>

#include "tracking/sqlite/sqlite_store.h"
#include "tracking/testing/store_conformance.h"

namespace mlforge::tracking {
namespace {

const testing::RegisterConformanceBackend kSqliteBackend({
    "Sqlite",
    [](const std::filesystem::path& folder) {
      return SqliteStore::Open((folder / "mlflow.db").string(), (folder / "artifacts").string());
    },
});

}  // namespace
}  // namespace mlforge::tracking
