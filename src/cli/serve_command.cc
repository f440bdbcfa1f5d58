// mlforge serve MODEL_URI [--name NAME] [--host H] [--port P] [--max-batch N]
//                         [--max-delay-us US] [--queue N] [--threads N]
//                         [--poll-interval 10s]
// mlforge serve --repository models.yaml [...]
//
// Serves one model (or every model of a repository file) over MLflow
// scoring, KServe V2 and TF Serving REST on one port, with dynamic batching
// and alias following (serving::ModelServer), until SIGTERM or SIGINT, which
// drain: readiness goes false, requests in flight finish, exit 0.

#include <fmt/format.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "serving/model_server.h"
#include "serving/torch/torch_model.h"
#include "train/threads.h"

namespace mlforge::cli {

void AddServeCommand(CLI::App& app) {
  struct Flags {
    std::string uri;
    std::string repository;
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
    std::string poll_interval;
    std::string drain_delay = "0";
    int model_threads = 1;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve models over MLflow scoring, KServe V2 and TF Serving REST");
  serve->add_option("model", flags->uri,
                    "Model package: a folder, runs:/RUN_ID/model, models:/NAME/VERSION or "
                    "models:/NAME@ALIAS (followed as the alias moves)");
  serve->add_option("--repository", flags->repository,
                    "YAML file listing several models (name, uri, max_batch, ...) instead of "
                    "MODEL_URI");
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
                    "HTTP threads: they read, parse and answer requests, and never wait for a batch (default: max(4, 2 x cores))");
  serve->add_option("--model-version", flags->version, "Version number to serve a folder as")
      ->capture_default_str();
  serve
      ->add_option("--max-body-mb", flags->max_body_mb, "Largest request body, in MiB; more is 413")
      ->capture_default_str();
  serve->add_option("--poll-interval", flags->poll_interval,
                    "How often models:/NAME@ALIAS (or /latest, /STAGE) is looked up again, e.g. "
                    "500ms, 10s, 2m; 0 never (default: 10s)");
  serve
      ->add_option("--drain-delay", flags->drain_delay,
                   "After SIGTERM, keep answering this long with readiness already false "
                   "(e.g. 5s, for a load balancer to notice), then drain")
      ->capture_default_str();
  serve
      ->add_option("--model-threads", flags->model_threads,
                   "Threads one forward pass may use (LibTorch intra-op; BLAS stays at 1). One "
                   "keeps the cores for the HTTP threads, which parse requests in parallel")
      ->capture_default_str();
  serve->callback([flags] {
    if (flags->uri.empty() == flags->repository.empty()) {
      throw CLI::RuntimeError(
          Fail("give either MODEL_URI or --repository FILE (e.g. mlforge serve ./model, or "
               "mlforge serve --repository models.yaml)"));
    }
    serving::ModelServer::Options options;
    serving::Batcher::Options batching;
    batching.max_batch_rows = flags->max_batch;
    batching.max_delay = std::chrono::microseconds(flags->max_delay_us);
    batching.max_queued_requests = flags->queue;
    batching.wait_for_announced = true;  // one client alone never waits max-delay
    if (!flags->repository.empty()) {
      auto file = serving::ReadRepositoryFile(flags->repository, batching);
      if (!file.ok()) throw CLI::RuntimeError(Fail(file.status().message()));
      options.models = std::move(file->models);
      if (file->poll_interval) options.poll_interval = *file->poll_interval;
    } else {
      options.models.push_back({flags->name, flags->uri, flags->version, batching});
    }
    if (!flags->poll_interval.empty()) {
      auto interval = serving::ParseDuration(flags->poll_interval);
      if (!interval.ok()) {
        throw CLI::RuntimeError(Fail("--poll-interval: " + interval.status().message()));
      }
      options.poll_interval = *interval;
    }
    options.stores.tracking_uri = TrackingUriFrom(flags->tracking_uri);
    options.stores.registry_uri = EnvOr("MLFLOW_REGISTRY_URI", "");
    options.cache_root = Home() / "models";
    options.http.host = flags->host;
    options.http.port = flags->port;
    options.http.max_body_bytes = flags->max_body_mb << 20;
    const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    options.http.worker_threads = flags->threads > 0 ? flags->threads : std::max(4, 2 * cores);

    auto drain_delay = serving::ParseDuration(flags->drain_delay);
    if (!drain_delay.ok()) {
      throw CLI::RuntimeError(Fail("--drain-delay: " + drain_delay.status().message()));
    }

    const train::ThreadSettings threads =
        train::ConfigureThreads(std::max(1, flags->model_threads), 1, 1);

    // Block the stop signals before threads start so only sigwait sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    const std::chrono::milliseconds poll_interval = options.poll_interval;
    const int worker_threads = options.http.worker_threads;
    auto server = serving::ModelServer::Start(std::move(options), serving::TorchModelLoader());
    if (!server.ok()) throw CLI::RuntimeError(Fail(server.status().message()));
    for (const auto& model : (*server)->models()) {
      std::printf("mlforge serve: model '%s' version %lld from %s (%lld values per row%s)%s\n",
                  model.name.c_str(), static_cast<long long>(model.version),
                  model.folder.string().c_str(),
                  static_cast<long long>(model.signature.row_width()),
                  model.signature.classifier ? ", classifier" : "",
                  model.label.empty()
                      ? ""
                      : fmt::format(", following {} every {} ms", model.uri, poll_interval.count())
                            .c_str());
    }
    std::printf(
        "  max batch %lld rows, max delay %lld us, queue %zu, %d threads, %d model thread(s), "
        "BLAS %d\n"
        "listening on http://%s\n",
        static_cast<long long>(flags->max_batch), static_cast<long long>(flags->max_delay_us),
        flags->queue, worker_threads, threads.intra_op_threads, threads.blas_threads,
        (*server)->address().c_str());
    std::fflush(stdout);
    int received = 0;
    sigwait(&stop_signals, &received);
    std::fprintf(stderr, "mlforge serve: %s, not ready; draining requests in flight\n",
                 received == SIGTERM ? "SIGTERM" : "SIGINT");
    (*server)->Drain(*drain_delay);
    std::fprintf(stderr, "mlforge serve: drained, exiting\n");
  });
}

}  // namespace mlforge::cli
