#include "train/progress.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>

namespace mlforge::train {
namespace {

std::string Clock(double seconds) {
  if (seconds < 0 || seconds > 360000) return "--:--";
  const int64_t total = std::lround(seconds);
  if (total >= 3600)
    return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
  return fmt::format("{:02}:{:02}", total / 60, total % 60);
}

}  // namespace

ProgressReporter::ProgressReporter(bool interactive, int64_t epochs, int64_t batches_per_epoch)
    : interactive_(interactive), epochs_(epochs), batches_per_epoch_(batches_per_epoch) {}

void ProgressReporter::StartEpoch(int64_t epoch, int64_t first_batch) {
  epoch_ = epoch;
  first_batch_ = first_batch;
  samples_ = 0;
  last_logged_batch_ = first_batch;
  epoch_start_ = last_draw_ = std::chrono::steady_clock::now();
}

void ProgressReporter::Update(int64_t batch, int64_t samples, double loss) {
  samples_ += samples;
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  double rate = elapsed > 0 ? static_cast<double>(samples_) / elapsed : 0.0;
  double batches_done = static_cast<double>(batch - first_batch_);
  double eta = batches_done > 0
                   ? elapsed / batches_done * static_cast<double>(batches_per_epoch_ - batch)
                   : -1;
  bool last = batch == batches_per_epoch_;
  if (interactive_) {
    if (!last && now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
    constexpr int kWidth = 24;
    int filled = static_cast<int>(kWidth * batch / std::max<int64_t>(batches_per_epoch_, 1));
    std::string bar(static_cast<size_t>(filled), '=');
    bar.resize(kWidth, ' ');
    std::fprintf(stderr, "\repoch %lld/%lld [%s] %3lld%% %7.0f samples/s  ETA %s  loss %.4f ",
                 static_cast<long long>(epoch_ + 1), static_cast<long long>(epochs_), bar.c_str(),
                 static_cast<long long>(batch * 100 / std::max<int64_t>(batches_per_epoch_, 1)),
                 rate, Clock(eta).c_str(), loss);
    std::fflush(stderr);
    return;
  }
  int64_t tenth = std::max<int64_t>(batches_per_epoch_ / 10, 1);
  if (batch - last_logged_batch_ >= tenth || last) {
    last_logged_batch_ = batch;
    spdlog::info("epoch {}/{} batch {}/{} ({:.0f} samples/s, ETA {}) loss {:.4f}", epoch_ + 1,
                 epochs_, batch, batches_per_epoch_, rate, Clock(eta), loss);
  }
}

void ProgressReporter::FinishEpoch() {
  if (interactive_) std::fprintf(stderr, "\n");
}

}  // namespace mlforge::train
