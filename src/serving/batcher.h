#pragma once

// A dynamic batcher for one loaded model version: concurrent requests are
// merged into one Predict() call and their rows split back.
//
//   Batcher::Options options;             // 64 rows, 2 ms, 1024 queued
//   MLFORGE_ASSIGN_OR_RETURN(auto batcher, Batcher::Create(model, options, {}));
//   MLFORGE_ASSIGN_OR_RETURN(Matrix scores, batcher->Predict(std::move(rows)));
//
// The rule (TFS's BasicBatchScheduler, Triton's dynamic batcher): one thread
// waits for the first queued request, then closes a batch as soon as the
// queued rows reach max_batch_rows or the oldest request has waited
// max_delay, whichever comes first. It takes requests in arrival order while
// they fit in max_batch_rows (a request larger than that runs alone), runs the
// model once outside any lock, and hands each request its own rows of the
// result. When the merged call fails and held more than one request, each
// request is rerun alone, so one bad request never fails its batch-mates.
//
// Waiting only for requests that are coming (Options::wait_for_announced):
// a front end announces a request with an Arrival as soon as it knows which
// model the request is for, before it parses the body, and hands the Arrival
// to Schedule(). A batch then waits (up to max_delay) only while announced
// requests have not arrived yet; when none is on its way it runs at once.
// So one client alone never waits max_delay, while many concurrent clients
// still share forward passes.
//
// Back-pressure: Schedule() refuses with Unavailable at once when
// max_queued_requests are already waiting; callers answer 503.
//
// When not to use: a model whose Predict() cost does not shrink per row with
// bigger batches gains nothing but latency; set max_delay to zero.
//
// Thread safety: every public method may be called from any thread. The
// destructor runs what is queued, then joins the thread; it must not run on a
// task's completion callback.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/status.h"
#include "net/metrics.h"
#include "serving/model.h"

namespace mlforge::serving {

// One request: its rows and what to call with its result. The batcher calls
// `done` exactly once, on its own thread, without holding its lock.
struct BatchTask {
  Matrix inputs;
  std::function<void(core::Result<Matrix>)> done;
  // Set by Schedule().
  std::chrono::steady_clock::time_point enqueued;
};

class Batcher {
 public:
  struct Options {
    // The most rows merged into one Predict() call. Default 64.
    int64_t max_batch_rows = 64;
    // How long the oldest queued request may wait for batch-mates before its
    // batch runs anyway. Zero runs whatever is queued at once. Default 2 ms.
    std::chrono::microseconds max_delay{2000};
    // The most requests waiting (not yet in a running batch); one more is
    // refused with Unavailable. Default 1024.
    size_t max_queued_requests = 1024;
    // When true, a batch stops waiting for batch-mates as soon as no
    // announced request (Arrival) is still on its way, instead of always
    // waiting out max_delay. Default false.
    bool wait_for_announced = false;
  };

  // A request on its way to Schedule() (see the class comment). Construct it
  // when the request's model is known, before parsing; pass it to
  // Schedule() or Predict(). Destroying it without scheduling withdraws the
  // announcement (a request that failed to parse). The batcher must outlive
  // it.
  class Arrival {
   public:
    explicit Arrival(Batcher* batcher);
    ~Arrival();
    Arrival(const Arrival&) = delete;
    Arrival& operator=(const Arrival&) = delete;

   private:
    friend class Batcher;
    Batcher* batcher_;  // null once arrived or withdrawn
  };

  // Where the batcher reports; each pointer may be null, and each must
  // outlive the batcher (they live in a MetricsRegistry).
  struct Metrics {
    net::Histogram* batch_rows = nullptr;  // rows per Predict() call
    net::Gauge* queue_depth = nullptr;     // requests waiting
  };

  // Starts the batching thread. InvalidArgument for max_batch_rows < 1.
  static core::Result<std::unique_ptr<Batcher>> Create(std::shared_ptr<const Model> model,
                                                       Options options, Metrics metrics);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues `*task` and takes it (leaving *task null) on success. Without
  // taking it: InvalidArgument when its rows are empty or not
  // signature().row_width() wide; Unavailable when the queue is full or the
  // batcher is shutting down.
  // `arrival`, when given, is this request's announcement; it has arrived
  // once Schedule() returns, whatever the outcome.
  core::Status Schedule(std::unique_ptr<BatchTask>* task, Arrival* arrival = nullptr);

  // Schedule() and wait: the request's output rows, or Schedule()'s error,
  // or the model's error for this request.
  core::Result<Matrix> Predict(Matrix inputs, Arrival* arrival = nullptr);

  // Requests waiting now.
  size_t queued() const;

  const Model& model() const { return *model_; }

  // Holds every batch back until at least `count` requests wait, then lets
  // them go as one batch (up to max_batch_rows) and returns to normal.
  // Makes batching deterministic in tests.
  void HoldUntilQueuedForTesting(size_t count);

 private:
  Batcher(std::shared_ptr<const Model> model, Options options, Metrics metrics);
  void Loop();
  // Runs `batch` on the model and completes each task.
  void RunBatch(std::vector<std::unique_ptr<BatchTask>> batch);
  // Marks `arrival` arrived; needs mutex_.
  void ArriveLocked(Arrival* arrival);

  const std::shared_ptr<const Model> model_;
  const Options options_;
  const Metrics metrics_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  // Guarded by mutex_.
  std::deque<std::unique_ptr<BatchTask>> queue_;
  int64_t queued_rows_ = 0;       // guarded by mutex_
  int64_t announced_ = 0;         // guarded by mutex_: Arrivals not yet arrived
  size_t hold_until_queued_ = 0;  // guarded by mutex_; 0 = no hold
  bool stopping_ = false;         // guarded by mutex_

  std::thread thread_;
};

}  // namespace mlforge::serving
