#pragma once

// Opens the Store a URI names, picking the backend:
//
//   sqlite:///relative/path.db    SQLite file relative to the working folder
//   sqlite:////abs/path.db        SQLite file at /abs/path.db
//   sqlite://  sqlite:///:memory: a private in-memory SQLite database
//   /abs/path.db  relative.db     a bare path: a SQLite file
//   postgresql://USER:PASS@HOST:PORT/DB[?sslmode=...]  postgres://...
//   postgresql+psycopg2://...     a PostgreSQL database
//                                 (tracking/postgres/postgres_store.h)
//   http://host:port[/prefix]     a tracking server, over MLflow's REST API
//                                 (tracking/rest/rest_store.h); https://
//                                 is Unimplemented for now
//
// These are SQLAlchemy's (and so MLflow's) URI rules: after "sqlite://"
// comes "/" and the path, so three slashes start a relative path and four an
// absolute one. A "?query" after a sqlite path is ignored. Missing parent
// folders of a SQLite file are created.
//
// `default_artifact_root` is where new experiments put artifacts when they
// name no location ("<root>/<experiment id>"); it is stored as given, so
// pass a URI ("file:///data/mlruns", "mlflow-artifacts:/") or a path. A
// tracking server (http://) ignores it: the server's store decides.

#include <memory>
#include <string_view>

#include "core/status.h"
#include "tracking/store.h"

namespace mlforge::tracking {

// InvalidArgument for a scheme that is not supported; whatever the backend's
// Open returns otherwise.
core::Result<std::unique_ptr<Store>> OpenStore(std::string_view uri,
                                               std::string_view default_artifact_root);

}  // namespace mlforge::tracking
