#include "tracking/rest/fast_log_batch.h"

#include <charconv>
#include <cstdint>

namespace mlforge::tracking::rest {
namespace {

// A cursor over the body; every method answers false when the text is not
// what it expects, and the whole read is then abandoned.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : at_(text.data()), end_(text.data() + text.size()) {}

  void SkipSpace() {
    while (at_ != end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) ++at_;
  }
  bool Take(char wanted) {
    SkipSpace();
    if (at_ == end_ || *at_ != wanted) return false;
    ++at_;
    return true;
  }
  bool AtEnd() {
    SkipSpace();
    return at_ == end_;
  }
  // A string of printable ASCII without escapes.
  bool String(std::string_view* out) {
    if (!Take('"')) return false;
    const char* const start = at_;
    while (at_ != end_ && *at_ != '"') {
      const auto byte = static_cast<unsigned char>(*at_);
      if (byte == '\\' || byte < 0x20 || byte >= 0x80) return false;
      ++at_;
    }
    if (at_ == end_) return false;
    *out = std::string_view(start, static_cast<size_t>(at_ - start));
    ++at_;
    return true;
  }
  // A JSON number's text (strict grammar), not yet converted.
  bool NumberText(std::string_view* out, bool* integer) {
    SkipSpace();
    const char* const start = at_;
    if (at_ != end_ && *at_ == '-') ++at_;
    const char* const digits = at_;
    while (at_ != end_ && IsDigit(*at_)) ++at_;
    if (at_ == digits || (*digits == '0' && at_ - digits > 1)) return false;
    *integer = true;
    if (at_ != end_ && *at_ == '.') {
      *integer = false;
      const char* const fraction = ++at_;
      while (at_ != end_ && IsDigit(*at_)) ++at_;
      if (at_ == fraction) return false;
    }
    if (at_ != end_ && (*at_ == 'e' || *at_ == 'E')) {
      *integer = false;
      ++at_;
      if (at_ != end_ && (*at_ == '+' || *at_ == '-')) ++at_;
      const char* const exponent = at_;
      while (at_ != end_ && IsDigit(*at_)) ++at_;
      if (at_ == exponent) return false;
    }
    *out = std::string_view(start, static_cast<size_t>(at_ - start));
    return true;
  }
  // A metric value: any JSON number, as the double the general parser
  // makes of it (it keeps integers as integers and converts them after;
  // both round to nearest, so only "-0", an integer zero that the general
  // path makes +0.0, differs and is declined).
  bool Double(double* out) {
    std::string_view text;
    bool integer = false;
    if (!NumberText(&text, &integer)) return false;
    if (integer && text == "-0") return false;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return error == std::errc() && end == text.data() + text.size();
  }
  // A timestamp or step: a plain integer that fits int64.
  bool Int64(int64_t* out) {
    std::string_view text;
    bool integer = false;
    if (!NumberText(&text, &integer) || !integer) return false;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return error == std::errc() && end == text.data() + text.size();
  }
  // An empty list: "[]".
  bool EmptyList() { return Take('[') && Take(']'); }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  const char* at_;
  const char* const end_;
};

// One {"key", "value", "timestamp"[, "step"]} object.
bool ReadMetric(Cursor& cursor, Metric* metric) {
  if (!cursor.Take('{')) return false;
  bool have_key = false, have_value = false, have_timestamp = false, have_step = false;
  do {
    std::string_view field;
    if (!cursor.String(&field) || !cursor.Take(':')) return false;
    if (field == "key" && !have_key) {
      std::string_view key;
      if (!cursor.String(&key) || key.empty()) return false;
      metric->key.assign(key);
      have_key = true;
    } else if (field == "value" && !have_value) {
      if (!cursor.Double(&metric->value)) return false;
      have_value = true;
    } else if (field == "timestamp" && !have_timestamp) {
      if (!cursor.Int64(&metric->timestamp)) return false;
      have_timestamp = true;
    } else if (field == "step" && !have_step) {
      if (!cursor.Int64(&metric->step)) return false;
      have_step = true;
    } else {
      return false;
    }
  } while (cursor.Take(','));
  return cursor.Take('}') && have_key && have_value && have_timestamp;
}

}  // namespace

std::optional<FastLogBatch> ReadFastLogBatch(std::string_view body) {
  Cursor cursor(body);
  FastLogBatch batch;
  bool have_run_id = false, have_metrics = false, have_params = false, have_tags = false;
  if (!cursor.Take('{')) return std::nullopt;
  do {
    std::string_view field;
    if (!cursor.String(&field) || !cursor.Take(':')) return std::nullopt;
    if (field == "run_id" && !have_run_id) {
      std::string_view run_id;
      if (!cursor.String(&run_id) || run_id.empty()) return std::nullopt;
      batch.run_id.assign(run_id);
      have_run_id = true;
    } else if (field == "metrics" && !have_metrics) {
      have_metrics = true;
      if (!cursor.Take('[')) return std::nullopt;
      // A metric object takes at least 40 bytes of text: reserve once.
      batch.metrics.reserve(body.size() / 40);
      if (!cursor.Take(']')) {
        do {
          Metric& metric = batch.metrics.emplace_back();
          if (!ReadMetric(cursor, &metric)) return std::nullopt;
        } while (cursor.Take(','));
        if (!cursor.Take(']')) return std::nullopt;
      }
    } else if (field == "params" && !have_params) {
      if (!cursor.EmptyList()) return std::nullopt;
      have_params = true;
    } else if (field == "tags" && !have_tags) {
      if (!cursor.EmptyList()) return std::nullopt;
      have_tags = true;
    } else {
      return std::nullopt;
    }
  } while (cursor.Take(','));
  if (!cursor.Take('}') || !cursor.AtEnd() || !have_run_id) return std::nullopt;
  return batch;
}

}  // namespace mlforge::tracking::rest
