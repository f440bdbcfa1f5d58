#pragma once

// Runs a pipeline: the DAG scheduler, the content cache and the tracking of
// each run.
//
//   MLFORGE_ASSIGN_OR_RETURN(Pipeline pipeline, LoadPipeline("pipeline.yaml"));
//   RunOptions options;
//   MLFORGE_ASSIGN_OR_RETURN(options.params, ResolveParams(pipeline, {"epochs=5"}));
//   options.cache_dir = home / "cache/pipeline";
//   options.runs_root = home / "pipelines";
//   options.tracking_uri = "sqlite:///" + (home / "mlruns.db").string();
//   MLFORGE_ASSIGN_OR_RETURN(RunReport report, RunPipeline(pipeline, options));
//
// The rules it implements:
//  - A step starts when every step it depends on has finished (all items of
//    a for_each step: the join); at most `parallel` run at once, ties in spec
//    order.
//  - A step whose dependency failed (or was not run because of a failure) is
//    skipped, with the reason; independent branches go on. A step whose
//    `when` is false is skipped, and so is one that references outputs of a
//    skipped step.
//  - Before running, the step's cache key is computed (pipeline/cache_key
//    rules in runner.cc's header comment); with the key's lock held, a
//    cache hit restores outputs, a miss runs the step (with retries) and
//    commits its outputs on success.
//  - The pipeline run is a tracking run in `experiment` (default: the
//    pipeline's name) and each step execution a child run
//    (tag mlflow.parentRunId); the step's process gets MLFLOW_TRACKING_URI,
//    MLFLOW_EXPERIMENT_ID and MLFLOW_RUN_ID = its child run.
//  - on_exit runs last, whatever happened; its failure fails the pipeline.
//
// Run folder layout: <run_dir>/pipeline.json (the report),
// <run_dir>/steps/<step>[/<item index>]/{outputs/NAME, stdout.log, stderr.log}
// (logs of earlier attempts as stdout.<attempt>.log / stderr.<attempt>.log).
//
// Errors: the Result is an error only when the pipeline could not be run
// at all (tracking store unreachable, run folder not writable); a failed
// step is a RunReport with succeeded == false.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/spec.h"

namespace mlforge::pipeline {

enum class StepState { kPending, kRunning, kCached, kDone, kFailed, kSkipped };

// "pending", "running", "cached", "done", "failed", "skipped".
const char* StepStateName(StepState state);

// One execution unit: a step, or one item of a for_each step.
struct StepReport {
  std::string name;     // "train", or "per-dataset[0]" for an item
  std::string step;     // the spec's step name
  int item_index = -1;  // -1 unless a for_each item
  std::string item;     // the item's value
  StepState state = StepState::kPending;
  int attempt = 0;              // 1-based attempt now running or last run
  double seconds = 0;           // wall time so far (running) or in all
  int exit_code = 0;            // of the last attempt
  std::string reason;           // why it failed or was skipped; cache source for hits
  std::string stderr_tail;      // last lines of stderr of a failed attempt
  std::string run_id;           // its child tracking run (empty if skipped)
  std::string producer_run_id;  // run that produced its outputs (itself, or the cache's)
  std::string cache_key;        // empty when not cached
  std::string command;          // after substitution
  std::filesystem::path dir;    // its folder in the run folder
  std::vector<std::pair<std::string, std::string>> values;  // value outputs
};

struct RunReport {
  std::string run_id;  // the pipeline's tracking run
  std::string experiment_id;
  std::string tracking_uri;
  std::filesystem::path run_dir;
  bool succeeded = false;
  double seconds = 0;
  std::vector<StepReport> steps;  // in topological order, items expanded; on_exit last
};

struct RunOptions {
  ParamValues params;  // resolved (ResolveParams); required
  // Independent steps running at once. Default 4; at least 1.
  int parallel = 4;
  // false: run every step (--no-cache); results are still committed.
  bool use_cache = true;
  // The step cache; required. Usually $MLFORGE_HOME/cache/pipeline.
  std::filesystem::path cache_dir;
  // The run folder; empty means <runs_root>/<tracking run id>.
  std::filesystem::path run_dir;
  std::filesystem::path runs_root;
  // Where steps run and relative inputs resolve; empty: the current folder.
  std::filesystem::path working_dir;
  // The tracking store (required): "sqlite:///...", "http://...".
  std::string tracking_uri;
  // Artifact root for experiments a directly-opened store creates.
  std::string artifact_root;
  // Experiment name; empty: the pipeline's name.
  std::string experiment;
  // The mlforge binary for `mlforge:` steps; empty: /proc/self/exe.
  std::filesystem::path mlforge_binary;
  // Called (from the runner's thread, never concurrently) whenever a step
  // changes state, and about every `progress_interval` while steps run.
  std::function<void(const std::vector<StepReport>&)> on_progress;
  std::chrono::milliseconds progress_interval{500};
  // SIGTERM-to-SIGKILL grace for timeouts and stops. Default 2 s.
  std::chrono::milliseconds kill_grace{2000};
  // When set (e.g. by SIGINT), running steps are killed, nothing new starts,
  // on_exit still runs. Borrowed.
  const std::atomic<bool>* stop_requested = nullptr;
};

core::Result<RunReport> RunPipeline(const Pipeline& pipeline, const RunOptions& options);

}  // namespace mlforge::pipeline
