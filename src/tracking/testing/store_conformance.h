#pragma once

// The conformance suite's view of a backend: how to open a store whose data
// lives in (or is named by) a folder. Opening twice with the same folder must
// give the same data, so the suite can check durability across reopen.
// store_conformance_test.cc instantiates the suite once per backend.

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "core/status.h"
#include "tracking/store.h"

namespace mlforge::tracking::testing {

struct StoreBackend {
  std::string name;  // a test-name-safe word: "Sqlite", "Postgres"
  std::function<core::Result<std::unique_ptr<Store>>(const std::filesystem::path& folder)> open;
};

// So GoogleTest prints a backend by name.
inline void PrintTo(const StoreBackend& backend, std::ostream* out) { *out << backend.name; }

}  // namespace mlforge::tracking::testing
