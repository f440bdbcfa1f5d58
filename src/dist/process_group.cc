// ProcessGroupGloo.hpp is only visible with USE_C10D_GLOO; Debian's
// libtorch_cpu is built with Gloo and exports it.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include "dist/process_group.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "models/torch_status.h"

namespace mlforge::dist {
namespace {

bool IsLoopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

}  // namespace

std::string LocalAddressTowards(const std::string& master_addr, int master_port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(master_addr.c_str(), std::to_string(master_port).c_str(), &hints, &found) != 0) {
    return "";
  }
  std::string local;
  for (addrinfo* entry = found; entry != nullptr && local.empty(); entry = entry->ai_next) {
    int fd = socket(entry->ai_family, SOCK_DGRAM, 0);
    if (fd < 0) continue;
    sockaddr_storage own{};
    socklen_t length = sizeof(own);
    if (connect(fd, entry->ai_addr, entry->ai_addrlen) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&own), &length) == 0) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* raw =
          own.ss_family == AF_INET
              ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&own)->sin_addr)
              : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&own)->sin6_addr);
      if (inet_ntop(own.ss_family, raw, text, sizeof(text)) != nullptr) local = text;
    }
    close(fd);
  }
  freeaddrinfo(found);
  return local;
}

namespace {

std::string StepKey(int rank) { return "mlforge/step/" + std::to_string(rank); }

std::string ErrorText(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const c10::Error& caught) {
    return models::FirstLine(caught.what_without_backtrace());
  } catch (const std::exception& caught) {
    return models::FirstLine(caught.what());
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

ProcessGroup::ProcessGroup(int rank, int world_size, int64_t timeout_ms,
                           c10::intrusive_ptr<c10d::Store> store,
                           c10::intrusive_ptr<c10d::ProcessGroup> group, std::string address)
    : rank_(rank),
      world_size_(world_size),
      timeout_ms_(timeout_ms),
      store_(std::move(store)),
      group_(std::move(group)),
      address_(std::move(address)) {}

ProcessGroup::~ProcessGroup() = default;

core::Result<std::unique_ptr<ProcessGroup>> ProcessGroup::Join(const LaunchEnv& env,
                                                               const GroupOptions& options) {
  const auto timeout = std::chrono::milliseconds(options.timeout_ms);
  const char* agent_store = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  const bool agent_hosts_store = agent_store != nullptr && std::string(agent_store) == "True";
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = env.master_port;
    store_options.isServer = env.rank == 0 && !agent_hosts_store;
    store_options.numWorkers =
        agent_hosts_store ? c10::nullopt : c10::optional<size_t>(env.world_size);
    store_options.waitWorkers = !agent_hosts_store;
    store_options.timeout = timeout;
    store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
  } catch (const std::exception& error) {
    return core::UnavailableError(fmt::format(
        "rank {} of {} could not join the store at {}:{} within {} ms: {} (is rank 0 running and "
        "MASTER_ADDR/MASTER_PORT right?)",
        env.rank, env.world_size, env.master_addr, env.master_port, options.timeout_ms,
        models::FirstLine(error.what())));
  }
  // Keys of this attempt stay apart from those of an earlier one on the same
  // store (torchrun's agent store outlives restarts).
  auto prefixed =
      c10::make_intrusive<c10d::PrefixStore>("mlforge/" + std::to_string(env.restart_count), store);
  try {
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
    std::string address;
    if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
        interface != nullptr && *interface != '\0') {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
    } else if (IsLoopback(env.master_addr)) {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      address = "127.0.0.1";
    } else if (std::string local = LocalAddressTowards(env.master_addr, env.master_port);
               !local.empty()) {
      spdlog::debug("rank {}: Gloo on {}, the address that routes to the master {}", env.rank,
                    local, env.master_addr);
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(local));
      address = local;
    } else {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    gloo_options->threads = 2;
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env.rank, env.world_size,
                                                             gloo_options);
    spdlog::info("rank {} of {} joined the Gloo group at {}:{}", env.rank, env.world_size,
                 env.master_addr, env.master_port);
    if (address.empty()) {
      // An interface named by GLOO_SOCKET_IFNAME, or no route found: the
      // address that routes to the master, else the master's own name
      // (this rank may be the master).
      address = LocalAddressTowards(env.master_addr, env.master_port);
      if (address.empty()) address = env.master_addr;
    }
    return std::unique_ptr<ProcessGroup>(new ProcessGroup(
        env.rank, env.world_size, options.timeout_ms, prefixed, std::move(group), address));
  } catch (const std::exception& error) {
    return core::UnavailableError(fmt::format(
        "rank {} of {} could not form the Gloo group through {}:{}: {}", env.rank, env.world_size,
        env.master_addr, env.master_port, models::FirstLine(error.what())));
  }
}

void ProcessGroup::MarkStep(int64_t step) {
  step_ = step;
  try {
    const std::string text = std::to_string(step);
    store_->set(StepKey(rank_), std::vector<uint8_t>(text.begin(), text.end()));
  } catch (const std::exception& error) {
    // The next collective reports the lost store with context.
    spdlog::debug("rank {}: recording step {} in the store failed: {}", rank_, step, error.what());
  }
}

core::Status ProcessGroup::SetValue(const std::string& key, const std::string& value) {
  try {
    store_->set(key, std::vector<uint8_t>(value.begin(), value.end()));
  } catch (const std::exception& error) {
    return core::UnavailableError(fmt::format("rank {}: could not set {} in the store: {}", rank_,
                                              key, models::FirstLine(error.what())));
  }
  return core::Status::Ok();
}

core::Result<std::string> ProcessGroup::GetValue(const std::string& key) {
  try {
    store_->wait({key}, std::chrono::milliseconds(timeout_ms_));
    auto bytes = store_->get(key);
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception& error) {
    return core::DeadlineExceededError(
        fmt::format("rank {}: {} did not appear in the store within {} ms: {}", rank_, key,
                    timeout_ms_, models::FirstLine(error.what())));
  }
}

std::string ProcessGroup::Suspects() {
  std::vector<std::string> behind;
  std::vector<std::string> silent;
  try {
    for (int other = 0; other < world_size_; ++other) {
      if (other == rank_) continue;
      if (!store_->check({StepKey(other)})) {
        silent.push_back(std::to_string(other));
        continue;
      }
      auto bytes = store_->get(StepKey(other));
      int64_t step = std::stoll(std::string(bytes.begin(), bytes.end()));
      if (step < step_) behind.push_back(fmt::format("{} (at step {})", other, step));
    }
  } catch (const std::exception&) {
    return rank_ == 0 ? "the store is gone"
                      : "rank 0 (it hosts the store, which no longer answers) has probably died";
  }
  std::string text;
  if (!behind.empty()) {
    text = fmt::format("rank(s) behind this one (at step {}): {}", step_, fmt::join(behind, ", "));
  }
  if (!silent.empty()) {
    if (!text.empty()) text += "; ";
    text += fmt::format("rank(s) that never reported a step: {}", fmt::join(silent, ", "));
  }
  if (!text.empty()) return text;
  if (world_size_ == 2) {
    return fmt::format("rank {} (the only peer) reached this step and probably died inside it",
                       1 - rank_);
  }
  return "every rank reached this step; a peer probably died inside it";
}

core::Status ProcessGroup::Finish(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
  std::string failure;
  bool timed_out = false;
  try {
    if (!work->wait(std::chrono::milliseconds(timeout_ms_))) timed_out = true;
  } catch (const std::exception& error) {
    failure = models::FirstLine(error.what());
    timed_out = failure.find("imeout") != std::string::npos ||
                failure.find("imed out") != std::string::npos;
  }
  if (failure.empty() && !timed_out) {
    if (work->isCompleted() && !work->isSuccess()) {
      failure = ErrorText(work->exception());
    } else {
      return core::Status::Ok();
    }
  }
  std::string message = fmt::format("rank {}: {} {} after at most {} ms: {}; suspects: {}", rank_,
                                    what, timed_out ? "timed out" : "failed", timeout_ms_,
                                    failure.empty() ? "no answer" : failure, Suspects());
  return timed_out ? core::DeadlineExceededError(message) : core::UnavailableError(message);
}

core::Status ProcessGroup::AllReduceSum(std::vector<torch::Tensor>& tensors) {
  for (torch::Tensor& tensor : tensors) {
    auto pending = StartAllReduce(tensor);
    if (!pending.ok()) return pending.status();
    MLFORGE_RETURN_IF_ERROR(Wait(*pending));
  }
  return core::Status::Ok();
}

core::Result<PendingReduce> ProcessGroup::StartAllReduce(torch::Tensor tensor) {
  PendingReduce pending;
  pending.tensors = {std::move(tensor)};
  try {
    pending.work = group_->allreduce(pending.tensors);
  } catch (const std::exception& error) {
    return core::UnavailableError(
        fmt::format("rank {}: all-reduce could not start: {}; suspects: {}", rank_,
                    models::FirstLine(error.what()), Suspects()));
  }
  return pending;
}

core::Status ProcessGroup::Wait(PendingReduce& pending) {
  core::Status status = Finish(pending.work, "all-reduce");
  pending.work.reset();
  return status;
}

core::Status ProcessGroup::Broadcast(std::vector<torch::Tensor>& tensors, int root) {
  for (torch::Tensor& tensor : tensors) {
    std::vector<torch::Tensor> one = {tensor};
    c10::intrusive_ptr<c10d::Work> work;
    try {
      c10d::BroadcastOptions options;
      options.rootRank = root;
      work = group_->broadcast(one, options);
    } catch (const std::exception& error) {
      return core::UnavailableError(fmt::format("rank {}: broadcast could not start: {}", rank_,
                                                models::FirstLine(error.what())));
    }
    MLFORGE_RETURN_IF_ERROR(Finish(work, "broadcast"));
  }
  return core::Status::Ok();
}

core::Status ProcessGroup::Barrier() {
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = group_->barrier();
  } catch (const std::exception& error) {
    return core::UnavailableError(fmt::format("rank {}: barrier could not start: {}", rank_,
                                              models::FirstLine(error.what())));
  }
  return Finish(work, "barrier");
}

}  // namespace mlforge::dist
