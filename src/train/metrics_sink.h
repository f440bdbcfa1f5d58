#pragma once

// Where a training run reports its parameters, metrics and tags. The trainer
// talks only to this interface; the JSON-lines file below is the local sink,
// and the tracking client adds a sink that logs to an MLflow-compatible store.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace mlforge::train {

class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  virtual void LogParams(const std::vector<std::pair<std::string, std::string>>& params) = 0;
  // `step` is the global optimisation step; timestamps are Unix milliseconds.
  virtual void LogMetric(const std::string& key, double value, int64_t step) = 0;
  virtual void SetTag(const std::string& key, const std::string& value) = 0;
  // The dataset a run trained on (MLflow's run inputs); `context` is
  // "training" or "evaluation". Sinks that keep no inputs ignore it.
  struct DatasetRef {
    std::string name, digest, source, schema, profile, context;
  };
  virtual void LogInput(const DatasetRef& dataset) { (void)dataset; }
  // Makes everything logged so far durable or delivered.
  virtual core::Status Flush() = 0;
};

// Appends one JSON object per line to a file:
//   {"type":"metric","key":"val_accuracy","value":0.98,"step":938,"timestamp":1764000000000}
//   {"type":"param","key":"optimizer.lr","value":"0.05"}
//   {"type":"tag","key":"mlflow.source.name","value":"train.yaml"}
// Thread-safe. Lines are written whole, so a killed run leaves a readable file.
class JsonLinesSink : public MetricsSink {
 public:
  static core::Result<std::unique_ptr<JsonLinesSink>> Open(const std::filesystem::path& path);
  ~JsonLinesSink() override;

  void LogParams(const std::vector<std::pair<std::string, std::string>>& params) override;
  void LogMetric(const std::string& key, double value, int64_t step) override;
  void SetTag(const std::string& key, const std::string& value) override;
  void LogInput(const DatasetRef& dataset) override;
  core::Status Flush() override;

 private:
  explicit JsonLinesSink(std::FILE* file) : file_(file) {}
  void WriteLine(const std::string& line);

  std::mutex mutex_;
  std::FILE* file_;  // guarded by mutex_
};

// Discards everything: the sink of the ranks other than 0 in a distributed
// run, which report nothing themselves.
class NullSink : public MetricsSink {
 public:
  void LogParams(const std::vector<std::pair<std::string, std::string>>&) override {}
  void LogMetric(const std::string&, double, int64_t) override {}
  void SetTag(const std::string&, const std::string&) override {}
  core::Status Flush() override { return core::Status::Ok(); }
};

}  // namespace mlforge::train
