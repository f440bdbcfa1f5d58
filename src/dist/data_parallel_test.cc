#include "dist/data_parallel.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/testing/temp_dir.h"
#include "dist/testing/ranks.h"

namespace mlforge::dist {
namespace {

using testing::RunRanks;

constexpr int64_t kRows = 64;
constexpr int64_t kSteps = 6;

// A fixed regression problem and a small two-layer model.
struct Problem {
  torch::Tensor x, y;
  torch::nn::Sequential model{nullptr};
};

Problem MakeProblem() {
  torch::manual_seed(3);
  Problem problem;
  problem.x = torch::randn({kRows * kSteps, 5});
  problem.y = torch::randn({kRows * kSteps, 2});
  problem.model =
      torch::nn::Sequential(torch::nn::Linear(5, 16), torch::nn::Tanh(), torch::nn::Linear(16, 2));
  return problem;
}

void WriteFloats(const std::filesystem::path& path, const torch::nn::Module& model) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& parameter : model.parameters()) {
    auto flat = parameter.detach().contiguous().reshape({-1});
    out.write(reinterpret_cast<const char*>(flat.data_ptr<float>()),
              static_cast<std::streamsize>(flat.numel() * sizeof(float)));
  }
}

std::vector<float> ReadFloats(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<float> values;
  float value = 0;
  while (in.read(reinterpret_cast<char*>(&value), sizeof(value))) values.push_back(value);
  return values;
}

// Trains with plain SGD on rows [rank, rank + world, ...] of each batch of
// kRows, with or without a group; writes the final weights.
int Train(const LaunchEnv& env, bool distributed, int64_t bucket_bytes,
          const std::filesystem::path& out) {
  at::set_num_threads(1);
  Problem problem = MakeProblem();
  std::unique_ptr<ProcessGroup> group;
  std::unique_ptr<GradientSync> sync;
  std::vector<torch::Tensor> parameters = problem.model->parameters();
  if (distributed) {
    auto joined = ProcessGroup::Join(env, {.timeout_ms = 30'000});
    if (!joined.ok()) return 10;
    group = std::move(*joined);
    // Different starting weights on rank 1 must be overwritten by rank 0's.
    if (env.rank != 0) {
      torch::NoGradGuard no_grad;
      for (auto& parameter : parameters) parameter.add_(1.0);
    }
    if (!BroadcastState(*group, parameters).ok()) return 11;
    auto created = GradientSync::Create(*group, parameters, {.bucket_bytes = bucket_bytes});
    if (!created.ok()) return 12;
    sync = std::move(*created);
  }
  torch::optim::SGD optimizer(parameters, torch::optim::SGDOptions(0.1));
  const int64_t world = distributed ? env.world_size : 1;
  const int64_t rank = distributed ? env.rank : 0;
  for (int64_t step = 0; step < kSteps; ++step) {
    auto rows = torch::arange(step * kRows + rank, (step + 1) * kRows, world);
    optimizer.zero_grad();
    if (sync) sync->StartStep();
    auto loss = torch::mse_loss(problem.model->forward(problem.x.index_select(0, rows)),
                                problem.y.index_select(0, rows));
    loss.backward();
    if (sync && !sync->FinishStep().ok()) return 13;
    optimizer.step();
  }
  if (sync && sync->bucket_count() > 1 && sync->buckets_started_in_backward() == 0) return 14;
  if (rank == 0) WriteFloats(out, *problem.model);
  return 0;
}

void ExpectSameWeights(int64_t bucket_bytes) {
  core::testing::ScopedTempDir dir("ddp");
  auto single = RunRanks(1, [&](const LaunchEnv& env) {
    return Train(env, /*distributed=*/false, bucket_bytes, dir.path() / "single");
  });
  ASSERT_EQ(single, (std::vector<int>{0}));
  auto pair = RunRanks(2, [&](const LaunchEnv& env) {
    return Train(env, /*distributed=*/true, bucket_bytes, dir.path() / "pair");
  });
  ASSERT_EQ(pair, (std::vector<int>{0, 0}));
  std::vector<float> expected = ReadFloats(dir.path() / "single");
  std::vector<float> actual = ReadFloats(dir.path() / "pair");
  ASSERT_EQ(expected.size(), actual.size());
  ASSERT_FALSE(expected.empty());
  for (size_t index = 0; index < expected.size(); ++index) {
    EXPECT_NEAR(actual[index], expected[index], 1e-5) << "weight " << index;
  }
}

// Two workers with batch b end where one worker with batch 2b ends (plain SGD).
TEST(GradientSyncTest, TwoWorkersMatchOneWorkerWithTheDoubleBatch) { ExpectSameWeights(1 << 20); }

// The same with one bucket per parameter, so buckets start inside backward.
TEST(GradientSyncTest, SmallBucketsStartDuringBackward) { ExpectSameWeights(64); }

TEST(GradientSyncTest, RejectsParametersWithoutGradients) {
  auto codes = RunRanks(1, [](const LaunchEnv& env) {
    auto group = ProcessGroup::Join(env, {.timeout_ms = 10'000});
    if (!group.ok()) return 10;
    auto created = GradientSync::Create(**group, {torch::zeros({3})}, {});
    return created.ok() ? 11 : 0;
  });
  EXPECT_EQ(codes, (std::vector<int>{0}));
}

}  // namespace
}  // namespace mlforge::dist
