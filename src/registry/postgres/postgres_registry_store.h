#pragma once

// The RegistryStore on a PostgreSQL database, normally the very database
// the tracking PostgresStore uses (`mlforge server --backend-store-uri
// postgresql://...` serves both from it, as MLflow does). The logic and SQL
// are the SQLite registry's (registry/sql/sql_registry_store.h) on a libpq
// pool (tracking/postgres/postgres_connection.h): writes are SERIALIZABLE
// transactions, run again on a conflict, so version numbers are assigned
// without races across servers. Tables are versioned by their own
// `registry_schema_version` table. URIs: tracking/postgres/postgres_uri.h.

#include <memory>
#include <string_view>

#include "core/status.h"
#include "registry/registry_store.h"
#include "tracking/postgres/postgres_connection.h"

namespace mlforge::registry {

// Connects and applies pending registry migrations; the tracking tables are
// left alone. InvalidArgument for a URI that is not PostgreSQL's;
// Unavailable when the server cannot be reached; FailedPrecondition for a
// registry schema newer than this build knows.
core::Result<std::unique_ptr<RegistryStore>> OpenPostgresRegistryStore(std::string_view uri);
core::Result<std::unique_ptr<RegistryStore>> OpenPostgresRegistryStore(
    std::string_view uri, const tracking::postgres::PoolOptions& options);

// The registry schema version this build creates and understands.
int PostgresRegistrySchemaVersion();

}  // namespace mlforge::registry
