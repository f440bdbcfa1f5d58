#include "data/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace mlforge::data {
namespace {

// Every rank's indices for one epoch.
std::vector<std::vector<int64_t>> AllShards(int64_t size, int world, uint64_t seed, int64_t epoch,
                                            bool shuffle, bool drop_last) {
  std::vector<std::vector<int64_t>> shards;
  for (int rank = 0; rank < world; ++rank) {
    ShardedSampler sampler(size, rank, world, seed, shuffle, drop_last);
    sampler.SetEpoch(epoch);
    shards.push_back(sampler.Indices());
  }
  return shards;
}

TEST(SamplerTest, PermutationIsAPermutationAndDependsOnTheSeed) {
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    std::vector<int64_t> permutation = Permutation(n, 42);
    ASSERT_EQ(static_cast<int64_t>(permutation.size()), n);
    std::vector<int64_t> sorted = permutation;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t index = 0; index < n; ++index)
      EXPECT_EQ(sorted[static_cast<size_t>(index)], index);
  }
  EXPECT_EQ(Permutation(1000, 42), Permutation(1000, 42));
  EXPECT_NE(Permutation(1000, 42), Permutation(1000, 43));
}

TEST(SamplerTest, PermutationIsRoughlyUniform) {
  // Each of the 6 orders of 3 items should come up about 1/6 of the time.
  std::map<std::vector<int64_t>, int> counts;
  constexpr int kTrials = 6000;
  for (int trial = 0; trial < kTrials; ++trial)
    ++counts[Permutation(3, static_cast<uint64_t>(trial))];
  ASSERT_EQ(counts.size(), 6u);
  for (const auto& [order, count] : counts) {
    EXPECT_GT(count, 850);
    EXPECT_LT(count, 1150);
  }
}

TEST(SamplerTest, UniformBelowStaysInRange) {
  std::mt19937_64 engine(7);
  for (uint64_t bound : {1ull, 2ull, 3ull, 1000ull, (1ull << 63) + 1}) {
    for (int draw = 0; draw < 100; ++draw) EXPECT_LT(UniformBelow(engine, bound), bound);
  }
}

TEST(SamplerTest, ShardsAreDisjointAndCoverEverythingWithPadding) {
  struct Case {
    int64_t size;
    int world;
  };
  for (Case test_case : {Case{10, 3}, Case{12, 4}, Case{2, 5}, Case{1, 1}, Case{101, 8}}) {
    for (bool shuffle : {true, false}) {
      SCOPED_TRACE("size " + std::to_string(test_case.size) + " world " +
                   std::to_string(test_case.world) + (shuffle ? " shuffled" : " in order"));
      const int64_t per_rank = (test_case.size + test_case.world - 1) / test_case.world;
      auto shards = AllShards(test_case.size, test_case.world, 5, 0, shuffle, false);
      std::map<int64_t, int> seen;
      for (const auto& shard : shards) {
        EXPECT_EQ(static_cast<int64_t>(shard.size()), per_rank);
        for (int64_t index : shard) {
          ASSERT_GE(index, 0);
          ASSERT_LT(index, test_case.size);
          ++seen[index];
        }
      }
      // Every index appears; exactly total - size of them twice or more (the
      // padding), which is what PyTorch's wrap-around gives.
      EXPECT_EQ(static_cast<int64_t>(seen.size()), test_case.size);
      int64_t extra = 0;
      for (const auto& [index, count] : seen) extra += count - 1;
      EXPECT_EQ(extra, per_rank * test_case.world - test_case.size);
    }
  }
}

TEST(SamplerTest, UnshuffledOrderIsStridedLikePyTorch) {
  // DistributedSampler(range(10), num_replicas=3, shuffle=False): padded to
  // 0..9,0,1 and rank r takes positions r, r+3, ...
  auto shards = AllShards(10, 3, 0, 0, false, false);
  EXPECT_EQ(shards[0], (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_EQ(shards[1], (std::vector<int64_t>{1, 4, 7, 0}));
  EXPECT_EQ(shards[2], (std::vector<int64_t>{2, 5, 8, 1}));
  auto dropped = AllShards(10, 3, 0, 0, false, true);
  EXPECT_EQ(dropped[0], (std::vector<int64_t>{0, 3, 6}));
  EXPECT_EQ(dropped[2], (std::vector<int64_t>{2, 5, 8}));
}

TEST(SamplerTest, DropLastGivesFloorAndNoRepeats) {
  for (auto [size, world] : {std::pair<int64_t, int>{10, 3}, {12, 4}, {2, 5}, {101, 8}}) {
    auto shards = AllShards(size, world, 9, 3, true, true);
    std::set<int64_t> seen;
    for (const auto& shard : shards) {
      EXPECT_EQ(static_cast<int64_t>(shard.size()), size / world);
      for (int64_t index : shard) EXPECT_TRUE(seen.insert(index).second) << "repeated " << index;
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), size / world * world);
    ShardedSampler sampler(size, 0, world, 9, true, true);
    EXPECT_EQ(sampler.num_samples(), size / world);
    EXPECT_EQ(sampler.total_size(), size / world * world);
  }
}

TEST(SamplerTest, SameSeedAndEpochGiveTheSameOrderOnEveryObject) {
  // Ranks agree on the permutation: concatenating the strided shards back
  // gives one consistent list, and fresh objects reproduce it.
  auto first = AllShards(1000, 4, 1234, 7, true, false);
  auto second = AllShards(1000, 4, 1234, 7, true, false);
  EXPECT_EQ(first, second);
  std::vector<int64_t> merged(1000);
  for (int rank = 0; rank < 4; ++rank) {
    for (size_t position = 0; position < first[static_cast<size_t>(rank)].size(); ++position) {
      merged[position * 4 + static_cast<size_t>(rank)] = first[static_cast<size_t>(rank)][position];
    }
  }
  EXPECT_EQ(merged, Permutation(1000, 1234 + 7));
}

TEST(SamplerTest, DifferentEpochOrSeedChangesTheOrder) {
  ShardedSampler sampler(1000, 1, 2, 99);
  EXPECT_EQ(sampler.epoch(), 0);
  const auto epoch0 = sampler.Indices();
  sampler.SetEpoch(1);
  EXPECT_EQ(sampler.epoch(), 1);
  const auto epoch1 = sampler.Indices();
  EXPECT_NE(epoch0, epoch1);
  std::set<int64_t> set0(epoch0.begin(), epoch0.end());
  std::set<int64_t> set1(epoch1.begin(), epoch1.end());
  EXPECT_NE(set0, set1);  // a new epoch reshuffles which rank sees what
  sampler.SetEpoch(0);
  EXPECT_EQ(sampler.Indices(), epoch0);
  EXPECT_NE(ShardedSampler(1000, 1, 2, 100).Indices(), epoch0);
  // Without shuffle, the epoch does not matter.
  ShardedSampler ordered(10, 0, 2, 99, false);
  const auto before = ordered.Indices();
  ordered.SetEpoch(5);
  EXPECT_EQ(ordered.Indices(), before);
}

TEST(SamplerTest, AccessorsAndEmptyDataset) {
  ShardedSampler sampler(0, 2, 3, 1);
  EXPECT_EQ(sampler.rank(), 2);
  EXPECT_EQ(sampler.world_size(), 3);
  EXPECT_EQ(sampler.dataset_size(), 0);
  EXPECT_EQ(sampler.num_samples(), 0);
  EXPECT_TRUE(sampler.Indices().empty());
}

TEST(SamplerTest, CreateRejectsBadArguments) {
  EXPECT_EQ(ShardedSampler::Create(10, 3, 3, 0).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ShardedSampler::Create(10, 0, 0, 0).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ShardedSampler::Create(-1, 0, 1, 0).status().code(),
            core::StatusCode::kInvalidArgument);
  auto sampler = ShardedSampler::Create(10, 2, 3, 0);
  ASSERT_TRUE(sampler.ok());
  EXPECT_EQ(sampler->num_samples(), 4);
}

TEST(SamplerDeathTest, ConstructorAbortsOnBadRank) {
  EXPECT_DEATH(ShardedSampler(10, 5, 2, 0), "rank must be in 0..1");
}

// What `world` ranks trained of `epoch` after `batches` batches of
// `batch_size`, and the prefix length a checkpoint records for it.
struct Trained {
  std::vector<int64_t> samples;
  int64_t consumed = 0;
};
Trained TrainBatches(int64_t size, int world, int64_t epoch, int64_t consumed, int64_t batches,
                     int64_t batch_size) {
  Trained trained;
  int64_t per_rank = 0;
  for (int rank = 0; rank < world; ++rank) {
    ShardedSampler sampler(size, rank, world, 7);
    sampler.SetEpoch(epoch, consumed);
    std::vector<int64_t> shard = sampler.Indices();
    per_rank = std::min<int64_t>(batches * batch_size, static_cast<int64_t>(shard.size()));
    trained.samples.insert(trained.samples.end(), shard.begin(), shard.begin() + per_rank);
  }
  trained.consumed = ConsumedPositions(consumed, world, per_rank);
  return trained;
}

TEST(SamplerTest, EpochCheckpointedUnderTwoRanksResumesUnderOneWithEverySampleOnce) {
  // 1000 rows, batches of 32: 3 batches on each of 2 ranks consume 192
  // positions; one rank then trains the other 808, each exactly once.
  const int64_t size = 1000;
  Trained before = TrainBatches(size, 2, 3, 0, 3, 32);
  EXPECT_EQ(before.consumed, 192);
  Trained after = TrainBatches(size, 1, 3, before.consumed, 1000, 32);
  EXPECT_EQ(static_cast<int64_t>(after.samples.size()), size - 192);
  std::vector<int64_t> all = before.samples;
  all.insert(all.end(), after.samples.begin(), after.samples.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(static_cast<int64_t>(all.size()), size);
  for (int64_t index = 0; index < size; ++index) EXPECT_EQ(all[static_cast<size_t>(index)], index);
  // Nothing trained before the checkpoint comes again after it.
  std::set<int64_t> first(before.samples.begin(), before.samples.end());
  for (int64_t sample : after.samples) EXPECT_EQ(first.count(sample), 0u) << sample;
}

TEST(SamplerTest, ResumingUnderMoreRanksRepeatsOnlyPadding) {
  // 1001 rows: 2 ranks train 2 batches of 50 (200 positions), then 3 ranks
  // share the other 801 = 3 * 267 with no padding; under 4 ranks 801 pads
  // to 804, so 3 samples of the epoch's start come twice.
  const int64_t size = 1001;
  Trained before = TrainBatches(size, 2, 0, 0, 2, 50);
  for (int world : {3, 4}) {
    Trained after = TrainBatches(size, world, 0, before.consumed, 1000, 50);
    std::map<int64_t, int> counts;
    for (int64_t sample : before.samples) ++counts[sample];
    for (int64_t sample : after.samples) ++counts[sample];
    EXPECT_EQ(static_cast<int64_t>(counts.size()), size);  // none skipped
    const int64_t padding = static_cast<int64_t>(after.samples.size()) - (size - 200);
    EXPECT_EQ(padding, world == 3 ? 0 : 3);
    int64_t twice = 0;
    for (const auto& [sample, count] : counts) {
      EXPECT_LE(count, 2) << sample;
      twice += count - 1;
    }
    EXPECT_EQ(twice, padding);
  }
}

TEST(SamplerTest, ResumingUnderTheSameWorldSizeContinuesTheOldShards) {
  for (int world : {1, 2, 3}) {
    for (int rank = 0; rank < world; ++rank) {
      ShardedSampler whole(777, rank, world, 5);
      whole.SetEpoch(2);
      std::vector<int64_t> shard = whole.Indices();
      ShardedSampler rest(777, rank, world, 5);
      rest.SetEpoch(2, ConsumedPositions(0, world, 4 * 16));
      std::vector<int64_t> expected(shard.begin() + 4 * 16, shard.end());
      EXPECT_EQ(rest.Indices(), expected) << world << " " << rank;
    }
  }
}

}  // namespace
}  // namespace mlforge::data
