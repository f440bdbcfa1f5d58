#pragma once

// The serving metrics, registered once in a server's MetricsRegistry so they
// appear on its /metrics:
//   mlforge_serving_requests_total{protocol,model,version,status}   counter
//   mlforge_serving_request_duration_seconds{protocol,model,version} histogram
//   mlforge_serving_batch_size{model,version}                        histogram (rows)
//   mlforge_serving_queue_depth{model,version}                       gauge
//   mlforge_serving_model_events_total{model,version,event}          counter (load, unload,
//                                                                    load_failure)
// `protocol` is "mlflow", "kserve_v2" or "tfserving"; `status` the HTTP
// status; model and version "" when the request named no loaded model.
//
// Thread safety: as MetricsRegistry.

#include <cstdint>
#include <string>
#include <string_view>

#include "net/metrics.h"

namespace mlforge::serving {

class ServingMetrics {
 public:
  // `registry` is borrowed and must outlive this object.
  explicit ServingMetrics(net::MetricsRegistry* registry);

  void RecordRequest(std::string_view protocol, std::string_view model, std::string_view version,
                     int status, double seconds);
  void RecordModelEvent(std::string_view model, int64_t version, std::string_view event);
  net::Histogram& BatchRows(std::string_view model, int64_t version);
  net::Gauge& QueueDepth(std::string_view model, int64_t version);

 private:
  net::CounterFamily* requests_;
  net::HistogramFamily* latency_;
  net::HistogramFamily* batch_rows_;
  net::GaugeFamily* queue_depth_;
  net::CounterFamily* model_events_;
};

}  // namespace mlforge::serving
