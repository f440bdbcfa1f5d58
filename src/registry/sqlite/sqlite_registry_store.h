#pragma once

// The RegistryStore on one SQLite file, normally the very file the tracking
// SqliteStore uses (`mlforge server --backend-store-uri sqlite:///mlflow.db`
// serves both from it, as MLflow does).
//
//   MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<RegistryStore> registry,
//                            SqliteRegistryStore::Open("/data/mlflow.db"));
//
// Tables: registered_models, registered_model_tags, model_versions,
// model_version_tags and registered_model_aliases, versioned by their own
// `registry_schema_version` table and numbered migrations applied on open,
// so the tracking and registry schemas evolve independently in one file. A
// database from a newer mlforge is refused (FailedPrecondition).
//
// Concurrency is the tracking store's: one writer connection under a mutex
// runs each write as one IMMEDIATE transaction (so version numbers are
// assigned without races, across processes too), and reads run on pooled
// reader connections in WAL snapshots. Writes from other processes wait up
// to Options::busy_timeout_ms, then fail with Unavailable.
//
// Not for: many machines sharing one file over a network file system.

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "registry/registry_store.h"

namespace mlforge::registry {

// Opens the SQLite backend; the RegistryStore it returns is the shared SQL
// registry store (registry/sql/sql_registry_store.h) on a SQLite pool.
class SqliteRegistryStore {
 public:
  // The path that opens a private in-memory database (one connection).
  static constexpr std::string_view kInMemory = ":memory:";

  struct Options {
    // fsync every commit (PRAGMA synchronous=FULL). Default false: commits
    // survive the death of the process, not a power loss.
    bool synchronous_full = false;
    // How long a write waits for another process's lock before failing
    // with Unavailable, in milliseconds. Default 5000.
    int busy_timeout_ms = 5000;
    // Idle reader connections kept open for reuse. Default 8.
    int max_idle_readers = 8;
  };

  // Opens or creates the database at `path` (or kInMemory) and applies
  // pending registry migrations; tables of other parts (tracking) are left
  // alone. Unavailable when the file cannot be opened; FailedPrecondition
  // for a registry schema newer than this build knows.
  static core::Result<std::unique_ptr<RegistryStore>> Open(const std::string& path);
  static core::Result<std::unique_ptr<RegistryStore>> Open(const std::string& path,
                                                           const Options& options);

  // The registry schema version this build creates and understands.
  static int LatestSchemaVersion();
};

}  // namespace mlforge::registry
