#pragma once

// Which examples each process of a distributed job reads, epoch by epoch.
//
//   ShardedSampler sampler(dataset.rows(), rank, world_size, /*seed=*/42);
//   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//     sampler.SetEpoch(epoch);
//     for (int64_t index : sampler.Indices()) { ... }
//   }
//
// The semantics are those of PyTorch's torch.utils.data.DistributedSampler
// (not its random numbers: the permutation comes from Permutation() below):
//  - with shuffle, every rank computes the same permutation of 0..size-1 from
//    (seed + epoch) alone, so the ranks agree without talking;
//  - without drop_last, the permuted list is padded by wrapping around to its
//    start (repeatedly when size < world_size) up to ceil(size / w) * w, so
//    every rank gets ceil(size / w) indices and a few examples are seen twice;
//  - with drop_last, the list is cut to floor(size / w) * w, so every rank gets
//    floor(size / w) indices and the tail of the permutation is skipped;
//  - rank r takes positions r, r + w, r + 2w, ... of that list.
// Shards of one epoch are therefore disjoint except for the padding.
//
// Resuming an epoch under another world size (elastic training): batch k of
// every rank covers positions [w*k*B, w*(k+1)*B) of the permuted list, so
// after b batches the ranks together consumed a prefix of it, w*b*B long
// (ConsumedPositions). SetEpoch(epoch, consumed) shards only what follows
// that prefix: rank r of w' takes positions consumed + r, consumed + r + w',
// ..., padded (or cut) as above to an equal count per rank, where a padded
// position p >= size again means order[p mod size]. So every sample of the
// epoch not yet trained is trained once, and only padding repeats one; with
// an unchanged world size the shards are exactly the rest of the old ones.
//
// A value type; not synchronised (SetEpoch must not race with Indices).

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace mlforge::data {

// A permutation of 0..n-1 (the identity for n <= 1) determined by `seed` alone
// and identical on every platform and standard library: std::mt19937_64,
// whose raw output the C++ standard fixes, drives a Fisher-Yates shuffle
// (for i = n-1 down to 1, swap i with a uniform draw from 0..i) whose bounded
// draws use rejection sampling, so they are unbiased. Changing this function
// changes every seeded split and shuffle, including the pinned Fashion-MNIST
// digests in datasets.cc.
std::vector<int64_t> Permutation(int64_t n, uint64_t seed);

// A uniform integer in 0..bound-1 from the raw 64-bit output of `engine`,
// without modulo bias. Precondition: bound >= 1.
template <typename Engine>
uint64_t UniformBelow(Engine& engine, uint64_t bound) {
  // Values below 2^64 mod bound would make the low residues more likely;
  // rejecting them leaves a multiple of bound equally likely values.
  const uint64_t threshold = (0 - bound) % bound;
  while (true) {
    const uint64_t draw = engine();
    if (draw >= threshold) return draw % bound;
  }
}

class ShardedSampler {
 public:
  // Preconditions (programmer errors, checked even in release builds, abort
  // with a message): dataset_size >= 0, world_size >= 1,
  // 0 <= rank < world_size. Use Create() for values from outside the program.
  ShardedSampler(int64_t dataset_size, int rank, int world_size, uint64_t seed, bool shuffle = true,
                 bool drop_last = false);

  // The same, but InvalidArgument instead of aborting on bad arguments.
  static core::Result<ShardedSampler> Create(int64_t dataset_size, int rank, int world_size,
                                             uint64_t seed, bool shuffle = true,
                                             bool drop_last = false);

  // Selects the epoch whose permutation Indices() returns (seed + epoch),
  // and how many positions of its permuted list earlier attempts of the
  // epoch already consumed (0 for a fresh epoch; clamped to 0..size).
  void SetEpoch(int64_t epoch, int64_t consumed = 0);

  // This rank's indices into the dataset for the current epoch, in the order
  // to visit them; num_samples() of them. Computes the permutation each call
  // (O(dataset_size)), so call it once per epoch.
  std::vector<int64_t> Indices() const;

  // Indices().size(): ceil(remaining / w), or floor(remaining / w) with
  // drop_last, where remaining = size - consumed.
  int64_t num_samples() const { return num_samples_; }
  // num_samples() * world_size(): the length of the padded or cut rest of
  // the list.
  int64_t total_size() const { return num_samples_ * world_size_; }
  int64_t consumed() const { return consumed_; }

  int64_t dataset_size() const { return dataset_size_; }
  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  uint64_t seed() const { return seed_; }
  bool shuffle() const { return shuffle_; }
  bool drop_last() const { return drop_last_; }
  int64_t epoch() const { return epoch_; }

 private:
  int64_t dataset_size_;
  int rank_;
  int world_size_;
  uint64_t seed_;
  bool shuffle_;
  bool drop_last_;
  int64_t num_samples_;
  int64_t epoch_ = 0;
  int64_t consumed_ = 0;
};

// The length of the permuted list's prefix that `world_size` ranks consumed
// together after each trained `samples_per_rank` of their shards, on top of
// the `consumed` that their epoch started from: consumed + w * samples.
// What a checkpoint records so the epoch can resume under any world size.
inline int64_t ConsumedPositions(int64_t consumed, int world_size, int64_t samples_per_rank) {
  return consumed + static_cast<int64_t>(world_size) * samples_per_rank;
}

}  // namespace mlforge::data
