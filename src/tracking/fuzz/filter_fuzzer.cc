// libFuzzer target: MLflow's search grammar, from text to SQL.
//
// Every input is parsed as a run filter, an order_by clause and an
// experiment filter (ParseRunFilterForFuzzing). A filter that parses is then
// run as a real search on an in-memory SQLite store holding one run, so the
// SQL the store compiles from it is executed too. The properties checked:
// no crash, no sanitizer report, and a parsed filter never makes the store
// fail with anything but InvalidArgument (an Internal error would mean the
// compiled SQL was malformed, i.e. filter text leaked into SQL).
//
//   make test-fuzz                    # each target for a few seconds
//   build-fuzz/src/tracking/fuzz/mlforge_filter_fuzzer -max_total_time=60 CORPUS/

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "tracking/search_filter.h"
#include "tracking/sqlite/sqlite_store.h"

namespace {

using mlforge::tracking::SqliteStore;
using mlforge::tracking::Store;

Store& FuzzStore() {
  static std::unique_ptr<Store> store = [] {
    auto opened = SqliteStore::Open(std::string(SqliteStore::kInMemory), "file:///tmp/fuzz");
    if (!opened.ok()) std::abort();
    auto run = (*opened)->CreateRun("0", "fuzz", 1, {{"team", "a"}}, std::string("r"));
    if (!run.ok()) std::abort();
    const std::string id = run->info.run_id;
    if (!(*opened)->LogBatch(id, {{"acc", 0.5, 1, 0}}, {{"lr", "0.1"}}, {{"x", "y"}}).ok()) {
      std::abort();
    }
    return std::move(opened).value();
  }();
  return *store;
}

void Check(const mlforge::core::Status& status, std::string_view what, std::string_view input) {
  if (status.ok() || status.code() == mlforge::core::StatusCode::kInvalidArgument) return;
  std::fprintf(stderr, "%.*s of a parsed filter failed: %s\ninput: %.*s\n",
               static_cast<int>(what.size()), what.data(), status.ToString().c_str(),
               static_cast<int>(input.size()), input.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!mlforge::tracking::ParseRunFilterForFuzzing(input)) return 0;
  Store& store = FuzzStore();
  Check(store.SearchRuns({"0"}, input, mlforge::tracking::ViewType::kAll, 10, {}, "").status(),
        "SearchRuns", input);
  if (mlforge::tracking::ParseRunOrderBy(input).ok()) {
    Check(
        store.SearchRuns({"0"}, "", mlforge::tracking::ViewType::kAll, 10, {std::string(input)}, "")
            .status(),
        "SearchRuns order_by", input);
  }
  if (mlforge::tracking::ParseExperimentFilter(input).ok()) {
    Check(store.SearchExperiments(mlforge::tracking::ViewType::kAll, 10, input, {}, "").status(),
          "SearchExperiments", input);
  }
  return 0;
}
