// libFuzzer target: decoding MLflow REST requests.
//
// The first byte picks one of the tracking API's POST routes; the rest is
// the JSON body. The request goes through the real Router and
// MlflowRestHandler to an in-memory SQLite store. Properties: no crash, no
// sanitizer report, and the answer is never a 5xx: whatever a client sends,
// a malformed request is a 4xx in MLflow's error shape.
//
//   build-fuzz/src/tracking/fuzz/mlforge_request_fuzzer -max_total_time=60 CORPUS/

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "net/router.h"
#include "tracking/rest/mlflow_handler.h"
#include "tracking/sqlite/sqlite_store.h"

namespace {

using mlforge::tracking::SqliteStore;
using mlforge::tracking::Store;

constexpr const char* kRoutes[] = {
    "experiments/create", "experiments/search",  "experiments/update",
    "experiments/delete", "experiments/restore", "experiments/set-experiment-tag",
    "runs/create",        "runs/update",         "runs/delete",
    "runs/search",        "runs/log-metric",     "runs/log-parameter",
    "runs/set-tag",       "runs/delete-tag",     "runs/log-batch",
    "runs/log-inputs",
};

struct Fixture {
  std::unique_ptr<Store> store;
  std::unique_ptr<mlforge::tracking::rest::MlflowRestHandler> handler;
  mlforge::net::Router router;
};

Fixture& TheFixture() {
  static Fixture* fixture = [] {
    auto* made = new Fixture;
    auto opened = SqliteStore::Open(std::string(SqliteStore::kInMemory), "file:///tmp/fuzz");
    if (!opened.ok()) std::abort();
    made->store = std::move(opened).value();
    made->handler = std::make_unique<mlforge::tracking::rest::MlflowRestHandler>(*made->store);
    made->handler->Register(made->router);
    return made;
  }();
  return *fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Fixture& fixture = TheFixture();
  mlforge::net::HttpRequest request;
  request.method = "POST";
  request.target =
      std::string("/api/2.0/mlflow/") + kRoutes[data[0] % (sizeof(kRoutes) / sizeof(kRoutes[0]))];
  request.headers.push_back({"Content-Type", "application/json"});
  request.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  mlforge::net::HttpResponse response = fixture.router.Dispatch(request);
  if (response.status >= 500) {
    std::fprintf(stderr, "%s answered %d: %s\nbody: %s\n", request.target.c_str(), response.status,
                 response.body.c_str(), request.body.c_str());
    std::abort();
  }
  return 0;
}
