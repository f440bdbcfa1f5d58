// bench/serving's in-process limit: how long the served model's forward pass
// takes in this process, with no HTTP, JSON or batching around it. It loads
// the package exactly as `mlforge serve` does (serving::TorchModel, and its
// default thread settings: one LibTorch thread, one BLAS thread) and times TorchModel::Predict on
// real rows for each batch size asked for, after a warm-up.
//
// usage: mlforge_serving_bench PACKAGE_DIR [--rows 1,32] [--seconds 1.5]
//                              [--parse BODY.json]...
// prints one JSON object per batch size:
//   {"rows": 32, "calls": N, "us_per_call": T, "rows_per_second": R}
// and, for each --parse body (a dataframe_split request), how long the
// server's reading of it into rows takes, in this thread's CPU time:
//   {"parse": "BODY.json", "bytes": B, "rows": R, "us_per_parse": T}

#include <time.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "serving/rows.h"
#include "serving/torch/torch_model.h"
#include "train/threads.h"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PACKAGE_DIR [--rows 1,32] [--seconds 1.5]\n", argv[0]);
    return 2;
  }
  std::vector<int64_t> batch_sizes = {1, 32};
  double seconds = 1.5;
  std::vector<std::string> parse_bodies;
  for (int index = 2; index + 1 < argc; index += 2) {
    const std::string flag = argv[index];
    if (flag == "--rows") {
      batch_sizes.clear();
      std::stringstream list(argv[index + 1]);
      for (std::string item; std::getline(list, item, ',');)
        batch_sizes.push_back(std::stoll(item));
    } else if (flag == "--parse") {
      parse_bodies.push_back(argv[index + 1]);
    } else if (flag == "--seconds") {
      seconds = std::stod(argv[index + 1]);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  mlforge::train::ConfigureThreads(1, 1, 1);
  auto model = mlforge::serving::TorchModel::Load(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "error: %s\n", model.status().message().c_str());
    return 1;
  }
  const int64_t width = (*model)->signature().row_width();
  for (int64_t rows : batch_sizes) {
    mlforge::serving::Matrix input(rows, width);
    for (size_t value = 0; value < input.values.size(); ++value) {
      input.values[value] = static_cast<float>((value * 37) % 256);  // pixel-like values
    }
    // Check the answer before timing: one finite output row per input row.
    auto check = (*model)->Predict(input);
    if (!check.ok() || check->rows != rows) {
      std::fprintf(stderr, "error: the model did not answer %lld rows\n",
                   static_cast<long long>(rows));
      return 1;
    }
    for (float value : check->values) {
      if (!std::isfinite(value)) {
        std::fprintf(stderr, "error: the model answered a value that is not finite\n");
        return 1;
      }
    }
    for (int warm = 0; warm < 50; ++warm) (void)(*model)->Predict(input);
    int64_t calls = 0;
    const auto start = Clock::now();
    const auto until = start + std::chrono::duration<double>(seconds);
    Clock::time_point now;
    do {
      for (int repeat = 0; repeat < 20; ++repeat) (void)(*model)->Predict(input);
      calls += 20;
      now = Clock::now();
    } while (now < until);
    const double elapsed_us = std::chrono::duration<double, std::micro>(now - start).count();
    const double per_call = elapsed_us / static_cast<double>(calls);
    std::printf(
        "{\"rows\": %lld, \"calls\": %lld, \"us_per_call\": %.2f, \"rows_per_second\": %.1f}\n",
        static_cast<long long>(rows), static_cast<long long>(calls), per_call,
        static_cast<double>(rows) * 1e6 / per_call);
  }
  auto thread_seconds = [] {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
  };
  for (const std::string& path : parse_bodies) {
    std::ifstream file(path, std::ios::binary);
    std::string body((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto rows = mlforge::serving::FastRowsFromDataframeSplit(body, (*model)->signature());
    if (!rows) {
      std::fprintf(stderr, "error: %s is not a dataframe_split body this model takes\n",
                   path.c_str());
      return 1;
    }
    int64_t parses = 0;
    const double start = thread_seconds();
    double now = start;
    do {
      for (int repeat = 0; repeat < 20; ++repeat) {
        rows = mlforge::serving::FastRowsFromDataframeSplit(body, (*model)->signature());
      }
      parses += 20;
      now = thread_seconds();
    } while (now - start < seconds);
    std::printf("{\"parse\": \"%s\", \"bytes\": %zu, \"rows\": %lld, \"us_per_parse\": %.2f}\n",
                path.c_str(), body.size(), static_cast<long long>(rows->rows),
                (now - start) * 1e6 / static_cast<double>(parses));
  }
  return 0;
}
