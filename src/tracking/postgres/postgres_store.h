#pragma once

// The tracking Store on a PostgreSQL database: the store of `mlforge server`
// when several servers (or a cluster) share one database.
//
//   MLFORGE_ASSIGN_OR_RETURN(
//       std::unique_ptr<Store> store,
//       PostgresStore::Open("postgresql://mlflow:secret@db:5432/mlflow", "mlflow-artifacts:/"));
//
// The store logic and SQL are the SQLite store's (tracking/sql/sql_store.h)
// on a bounded libpq connection pool (postgres_connection.h): each write is
// one SERIALIZABLE transaction, run again when it conflicts with a
// concurrent writer, and each read one REPEATABLE READ snapshot. Text
// columns use the "C" collation, so ordering and LIKE match the SQLite
// store and MLflow byte for byte whatever the database's locale.
//
// Schema: a `schema_version` table and numbered migrations applied on open
// under an advisory lock, so servers starting together migrate once. The
// tables go to the first schema of the connection's search_path. A database
// from a newer mlforge is refused (FailedPrecondition).
//
// URIs: postgres_uri.h. The password never appears in messages or logs.

#include <memory>
#include <string_view>

#include "core/status.h"
#include "tracking/postgres/postgres_connection.h"
#include "tracking/store.h"

namespace mlforge::tracking {

class PostgresStore {
 public:
  using Options = postgres::PoolOptions;

  // Connects, applies pending migrations and creates the Default experiment
  // (id "0", artifacts at "<default_artifact_root>/0") if missing; an empty
  // root means "./mlruns". InvalidArgument for a URI that is not
  // PostgreSQL's; Unavailable when the server cannot be reached or refuses
  // the login; FailedPrecondition for a schema newer than this build knows.
  static core::Result<std::unique_ptr<Store>> Open(std::string_view uri,
                                                   std::string_view default_artifact_root);
  static core::Result<std::unique_ptr<Store>> Open(std::string_view uri,
                                                   std::string_view default_artifact_root,
                                                   const Options& options);

  // The schema version this build creates and understands.
  static int LatestSchemaVersion();
};

}  // namespace mlforge::tracking
