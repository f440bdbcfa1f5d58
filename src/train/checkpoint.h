#pragma once

// Training checkpoints: everything needed to continue a run exactly where it
// stopped, written atomically so a kill at any moment leaves the previous
// checkpoint intact.

#include <torch/script.h>
#include <torch/torch.h>

#include <filesystem>

#include "core/status.h"

namespace mlforge::train {

// Where training stands. A checkpoint taken after `batch_in_epoch` batches of
// epoch `epoch` resumes with the next batch of the same epoch's order.
struct TrainProgress {
  int64_t epoch = 0;           // the epoch in progress (0-based)
  int64_t batch_in_epoch = 0;  // batches of that epoch already applied
  int64_t global_step = 0;     // optimiser steps so far
  // Positions of the epoch's permuted list that the ranks consumed together
  // (data::ConsumedPositions), so the epoch resumes under any world size;
  // -1 when read from a checkpoint that predates it (then batch_in_epoch
  // under the same world size decides).
  int64_t samples_in_epoch = 0;
  // Running sums of the epoch in progress, so epoch metrics survive a resume.
  double epoch_loss_sum = 0;
  int64_t epoch_correct = 0;
  int64_t epoch_seen = 0;
  double best_val_accuracy = 0;
};

// Writes model parameters and buffers, optimizer state, progress and the
// global CPU random generator's state to `path` (temp file, fsync, rename).
core::Status SaveCheckpoint(const std::filesystem::path& path, const torch::jit::Module& module,
                            const torch::optim::Optimizer& optimizer,
                            const TrainProgress& progress);

// Restores what SaveCheckpoint wrote into an identically built module and
// optimizer, and the generator state. NotFound when there is no checkpoint;
// InvalidArgument when it does not match the model (names the tensor).
core::Result<TrainProgress> LoadCheckpoint(const std::filesystem::path& path,
                                           torch::jit::Module& module,
                                           torch::optim::Optimizer& optimizer);

}  // namespace mlforge::train
