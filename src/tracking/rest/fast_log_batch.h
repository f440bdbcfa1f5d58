#pragma once

// The shape of nearly every runs/log-batch body, read straight from the text:
//
//   {"run_id": "…", "metrics": [{"key": "loss", "value": 0.5,
//     "timestamp": 1700000000000, "step": 3}, …], "params": [], "tags": []}
//
// A training client sends thousands of these metrics a second; building a
// JSON tree of them and reading it back through RequestFields cost more CPU
// than storing them. ReadFastLogBatch() reads this one shape in one pass
// and declines (nullopt) anything else: an unknown or repeated field, a
// string with an escape or a non-ASCII byte, a value that is not a plain
// JSON number, a timestamp or step that is not a plain integer in int64
// range, a "-0" value, a missing or empty key or run id, non-empty params or
// tags, and anything malformed. The caller then takes the general path,
// which decides and words any error. So for every body it accepts, the batch
// equals what the general path reads (a test checks this on generated
// bodies); it is never a second set of rules.
//
// Limits (counts, sizes, key names) are not checked here: the store checks
// them for both paths.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tracking/entities.h"

namespace mlforge::tracking::rest {

struct FastLogBatch {
  std::string run_id;
  std::vector<Metric> metrics;
};

std::optional<FastLogBatch> ReadFastLogBatch(std::string_view body);

}  // namespace mlforge::tracking::rest
