#pragma once

// Re-running a recorded training run and checking that it gives the same
// metrics: `mlforge runs reproduce RUN_ID`.
//
//   1. PlanReproduction reads the source run: its resolved config (the
//      config.yaml artifact that `mlforge train` logs; failing that, the
//      config rebuilt from the run's params, which are the flattened config),
//      its experiment, and the digest of the data it trained on (the
//      mlforge.dataset.digest tag, else the "training" dataset input). It
//      computes the digest of the same data here (the dataset's manifest in
//      the data folder, or the SHA-256 of a CSV file) and refuses to go on
//      when they differ. The seed is part of the config.
//   2. The caller trains with that config (Reproduce takes the trainer as a
//      function, so this library needs no LibTorch) as a new run in the same
//      experiment, tagged mlforge.reproduction.source_run = the source run.
//   3. CompareRuns checks each of the source run's latest metrics against
//      the new run's: equal within `tolerance` (|a - b| <= tolerance *
//      max(1, |a|); two NaNs are equal). Timing metrics (samples_per_second*,
//      *_seconds, restarts) differ on every run and are skipped, and so are
//      metrics the new run did not log (e.g. test_accuracy that `mlforge
//      evaluate` added to the source run later). At least one metric must be
//      compared for the reproduction to count as matching.
//
// Training on CPU with the same seed, data and thread settings is
// deterministic, so the default tolerance is small.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tracking/entities.h"
#include "tracking/store.h"

namespace mlforge::lineage {

inline constexpr char kReproductionSourceTag[] = "mlforge.reproduction.source_run";
inline constexpr char kReproductionMatchesTag[] = "mlforge.reproduction.matches";
inline constexpr double kDefaultTolerance = 1e-6;

struct ReproductionPlan {
  tracking::Run source;
  std::string experiment_name;
  std::string config_yaml;    // the config to train with
  std::string config_origin;  // "artifact config.yaml" or "params"
  std::string config_source;  // the source run's mlflow.source.name (for messages and tags)
  std::string dataset_name;
  std::string recorded_digest;
  std::string local_digest;
  std::filesystem::path local_data;  // the dataset folder or CSV file checked
  // LibTorch intra-op threads the source run trained with (its
  // mlforge.intra_op_threads tag); 0 when it was not recorded.
  int intra_op_threads = 0;
};

// See step 1. NotFound for a missing run or a dataset that is not here (the
// message says how to fetch it); FailedPrecondition when the run is not
// FINISHED, records no config or no data digest, or the local data's digest
// differs from the recorded one (both digests in the message).
// `tracking_uri` reaches artifacts behind a tracking server's proxy.
core::Result<ReproductionPlan> PlanReproduction(tracking::Store& store, std::string_view run_id,
                                                const std::string& tracking_uri,
                                                const std::filesystem::path& data_dir);

struct MetricCheck {
  std::string key;
  double recorded = 0;
  double reproduced = 0;
  double difference = 0;  // |recorded - reproduced|
  bool matches = false;
};

struct ReproductionReport {
  std::string source_run_id;
  std::string new_run_id;
  std::vector<MetricCheck> checks;   // by key
  std::vector<std::string> skipped;  // timing metrics and ones the new run lacks
  // Every check matches and there is at least one.
  bool matches() const;
};

// True for metrics that measure time or restarts rather than the model.
bool IsTimingMetric(std::string_view key);

// Step 3.
ReproductionReport CompareRuns(const tracking::Run& source, const tracking::Run& reproduced,
                               double tolerance);

// What the trainer is asked to run.
struct TrainRequest {
  std::string config_yaml;
  std::string config_source;
  std::string experiment_name;
  std::vector<tracking::RunTag> tags;  // set on the new run at creation
  int intra_op_threads = 0;            // 0: the trainer's default
};

// Trains the request as a new run and returns the new run's id. The
// caller's trainer (mlforge train's RunTracked in the CLI).
using Trainer = std::function<core::Result<std::string>(const TrainRequest& request)>;

// Plans, trains with `train` (with `intra_op_threads`, or when 0 the source
// run's recorded count), reads the new run back, compares, and tags the new
// run with kReproductionMatchesTag ("true"/"false"). Errors are the plan's,
// the trainer's, or the store's; a mismatch is a report, not an error.
core::Result<ReproductionReport> Reproduce(tracking::Store& store, std::string_view run_id,
                                           const std::string& tracking_uri,
                                           const std::filesystem::path& data_dir, double tolerance,
                                           int intra_op_threads, const Trainer& train);

// One line per metric: key, recorded, reproduced, difference, ok/MISMATCH,
// then the skipped ones and a verdict.
std::string FormatReport(const ReproductionReport& report, double tolerance);

}  // namespace mlforge::lineage
