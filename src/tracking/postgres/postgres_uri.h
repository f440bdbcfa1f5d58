#pragma once

// PostgreSQL store URIs as MLflow users write them (SQLAlchemy's forms):
//
//   postgresql://USER:PASS@HOST:PORT/DB[?sslmode=require&host=/run/postgresql...]
//   postgres://...                     the same
//   postgresql+psycopg2://...          the same; the "+driver" part is ignored
//
// The query parameters pass through to libpq untouched (sslmode, host,
// connect_timeout, options, ...).

#include <string>
#include <string_view>

#include "core/status.h"

namespace mlforge::tracking::postgres {

// Whether `uri` names a PostgreSQL database by one of the schemes above.
bool IsPostgresUri(std::string_view uri);

// The libpq connection URI for `uri`: the same text with the scheme made
// "postgresql". InvalidArgument for another scheme or an empty rest.
core::Result<std::string> ToLibpqUri(std::string_view uri);

// `uri` with its password (in "user:password@" and in a "password="
// query parameter) replaced by "***", for logs and error messages. Any
// text that is not such a URI comes back unchanged.
std::string RedactPassword(std::string_view uri);

}  // namespace mlforge::tracking::postgres
