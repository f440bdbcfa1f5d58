// mlforge server [--host 127.0.0.1] [--port 5000] [--backend-store-uri URI]
//   [--artifacts-destination DIR] [--workers N]
//   [--auth [--auth-db PATH] [--admin-username NAME] [--default-permission P]]
//
// The MLflow-compatible tracking server: the tracking REST API, the artifact
// proxy and the model registry on one port, over one store. With --auth
// (also spelt as MLflow's `--app-name basic-auth`) every request needs a user
// (auth/auth_gate.h); without it the server listens on loopback only unless
// told --insecure-no-auth.

#include <signal.h>

#include <cstdio>

#include "auth/auth_gate.h"
#include "auth/auth_handler.h"
#include "auth/auth_store.h"
#include "auth/password.h"
#include "cli/commands.h"
#include "net/http_server.h"
#include "net/router.h"
#include "registry/registry_store_factory.h"
#include "registry/rest/registry_handler.h"
#include "tracking/artifacts/artifact_handler.h"
#include "tracking/artifacts/local/local_artifact_store.h"
#include "tracking/postgres/postgres_uri.h"
#include "tracking/rest/mlflow_handler.h"
#include "tracking/store_factory.h"

namespace mlforge::cli {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

// The auth database with its admin user: created on first start with the
// password from MLFORGE_ADMIN_PASSWORD, or a random one printed once.
std::unique_ptr<auth::AuthStore> OpenAuth(const std::string& path, const std::string& admin) {
  auto store = auth::AuthStore::Open(path);
  if (!store.ok()) throw CLI::RuntimeError(Fail(store.status().message()));
  if ((*store)->GetUser(admin).ok()) return std::move(*store);
  const char* from_env = std::getenv("MLFORGE_ADMIN_PASSWORD");
  std::string password = from_env != nullptr && *from_env != '\0'
                             ? std::string(from_env)
                             : auth::NewAccessToken().substr(4, 24);
  auto user = (*store)->CreateUser(admin, password, /*is_admin=*/true);
  if (!user.ok()) throw CLI::RuntimeError(Fail(user.status().message()));
  if (from_env != nullptr && *from_env != '\0') {
    std::fprintf(stderr,
                 "mlforge server: created admin user '%s' (password from MLFORGE_ADMIN_PASSWORD)\n",
                 admin.c_str());
  } else {
    std::fprintf(stderr,
                 "mlforge server: created admin user '%s' with password %s\n"
                 "  (shown once; change it with PATCH /api/2.0/mlflow/users/update-password)\n",
                 admin.c_str(), password.c_str());
  }
  return std::move(*store);
}

}  // namespace

void AddServerCommand(CLI::App& app) {
  struct Flags {
    std::string host = "127.0.0.1";
    int port = 5000;
    std::string backend_store_uri;
    std::string artifacts_destination;
    int workers = 0;
    bool auth = false;
    std::string app_name;
    std::string auth_db;
    std::string admin_username = "admin";
    std::string default_permission = "READ";
    bool insecure_no_auth = false;
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
  server->add_flag("--auth", flags->auth,
                   "Require users (HTTP basic auth or bearer tokens) and check permissions");
  server->add_option("--app-name", flags->app_name, "MLflow's spelling: 'basic-auth' is --auth");
  server->add_option("--auth-db", flags->auth_db,
                     "SQLite file of users and permissions (default: $MLFORGE_HOME/basic_auth.db)");
  server->add_option("--admin-username", flags->admin_username,
                     "Admin created on first start (default: admin; password from "
                     "MLFORGE_ADMIN_PASSWORD, else a random one printed once)");
  server->add_option(
      "--default-permission", flags->default_permission,
      "Permission where none is granted: READ (default), EDIT, MANAGE, NO_PERMISSIONS");
  server->add_flag("--insecure-no-auth", flags->insecure_no_auth,
                   "Allow a non-loopback --host without --auth");
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
    auto registry_store = registry::OpenRegistryStore(uri);
    if (!registry_store.ok()) throw CLI::RuntimeError(Fail(registry_store.status().message()));

    if (!flags->app_name.empty() && flags->app_name != "basic-auth") {
      throw CLI::RuntimeError(
          Fail("--app-name " + flags->app_name + ": only 'basic-auth' is supported"));
    }
    const bool with_auth = flags->auth || flags->app_name == "basic-auth";
    if (!with_auth && !IsLoopback(flags->host) && !flags->insecure_no_auth) {
      throw CLI::RuntimeError(
          Fail("--host " + flags->host +
               " without --auth would let anyone who can reach it read and "
               "change every run; add --auth (users and permissions), or --insecure-no-auth to "
               "accept that"));
    }
    auto default_permission = auth::ParsePermission(flags->default_permission);
    if (!default_permission.ok()) {
      throw CLI::RuntimeError(
          Fail("--default-permission: " + default_permission.status().message()));
    }
    std::unique_ptr<auth::AuthStore> auth_store;
    std::unique_ptr<auth::AuthGate> gate;
    std::unique_ptr<auth::AuthHandler> auth_handler;
    net::Router router;
    if (with_auth) {
      auth_store =
          OpenAuth(flags->auth_db.empty() ? (Home() / "basic_auth.db").string() : flags->auth_db,
                   flags->admin_username);
      gate = std::make_unique<auth::AuthGate>(*auth_store, **store,
                                              auth::AuthGate::Options{*default_permission});
      auth_handler = std::make_unique<auth::AuthHandler>(*auth_store);
      auth_handler->Register(router);
      router.SetInterceptor([&gate](net::HttpRequest& request, const net::Handler& next) {
        return gate->Intercept(request, next);
      });
    }
    tracking::rest::MlflowRestHandler tracking_handler(**store);
    tracking::ArtifactProxyHandler artifact_handler(**artifact_store);
    registry::rest::MlflowRegistryHandler registry_handler(**registry_store, **store);
    // MLflow's server probes; open even with --auth.
    router.Get("/health",
               [](const net::HttpRequest&) { return net::HttpResponse::Text(200, "OK"); });
    router.Get("/version", [](const net::HttpRequest&) {
      return net::HttpResponse::Text(200, MLFORGE_VERSION);
    });
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
    std::printf("mlforge server listening on http://%s\n  store: %s\n  artifacts: %s\n  auth: %s\n",
                (*started)->address().c_str(), tracking::postgres::RedactPassword(uri).c_str(),
                artifacts.c_str(), with_auth ? "on (basic and bearer)" : "off");
    if (!with_auth && !IsLoopback(flags->host)) {
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
