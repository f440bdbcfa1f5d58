#pragma once

// Sinks beyond the local JSON-lines file: a fan-out to several sinks, and the
// tracking store (MLflow-compatible) through tracking::Client.

#include <memory>
#include <string>
#include <vector>

#include "tracking/client.h"
#include "train/metrics_sink.h"

namespace mlforge::train {

// Sends everything to each sink in turn; Flush returns the first error.
// Borrows the sinks, which must outlive it.
class MultiSink : public MetricsSink {
 public:
  explicit MultiSink(std::vector<MetricsSink*> sinks) : sinks_(std::move(sinks)) {}
  void LogParams(const std::vector<std::pair<std::string, std::string>>& params) override;
  void LogMetric(const std::string& key, double value, int64_t step) override;
  void SetTag(const std::string& key, const std::string& value) override;
  void LogInput(const DatasetRef& dataset) override;
  core::Status Flush() override;

 private:
  const std::vector<MetricsSink*> sinks_;
};

// Logs to one tracking run: metrics asynchronously in batches (never stalling
// a step), params and tags at once. Params and tags that fail are reported by
// the next Flush. Borrows the client, which must outlive the sink.
class TrackingSink : public MetricsSink {
 public:
  TrackingSink(tracking::Client& client, std::string run_id)
      : client_(client), run_id_(std::move(run_id)) {}
  void LogParams(const std::vector<std::pair<std::string, std::string>>& params) override;
  void LogMetric(const std::string& key, double value, int64_t step) override;
  void SetTag(const std::string& key, const std::string& value) override;
  void LogInput(const DatasetRef& dataset) override;
  core::Status Flush() override;

 private:
  void Remember(const core::Status& status);

  tracking::Client& client_;
  const std::string run_id_;
  core::Status first_error_;  // of synchronous calls since the last Flush
};

}  // namespace mlforge::train
