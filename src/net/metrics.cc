#include "net/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <variant>

namespace mlforge::net {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

bool ValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsNameChar(c) || c == ':'; });
}

bool ValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), IsNameChar);
}

void AppendNumber(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("NaN");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "+Inf" : "-Inf");
  } else {
    fmt::format_to(std::back_inserter(*out), "{}", value);
  }
}

void AppendEscaped(std::string_view text, bool escape_quotes, std::string* out) {
  for (char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && escape_quotes) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// `{a="x",b="y"` without the closing brace (so "le" can follow), or nothing.
void AppendLabels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string* out) {
  for (size_t index = 0; index < names.size(); ++index) {
    out->push_back(index == 0 ? '{' : ',');
    out->append(names[index]);
    out->append("=\"");
    AppendEscaped(values[index], /*escape_quotes=*/true, out);
    out->push_back('"');
  }
}

void AppendSample(std::string_view name, std::string_view suffix,
                  const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, double value, std::string* out) {
  out->append(name);
  out->append(suffix);
  AppendLabels(label_names, label_values, out);
  if (!label_names.empty()) out->push_back('}');
  out->push_back(' ');
  AppendNumber(value, out);
  out->push_back('\n');
}

template <typename MetricT>
constexpr const char* TypeName() {
  if constexpr (std::is_same_v<MetricT, Counter>) return "counter";
  if constexpr (std::is_same_v<MetricT, Gauge>) return "gauge";
  return "histogram";
}

}  // namespace

void Counter::Increment(double amount) {
  if (amount > 0) value_.fetch_add(amount, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      bucket_counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t index = 0; index <= upper_bounds_.size(); ++index) bucket_counts_[index] = 0;
}

void Histogram::Observe(double value) {
  // The first bound >= value; "le" buckets include their bound.
  size_t bucket = static_cast<size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin());
  bucket_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Snap() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  snapshot.cumulative_counts.reserve(upper_bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t index = 0; index <= upper_bounds_.size(); ++index) {
    running += bucket_counts_[index].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

namespace internal {

bool LabelValuesLess::operator()(const std::vector<std::string>& left,
                                 const std::vector<std::string>& right) const {
  return left < right;
}
bool LabelValuesLess::operator()(const std::vector<std::string>& left,
                                 std::span<const std::string_view> right) const {
  return std::lexicographical_compare(left.begin(), left.end(), right.begin(), right.end(),
                                      [](std::string_view a, std::string_view b) { return a < b; });
}
bool LabelValuesLess::operator()(std::span<const std::string_view> left,
                                 const std::vector<std::string>& right) const {
  return std::lexicographical_compare(left.begin(), left.end(), right.begin(), right.end(),
                                      [](std::string_view a, std::string_view b) { return a < b; });
}

}  // namespace internal

template <typename MetricT>
MetricFamily<MetricT>::MetricFamily(std::string name, std::string help,
                                    std::vector<std::string> label_names,
                                    std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {}

template <typename MetricT>
MetricT& MetricFamily<MetricT>::WithLabels(std::span<const std::string_view> label_values) {
  if (label_values.size() != label_names_.size()) {
    std::fprintf(stderr, "metrics: %s takes %zu label values, got %zu\n", name_.c_str(),
                 label_names_.size(), label_values.size());
    std::abort();
  }
  {
    std::shared_lock lock(mutex_);
    auto found = metrics_.find(label_values);
    if (found != metrics_.end()) return *found->second;
  }
  std::unique_lock lock(mutex_);
  auto found = metrics_.find(label_values);
  if (found != metrics_.end()) return *found->second;
  std::unique_ptr<MetricT> metric;
  if constexpr (std::is_same_v<MetricT, Histogram>) {
    metric = std::make_unique<Histogram>(buckets_);
  } else {
    metric = std::make_unique<MetricT>();
  }
  MetricT& result = *metric;
  metrics_.emplace(std::vector<std::string>(label_values.begin(), label_values.end()),
                   std::move(metric));
  return result;
}

template <typename MetricT>
void MetricFamily<MetricT>::Render(std::string* out) const {
  out->append("# HELP ");
  out->append(name_);
  out->push_back(' ');
  AppendEscaped(help_, /*escape_quotes=*/false, out);
  out->append("\n# TYPE ");
  out->append(name_);
  out->push_back(' ');
  out->append(TypeName<MetricT>());
  out->push_back('\n');
  std::shared_lock lock(mutex_);
  for (const auto& [label_values, metric] : metrics_) {
    if constexpr (std::is_same_v<MetricT, Histogram>) {
      Histogram::Snapshot snapshot = metric->Snap();
      for (size_t index = 0; index < snapshot.cumulative_counts.size(); ++index) {
        out->append(name_);
        out->append("_bucket");
        AppendLabels(label_names_, label_values, out);
        out->append(label_names_.empty() ? "{le=\"" : ",le=\"");
        if (index < snapshot.upper_bounds.size()) {
          AppendNumber(snapshot.upper_bounds[index], out);
        } else {
          out->append("+Inf");
        }
        out->append("\"} ");
        fmt::format_to(std::back_inserter(*out), "{}\n", snapshot.cumulative_counts[index]);
      }
      AppendSample(name_, "_sum", label_names_, label_values, snapshot.sum, out);
      AppendSample(name_, "_count", label_names_, label_values, static_cast<double>(snapshot.count),
                   out);
    } else {
      AppendSample(name_, "", label_names_, label_values, metric->Value(), out);
    }
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

struct MetricsRegistry::Entry {
  std::variant<std::unique_ptr<CounterFamily>, std::unique_ptr<GaugeFamily>,
               std::unique_ptr<HistogramFamily>>
      family;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

namespace {

core::Status CheckNames(std::string_view name, const std::vector<std::string>& label_names,
                        bool histogram) {
  if (!ValidMetricName(name)) {
    return core::InvalidArgumentError("metric name \"" + std::string(name) +
                                      "\" is not [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  for (size_t index = 0; index < label_names.size(); ++index) {
    const std::string& label = label_names[index];
    if (!ValidLabelName(label)) {
      return core::InvalidArgumentError("label name \"" + label + "\" of metric " +
                                        std::string(name) +
                                        " is not [a-zA-Z_][a-zA-Z0-9_]* or starts with __");
    }
    if (histogram && label == "le") {
      return core::InvalidArgumentError("histogram " + std::string(name) +
                                        " may not have a label called \"le\"");
    }
    if (std::find(label_names.begin(), label_names.begin() + static_cast<long>(index), label) !=
        label_names.begin() + static_cast<long>(index)) {
      return core::InvalidArgumentError("label \"" + label + "\" appears twice in metric " +
                                        std::string(name));
    }
  }
  return core::Status::Ok();
}

}  // namespace

template <typename MetricT>
core::Result<MetricFamily<MetricT>*> MetricsRegistry::AddFamily(
    std::string name, std::string help, std::vector<std::string> label_names,
    std::vector<double> buckets) {
  constexpr bool kHistogram = std::is_same_v<MetricT, Histogram>;
  MLFORGE_RETURN_IF_ERROR(CheckNames(name, label_names, kHistogram));
  if (kHistogram) {
    for (size_t index = 0; index < buckets.size(); ++index) {
      if (std::isnan(buckets[index]) || (index > 0 && !(buckets[index - 1] < buckets[index]))) {
        return core::InvalidArgumentError("the buckets of histogram " + name +
                                          " must be strictly ascending numbers");
      }
    }
    // +Inf is implicit; drop an explicit one.
    if (!buckets.empty() && std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();
  }
  std::lock_guard lock(mutex_);
  auto found = families_.find(name);
  if (found != families_.end()) {
    auto* existing = std::get_if<std::unique_ptr<MetricFamily<MetricT>>>(&found->second->family);
    if (existing == nullptr || (*existing)->label_names() != label_names ||
        (*existing)->buckets() != buckets) {
      return core::InvalidArgumentError(
          "metric " + name +
          " is already registered with another type, other labels or other buckets");
    }
    return existing->get();
  }
  auto family = std::unique_ptr<MetricFamily<MetricT>>(
      new MetricFamily<MetricT>(name, std::move(help), std::move(label_names), std::move(buckets)));
  MetricFamily<MetricT>* result = family.get();
  auto entry = std::make_unique<Entry>();
  entry->family = std::move(family);
  families_.emplace(std::move(name), std::move(entry));
  return result;
}

core::Result<CounterFamily*> MetricsRegistry::AddCounter(std::string name, std::string help,
                                                         std::vector<std::string> label_names) {
  return AddFamily<Counter>(std::move(name), std::move(help), std::move(label_names), {});
}

core::Result<GaugeFamily*> MetricsRegistry::AddGauge(std::string name, std::string help,
                                                     std::vector<std::string> label_names) {
  return AddFamily<Gauge>(std::move(name), std::move(help), std::move(label_names), {});
}

core::Result<HistogramFamily*> MetricsRegistry::AddHistogram(std::string name, std::string help,
                                                             std::vector<std::string> label_names,
                                                             std::vector<double> buckets) {
  return AddFamily<Histogram>(std::move(name), std::move(help), std::move(label_names),
                              std::move(buckets));
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::vector<const Entry*> entries;
  {
    std::lock_guard lock(mutex_);
    entries.reserve(families_.size());
    for (const auto& [name, entry] : families_) entries.push_back(entry.get());
  }
  std::string out;
  out.reserve(256 * entries.size());
  for (const Entry* entry : entries) {
    std::visit([&](const auto& family) { family->Render(&out); }, entry->family);
  }
  return out;
}

std::vector<double> MetricsRegistry::DefaultLatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
}

}  // namespace mlforge::net
