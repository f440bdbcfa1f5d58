#include "train/threads.h"

#include <dlfcn.h>
#include <torch/torch.h>

#include <thread>

namespace mlforge::train {
namespace {

// OpenBLAS exports these; the reference BLAS does not, so look them up at run
// time instead of linking against OpenBLAS.
using SetThreads = void (*)(int);
using GetThreads = int (*)();

}  // namespace

ThreadSettings ConfigureThreads(int intra_op_threads, int processes_per_host, int blas_threads) {
  const int cores = std::max(
      1, static_cast<int>(std::thread::hardware_concurrency()) / std::max(1, processes_per_host));
  ThreadSettings settings;
  settings.intra_op_threads = intra_op_threads > 0 ? intra_op_threads : 1;
  at::set_num_threads(settings.intra_op_threads);
  auto set_blas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  auto get_blas = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  int blas_width = settings.intra_op_threads > 1 ? 1 : cores;
  if (blas_threads > 0) blas_width = blas_threads;
  if (set_blas != nullptr) set_blas(blas_width);
  if (get_blas != nullptr) settings.blas_threads = get_blas();
  return settings;
}

}  // namespace mlforge::train
