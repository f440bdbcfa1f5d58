#pragma once

// The tracking Store on one SQLite file: the store of `mlforge server` on a
// single machine, and of training when no server runs.
//
//   MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
//                            SqliteStore::Open("/data/mlflow.db", "file:///data/mlruns"));
//
// Concurrency: one writer connection, guarded by a mutex, runs every write
// as one IMMEDIATE transaction; reads run on a pool of reader connections
// in WAL mode, each read in its own snapshot transaction, so readers never
// wait for the writer and see only committed data. Several processes may
// open the same file; their writes serialise through SQLite's lock,
// waiting up to Options::busy_timeout_ms before Unavailable.
//
// Durability: WAL with synchronous=NORMAL (the default) makes every
// acknowledged write survive a crash or SIGKILL of the process, because the
// commit is in the WAL file (in the OS page cache) before the call returns;
// the last commits before a power loss or OS crash may be lost. With
// Options::synchronous_full every commit is also fsynced and survives those
// too, at the cost of one fsync per write call.
//
// Schema: a `schema_version` table and numbered migrations, each applied in
// one transaction on open; a database from a newer mlforge is refused
// (FailedPrecondition) rather than guessed at.
//
// Not for: many machines sharing one file over a network file system; use
// the PostgreSQL store there.

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "tracking/store.h"

namespace mlforge::tracking {

// Opens the SQLite backend; the Store it returns is the shared SQL store
// (tracking/sql/sql_store.h) on a SQLite connection pool.
class SqliteStore {
 public:
  // The path that opens a private in-memory database (one connection, for
  // tests and throwaway use).
  static constexpr std::string_view kInMemory = ":memory:";

  struct Options {
    // fsync every commit (PRAGMA synchronous=FULL) so writes also survive
    // power loss. Default false: survive process death only (see above).
    bool synchronous_full = false;
    // How long a write waits for another process holding the database lock
    // before failing with Unavailable, in milliseconds. Default 5000.
    int busy_timeout_ms = 5000;
    // Idle reader connections kept open for reuse; more are opened when
    // more threads read at once. Default 8.
    int max_idle_readers = 8;
  };

  // Opens or creates the database at `path` (or kInMemory), applies pending
  // migrations and creates the Default experiment (id "0", artifacts at
  // "<default_artifact_root>/0") if missing. An empty root means "./mlruns",
  // MLflow's default. Unavailable when the file cannot be opened;
  // FailedPrecondition for a schema newer than this build knows.
  static core::Result<std::unique_ptr<Store>> Open(const std::string& path,
                                                   std::string_view default_artifact_root);
  static core::Result<std::unique_ptr<Store>> Open(const std::string& path,
                                                   std::string_view default_artifact_root,
                                                   const Options& options);

  // The schema version this build creates and understands.
  static int LatestSchemaVersion();
};

}  // namespace mlforge::tracking
