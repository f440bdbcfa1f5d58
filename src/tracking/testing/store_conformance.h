#pragma once

// The conformance suite's view of a backend: how to open a store whose data
// lives in (or is named by) a folder. Opening twice with the same folder must
// give the same data, so the suite can check durability across reopen.
//
// store_conformance_test.cc holds the cases and instantiates them once per
// backend registered in the same test binary:
//
//   const testing::RegisterConformanceBackend kSqlite({"Sqlite", OpenInFolder});
//
// SQLite registers in tracking/sqlite/sqlite_conformance_test.cc (the
// tracking test binary), the REST client store in
// tracking/rest/rest_store_test.cc (the rest test binary, which compiles the
// suite again). Where MLflow's REST API cannot express what a case checks,
// the case looks at StoreBackend::over_rest and says why it differs there.

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tracking/store.h"

namespace mlforge::tracking::testing {

struct StoreBackend {
  std::string name;  // a test-name-safe word: "Sqlite", "Postgres"
  std::function<core::Result<std::unique_ptr<Store>>(const std::filesystem::path& folder)> open;
  // Whether the backend reaches its store over MLflow's REST API, which
  // cannot express everything the Store interface can.
  bool over_rest = false;
};

// The backends registered in this test binary, in registration order.
inline std::vector<StoreBackend>& ConformanceBackends() {
  static std::vector<StoreBackend> backends;
  return backends;
}

// Registers a backend at static initialisation; the suite's parameter
// generators run later, from InitGoogleTest().
struct RegisterConformanceBackend {
  explicit RegisterConformanceBackend(StoreBackend backend) {
    ConformanceBackends().push_back(std::move(backend));
  }
};

// So GoogleTest prints a backend by name.
inline void PrintTo(const StoreBackend& backend, std::ostream* out) { *out << backend.name; }

}  // namespace mlforge::tracking::testing
