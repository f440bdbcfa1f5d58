#pragma once

// The whole model server behind `mlforge serve` and `mlforge serve-check`:
// model URIs fetched and loaded into one ModelRepository, the three protocol
// front ends on one HTTP port, and a thread that follows registry aliases.
//
//   ModelServer::Options options;
//   options.models = {{.name = "", .uri = "models:/mnist@champion"}};
//   options.stores = {"http://127.0.0.1:5000", ""};
//   options.cache_root = home / "models";
//   MLFORGE_ASSIGN_OR_RETURN(auto server, ModelServer::Start(options, loader));
//   ... serve until SIGTERM ...
//   server->Drain();   // readiness false, requests in flight finish
//
// Following aliases (hot reload). A model URI that can name another version
// later (models:/NAME@ALIAS, models:/NAME/latest, models:/NAME/STAGE) is
// resolved again every poll_interval. When it names a version other than the
// one serving, the server fetches that version, loads it with the loader,
// starts its batcher and sends it a warm-up request (Model::WarmupRows())
// through that batcher; only when all of that worked does it Swap() the new
// version in, atomically. Requests that already hold the old version finish
// on it, and no request sees a model that is half loaded. A version that
// fails to load or warm up is rejected: the error is logged, counted as a
// `load_failure` model event in /metrics, and not tried again until the URI
// names yet another version; the old one keeps serving. A registry that
// cannot be reached is logged and tried again at the next poll.
//
// The label a following model's version carries (TF Serving's
// /v1/models/NAME/labels/LABEL) is the alias, or "latest" / the stage.
//
// Thread safety: Drain(), the accessors and PollNowForTesting() may be
// called from any thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "net/http_server.h"
#include "net/metrics.h"
#include "registry/model_fetch.h"
#include "registry/registry_store.h"
#include "serving/batcher.h"
#include "serving/metrics.h"
#include "serving/model.h"
#include "serving/repository.h"

namespace mlforge::serving {

// Makes a Model out of a local folder of model files (serving/torch's
// TorchModel::Load for the model package). Called on the starting thread
// and on the alias-following thread; must be thread-safe.
using ModelLoader =
    std::function<core::Result<std::shared_ptr<const Model>>(const std::filesystem::path& folder)>;

// One model to serve.
struct ServedModelSpec {
  // The name in the URLs. Empty: the registered model's name for models:/
  // URIs, else the folder's name (its parent's when it is called "model").
  std::string name;
  // A folder, file://, runs:/RUN_ID/PATH or models:/ URI.
  std::string uri;
  // The version number to serve a folder or runs:/ model as; a registered
  // model serves as its registry version. Default 1.
  int64_t version = 1;
  // This model's batcher.
  Batcher::Options batching;
};

// Reads a repository file listing several models:
//
//   poll_interval: 10s            # optional; as ParseDuration
//   models:
//     - name: mnist               # optional, as ServedModelSpec::name
//       uri: models:/mnist@champion
//       max_batch: 32             # optional, default `defaults`' values
//       max_delay_us: 1000
//       queue: 256
//       version: 1                # optional, for folders and runs:/
//
// Relative folder URIs are taken relative to the file's folder. NotFound for
// a missing file; InvalidArgument naming the file, the entry and the key for
// an unknown key, a missing uri, a bad value or a name given twice.
struct RepositoryFile {
  std::vector<ServedModelSpec> models;
  std::optional<std::chrono::milliseconds> poll_interval;
};
core::Result<RepositoryFile> ReadRepositoryFile(const std::filesystem::path& path,
                                                const Batcher::Options& defaults);

// "250ms", "10s", "2m", "1h", or a bare number of seconds ("1.5").
// InvalidArgument naming the text otherwise, or when negative.
core::Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Whether a model URI can name a different version later (an alias, latest,
// a stage), and the label its version then carries; empty when it cannot.
std::string FollowedLabel(std::string_view uri);

// The served name for a folder: its name, or its parent's when it is called
// "model"; "model" when there is neither.
std::string DefaultModelName(const std::filesystem::path& folder);

class ModelServer {
 public:
  struct Options {
    // What to serve; at least one, names unique. /invocations scores the
    // first; every one is under its name on all three protocols.
    std::vector<ServedModelSpec> models;
    // Where runs:/ and models:/ URIs resolve.
    registry::ModelStores stores;
    // Where proxied model files are downloaded (registry::FetchModel).
    std::filesystem::path cache_root;
    // How often followed URIs are resolved again; zero never. Default 10 s.
    std::chrono::milliseconds poll_interval{std::chrono::seconds(10)};
    // The HTTP server's options; `metrics` is set to the server's own.
    net::HttpServer::Options http;
  };

  // What one served model is now.
  struct ServedModel {
    std::string name;
    int64_t version = 0;
    std::string uri;
    std::string label;             // empty when the URI is not followed
    std::filesystem::path folder;  // the loaded version's files
    ModelSignature signature;
  };

  // Fetches and loads every model, then starts listening and, when a URI is
  // followed and poll_interval > 0, the following thread. Any model that
  // cannot be fetched or loaded fails the start with its error, naming the
  // URI; InvalidArgument for no models or a name given twice.
  static core::Result<std::unique_ptr<ModelServer>> Start(Options options, ModelLoader loader);

  // Drain()s.
  ~ModelServer();
  ModelServer(const ModelServer&) = delete;
  ModelServer& operator=(const ModelServer&) = delete;

  // Readiness goes false; for `grace` the server still answers everything
  // (so a load balancer or Kubernetes has time to stop sending, while health
  // checks already say 503); then it stops accepting and lets requests in
  // flight finish (HttpServer::Stop), and the following thread stops.
  // Idempotent.
  void Drain(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

  // "127.0.0.1:PORT".
  std::string address() const;
  int port() const;
  std::vector<ServedModel> models() const;
  ModelRepository& repository() { return repository_; }

  // Resolves every followed URI once now, on the calling thread, and swaps
  // as a poll would.
  void PollNowForTesting();

 private:
  struct Entry {
    ServedModelSpec spec;
    std::string label;  // FollowedLabel(spec.uri)
    // Guarded by mutex_ (written by the polling thread only).
    ServedModel state;
    int64_t rejected_version = 0;  // the last version that failed; 0 none
  };

  ModelServer(Options options, ModelLoader loader);
  core::Status LoadInitial(Entry* entry);
  void PollLoop();
  void PollOnce();
  // Fetches, loads, warms up and swaps in what entry's URI names now.
  core::Status Reload(size_t index, int64_t wanted_version);

  const Options options_;
  const ModelLoader loader_;

  net::MetricsRegistry metrics_registry_;
  ServingMetrics metrics_;
  ModelRepository repository_;
  std::unique_ptr<registry::RegistryStore> registry_;  // null when nothing is followed

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;  // fixed size after Start; state guarded by mutex_
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::mutex poll_mutex_;  // one poll at a time (thread and tests)

  std::unique_ptr<net::HttpServer> http_;
  std::thread poller_;
};

}  // namespace mlforge::serving
