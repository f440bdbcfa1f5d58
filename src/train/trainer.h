#pragma once

// The training loop behind `mlforge train`.
//
//   MLFORGE_ASSIGN_OR_RETURN(core::Config config, core::Config::Load("train.yaml"));
//   RunOptions options{.run_dir = "runs/abc", .data_dir = "~/.mlforge/data"};
//   MLFORGE_ASSIGN_OR_RETURN(auto sink, JsonLinesSink::Open(options.run_dir / "metrics.jsonl"));
//   MLFORGE_ASSIGN_OR_RETURN(TrainResult result, Train(config, options, *sink));
//
// The config (see examples/mnist/train.yaml) has sections data, model,
// optimizer, schedule, train and checkpoint. A run is deterministic for a
// given seed and thread count: resuming from any checkpoint ends with the
// same weights as a run that was never interrupted.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/config.h"
#include "core/status.h"
#include "dist/strategy.h"
#include "train/metrics_sink.h"

namespace mlforge::dist {
class ProcessGroup;
}

namespace mlforge::train {

struct RunOptions {
  // Folder of the run: config.yaml (resolved), checkpoint.pt, model/ and the
  // summary. Created when missing.
  std::filesystem::path run_dir;
  // Where `mlforge data get` put datasets named by data.name.
  std::filesystem::path data_dir;
  // The run id recorded in the model package; defaults to run_dir's name.
  std::string run_id;
  // Continue from run_dir/checkpoint.pt instead of starting over.
  bool resume = false;
  // With `resume`: start over instead of failing when there is no checkpoint
  // yet (a group restarted before its first checkpoint).
  bool resume_optional = false;
  // Intra-op threads; 0 means train.threads from the config, else all cores.
  int threads = 0;
  // Redraw a progress line (a terminal) instead of logging lines.
  bool interactive = false;
  // When set (e.g. by a SIGTERM handler), training checkpoints after the
  // current step and Train returns Unavailable; --resume continues it.
  // Borrowed; must outlive the call.
  const std::atomic<bool>* stop_requested = nullptr;
  // Distributed training (`strategy` below) over this group when it has more
  // than one rank; borrowed, must outlive the call. Every rank calls Train
  // with the same config. Rank 0 broadcasts the initial (or resumed) state,
  // each rank trains on its shard of every epoch with the gradients averaged
  // over the ranks, and epoch and evaluation metrics are reduced over the
  // ranks. Only rank 0 writes config.yaml, checkpoints, the model package and
  // the summary; every rank reads the checkpoint on resume (run_dir must be
  // on storage the ranks share). The sink of other ranks should discard.
  dist::ProcessGroup* group = nullptr;
  // Training processes on this host, which share its cores (see threads.h).
  int processes_per_host = 1;
  // BLAS threads; 0 means the rule of threads.h.
  int blas_threads = 0;
  // Gradient bucket size for the group, in bytes; 0 means the default (1 MiB).
  int64_t bucket_bytes = 0;
  // Log a `world_size` metric at the step this attempt starts from (and
  // flush it at once): set for every process a launcher started, so a run
  // whose group changed size shows each round's size.
  bool log_world_size = false;
  // How the group trains (dist.* keys): ddp, or a parameter server in rank 0
  // (see dist/parameter_server.h). With ps, rank 0's server holds the weights
  // and the optimizer; each epoch end and checkpoint is a barrier after which
  // every rank has the server's weights, and rank 0 writes the checkpoint
  // from them. A stop request under ps writes no checkpoint (the ranks are
  // at different steps); --resume continues from the last one.
  dist::StrategyOptions strategy;
};

struct TrainResult {
  double val_loss = 0;
  double val_accuracy = 0;  // classification only
  int64_t global_step = 0;
  int64_t epochs = 0;
  double train_seconds = 0;         // time spent in training steps
  double samples_per_second = 0;    // over all ranks
  std::filesystem::path model_dir;  // the written model package
};

// Trains as the config says and writes the model package to run_dir/model.
// Reports params, metrics and tags to `sink` (borrowed for the call).
// Errors: InvalidArgument for a bad config, NotFound for missing data (with
// the command that fetches it), FailedPrecondition when resume finds no
// checkpoint.
core::Result<TrainResult> Train(const core::Config& config, const RunOptions& options,
                                MetricsSink& sink);

}  // namespace mlforge::train
