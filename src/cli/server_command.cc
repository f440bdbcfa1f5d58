// mlforge server [--host 127.0.0.1] [--port 5000] [--backend-store-uri URI]
//   [--artifacts-destination DIR] [--workers N]
//
// The MLflow-compatible tracking server: the tracking REST API, the artifact
// proxy and the model registry on one port, over one store.

#include <signal.h>

#include <cstdio>

#include "cli/commands.h"
#include "net/http_server.h"
#include "net/router.h"
#include "registry/postgres/postgres_registry_store.h"
#include "registry/rest/registry_handler.h"
#include "registry/sqlite/sqlite_registry_store.h"
#include "tracking/artifacts/artifact_handler.h"
#include "tracking/artifacts/local/local_artifact_store.h"
#include "tracking/postgres/postgres_uri.h"
#include "tracking/rest/mlflow_handler.h"
#include "tracking/store_factory.h"

namespace mlforge::cli {
namespace {

// The SQLite file of a sqlite:/// URI or bare path (SQLAlchemy's rules:
// three slashes then the path), for the registry's tables beside tracking's.
std::string SqlitePath(const std::string& uri) {
  const std::string scheme = "sqlite:///";
  std::string path = uri.rfind(scheme, 0) == 0 ? uri.substr(scheme.size()) : uri;
  if (size_t query = path.find('?'); query != std::string::npos) path.resize(query);
  return path;
}

}  // namespace

void AddServerCommand(CLI::App& app) {
  struct Flags {
    std::string host = "127.0.0.1";
    int port = 5000;
    std::string backend_store_uri;
    std::string artifacts_destination;
    int workers = 0;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* server = app.add_subcommand(
      "server", "MLflow-compatible tracking server: REST API, artifact proxy, model registry");
  server->add_option("--host", flags->host, "Address to listen on (default: 127.0.0.1)");
  server->add_option("--port,-p", flags->port, "Port (default: 5000; 0 picks a free one)");
  server->add_option("--backend-store-uri", flags->backend_store_uri,
                     "sqlite:///PATH.db (default: $MLFORGE_HOME/mlruns.db)");
  server->add_option("--artifacts-destination", flags->artifacts_destination,
                     "Folder the artifact proxy stores into (default: $MLFORGE_HOME/artifacts)");
  server->add_option("--workers", flags->workers, "Request threads (default: max(4, cores))");
  server->callback([flags] {
    const std::string uri = flags->backend_store_uri.empty()
                                ? "sqlite:///" + (Home() / "mlruns.db").string()
                                : flags->backend_store_uri;
    const bool postgres = tracking::postgres::IsPostgresUri(uri);
    if (!postgres && uri.rfind("sqlite:", 0) != 0 && uri.find("://") != std::string::npos) {
      throw CLI::RuntimeError(Fail("--backend-store-uri " +
                                   tracking::postgres::RedactPassword(uri) +
                                   ": use sqlite:///PATH or postgresql://USER:PASS@HOST:PORT/DB"));
    }
    const std::filesystem::path artifacts =
        flags->artifacts_destination.empty() ? Home() / "artifacts"
                                             : std::filesystem::path(flags->artifacts_destination);
    // New experiments put artifacts behind this server's proxy, as MLflow's
    // server does with --artifacts-destination.
    auto store = tracking::OpenStore(uri, "mlflow-artifacts:/");
    if (!store.ok()) throw CLI::RuntimeError(Fail(store.status().message()));
    auto artifact_store = tracking::LocalArtifactStore::Open(artifacts);
    if (!artifact_store.ok()) throw CLI::RuntimeError(Fail(artifact_store.status().message()));
    // The registry lives in the same database as the tracking store.
    auto registry_store = postgres ? registry::OpenPostgresRegistryStore(uri)
                                   : registry::SqliteRegistryStore::Open(SqlitePath(uri));
    if (!registry_store.ok()) throw CLI::RuntimeError(Fail(registry_store.status().message()));

    net::Router router;
    tracking::rest::MlflowRestHandler tracking_handler(**store);
    tracking::ArtifactProxyHandler artifact_handler(**artifact_store);
    registry::rest::MlflowRegistryHandler registry_handler(**registry_store, **store);
    tracking_handler.Register(router);
    artifact_handler.Register(router);
    registry_handler.Register(router);

    net::HttpServer::Options options;
    options.host = flags->host;
    options.port = flags->port;
    options.worker_threads = flags->workers;
    options.max_body_bytes = tracking::kSuggestedMaxArtifactBytes;
    // Block the stop signals before threads start so only sigwait sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    auto started = net::HttpServer::Start(options, std::move(router));
    if (!started.ok()) throw CLI::RuntimeError(Fail(started.status().message()));
    std::printf("mlforge server listening on http://%s\n  store: %s\n  artifacts: %s\n",
                (*started)->address().c_str(), tracking::postgres::RedactPassword(uri).c_str(),
                artifacts.c_str());
    if (flags->host != "127.0.0.1" && flags->host != "localhost" && flags->host != "::1") {
      std::fprintf(stderr,
                   "warning: listening beyond loopback without authentication; anyone who can "
                   "reach %s can read and change every run\n",
                   (*started)->address().c_str());
    }
    std::fflush(stdout);
    int received = 0;
    sigwait(&stop_signals, &received);
    std::fprintf(stderr, "mlforge server: %s, draining requests in flight\n",
                 received == SIGTERM ? "SIGTERM" : "SIGINT");
    (*started)->Stop();
  });
}

}  // namespace mlforge::cli
