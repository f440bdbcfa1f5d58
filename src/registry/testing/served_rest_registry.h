#pragma once

// A RestRegistryStore that talks to a real model registry server on
// 127.0.0.1 (net::HttpServer serving MlflowRegistryHandler over a
// SqliteRegistryStore file in a folder), and owns that server: destroying
// the store stops the server, and opening again on the same folder serves
// the same data. For the conformance suite and the client's own tests.

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "core/status.h"
#include "net/http_server.h"
#include "net/router.h"
#include "registry/rest/registry_handler.h"
#include "registry/rest/rest_registry_store.h"
#include "registry/sqlite/sqlite_registry_store.h"

namespace mlforge::registry::testing {

class ServedRestRegistryStore : public rest::RestRegistryStore {
 public:
  // The server's parts, torn down in reverse: the server stops before the
  // handler and the store it borrows go.
  struct Server {
    std::unique_ptr<RegistryStore> store;
    std::unique_ptr<rest::MlflowRegistryHandler> handler;
    std::unique_ptr<net::HttpServer> http;
    ~Server() {
      if (http) http->Stop();
    }
  };

  static core::Result<std::unique_ptr<Server>> StartServer(const std::filesystem::path& folder) {
    auto server = std::make_unique<Server>();
    MLFORGE_ASSIGN_OR_RETURN(server->store,
                             SqliteRegistryStore::Open((folder / "mlflow.db").string()));
    server->handler = std::make_unique<rest::MlflowRegistryHandler>(*server->store);
    net::Router router;
    server->handler->Register(router);
    net::HttpServer::Options options;
    options.worker_threads = 4;
    MLFORGE_ASSIGN_OR_RETURN(server->http,
                             net::HttpServer::Start(std::move(options), std::move(router)));
    return server;
  }

  static core::Result<std::unique_ptr<RegistryStore>> Open(const std::filesystem::path& folder) {
    MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Server> server, StartServer(folder));
    MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<tracking::rest::RestTransport> transport,
                             tracking::rest::RestTransport::Open(
                                 "http://127.0.0.1:" + std::to_string(server->http->port())));
    return std::unique_ptr<RegistryStore>(
        new ServedRestRegistryStore(std::move(transport), std::move(server)));
  }

 private:
  ServedRestRegistryStore(std::unique_ptr<tracking::rest::RestTransport> transport,
                          std::unique_ptr<Server> server)
      : RestRegistryStore(std::move(transport)), server_(std::move(server)) {}

  std::unique_ptr<Server> server_;  // destroyed (stopped) before the client's transport
};

}  // namespace mlforge::registry::testing
