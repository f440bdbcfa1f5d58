#pragma once

// A small Prometheus registry: counters, gauges and histograms with label
// sets, rendered in the text exposition format (version 0.0.4) that
// Prometheus scrapes from /metrics.
//
//   MetricsRegistry registry;
//   MLFORGE_ASSIGN_OR_RETURN(auto* requests, registry.AddCounter(
//       "mlforge_batches_total", "Batches run, by model.", {"model"}));
//   Counter& mnist = requests->WithLabels({"mnist"});   // look up once...
//   mnist.Increment();                                  // ...then lock-free
//   std::string text = registry.RenderPrometheus();
//
// Thread safety: everything is safe to call from many threads. Updating a
// metric is one or two relaxed atomic operations. WithLabels() takes a shared
// lock to find an existing label set (an exclusive one only to create it), so
// hot paths with fixed labels keep the reference it returns; references stay
// valid for the registry's lifetime. Label sets are never removed, so label
// values must come from a bounded set (a route pattern, not a raw path).

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mlforge::net {

// A value that only goes up (requests served, bytes read).
class Counter {
 public:
  // `amount` must not be negative; a negative amount is ignored.
  void Increment(double amount = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down (requests in flight, models loaded).
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations into buckets by upper bound, plus their sum.
class Histogram {
 public:
  // `upper_bounds` sorted ascending, without +Inf (always present).
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double value);

  // A point-in-time copy. Taken without a lock, so under concurrent
  // observations `sum` may lag the counts by an observation or two; `count`
  // always equals the +Inf bucket.
  struct Snapshot {
    std::vector<double> upper_bounds;
    // Cumulative counts, one per upper bound, then one for +Inf.
    std::vector<uint64_t> cumulative_counts;
    double sum = 0.0;
    uint64_t count = 0;
  };
  Snapshot Snap() const;

 private:
  const std::vector<double> upper_bounds_;
  // Per-bucket (not cumulative) counts; the last is +Inf.
  const std::unique_ptr<std::atomic<uint64_t>[]> bucket_counts_;
  std::atomic<double> sum_{0.0};
};

namespace internal {
// Orders label-value lists, comparing stored strings with looked-up views.
struct LabelValuesLess {
  using is_transparent = void;
  bool operator()(const std::vector<std::string>& left,
                  const std::vector<std::string>& right) const;
  bool operator()(const std::vector<std::string>& left,
                  std::span<const std::string_view> right) const;
  bool operator()(std::span<const std::string_view> left,
                  const std::vector<std::string>& right) const;
};
}  // namespace internal

// One metric name with its help text and label names, and one metric per set
// of label values. Created by MetricsRegistry, which owns it.
template <typename MetricT>
class MetricFamily {
 public:
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;

  // The metric for `label_values` (one per label name, in order), created at
  // zero on first use. A wrong number of values is a programmer error: it is
  // logged and the process aborts.
  MetricT& WithLabels(std::span<const std::string_view> label_values);
  MetricT& WithLabels(std::initializer_list<std::string_view> label_values = {}) {
    return WithLabels(std::span<const std::string_view>(label_values.begin(), label_values.size()));
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Histogram families only: the bucket upper bounds.
  const std::vector<double>& buckets() const { return buckets_; }

  // Appends this family in the exposition format (HELP, TYPE, samples).
  void Render(std::string* out) const;

 private:
  friend class MetricsRegistry;
  MetricFamily(std::string name, std::string help, std::vector<std::string> label_names,
               std::vector<double> buckets);

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> buckets_;

  mutable std::shared_mutex mutex_;
  // Guarded by mutex_. Sorted, so output order is stable.
  std::map<std::vector<std::string>, std::unique_ptr<MetricT>, internal::LabelValuesLess> metrics_;
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

class MetricsRegistry {
 public:
  // The Content-Type of RenderPrometheus()'s output.
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registers a family and returns it; the registry owns it. Adding a name
  // again with the same type, label names (and buckets) returns the existing
  // family, so independent components may share one. InvalidArgument for a
  // name or label name that is not [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no ':',
  // no "__" prefix, not "le" on histograms), or a name already registered
  // differently; for histograms also for buckets not strictly ascending.
  core::Result<CounterFamily*> AddCounter(std::string name, std::string help,
                                          std::vector<std::string> label_names = {});
  core::Result<GaugeFamily*> AddGauge(std::string name, std::string help,
                                      std::vector<std::string> label_names = {});
  core::Result<HistogramFamily*> AddHistogram(std::string name, std::string help,
                                              std::vector<std::string> label_names,
                                              std::vector<double> buckets);

  // Every family, sorted by name, in the text exposition format.
  std::string RenderPrometheus() const;

  // Latency buckets in seconds, 100 µs to 10 s.
  static std::vector<double> DefaultLatencyBuckets();

 private:
  struct Entry;
  template <typename MetricT>
  core::Result<MetricFamily<MetricT>*> AddFamily(std::string name, std::string help,
                                                 std::vector<std::string> label_names,
                                                 std::vector<double> buckets);

  mutable std::mutex mutex_;
  // Guarded by mutex_. By name; families are never removed.
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> families_;
};

}  // namespace mlforge::net
