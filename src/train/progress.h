#pragma once

// Shows training progress: on a terminal one line redrawn in place (bar,
// rate, ETA, loss); otherwise plain log lines about every tenth of an epoch,
// so CI logs and files stay readable.

#include <chrono>
#include <cstdint>
#include <string>

namespace mlforge::train {

class ProgressReporter {
 public:
  // `interactive`: redraw one line on stderr (a terminal) instead of logging.
  ProgressReporter(bool interactive, int64_t epochs, int64_t batches_per_epoch);

  void StartEpoch(int64_t epoch, int64_t first_batch);
  // After each batch: `batch` is 1-based within the epoch.
  void Update(int64_t batch, int64_t samples, double loss);
  // Ends the line of the epoch.
  void FinishEpoch();

 private:
  const bool interactive_;
  const int64_t epochs_;
  const int64_t batches_per_epoch_;
  int64_t epoch_ = 0;
  int64_t first_batch_ = 0;
  int64_t samples_ = 0;
  int64_t last_logged_batch_ = 0;
  std::chrono::steady_clock::time_point epoch_start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace mlforge::train
