// mlforge serve MODEL_URI [--name NAME] [--host H] [--port P] [--max-batch N]
//                         [--max-delay-us US] [--queue N] [--threads N]
//
// Serves one model package over MLflow scoring, KServe V2 and TF Serving
// REST on one port, with dynamic batching, until SIGTERM or SIGINT, which
// drain: readiness goes false, requests in flight finish, exit 0.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "net/http_server.h"
#include "registry/model_fetch.h"
#include "serving/repository.h"
#include "serving/routes.h"
#include "serving/torch/torch_model.h"

namespace mlforge::cli {
namespace {

// The served name when --name is not given: the folder's name, or its
// parent's when the folder is the usual "model".
std::string DefaultName(const std::filesystem::path& folder) {
  std::filesystem::path clean = folder.lexically_normal();
  if (clean.filename().empty()) clean = clean.parent_path();
  std::string name = clean.filename().string();
  if ((name == "model" || name.empty()) && !clean.parent_path().filename().empty()) {
    name = clean.parent_path().filename().string();
  }
  return name.empty() ? "model" : name;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  struct Flags {
    std::string uri;
    std::string tracking_uri;
    std::string name;
    std::string host = "127.0.0.1";
    int port = 8080;
    int64_t max_batch = 64;
    int64_t max_delay_us = 2000;
    size_t queue = 1024;
    int threads = 0;
    int64_t version = 1;
    size_t max_body_mb = 64;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve a model over MLflow scoring, KServe V2 and TF Serving REST");
  serve
      ->add_option("model", flags->uri,
                   "Model package: a folder, runs:/RUN_ID/model, models:/NAME/VERSION or "
                   "models:/NAME@ALIAS")
      ->required();
  serve->add_option("--tracking-uri", flags->tracking_uri,
                    "Tracking server or store for runs:/ and models:/ (default: "
                    "$MLFLOW_TRACKING_URI, else the local store)");
  serve->add_option("--name", flags->name, "Model name in the URLs (default: from the folder)");
  serve->add_option("--host", flags->host, "Address to listen on")->capture_default_str();
  serve->add_option("--port", flags->port, "Port (0 picks a free one)")->capture_default_str();
  serve->add_option("--max-batch", flags->max_batch, "Most rows per model call")
      ->capture_default_str();
  serve
      ->add_option("--max-delay-us", flags->max_delay_us,
                   "Longest wait for batch-mates, in microseconds")
      ->capture_default_str();
  serve->add_option("--queue", flags->queue, "Most requests waiting per model; then 503")
      ->capture_default_str();
  serve->add_option("--threads", flags->threads,
                    "HTTP threads, i.e. requests handled at once (default: max(32, 4 x cores))");
  serve->add_option("--model-version", flags->version, "Version number to serve the package as")
      ->capture_default_str();
  serve
      ->add_option("--max-body-mb", flags->max_body_mb, "Largest request body, in MiB; more is 413")
      ->capture_default_str();
  serve->callback([flags] {
    registry::ModelStores stores;
    stores.tracking_uri = TrackingUriFrom(flags->tracking_uri);
    stores.registry_uri = EnvOr("MLFLOW_REGISTRY_URI", "");
    auto fetched = registry::FetchModel(flags->uri, stores, Home() / "models");
    if (!fetched.ok()) throw CLI::RuntimeError(Fail(fetched.status().message()));
    const std::filesystem::path folder = fetched->folder;
    auto model = serving::TorchModel::Load(folder);
    if (!model.ok()) throw CLI::RuntimeError(Fail(model.status().message()));
    // A registered model serves under its registry name and version.
    const std::string name = !flags->name.empty()     ? flags->name
                             : !fetched->name.empty() ? fetched->name
                                                      : DefaultName(folder);
    if (fetched->version > 0 && flags->version == 1) flags->version = fetched->version;

    net::MetricsRegistry registry;
    serving::ServingMetrics metrics(&registry);
    serving::Batcher::Options batching;
    batching.max_batch_rows = flags->max_batch;
    batching.max_delay = std::chrono::microseconds(flags->max_delay_us);
    batching.max_queued_requests = flags->queue;
    // Declared before the server, so it outlives the routes that borrow it.
    serving::ModelRepository repository(batching, &metrics);
    if (auto status = repository.Load(name, flags->version, *model); !status.ok()) {
      throw CLI::RuntimeError(Fail(status.message()));
    }

    net::HttpServer::Options options;
    options.host = flags->host;
    options.port = flags->port;
    options.metrics = &registry;
    options.max_body_bytes = flags->max_body_mb << 20;
    const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    options.worker_threads = flags->threads > 0 ? flags->threads : std::max(32, 4 * cores);

    // Block the stop signals before threads start so only sigwait sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    auto server = net::HttpServer::Start(options, serving::MakeServingRouter(&repository, name));
    if (!server.ok()) throw CLI::RuntimeError(Fail(server.status().message()));
    const auto& signature = (*model)->signature();
    std::printf(
        "mlforge serve: model '%s' version %lld from %s (%lld values per row%s)\n"
        "  max batch %lld rows, max delay %lld us, queue %zu, %d threads\n"
        "listening on http://%s\n",
        name.c_str(), static_cast<long long>(flags->version), folder.string().c_str(),
        static_cast<long long>(signature.row_width()), signature.classifier ? ", classifier" : "",
        static_cast<long long>(flags->max_batch), static_cast<long long>(flags->max_delay_us),
        flags->queue, options.worker_threads, (*server)->address().c_str());
    std::fflush(stdout);
    int received = 0;
    sigwait(&stop_signals, &received);
    std::fprintf(stderr, "mlforge serve: %s, not ready; draining requests in flight\n",
                 received == SIGTERM ? "SIGTERM" : "SIGINT");
    repository.SetReady(false);
    (*server)->Stop();
    std::fprintf(stderr, "mlforge serve: drained, exiting\n");
  });
}

}  // namespace mlforge::cli
