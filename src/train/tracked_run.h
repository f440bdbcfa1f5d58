#pragma once

// A training run recorded in the tracking store: what `mlforge train` does.
// Opens the tracking client (--tracking-uri, else MLFLOW_TRACKING_URI, else
// the local SQLite store), creates the run in the config's experiment (or
// continues it on resume), trains with metrics going to both the run folder's
// metrics.jsonl and the store, and records the final status: FINISHED,
// FAILED, or KILLED when `stop_requested` was set (SIGTERM).
//
// The run folder's run.json names the tracking run, so `--resume DIR`
// continues the same tracked run.
//
// In a distributed job (`launch` with more than one rank) every rank calls
// this: all join one process group (c10d TCPStore + Gloo) at the launch's
// master, train data-parallel, and only rank 0 opens the tracking store,
// logs and writes files. `run_dir` is then required and must be the same
// folder on every rank. When the launcher has restarted the group
// (launch.restart_count > 0) and run_dir already holds a run, the ranks
// continue it from its latest checkpoint (or from the start when there is
// none yet), and rank 0 records the restart count as the tag
// mlforge.restarts and the metric `restarts`.

#include <atomic>
#include <filesystem>
#include <string>

#include "core/config.h"
#include "core/status.h"
#include "dist/launch_env.h"
#include "train/trainer.h"

namespace mlforge::train {

struct TrackedRunOptions {
  // "http://host:port", "sqlite:///path.db", or empty for MLFLOW_TRACKING_URI
  // and then `default_tracking_uri`.
  std::string tracking_uri;
  std::string default_tracking_uri;
  // Artifact root for experiments created in a store opened directly.
  std::string default_artifact_root;
  // Overrides the config's `experiment` (default "Default").
  std::string experiment;
  // Overrides the config's `run_name`; MLflow generates one when both are empty.
  std::string run_name;
  // Run folders go to <runs_dir>/<run id> unless `run_dir` is given.
  std::filesystem::path runs_dir;
  std::filesystem::path run_dir;
  // Continue the run in `run_dir` from its checkpoint and config.
  bool resume = false;
  // Log into this existing tracking run instead of creating one, as MLflow
  // does when MLFLOW_RUN_ID is set (a pipeline step's child run): the run is
  // set RUNNING again and its experiment is used (`experiment` and
  // `run_name` are ignored). NotFound-style errors name the id. Ignored on
  // resume.
  std::string existing_run_id;
  std::filesystem::path data_dir;
  int threads = 0;
  bool interactive = false;
  const std::atomic<bool>* stop_requested = nullptr;  // borrowed
  // Where this process stands in a distributed job (dist::DetectLaunchEnv);
  // a single process by default.
  dist::LaunchEnv launch;
};

struct TrackedRunResult {
  TrainResult train;
  std::string run_id;
  std::string experiment_id;
  std::string tracking_uri;
  std::filesystem::path run_dir;
};

// `config` is ignored on resume (the run folder's config.yaml is used).
core::Result<TrackedRunResult> RunTracked(const core::Config& config,
                                          const TrackedRunOptions& options);

}  // namespace mlforge::train
