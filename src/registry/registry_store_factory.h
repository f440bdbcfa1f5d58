#pragma once

// Opens the RegistryStore a URI names, picking the backend by the same rules
// as the tracking store factory (tracking/store_factory.h), since MLflow's
// registry URI defaults to the tracking URI:
//
//   sqlite:///relative.db  sqlite:////abs/path.db  a bare path
//                          SqliteRegistryStore on that file (the registry's
//                          tables beside the tracking tables)
//   sqlite://  sqlite:///:memory:
//                          a private in-memory SQLite database
//   http://host:port[/prefix]
//                          RestRegistryStore: a tracking server's registry
//                          over MLflow's REST API (https: Unimplemented)
//   postgresql://...  postgres://...  postgresql+driver://...
//                          the PostgreSQL store (the tracking database)
//
// A "?query" after a sqlite path is ignored.

#include <memory>
#include <string_view>

#include "core/status.h"
#include "registry/registry_store.h"

namespace mlforge::registry {

// InvalidArgument for an empty URI, a sqlite URI with a host, or an
// unsupported scheme; otherwise whatever the backend's Open returns.
core::Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(std::string_view uri);

}  // namespace mlforge::registry
