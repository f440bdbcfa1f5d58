#include "tracking/rest/fast_log_batch.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tracking/rest/request_fields.h"

namespace mlforge::tracking::rest {
namespace {

// The general path's reading of a log-batch body's run id and metrics, as
// the handler does it (RequestFields, field by field).
struct General {
  bool ok = false;
  std::string run_id;
  std::vector<Metric> metrics;
};

General ReadGeneral(const std::string& body) {
  General general;
  auto fields = RequestFields::FromJsonBody("application/json", body);
  if (!fields.ok()) return general;
  auto run_id = fields->RunId();
  auto list = fields->ObjectList("metrics");
  if (!run_id.ok() || !list.ok()) return general;
  general.run_id = *run_id;
  for (const RequestFields& entry : *list) {
    Metric metric;
    auto key = entry.RequiredString("key");
    auto value = entry.RequiredDouble("value");
    auto timestamp = entry.RequiredInt64("timestamp");
    auto step = entry.OptionalInt64("step");
    if (!key.ok() || !value.ok() || !timestamp.ok() || !step.ok()) return general;
    metric.key = *key;
    metric.value = *value;
    metric.timestamp = *timestamp;
    metric.step = step->value_or(0);
    general.metrics.push_back(std::move(metric));
  }
  general.ok = true;
  return general;
}

bool SameBits(double left, double right) { return std::memcmp(&left, &right, sizeof left) == 0; }

// Generated bodies in the shapes clients send (numbers of every form, any
// field order, spacing, step or not): the fast reading equals the general
// one, bit for bit.
TEST(FastLogBatchTest, AgreesWithTheGeneralPathOnGeneratedBodies) {
  uint64_t state = 2024;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  auto number = [&]() -> std::string {
    switch (next() % 7) {
      case 0: return std::to_string(next() % 1000);
      case 1: return "-" + std::to_string(1 + next() % 100000);
      case 2: return "0." + std::to_string(next() % 100000000);
      case 3: return std::to_string(next() % 10) + "." + std::to_string(next()) + "e-" +
                     std::to_string(next() % 30);
      case 4: return "1" + std::to_string(next()) + std::to_string(next()) + "E+2";
      case 5: return "184467440737095516" + std::to_string(10 + next() % 90);  // beyond uint64
      default: return "-" + std::to_string(next() % 10) + ".5";
    }
  };
  int accepted = 0;
  for (int body_index = 0; body_index < 200; ++body_index) {
    const std::string space = body_index % 3 == 0 ? " " : (body_index % 3 == 1 ? "\n\t" : "");
    std::string metrics;
    for (int m = 0; m < 20; ++m) {
      if (m > 0) metrics += "," + space;
      std::vector<std::string> parts = {
          "\"key\":" + space + "\"m/" + std::to_string(next() % 50) + ".x-y z\"",
          "\"value\":" + space + number(),
          "\"timestamp\":" + space + std::to_string(1700000000000LL + static_cast<int64_t>(next())),
      };
      if (next() % 2) parts.push_back("\"step\":" + space + "-" + std::to_string(next() % 5));
      // Any order.
      for (size_t i = parts.size() - 1; i > 0; --i) std::swap(parts[i], parts[next() % (i + 1)]);
      std::string object = "{" + space;
      for (size_t i = 0; i < parts.size(); ++i) object += (i ? "," + space : "") + parts[i];
      metrics += object + space + "}";
    }
    std::string body = "{" + space + "\"metrics\":[" + metrics + "]," + space +
                       "\"run_id\":\"r" + std::to_string(body_index) + "\"";
    if (body_index % 2) body += ",\"params\":[],\"tags\":[" + space + "]";
    body += space + "}" + space;

    std::optional<FastLogBatch> fast = ReadFastLogBatch(body);
    General general = ReadGeneral(body);
    ASSERT_TRUE(general.ok) << body;
    ASSERT_TRUE(fast.has_value()) << body;
    ++accepted;
    EXPECT_EQ(fast->run_id, general.run_id);
    ASSERT_EQ(fast->metrics.size(), general.metrics.size());
    for (size_t i = 0; i < fast->metrics.size(); ++i) {
      const Metric& a = fast->metrics[i];
      const Metric& b = general.metrics[i];
      EXPECT_EQ(a.key, b.key);
      EXPECT_TRUE(SameBits(a.value, b.value)) << a.value << " vs " << b.value << " in " << body;
      EXPECT_EQ(a.timestamp, b.timestamp);
      EXPECT_EQ(a.step, b.step);
    }
  }
  EXPECT_EQ(accepted, 200);
}

// Everything off the usual shape is left to the general path, which
// decides (and words any error).
TEST(FastLogBatchTest, DeclinesAnythingElse) {
  const std::string metric = R"({"key": "a", "value": 1, "timestamp": 2})";
  EXPECT_TRUE(ReadFastLogBatch(R"({"run_id": "r", "metrics": [)" + metric + "]}").has_value());
  for (const std::string body : {
           R"({"run_id": "r", "metrics": [{"key": "a", "value": 1}]})",                // no timestamp
           R"({"run_id": "r", "metrics": [{"value": 1, "timestamp": 2}]})",            // no key
           R"({"run_id": "r", "metrics": [{"key": "", "value": 1, "timestamp": 2}]})",  // empty key
           R"({"run_id": "", "metrics": []})",
           R"({"run_uuid": "r", "metrics": []})",
           R"({"run_id": "r", "run_id": "s", "metrics": []})",
           R"({"run_id": "r", "metrics": [{"key": "a", "key": "b", "value": 1, "timestamp": 2}]})",
           R"({"run_id": "r", "metrics": [{"key": "a\n", "value": 1, "timestamp": 2}]})",
           R"({"run_id": "r", "metrics": [{"key": "\u00e9", "value": 1, "timestamp": 2}]})",
           "{\"run_id\": \"r\", \"metrics\": [{\"key\": \"\xc3\xa9\", \"value\": 1, \"timestamp\": 2}]}",
           R"({"run_id": "r", "metrics": [{"key": "a", "value": "NaN", "timestamp": 2}]})",
           R"({"run_id": "r", "metrics": [{"key": "a", "value": -0, "timestamp": 2}]})",
           R"({"run_id": "r", "metrics": [{"key": "a", "value": 01, "timestamp": 2}]})",
           R"({"run_id": "r", "metrics": [{"key": "a", "value": 1., "timestamp": 2}]})",
           R"({"run_id": "r", "metrics": [{"key": "a", "value": 1e999, "timestamp": 2}]})",
           R"({"run_id": "r", "metrics": [{"key": "a", "value": 1, "timestamp": 2.0}]})",
           R"({"run_id": "r", "metrics": [{"key": "a", "value": 1, "timestamp": "2"}]})",
           R"({"run_id": "r", "metrics": [{"key": "a", "value": 1, "timestamp": 99999999999999999999}]})",
           R"({"run_id": "r", "metrics": [{"key": "a", "value": 1, "timestamp": 2, "step": null}]})",
           R"({"run_id": "r", "metrics": [{"key": "a", "value": 1, "timestamp": 2, "model_id": "m"}]})",
           R"({"run_id": "r", "metrics": [], "params": [{"key": "p", "value": "1"}]})",
           R"({"run_id": "r", "metrics": [], "tags": null})",
           R"({"run_id": "r", "metrics": [], "extra": 1})",
           R"({"run_id": "r", "metrics": []} trailing)",
           R"({"run_id": "r", "metrics": [)",
           R"("{\"run_id\": \"r\", \"metrics\": []}")",
           R"([])",
           "",
       }) {
    EXPECT_FALSE(ReadFastLogBatch(body).has_value()) << body;
  }
}

}  // namespace
}  // namespace mlforge::tracking::rest
