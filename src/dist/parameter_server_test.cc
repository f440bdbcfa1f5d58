#include "dist/parameter_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/testing/temp_dir.h"
#include "dist/testing/ranks.h"

// The parameter server's exchange between real processes on loopback: each
// test forks one process per rank; rank 0 runs the server beside its own
// worker. The "optimizer" is plain SGD with rate 1 (weights -= gradient),
// and gradients are small integers, so every expected weight is exact.

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

// Two tensors (5 and 2x3 values), as a model's parameters would be.
std::vector<torch::Tensor> MakeParameters(float value) {
  return {torch::full({5}, value).requires_grad_(true),
          torch::full({2, 3}, value).requires_grad_(true)};
}

ApplyUpdate PlainSgd(std::vector<torch::Tensor> master) {
  return [master](const torch::Tensor& gradient, int64_t) {
    torch::NoGradGuard no_grad;
    int64_t offset = 0;
    for (const torch::Tensor& parameter : master) {
      torch::Tensor target = parameter;
      target.sub_(gradient.narrow(0, offset, parameter.numel()).view(parameter.sizes()));
      offset += parameter.numel();
    }
    return core::Status::Ok();
  };
}

// Every value of every tensor equals `expected`.
bool AllEqual(const std::vector<torch::Tensor>& tensors, float expected) {
  for (const torch::Tensor& tensor : tensors) {
    if (!tensor.eq(expected).all().item<bool>()) return false;
  }
  return true;
}

// The gradient of rank r at step t in these tests: (r + 1) * (t + 1) * world.
float Gradient(int rank, int64_t step, int world) {
  return static_cast<float>((rank + 1) * (step + 1) * world);
}

void SetGradients(std::vector<torch::Tensor>& parameters, float value) {
  for (torch::Tensor& parameter : parameters) {
    parameter.mutable_grad() = torch::full(parameter.sizes(), value);
  }
}

// Sync: a pull at step t sees exactly the mean gradients of steps 0..t-1
// applied, whatever order the pushes arrive in; sync_every 2 pulls every
// other step; the barrier holds the server for rank 0 and every rank ends
// with the same weights.
TEST(ParameterServerTest, SyncAppliesTheMeanOfEveryStepInOrder) {
  constexpr int kWorld = 3;
  constexpr int64_t kSteps = 6;
  auto codes = RunRanks(kWorld, [](const LaunchEnv& env) {
    auto group = ProcessGroup::Join(env, {.timeout_ms = 30'000});
    if (!group.ok()) return 10;
    std::vector<torch::Tensor> master = MakeParameters(0);
    std::unique_ptr<ParameterServer> server;
    if (env.rank == 0) {
      auto started =
          ParameterServer::Start(**group, master, {.mode = PsMode::kSync}, PlainSgd(master));
      if (!started.ok()) return 11;
      server = std::move(*started);
    }
    std::vector<torch::Tensor> mine = MakeParameters(100);
    auto client = ParameterClient::Connect(**group, mine, PsMode::kSync);
    if (!client.ok()) return 12;
    // The weights after steps 0..t-1: minus the sum of the mean gradients.
    auto expected = [](int64_t step) {
      float total = 0;
      for (int64_t done = 0; done < step; ++done) {
        float sum = 0;
        for (int rank = 0; rank < kWorld; ++rank) sum += Gradient(rank, done, kWorld);
        total += sum / kWorld;
      }
      return -total;
    };
    for (int64_t step = 0; step < kSteps; ++step) {
      if (step % 2 == 0) {
        if (!(*client)->Pull(step).ok()) return 13;
        if (!AllEqual(mine, expected(step))) return 14;
        if ((*client)->version() != step) return 15;
      }
      // Ranks reach the push at different moments.
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * ((env.rank + step) % kWorld)));
      SetGradients(mine, Gradient(env.rank, step, kWorld));
      if (!(*client)->Push(step).ok()) return 16;
    }
    if (!(*client)->Synchronize(kSteps).ok()) return 17;
    if (!AllEqual(mine, expected(kSteps))) return 18;
    if (server != nullptr) {
      if (!server->AwaitHold().ok()) return 19;
      if (!AllEqual(master, expected(kSteps))) return 20;  // readable while held
      server->Release();
    }
    if (!(*client)->Close().ok()) return 21;
    if (server != nullptr) {
      if (!server->Finish().ok()) return 22;
      if (server->stats().updates != kSteps) return 23;
    }
    return 0;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0, 0}));
}

// Async: every push is applied (divided by the world size), a slow rank is
// never left more than max_staleness steps behind the fastest, and the
// barrier gives every rank the weights after all pushes.
TEST(ParameterServerTest, AsyncAppliesEveryPushWithinTheStalenessBound) {
  constexpr int kWorld = 2;
  constexpr int64_t kSteps = 8;
  core::testing::ScopedTempDir dir("ps-async");
  const auto stats_file = dir.path() / "stats";
  auto codes = RunRanks(kWorld, [&](const LaunchEnv& env) {
    auto group = ProcessGroup::Join(env, {.timeout_ms = 30'000});
    if (!group.ok()) return 10;
    std::vector<torch::Tensor> master = MakeParameters(0);
    std::unique_ptr<ParameterServer> server;
    if (env.rank == 0) {
      auto started = ParameterServer::Start(
          **group, master, {.mode = PsMode::kAsync, .max_staleness = 1}, PlainSgd(master));
      if (!started.ok()) return 11;
      server = std::move(*started);
    }
    std::vector<torch::Tensor> mine = MakeParameters(100);
    auto client = ParameterClient::Connect(**group, mine, PsMode::kAsync);
    if (!client.ok()) return 12;
    for (int64_t step = 0; step < kSteps; ++step) {
      if (!(*client)->Pull(step).ok()) return 13;
      // Rank 1 is the slow one, so rank 0 runs into the bound.
      if (env.rank == 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      SetGradients(mine, Gradient(env.rank, step, kWorld));
      if (!(*client)->Push(step).ok()) return 14;
    }
    if (!(*client)->Synchronize(kSteps).ok()) return 15;
    float total = 0;
    for (int rank = 0; rank < kWorld; ++rank) {
      for (int64_t step = 0; step < kSteps; ++step) total += Gradient(rank, step, kWorld) / kWorld;
    }
    if (!AllEqual(mine, -total)) return 16;
    if (server != nullptr) {
      if (!server->AwaitHold().ok()) return 17;
      server->Release();
    }
    if (!(*client)->Close().ok()) return 18;
    if (server != nullptr) {
      if (!server->Finish().ok()) return 19;
      auto stats = server->stats();
      WriteText(stats_file, fmt::format("{} {}", stats.updates, stats.max_lead));
    }
    return 0;
  });
  ASSERT_EQ(codes, (std::vector<int>{0, 0}));
  int64_t updates = -1, lead = -1;
  std::istringstream(ReadAll(stats_file)) >> updates >> lead;
  EXPECT_EQ(updates, kWorld * kSteps);
  EXPECT_GE(lead, 0);
  EXPECT_LE(lead, 1);
}

// A worker that dies without saying goodbye fails the server at once, and
// every other rank gets an error that names it.
TEST(ParameterServerTest, DeadWorkerIsNamed) {
  core::testing::ScopedTempDir dir("ps-dead");
  const auto message_file = dir.path() / "message";
  auto codes = RunRanks(2, [&](const LaunchEnv& env) {
    auto group = ProcessGroup::Join(env, {.timeout_ms = 30'000});
    if (!group.ok()) return 10;
    std::vector<torch::Tensor> master = MakeParameters(0);
    std::unique_ptr<ParameterServer> server;
    if (env.rank == 0) {
      auto started =
          ParameterServer::Start(**group, master, {.mode = PsMode::kSync}, PlainSgd(master));
      if (!started.ok()) return 11;
      server = std::move(*started);
    }
    std::vector<torch::Tensor> mine = MakeParameters(1);
    auto client = ParameterClient::Connect(**group, mine, PsMode::kSync);
    if (!client.ok()) return 12;
    if (!(*client)->Pull(0).ok()) return 13;
    SetGradients(mine, 1);
    if (!(*client)->Push(0).ok()) return 14;
    if (env.rank == 1) _exit(0);  // dies: the connection closes, no goodbye
    SetGradients(mine, 1);
    // Sync pushes need no answer; whichever call first meets the failure
    // reports it.
    core::Status pulled = (*client)->Push(1);
    if (pulled.ok()) pulled = (*client)->Pull(2);
    WriteText(message_file, pulled.message());
    if (pulled.ok() || pulled.code() != core::StatusCode::kUnavailable) return 16;
    if (server->Finish().code() != core::StatusCode::kUnavailable) return 17;
    return 0;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
  const std::string message = ReadAll(message_file);
  EXPECT_NE(message.find("rank 1 disconnected at step 1"), std::string::npos) << message;
}

// A worker that stays connected but stops taking part makes the waiting
// server fail after the timeout, naming it.
TEST(ParameterServerTest, HungWorkerIsNamedAfterTheTimeout) {
  core::testing::ScopedTempDir dir("ps-hung");
  const auto message_file = dir.path() / "message";
  auto codes = RunRanks(2, [&](const LaunchEnv& env) {
    auto group = ProcessGroup::Join(env, {.timeout_ms = 1500});
    if (!group.ok()) return 10;
    std::vector<torch::Tensor> master = MakeParameters(0);
    std::unique_ptr<ParameterServer> server;
    if (env.rank == 0) {
      auto started =
          ParameterServer::Start(**group, master, {.mode = PsMode::kSync}, PlainSgd(master));
      if (!started.ok()) return 11;
      server = std::move(*started);
    }
    std::vector<torch::Tensor> mine = MakeParameters(1);
    auto client = ParameterClient::Connect(**group, mine, PsMode::kSync);
    if (!client.ok()) return 12;
    if (env.rank == 1) {
      // Connected, then silent until rank 0 has reported.
      for (int waited = 0; waited < 300 && !std::filesystem::exists(message_file); ++waited) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      return 0;
    }
    SetGradients(mine, 1);
    if (!(*client)->Push(0).ok()) return 13;
    core::Status pulled = (*client)->Pull(1);  // waits for rank 1's step 0
    const std::filesystem::path partial = message_file.string() + ".tmp";
    WriteText(partial, pulled.message());
    std::filesystem::rename(partial, message_file);
    return pulled.code() == core::StatusCode::kDeadlineExceeded ? 0 : 14;
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
  const std::string message = ReadAll(message_file);
  EXPECT_NE(message.find("timed out: heard from no worker for"), std::string::npos) << message;
  EXPECT_NE(message.find("waiting for rank 1 (at step 0)"), std::string::npos) << message;
}

}  // namespace
}  // namespace mlforge::dist
