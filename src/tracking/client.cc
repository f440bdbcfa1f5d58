#include "tracking/client.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "tracking/store_factory.h"

namespace mlforge::tracking {
namespace {

bool Transient(const core::Status& status) {
  return status.code() == core::StatusCode::kUnavailable ||
         status.code() == core::StatusCode::kDeadlineExceeded ||
         status.code() == core::StatusCode::kInternal;
}

}  // namespace

core::Result<std::unique_ptr<Client>> Client::Open(std::string tracking_uri,
                                                   const std::string& fallback_uri,
                                                   ClientOptions options,
                                                   const std::string& artifact_root) {
  if (tracking_uri.empty()) {
    const char* from_env = std::getenv("MLFLOW_TRACKING_URI");
    tracking_uri = from_env != nullptr && *from_env != '\0' ? from_env : fallback_uri;
  }
  if (tracking_uri.empty()) {
    return core::InvalidArgumentError(
        "no tracking URI: pass one or set MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000)");
  }
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenStore(tracking_uri, artifact_root));
  return std::unique_ptr<Client>(new Client(std::move(store), tracking_uri, options));
}

std::unique_ptr<Client> Client::ForStore(std::unique_ptr<Store> store, ClientOptions options) {
  return std::unique_ptr<Client>(new Client(std::move(store), "", options));
}

Client::Client(std::unique_ptr<Store> store, std::string uri, ClientOptions options)
    : store_(std::move(store)), uri_(std::move(uri)), options_(options) {
  sender_ = std::thread([this] { SenderLoop(); });
}

Client::~Client() {
  core::Status status = Flush();
  if (!status.ok()) spdlog::warn("tracking: metrics not stored: {}", status.message());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_sender_.notify_all();
  sender_.join();
}

core::Result<std::string> Client::GetOrCreateExperiment(const std::string& name) {
  auto existing = store_->GetExperimentByName(name);
  if (existing.ok()) {
    if (existing->lifecycle_stage == "deleted") {
      return core::FailedPreconditionError("experiment '" + name +
                                           "' is deleted; restore it or pick another name");
    }
    return existing->experiment_id;
  }
  if (existing.status().code() != core::StatusCode::kNotFound) return existing.status();
  auto created = store_->CreateExperiment(name, "", {});
  // Another process may have created it in between.
  if (!created.ok() && created.status().code() == core::StatusCode::kAlreadyExists) {
    MLFORGE_ASSIGN_OR_RETURN(Experiment again, store_->GetExperimentByName(name));
    return again.experiment_id;
  }
  return created;
}

void Client::LogMetricAsync(const std::string& run_id, Metric metric) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.size() >= options_.max_queued_metrics) {
      // Dropping the oldest keeps the newest, most useful values.
      sent_sequence_ = std::max(sent_sequence_, queue_.front().sequence);
      queue_.pop_front();
      if (first_error_.ok()) {
        first_error_ = core::ResourceExhaustedError(
            "the tracking queue overflowed; the oldest metrics were dropped");
      }
    }
    queue_.push_back({run_id, std::move(metric), ++queued_sequence_});
    if (queue_.size() < options_.max_batch_metrics) return;
  }
  wake_sender_.notify_one();
}

core::Status Client::Flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t target = queued_sequence_;
  flush_requested_ = true;
  wake_sender_.notify_one();
  batch_done_.wait(lock, [&] { return sent_sequence_ >= target; });
  core::Status status = first_error_;
  first_error_ = core::Status::Ok();
  return status;
}

core::Status Client::SendWithRetries(const std::string& run_id,
                                     const std::vector<Metric>& metrics) {
  auto backoff = options_.initial_backoff;
  core::Status status;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    status = store_->LogBatch(run_id, metrics, {}, {});
    if (status.ok() || !Transient(status)) return status;
    spdlog::warn("tracking: sending {} metrics failed (attempt {}/{}): {}", metrics.size(), attempt,
                 options_.max_attempts, status.message());
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
  return status;
}

void Client::SenderLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_sender_.wait_for(lock, options_.flush_interval, [&] {
      return stopping_ || flush_requested_ || queue_.size() >= options_.max_batch_metrics;
    });
    if (queue_.empty()) {
      flush_requested_ = false;
      batch_done_.notify_all();
      if (stopping_) return;
      continue;
    }
    // One batch: consecutive metrics of the run at the head of the queue.
    const std::string run_id = queue_.front().run_id;
    std::vector<Metric> batch;
    uint64_t last_sequence = 0;
    while (!queue_.empty() && queue_.front().run_id == run_id &&
           batch.size() < options_.max_batch_metrics) {
      batch.push_back(std::move(queue_.front().metric));
      last_sequence = queue_.front().sequence;
      queue_.pop_front();
    }
    lock.unlock();
    core::Status status = SendWithRetries(run_id, batch);
    lock.lock();
    if (!status.ok() && first_error_.ok()) {
      first_error_ = status.WithContext("logging metrics of run " + run_id);
    }
    sent_sequence_ = std::max(sent_sequence_, last_sequence);
    batch_done_.notify_all();
  }
}

}  // namespace mlforge::tracking
