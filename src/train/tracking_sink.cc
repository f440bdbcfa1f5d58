#include "train/tracking_sink.h"

#include "core/ids.h"

namespace mlforge::train {

void MultiSink::LogParams(const std::vector<std::pair<std::string, std::string>>& params) {
  for (MetricsSink* sink : sinks_) sink->LogParams(params);
}

void MultiSink::LogMetric(const std::string& key, double value, int64_t step) {
  for (MetricsSink* sink : sinks_) sink->LogMetric(key, value, step);
}

void MultiSink::SetTag(const std::string& key, const std::string& value) {
  for (MetricsSink* sink : sinks_) sink->SetTag(key, value);
}

void MultiSink::LogInput(const DatasetRef& dataset) {
  for (MetricsSink* sink : sinks_) sink->LogInput(dataset);
}

core::Status MultiSink::Flush() {
  core::Status first;
  for (MetricsSink* sink : sinks_) {
    core::Status status = sink->Flush();
    if (first.ok()) first = status;
  }
  return first;
}

void TrackingSink::Remember(const core::Status& status) {
  if (!status.ok() && first_error_.ok()) first_error_ = status;
}

void TrackingSink::LogParams(const std::vector<std::pair<std::string, std::string>>& params) {
  // MLflow takes at most 100 params per log-batch call.
  constexpr size_t kParamsPerBatch = 100;
  for (size_t start = 0; start < params.size(); start += kParamsPerBatch) {
    std::vector<tracking::Param> batch;
    for (size_t index = start; index < std::min(params.size(), start + kParamsPerBatch); ++index) {
      batch.push_back({params[index].first, params[index].second});
    }
    Remember(client_.store().LogBatch(run_id_, {}, batch, {}));
  }
}

void TrackingSink::LogMetric(const std::string& key, double value, int64_t step) {
  client_.LogMetricAsync(run_id_, tracking::Metric{key, value, core::NowMillis(), step});
}

void TrackingSink::SetTag(const std::string& key, const std::string& value) {
  Remember(client_.store().SetTag(run_id_, {key, value}));
}

void TrackingSink::LogInput(const DatasetRef& dataset) {
  tracking::DatasetInput input;
  input.dataset = {dataset.name,   dataset.digest, "local",
                   dataset.source, dataset.schema, dataset.profile};
  input.tags.push_back({"mlflow.data.context", dataset.context});
  Remember(client_.store().LogInputs(run_id_, {input}));
}

core::Status TrackingSink::Flush() {
  core::Status status = client_.Flush();
  if (status.ok()) status = first_error_;
  first_error_ = core::Status::Ok();
  return status;
}

}  // namespace mlforge::train
