#include "net/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <thread>
#include <vector>

namespace mlforge::net {
namespace {

// The samples of an exposition text as "name{labels}" -> value, checking on
// the way that every line is a comment (# HELP / # TYPE) or one sample.
std::map<std::string, std::string> ParseSamples(const std::string& text) {
  std::map<std::string, std::string> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("#")) {
      EXPECT_TRUE(line.starts_with("# HELP ") || line.starts_with("# TYPE ")) << line;
      continue;
    }
    size_t space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    if (space == std::string::npos) continue;
    std::string key = line.substr(0, space);
    // A label set, when present, closes the key.
    if (key.find('{') != std::string::npos) {
      EXPECT_EQ(key.back(), '}') << line;
    }
    samples[key] = line.substr(space + 1);
  }
  return samples;
}

TEST(MetricsTest, CountersAndGaugesRenderWithLabels) {
  MetricsRegistry registry;
  auto requests = registry.AddCounter("app_requests_total", "Requests.\nBy code.", {"code"});
  ASSERT_TRUE(requests.ok());
  (*requests)->WithLabels({"200"}).Increment();
  (*requests)->WithLabels({"200"}).Increment(2);
  (*requests)->WithLabels({"500"}).Increment();
  (*requests)->WithLabels({"500"}).Increment(-5);  // ignored: counters only go up
  auto loaded = registry.AddGauge("app_models_loaded", "Models loaded.");
  ASSERT_TRUE(loaded.ok());
  (*loaded)->WithLabels().Set(3);
  (*loaded)->WithLabels().Add(-1.5);
  auto weird = registry.AddGauge("app_label_escapes", "Escapes.", {"value"});
  (*weird)->WithLabels({"a\"b\\c\nd"}).Set(1);

  std::string text = registry.RenderPrometheus();
  EXPECT_NE(text.find("# HELP app_requests_total Requests.\\nBy code.\n"
                      "# TYPE app_requests_total counter\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE app_models_loaded gauge\n"), std::string::npos);
  auto samples = ParseSamples(text);
  EXPECT_EQ(samples["app_requests_total{code=\"200\"}"], "3");
  EXPECT_EQ(samples["app_requests_total{code=\"500\"}"], "1");
  EXPECT_EQ(samples["app_models_loaded"], "1.5");
  EXPECT_EQ(samples["app_label_escapes{value=\"a\\\"b\\\\c\\nd\"}"], "1");
  // Families come out sorted by name.
  EXPECT_LT(text.find("app_label_escapes"), text.find("app_models_loaded"));
  EXPECT_LT(text.find("app_models_loaded"), text.find("app_requests_total"));
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry registry;
  auto latency =
      registry.AddHistogram("app_latency_seconds", "Latency.", {"route"}, {0.1, 0.5, 1.0});
  ASSERT_TRUE(latency.ok());
  Histogram& route = (*latency)->WithLabels({"/x"});
  for (double value : {0.05, 0.1, 0.3, 0.7, 2.0, 3.0}) route.Observe(value);

  std::string text = registry.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE app_latency_seconds histogram\n"), std::string::npos);
  auto samples = ParseSamples(text);
  EXPECT_EQ(samples["app_latency_seconds_bucket{route=\"/x\",le=\"0.1\"}"], "2");  // le includes
  EXPECT_EQ(samples["app_latency_seconds_bucket{route=\"/x\",le=\"0.5\"}"], "3");
  EXPECT_EQ(samples["app_latency_seconds_bucket{route=\"/x\",le=\"1\"}"], "4");
  EXPECT_EQ(samples["app_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"}"], "6");
  EXPECT_EQ(samples["app_latency_seconds_count{route=\"/x\"}"], "6");
  EXPECT_DOUBLE_EQ(std::stod(samples["app_latency_seconds_sum{route=\"/x\"}"]), 6.15);

  auto plain = registry.AddHistogram("app_sizes", "Sizes.", {}, {10});
  (*plain)->WithLabels().Observe(20);
  samples = ParseSamples(registry.RenderPrometheus());
  EXPECT_EQ(samples["app_sizes_bucket{le=\"10\"}"], "0");
  EXPECT_EQ(samples["app_sizes_bucket{le=\"+Inf\"}"], "1");
  EXPECT_EQ(samples["app_sizes_sum"], "20");
}

TEST(MetricsTest, RegistrationIsIdempotentAndChecked) {
  MetricsRegistry registry;
  auto first = registry.AddCounter("shared_total", "Shared.", {"a"});
  auto again = registry.AddCounter("shared_total", "Shared.", {"a"});
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(*first, *again);
  EXPECT_EQ(registry.AddCounter("shared_total", "x", {"b"}).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGauge("shared_total", "x", {"a"}).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_FALSE(registry.AddCounter("1bad", "x").ok());
  EXPECT_FALSE(registry.AddCounter("bad-name", "x").ok());
  EXPECT_FALSE(registry.AddCounter("ok_name", "x", {"__reserved"}).ok());
  EXPECT_FALSE(registry.AddCounter("ok_name", "x", {"a", "a"}).ok());
  EXPECT_FALSE(registry.AddHistogram("h", "x", {"le"}, {1}).ok());
  EXPECT_FALSE(registry.AddHistogram("h", "x", {}, {2, 1}).ok());
  EXPECT_TRUE(registry.AddCounter("name:with_colon", "x").ok());
}

TEST(MetricsTest, ConcurrentUpdatesAreExact) {
  MetricsRegistry registry;
  auto counter = registry.AddCounter("hits_total", "Hits.", {"thread_group"});
  auto histogram = registry.AddHistogram("obs", "Obs.", {}, {0.5});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      std::string group = thread % 2 == 0 ? "even" : "odd";
      for (int index = 0; index < kPerThread; ++index) {
        (*counter)->WithLabels({group}).Increment();
        (*histogram)->WithLabels().Observe(1.0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ((*counter)->WithLabels({"even"}).Value(), kThreads / 2 * kPerThread);
  EXPECT_EQ((*counter)->WithLabels({"odd"}).Value(), kThreads / 2 * kPerThread);
  Histogram::Snapshot snapshot = (*histogram)->WithLabels().Snap();
  EXPECT_EQ(snapshot.count, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(snapshot.cumulative_counts[0], 0u);
  EXPECT_DOUBLE_EQ(snapshot.sum, kThreads * kPerThread * 1.0);
}

}  // namespace
}  // namespace mlforge::net
