#include "dist/process_group.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/testing/temp_dir.h"
#include "dist/testing/ranks.h"

namespace mlforge::dist {
namespace {

using testing::RunRanks;

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(ProcessGroupTest, AllReduceAndBroadcastAcrossProcesses) {
  auto codes = RunRanks(3, [](const LaunchEnv& env) {
    auto group = ProcessGroup::Join(env, {.timeout_ms = 30'000});
    if (!group.ok()) return 10;
    std::vector<torch::Tensor> values = {torch::full({4}, static_cast<float>(env.rank + 1))};
    if (!(*group)->AllReduceSum(values).ok()) return 11;
    if (!values[0].allclose(torch::full({4}, 6.0f))) return 12;  // 1 + 2 + 3
    std::vector<torch::Tensor> state = {torch::arange(5, torch::kFloat64) * (env.rank + 7)};
    if (!(*group)->Broadcast(state, 0).ok()) return 13;
    if (!state[0].allclose(torch::arange(5, torch::kFloat64) * 7)) return 14;
    return (*group)->Barrier().ok() ? 0 : 15;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0, 0}));
}

// A rank that stops taking part turns the other's all-reduce into an error
// that names it, within the timeout, instead of a hang.
TEST(ProcessGroupTest, HungRankIsNamedAfterTheTimeout) {
  core::testing::ScopedTempDir dir("pg");
  const auto message_file = dir.path() / "message";
  auto start = std::chrono::steady_clock::now();
  auto codes = RunRanks(2, [&](const LaunchEnv& env) {
    auto group = ProcessGroup::Join(env, {.timeout_ms = 1500});
    if (!group.ok()) return 10;
    if (env.rank == 1) {
      (*group)->MarkStep(4);
      // Hangs before step 5, alive until rank 0 has reported its timeout (an
      // exit sooner would make rank 0 see a closed connection instead).
      for (int waited = 0; waited < 300 && !std::filesystem::exists(message_file); ++waited) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      return 0;
    }
    (*group)->MarkStep(5);
    std::vector<torch::Tensor> values = {torch::ones({8})};
    core::Status status = (*group)->AllReduceSum(values);
    WriteText(message_file, status.ToString());
    return status.ok() ? 11 : 0;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  const std::string message = ReadAll(message_file);
  EXPECT_NE(message.find("DEADLINE_EXCEEDED"), std::string::npos) << message;
  EXPECT_NE(message.find("1 (at step 4)"), std::string::npos) << message;
}

TEST(ProcessGroupTest, DeadRankFailsTheCollective) {
  core::testing::ScopedTempDir dir("pg");
  const auto message_file = dir.path() / "message";
  auto codes = RunRanks(2, [&](const LaunchEnv& env) {
    auto group = ProcessGroup::Join(env, {.timeout_ms = 5000});
    if (!group.ok()) return 10;
    if (env.rank == 1) raise(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    (*group)->MarkStep(1);
    std::vector<torch::Tensor> values = {torch::ones({8})};
    core::Status status = (*group)->AllReduceSum(values);
    WriteText(message_file, status.ToString());
    return status.ok() ? 11 : 0;
  });
  EXPECT_EQ(codes[0], 0);
  EXPECT_EQ(codes[1], 128 + SIGKILL);
  const std::string message = ReadAll(message_file);
  EXPECT_NE(message.find("rank 0: all-reduce"), std::string::npos) << message;
  EXPECT_NE(message.find("never reported a step: 1"), std::string::npos) << message;
}

TEST(ProcessGroupTest, JoinFailsWhenRankZeroNeverComes) {
  auto codes = RunRanks(1, [](const LaunchEnv& one) {
    LaunchEnv env = one;
    env.rank = 1;
    env.world_size = 2;
    env.local_world_size = 2;
    auto group = ProcessGroup::Join(env, {.timeout_ms = 1000});
    if (group.ok()) return 10;
    return group.status().code() == core::StatusCode::kUnavailable &&
                   group.status().message().find("127.0.0.1") != std::string::npos
               ? 0
               : 11;
  });
  EXPECT_EQ(codes, (std::vector<int>{0}));
}

}  // namespace
}  // namespace mlforge::dist
