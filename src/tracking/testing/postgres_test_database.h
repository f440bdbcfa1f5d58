#pragma once

// The PostgreSQL server of the tests: the "postgres" CTest fixture
// (scripts/postgres-test-server) starts one and writes its URI to
// $MLFORGE_BUILD_DIR/postgres-fixture/uri; MLFORGE_TEST_POSTGRES_URI, when
// set, names another. A test that finds neither fails (it does not skip):
// the PostgreSQL backend is part of what CI checks.

#include <libpq-fe.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "core/status.h"

namespace mlforge::tracking::testing {

// The base URI of the test server's database.
inline core::Result<std::string> TestPostgresUri() {
  if (const char* uri = std::getenv("MLFORGE_TEST_POSTGRES_URI"); uri != nullptr && *uri) {
    return std::string(uri);
  }
  const char* build = std::getenv("MLFORGE_BUILD_DIR");
  std::filesystem::path file =
      std::filesystem::path(build != nullptr ? build : ".") / "postgres-fixture" / "uri";
  std::ifstream in(file);
  std::string uri;
  if (!std::getline(in, uri) || uri.empty()) {
    return core::FailedPreconditionError(
        "No PostgreSQL test server: " + file.string() +
        " is missing. Run the tests through ctest (its postgres_server_start fixture starts "
        "one; PostgreSQL comes from scripts/install-deps) or set MLFORGE_TEST_POSTGRES_URI");
  }
  return uri;
}

// Runs one parameterless statement on `uri` (test set-up only).
inline core::Status ExecOnTestServer(const std::string& uri, const std::string& sql) {
  PGconn* connection = PQconnectdb(uri.c_str());
  core::Status status = core::Status::Ok();
  if (PQstatus(connection) != CONNECTION_OK) {
    status = core::UnavailableError(std::string("test server: ") + PQerrorMessage(connection));
  } else {
    PGresult* result = PQexec(connection, sql.c_str());
    ExecStatusType code = PQresultStatus(result);
    if (code != PGRES_COMMAND_OK && code != PGRES_TUPLES_OK) {
      status = core::InternalError(std::string("test server: ") + PQerrorMessage(connection));
    }
    PQclear(result);
  }
  PQfinish(connection);
  return status;
}

// A URI whose tables live in a schema of their own, named after `folder`
// (created if missing), so each test starts empty and reopening the same
// folder finds the same data.
inline core::Result<std::string> TestPostgresUriFor(const std::filesystem::path& folder) {
  MLFORGE_ASSIGN_OR_RETURN(std::string base, TestPostgresUri());
  std::string schema = "t" + std::to_string(std::hash<std::string>{}(folder.string()));
  MLFORGE_RETURN_IF_ERROR(ExecOnTestServer(base, "CREATE SCHEMA IF NOT EXISTS " + schema));
  return base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

}  // namespace mlforge::tracking::testing
