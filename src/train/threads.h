#pragma once

// Thread settings for LibTorch and the BLAS under it. LibTorch's intra-op
// OpenMP threads and OpenBLAS's own pthread pool do not know about each
// other: both at full width oversubscribe the cores and, on a 2-core
// machine, train the MNIST MLP about 5x slower than either alone. So:
//   intra_op_threads == 0 (auto): 1 LibTorch thread, BLAS on every core;
//   intra_op_threads == 1:        1 LibTorch thread, BLAS on every core;
//   intra_op_threads  > 1:        that many LibTorch threads, BLAS on 1.
// With several training processes on one host (`processes_per_host`), "every
// core" becomes the host's cores divided among them (at least 1).

namespace mlforge::train {

struct ThreadSettings {
  int intra_op_threads = 1;
  int blas_threads = -1;  // -1 when the BLAS does not say (not OpenBLAS)
};

// Applies the rule above to the whole process and returns what is in force.
// `blas_threads` > 0 overrides the BLAS width (a launcher's "N threads per worker").
ThreadSettings ConfigureThreads(int intra_op_threads, int processes_per_host = 1,
                                int blas_threads = 0);

}  // namespace mlforge::train
