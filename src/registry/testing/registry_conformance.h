#pragma once

// The registry conformance suite's view of a backend: how to open a
// RegistryStore whose data lives in (or is named by) a folder. Opening twice
// with the same folder must give the same data, so the suite can check
// durability across reopen. registry_store_conformance_test.cc instantiates
// the suite once per backend registered in its test binary: SQLite in
// sqlite/sqlite_registry_conformance_test.cc, PostgreSQL in
// postgres/postgres_registry_conformance_test.cc.

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "registry/registry_store.h"

namespace mlforge::registry::testing {

struct RegistryBackend {
  std::string name;  // a test-name-safe word: "Sqlite", "Postgres"
  std::function<core::Result<std::unique_ptr<RegistryStore>>(const std::filesystem::path& folder)>
      open;
};

// The backends registered in this test binary, in registration order.
inline std::vector<RegistryBackend>& RegistryBackends() {
  static std::vector<RegistryBackend> backends;
  return backends;
}

// Registers a backend at static initialisation, before InitGoogleTest()
// runs the suite's parameter generators:
//
//   const testing::RegisterRegistryBackend kSqlite({"Sqlite", OpenInFolder});
struct RegisterRegistryBackend {
  explicit RegisterRegistryBackend(RegistryBackend backend) {
    RegistryBackends().push_back(std::move(backend));
  }
};

// So GoogleTest prints a backend by name.
inline void PrintTo(const RegistryBackend& backend, std::ostream* out) { *out << backend.name; }

}  // namespace mlforge::registry::testing
