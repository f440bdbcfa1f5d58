// The transport under dist.strategy ps, measured against the two others it
// could have used. Two processes on loopback exchange one step's worth of the
// bench MLP (235,146 float32 values, 0.94 MB) each way, and each way below
// reports the mean time of a step:
//   ps      our TCP transport: both ranks push their gradient to the server
//           thread in rank 0 and pull the weights back (sync, sync_every 1;
//           the server applies nothing).
//   gloo    c10d point-to-point on a Gloo group: rank 1 sends its gradient to
//           rank 0, which sends the weights back (what ps would do on Gloo).
//   ddp     one Gloo all-reduce of the same tensor, for reference.
// Usage: mlforge_ps_transport_bench [steps]   (default 300)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "dist/parameter_server.h"
#include "dist/testing/ranks.h"

namespace {

using namespace mlforge;
using Clock = std::chrono::steady_clock;
constexpr int64_t kValues = 235'146;

double Micros(Clock::time_point start, int steps) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / steps;
}

int Body(const dist::LaunchEnv& env, int steps) {
  at::set_num_threads(1);
  auto group = dist::ProcessGroup::Join(env, {.timeout_ms = 60'000});
  if (!group.ok()) return 10;
  // ps: our transport.
  std::vector<torch::Tensor> master = {torch::zeros({kValues})};
  std::unique_ptr<dist::ParameterServer> server;
  if (env.rank == 0) {
    auto started = dist::ParameterServer::Start(
        **group, master, {.mode = dist::PsMode::kSync},
        [](const torch::Tensor&, int64_t) { return core::Status::Ok(); });
    if (!started.ok()) return 11;
    server = std::move(*started);
  }
  std::vector<torch::Tensor> mine = {torch::zeros({kValues}).requires_grad_(true)};
  mine[0].mutable_grad() = torch::ones({kValues});
  auto client = dist::ParameterClient::Connect(**group, mine, dist::PsMode::kSync);
  if (!client.ok()) return 12;
  if (!(*client)->Pull(0).ok()) return 13;
  auto start = Clock::now();
  for (int step = 0; step < steps; ++step) {
    if (!(*client)->Push(step).ok() || !(*client)->Pull(step + 1).ok()) return 14;
  }
  const double ps = Micros(start, steps);
  if (!(*client)->Synchronize(steps).ok()) return 15;
  if (server != nullptr) {
    if (!server->AwaitHold().ok()) return 16;
    server->Release();
  }
  if (!(*client)->Close().ok()) return 17;
  if (server != nullptr && !server->Finish().ok()) return 18;

  // gloo: point-to-point on a second group over its own store.
  auto options = c10d::TCPStoreOptions{};
  options.port = static_cast<uint16_t>(env.master_port + 1);
  options.isServer = env.rank == 0;
  options.numWorkers = env.world_size;
  auto store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", options);
  auto gloo_options = c10d::ProcessGroupGloo::Options::create();
  gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  auto gloo =
      c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, gloo_options);
  std::vector<torch::Tensor> buffer = {torch::ones({kValues})};
  start = Clock::now();
  for (int step = 0; step < steps; ++step) {
    if (env.rank == 1) {
      gloo->send(buffer, 0, step)->wait();
      gloo->recv(buffer, 0, step)->wait();
    } else {
      gloo->recv(buffer, 1, step)->wait();
      gloo->send(buffer, 1, step)->wait();
    }
  }
  const double p2p = Micros(start, steps);
  start = Clock::now();
  for (int step = 0; step < steps; ++step) gloo->allreduce(buffer)->wait();
  const double allreduce = Micros(start, steps);
  if (env.rank == 1) {
    std::printf(
        "%lld float32 values (%.2f MB) each way, mean of %d steps:\n"
        "  ps   (our TCP, push + pull) %8.0f us/step\n"
        "  gloo (send + recv)          %8.0f us/step\n"
        "  ddp  (all-reduce)           %8.0f us/step\n",
        static_cast<long long>(kValues), kValues * 4 / 1e6, steps, ps, p2p, allreduce);
    std::fflush(stdout);  // the child leaves through _exit
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const int steps = argc > 1 ? std::atoi(argv[1]) : 300;
  auto codes =
      dist::testing::RunRanks(2, [steps](const dist::LaunchEnv& env) { return Body(env, steps); });
  for (int code : codes) {
    if (code != 0) {
      std::fprintf(stderr, "a rank failed with code %d\n", code);
      return 1;
    }
  }
  return 0;
}
