#include "serving/batcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <future>

namespace mlforge::serving {

core::Result<std::unique_ptr<Batcher>> Batcher::Create(std::shared_ptr<const Model> model,
                                                       Options options, Metrics metrics) {
  if (options.max_batch_rows < 1) {
    return core::InvalidArgumentError(
        fmt::format("max batch rows must be at least 1, got {}", options.max_batch_rows));
  }
  if (options.max_delay.count() < 0) {
    return core::InvalidArgumentError("max batch delay must not be negative");
  }
  std::unique_ptr<Batcher> batcher(new Batcher(std::move(model), options, metrics));
  batcher->thread_ = std::thread([raw = batcher.get()] { raw->Loop(); });
  return batcher;
}

Batcher::Batcher(std::shared_ptr<const Model> model, Options options, Metrics metrics)
    : model_(std::move(model)), options_(options), metrics_(metrics) {}

Batcher::~Batcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    hold_until_queued_ = 0;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Batcher::Arrival::Arrival(Batcher* batcher) : batcher_(batcher) {
  std::lock_guard<std::mutex> lock(batcher_->mutex_);
  ++batcher_->announced_;
}

Batcher::Arrival::~Arrival() {
  if (batcher_ == nullptr) return;
  Batcher* batcher = batcher_;
  {
    std::lock_guard<std::mutex> lock(batcher->mutex_);
    batcher->ArriveLocked(this);
  }
  batcher->wake_.notify_one();  // a batch waiting for this request may close now
}

void Batcher::ArriveLocked(Arrival* arrival) {
  if (arrival == nullptr || arrival->batcher_ == nullptr) return;
  --announced_;
  arrival->batcher_ = nullptr;
}

core::Status Batcher::Schedule(std::unique_ptr<BatchTask>* task, Arrival* arrival) {
  const int64_t width = model_->signature().row_width();
  core::Status status = core::Status::Ok();
  if ((*task)->inputs.rows < 1) {
    status = core::InvalidArgumentError("the request has no rows");
  } else if ((*task)->inputs.cols != width) {
    status = core::InvalidArgumentError(fmt::format(
        "each row must have {} values for this model, got {}", width, (*task)->inputs.cols));
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ArriveLocked(arrival);
    if (status.ok() && stopping_) {
      status = core::UnavailableError("the model version is shutting down");
    } else if (status.ok() && queue_.size() >= options_.max_queued_requests) {
      status = core::UnavailableError(fmt::format(
          "the batch queue is full ({} requests waiting); retry shortly", queue_.size()));
    }
    if (status.ok()) {
      (*task)->enqueued = std::chrono::steady_clock::now();
      queued_rows_ += (*task)->inputs.rows;
      queue_.push_back(std::move(*task));
      if (metrics_.queue_depth) metrics_.queue_depth->Add(1);
    }
  }
  // Wakes the batching thread for a new request, or for a withdrawn
  // announcement that a waiting batch no longer needs to wait for.
  wake_.notify_one();
  return status;
}

core::Result<Matrix> Batcher::Predict(Matrix inputs, Arrival* arrival) {
  std::promise<core::Result<Matrix>> promise;
  std::future<core::Result<Matrix>> future = promise.get_future();
  auto task = std::make_unique<BatchTask>();
  task->inputs = std::move(inputs);
  task->done = [&promise](core::Result<Matrix> result) { promise.set_value(std::move(result)); };
  MLFORGE_RETURN_IF_ERROR(Schedule(&task, arrival));
  return future.get();
}

size_t Batcher::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

void Batcher::HoldUntilQueuedForTesting(size_t count) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    hold_until_queued_ = count;
  }
  wake_.notify_all();
}

void Batcher::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left to run
    // Wait for the batch to fill, its oldest request to time out, or (in
    // tests) the held count to arrive.
    while (!stopping_) {
      if (hold_until_queued_ > 0) {
        if (queue_.size() >= hold_until_queued_) {
          hold_until_queued_ = 0;
          break;
        }
        wake_.wait(lock);
        continue;
      }
      if (queued_rows_ >= options_.max_batch_rows) break;
      if (options_.wait_for_announced && announced_ == 0) break;  // nothing more is coming
      const auto deadline = queue_.front()->enqueued + options_.max_delay;
      if (std::chrono::steady_clock::now() >= deadline) break;
      wake_.wait_until(lock, deadline);
    }
    std::vector<std::unique_ptr<BatchTask>> batch;
    int64_t rows = 0;
    while (!queue_.empty()) {
      const int64_t next = queue_.front()->inputs.rows;
      if (!batch.empty() && rows + next > options_.max_batch_rows) break;
      rows += next;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_rows_ -= rows;
    if (metrics_.queue_depth) metrics_.queue_depth->Add(-static_cast<double>(batch.size()));
    lock.unlock();
    RunBatch(std::move(batch));
    lock.lock();
  }
}

void Batcher::RunBatch(std::vector<std::unique_ptr<BatchTask>> batch) {
  if (batch.size() == 1) {
    if (metrics_.batch_rows)
      metrics_.batch_rows->Observe(static_cast<double>(batch[0]->inputs.rows));
    core::Result<Matrix> result = model_->Predict(batch[0]->inputs);
    batch[0]->done(std::move(result));
    return;
  }
  const int64_t width = model_->signature().row_width();
  int64_t rows = 0;
  for (const auto& task : batch) rows += task->inputs.rows;
  Matrix merged(rows, width);
  size_t offset = 0;
  for (const auto& task : batch) {
    std::memcpy(merged.values.data() + offset, task->inputs.values.data(),
                task->inputs.values.size() * sizeof(float));
    offset += task->inputs.values.size();
  }
  if (metrics_.batch_rows) metrics_.batch_rows->Observe(static_cast<double>(rows));
  core::Result<Matrix> result = model_->Predict(merged);
  if (!result.ok() || result->rows != rows) {
    // Find the culprit: each request alone, so its batch-mates still succeed.
    for (auto& task : batch) {
      if (metrics_.batch_rows) metrics_.batch_rows->Observe(static_cast<double>(task->inputs.rows));
      task->done(model_->Predict(task->inputs));
    }
    return;
  }
  const int64_t out_width = result->cols;
  int64_t row = 0;
  for (auto& task : batch) {
    Matrix part(task->inputs.rows, out_width);
    std::memcpy(part.values.data(), result->values.data() + row * out_width,
                part.values.size() * sizeof(float));
    row += task->inputs.rows;
    task->done(std::move(part));
  }
}

}  // namespace mlforge::serving
