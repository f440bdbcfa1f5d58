#pragma once

// The tracking client that training code logs through, with MLflow's URI
// rules and asynchronous, batched metric logging.
//
//   MLFORGE_ASSIGN_OR_RETURN(auto client, Client::Open("sqlite:////data/mlruns.db"));
//   MLFORGE_ASSIGN_OR_RETURN(std::string experiment, client->GetOrCreateExperiment("mnist"));
//   MLFORGE_ASSIGN_OR_RETURN(Run run, client->store().CreateRun(experiment, "me", now, {}, {}));
//   client->LogMetricAsync(run.info.run_id, {"loss", 0.3, now, step});   // never blocks on I/O
//   MLFORGE_RETURN_IF_ERROR(client->Flush());                           // before ending the run
//
// Synchronous calls (params, tags, runs) go straight to store(). Metrics are
// queued and a background thread sends them with LogBatch, up to 1000 per
// call (MLflow's limit), at least every flush interval; transient failures
// (Unavailable, DeadlineExceeded, Internal) are retried with exponential
// backoff. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "tracking/store.h"

namespace mlforge::tracking {

struct ClientOptions {
  // Queued metrics are sent at least this often. Default 1 s.
  std::chrono::milliseconds flush_interval{1000};
  // Metrics per LogBatch call; MLflow accepts at most 1000. Default 1000.
  size_t max_batch_metrics = 1000;
  // Past this many queued metrics the oldest are dropped, with a warning, so a
  // long outage cannot exhaust memory. Default 1,000,000.
  size_t max_queued_metrics = 1'000'000;
  // Attempts per batch for transient errors, and the first backoff, doubled
  // after each failure. Defaults 6 and 200 ms (about 12 s in all).
  int max_attempts = 6;
  std::chrono::milliseconds initial_backoff{200};
};

class Client {
 public:
  // `tracking_uri` as MLflow reads it: "sqlite:///path.db", a bare path, or
  // "http(s)://host:port" (a tracking server). Empty means the environment's
  // MLFLOW_TRACKING_URI, else `fallback_uri`. `artifact_root` is where a
  // store opened directly puts new experiments' artifacts (a server decides
  // for itself).
  static core::Result<std::unique_ptr<Client>> Open(std::string tracking_uri,
                                                    const std::string& fallback_uri = "",
                                                    ClientOptions options = {},
                                                    const std::string& artifact_root = "");
  // Wraps an open store (tests, embedding).
  static std::unique_ptr<Client> ForStore(std::unique_ptr<Store> store, ClientOptions options = {});

  // Flushes (best effort) and stops the background thread.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The store for synchronous calls. Outlives nothing: owned by the client.
  Store& store() { return *store_; }
  const std::string& uri() const { return uri_; }

  // The id of the active experiment called `name`, created when missing.
  core::Result<std::string> GetOrCreateExperiment(const std::string& name);

  // Queues one metric for `run_id`; returns at once.
  void LogMetricAsync(const std::string& run_id, Metric metric);

  // Blocks until every metric queued before the call is stored, or has
  // failed for good; returns the first permanent error since the last Flush.
  core::Status Flush();

 private:
  Client(std::unique_ptr<Store> store, std::string uri, ClientOptions options);
  void SenderLoop();
  // Sends one batch with retries; returns the final status.
  core::Status SendWithRetries(const std::string& run_id, const std::vector<Metric>& metrics);

  const std::unique_ptr<Store> store_;
  const std::string uri_;
  const ClientOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_sender_;  // more work, or stopping
  std::condition_variable batch_done_;   // sent_sequence_ advanced
  // Each queued metric with its run and sequence number.
  struct Pending {
    std::string run_id;
    Metric metric;
    uint64_t sequence;
  };
  std::deque<Pending> queue_;     // guarded by mutex_
  uint64_t queued_sequence_ = 0;  // guarded by mutex_: last sequence queued
  uint64_t sent_sequence_ = 0;    // guarded by mutex_: every <= this is done
  core::Status first_error_;      // guarded by mutex_
  bool flush_requested_ = false;  // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  std::thread sender_;
};

}  // namespace mlforge::tracking
