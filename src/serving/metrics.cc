#include "serving/metrics.h"

#include <cstdlib>

#include "core/logging.h"

namespace mlforge::serving {
namespace {

// Registration only fails for a malformed name, which is a programmer error.
template <typename T>
T* OrDie(core::Result<T*> result) {
  if (!result.ok()) {
    std::fprintf(stderr, "serving metrics: %s\n", result.status().message().c_str());
    std::abort();
  }
  return *result;
}

}  // namespace

ServingMetrics::ServingMetrics(net::MetricsRegistry* registry)
    : requests_(OrDie(registry->AddCounter("mlforge_serving_requests_total",
                                           "Inference requests, by protocol, model, version and "
                                           "HTTP status.",
                                           {"protocol", "model", "version", "status"}))),
      latency_(OrDie(registry->AddHistogram(
          "mlforge_serving_request_duration_seconds",
          "Inference request latency in seconds, parsing to rendering.",
          {"protocol", "model", "version"}, net::MetricsRegistry::DefaultLatencyBuckets()))),
      batch_rows_(OrDie(registry->AddHistogram(
          "mlforge_serving_batch_size", "Rows per model call made by the dynamic batcher.",
          {"model", "version"}, {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}))),
      queue_depth_(
          OrDie(registry->AddGauge("mlforge_serving_queue_depth",
                                   "Requests waiting in the batch queue.", {"model", "version"}))),
      model_events_(
          OrDie(registry->AddCounter("mlforge_serving_model_events_total",
                                     "Model versions loaded, unloaded and rejected (load_failure).",
                                     {"model", "version", "event"}))) {}

void ServingMetrics::RecordRequest(std::string_view protocol, std::string_view model,
                                   std::string_view version, int status, double seconds) {
  const std::string status_text = std::to_string(status);
  requests_->WithLabels({protocol, model, version, status_text}).Increment();
  latency_->WithLabels({protocol, model, version}).Observe(seconds);
}

void ServingMetrics::RecordModelEvent(std::string_view model, int64_t version,
                                      std::string_view event) {
  const std::string version_text = std::to_string(version);
  model_events_->WithLabels({model, version_text, event}).Increment();
}

net::Histogram& ServingMetrics::BatchRows(std::string_view model, int64_t version) {
  const std::string version_text = std::to_string(version);
  return batch_rows_->WithLabels({model, version_text});
}

net::Gauge& ServingMetrics::QueueDepth(std::string_view model, int64_t version) {
  const std::string version_text = std::to_string(version);
  return queue_depth_->WithLabels({model, version_text});
}

}  // namespace mlforge::serving
