#include "data/sampler.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>

namespace mlforge::data {
namespace {

core::Status CheckArguments(int64_t dataset_size, int rank, int world_size) {
  if (dataset_size < 0) {
    return core::InvalidArgumentError("sampler: dataset size must be >= 0, got " +
                                      std::to_string(dataset_size));
  }
  if (world_size < 1) {
    return core::InvalidArgumentError("sampler: world size must be >= 1, got " +
                                      std::to_string(world_size));
  }
  if (rank < 0 || rank >= world_size) {
    return core::InvalidArgumentError("sampler: rank must be in 0.." +
                                      std::to_string(world_size - 1) + ", got " +
                                      std::to_string(rank));
  }
  return core::Status::Ok();
}

}  // namespace

std::vector<int64_t> Permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> permutation(static_cast<size_t>(n > 0 ? n : 0));
  for (int64_t index = 0; index < n; ++index) permutation[static_cast<size_t>(index)] = index;
  std::mt19937_64 engine(seed);
  for (int64_t index = n - 1; index > 0; --index) {
    const auto other = static_cast<int64_t>(UniformBelow(engine, static_cast<uint64_t>(index) + 1));
    std::swap(permutation[static_cast<size_t>(index)], permutation[static_cast<size_t>(other)]);
  }
  return permutation;
}

ShardedSampler::ShardedSampler(int64_t dataset_size, int rank, int world_size, uint64_t seed,
                               bool shuffle, bool drop_last)
    : dataset_size_(dataset_size),
      rank_(rank),
      world_size_(world_size),
      seed_(seed),
      shuffle_(shuffle),
      drop_last_(drop_last) {
  core::Status status = CheckArguments(dataset_size, rank, world_size);
  if (!status.ok()) {
    std::fprintf(stderr, "ShardedSampler precondition violated: %s\n", status.message().c_str());
    std::abort();
  }
  SetEpoch(0, 0);
}

void ShardedSampler::SetEpoch(int64_t epoch, int64_t consumed) {
  epoch_ = epoch;
  consumed_ = std::clamp<int64_t>(consumed, 0, dataset_size_);
  const int64_t remaining = dataset_size_ - consumed_;
  num_samples_ = drop_last_ ? remaining / world_size_ : (remaining + world_size_ - 1) / world_size_;
}

core::Result<ShardedSampler> ShardedSampler::Create(int64_t dataset_size, int rank, int world_size,
                                                    uint64_t seed, bool shuffle, bool drop_last) {
  MLFORGE_RETURN_IF_ERROR(CheckArguments(dataset_size, rank, world_size));
  return ShardedSampler(dataset_size, rank, world_size, seed, shuffle, drop_last);
}

std::vector<int64_t> ShardedSampler::Indices() const {
  std::vector<int64_t> result;
  if (num_samples_ == 0) return result;
  std::vector<int64_t> order;
  if (shuffle_) {
    order = Permutation(dataset_size_, seed_ + static_cast<uint64_t>(epoch_));
  } else {
    order.resize(static_cast<size_t>(dataset_size_));
    for (int64_t index = 0; index < dataset_size_; ++index)
      order[static_cast<size_t>(index)] = index;
  }
  // Position p of the padded (or cut) list is order[p mod size]: padding wraps
  // around to the start, as many times as needed; a cut list simply never
  // reaches the tail.
  result.reserve(static_cast<size_t>(num_samples_));
  const int64_t end = consumed_ + total_size();
  for (int64_t position = consumed_ + rank_; position < end; position += world_size_) {
    result.push_back(order[static_cast<size_t>(position % dataset_size_)]);
  }
  return result;
}

}  // namespace mlforge::data
