#include "dist/elastic_agent.h"

#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "dist/internal/workers.h"
#include "dist/launch_env.h"
#include "dist/launcher.h"
#include "dist/process_group.h"
#include "models/torch_status.h"

namespace mlforge::dist {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(100);
// How long a reader waits for the reason that follows a round's end marker.
constexpr auto kReasonWait = std::chrono::seconds(10);

int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

struct Member {
  std::string name;
  std::string address;
  int nproc = 1;
};

// What this node is in a closed round.
struct RoundView {
  int node_rank = -1;  // -1: the round closed before this node joined; it waits
  std::vector<Member> members;
};

// How a round ended, as the agent that ended it wrote it.
enum class RoundEnd { kSuccess, kFailure, kAdmit, kLeave };

const char* RoundEndName(RoundEnd end) {
  switch (end) {
    case RoundEnd::kSuccess:
      return "success";
    case RoundEnd::kFailure:
      return "failure";
    case RoundEnd::kAdmit:
      return "admit";
    case RoundEnd::kLeave:
      return "leave";
  }
  return "failure";
}

struct RoundResult {
  RoundEnd end = RoundEnd::kFailure;
  std::string reason;
  int exit_code = 1;  // of this node's failed worker, when it ended the round
};

// The IPv4/IPv6 address `host` resolves to, "" when it does not.
std::string Resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) return "";
  char text[NI_MAXHOST] = {};
  std::string address;
  if (getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof(text), nullptr, 0,
                  NI_NUMERICHOST) == 0) {
    address = text;
  }
  freeaddrinfo(found);
  return address;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

class Agent {
 public:
  explicit Agent(const ElasticOptions& options)
      : options_(options),
        prefix_("mlforge-rdzv/" + options.rdzv_id + "/"),
        endpoint_(options.endpoint_host + ":" + std::to_string(options.endpoint_port)) {}

  ~Agent() { internal::StopAll(workers_, 0); }

  core::Result<ElasticOutcome> Run() {
    MLFORGE_RETURN_IF_ERROR(Connect());
    base_env_ = internal::WorkerBaseEnvironment(options_.extra_env, options_.threads_per_worker);
    try {
      return Loop();
    } catch (const std::exception& error) {
      internal::StopAll(workers_, options_.stop_grace_ms);
      return core::UnavailableError(
          "node " + options_.node_name + " lost the rendezvous store at " + endpoint_ + " (" +
          models::FirstLine(error.what()) +
          "); the agent that hosts it (the first on the endpoint's host) must run until the job "
          "ends");
    }
  }

 private:
  std::string RoundKey(int round, const std::string& name) const {
    return prefix_ + std::to_string(round) + "/" + name;
  }
  std::string JobKey(const std::string& name) const { return prefix_ + name; }
  void Set(const std::string& key, const std::string& value) {
    store_->set(key, std::vector<uint8_t>(value.begin(), value.end()));
  }
  std::string Get(const std::string& key) {
    std::vector<uint8_t> value = store_->get(key);
    return std::string(value.begin(), value.end());
  }
  bool Has(const std::string& key) { return store_->check({key}); }
  int64_t Add(const std::string& key, int64_t delta) { return store_->add(key, delta); }
  bool StopRequested() const {
    return options_.stop_requested != nullptr && options_.stop_requested->load();
  }

  // Hosts the store when the endpoint is an address of this host and its
  // port is free; otherwise connects to it.
  core::Status Connect() {
    const std::string endpoint_address = Resolve(options_.endpoint_host);
    if (endpoint_address.empty()) {
      return core::InvalidArgumentError("--rdzv-endpoint host '" + options_.endpoint_host +
                                        "' does not resolve");
    }
    address_ = LocalAddressTowards(endpoint_address, options_.endpoint_port);
    if (address_.empty()) address_ = endpoint_address;
    const bool local = endpoint_address.rfind("127.", 0) == 0 || endpoint_address == "::1" ||
                       address_ == endpoint_address;
    if (local) {
      try {
        c10d::TCPStoreOptions server;
        server.port = static_cast<uint16_t>(options_.endpoint_port);
        server.isServer = true;
        server.waitWorkers = false;
        server.timeout = StoreTimeout();
        store_ = c10::make_intrusive<c10d::TCPStore>(endpoint_address, server);
        is_store_host_ = true;
        spdlog::info("agent {}: hosting the rendezvous store at {}", options_.node_name, endpoint_);
        return core::Status::Ok();
      } catch (const std::exception& error) {
        spdlog::debug("agent {}: not hosting the store ({}); connecting to it", options_.node_name,
                      models::FirstLine(error.what()));
      }
    }
    // Each attempt waits up to the store's call timeout; the attempts go
    // on for the join timeout, as the hosting agent may start later.
    const auto start = Clock::now();
    while (true) {
      try {
        c10d::TCPStoreOptions client;
        client.port = static_cast<uint16_t>(options_.endpoint_port);
        client.isServer = false;
        client.waitWorkers = false;
        client.timeout = StoreTimeout();
        store_ = c10::make_intrusive<c10d::TCPStore>(endpoint_address, client);
        break;
      } catch (const std::exception& error) {
        if (MillisSince(start) >= options_.join_timeout_ms || StopRequested()) {
          return core::UnavailableError("node " + options_.node_name +
                                        " cannot reach the rendezvous store at " + endpoint_ +
                                        " within " + std::to_string(MillisSince(start) / 1000) +
                                        " s: " + models::FirstLine(error.what()) +
                                        " (is the agent on the endpoint's host running?)");
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    }
    spdlog::info("agent {}: connected to the rendezvous store at {}", options_.node_name,
                 endpoint_);
    return core::Status::Ok();
  }

  core::Result<ElasticOutcome> Loop() {
    ElasticOutcome outcome;
    // A node that comes late skips the rounds that already ended.
    int round = 0;
    while (Has(RoundKey(round, "end"))) ++round;
    std::vector<Member> previous;
    while (true) {
      if (Has(JobKey("aborted"))) {
        outcome.exit_code = outcome.exit_code != 0 ? outcome.exit_code : 1;
        outcome.message = "the job was given up: " + Get(JobKey("aborted"));
        return outcome;
      }
      MLFORGE_ASSIGN_OR_RETURN(RoundView view, JoinRound(round, previous));
      if (view.node_rank < 0) {
        // Closed before this node joined: wait for the round to end.
        spdlog::info("agent {}: round {} is running without this node; waiting to be admitted",
                     options_.node_name, round);
        while (true) {
          if (Has(RoundKey(round, "end"))) break;
          if (Has(JobKey("finished"))) {
            outcome.message = "the job finished before this node was admitted";
            spdlog::info("agent {}: {}", options_.node_name, outcome.message);
            return outcome;
          }
          if (Has(JobKey("aborted")) || StopRequested()) break;
          std::this_thread::sleep_for(kPollInterval);
        }
        if (StopRequested()) {
          outcome.exit_code = 143;
          outcome.message = "stopped while waiting to be admitted";
          return outcome;
        }
        ++round;
        continue;
      }
      MLFORGE_ASSIGN_OR_RETURN(RoundResult result, RunRound(round, view, outcome));
      previous = view.members;
      if (result.end == RoundEnd::kSuccess) {
        outcome.exit_code = 0;
        outcome.message.clear();
        return outcome;
      }
      outcome.message = result.reason;
      if (StopRequested()) {
        // Asked to stop (e.g. Ctrl-C, which also reaches the workers): this
        // node leaves whatever ended the round.
        outcome.exit_code = 143;
        return outcome;
      }
      if (result.end == RoundEnd::kFailure) {
        outcome.restarts = static_cast<int>(Add(JobKey("failures"), 0));
        if (outcome.restarts > options_.max_restarts) {
          outcome.exit_code = result.exit_code;
          outcome.restarts -= 1;
          const std::string why = "round " + std::to_string(round) + " failed (" + result.reason +
                                  ") after " + std::to_string(outcome.restarts) +
                                  " restart(s) of " + std::to_string(options_.max_restarts) +
                                  " allowed";
          if (!Has(JobKey("aborted"))) Set(JobKey("aborted"), why);
          spdlog::error("agent {}: giving up: {}", options_.node_name, why);
          outcome.message = why;
          return outcome;
        }
        spdlog::warn("agent {}: round {} failed: {}; restart {} of {}", options_.node_name, round,
                     result.reason, outcome.restarts, options_.max_restarts);
      } else {
        spdlog::info("agent {}: round {} ended: {}", options_.node_name, round, result.reason);
      }
      ++round;
    }
  }

  // Steps 1 and 2 of the header: join, wait for MIN and the last call, close.
  core::Result<RoundView> JoinRound(int round, const std::vector<Member>& previous) {
    const int64_t index = Add(RoundKey(round, "joined"), 1) - 1;
    Set(RoundKey(round, "node/" + std::to_string(index)),
        options_.node_name + "\n" + address_ + "\n" + std::to_string(options_.nproc_per_node));
    spdlog::info("agent {}: joined rendezvous round {} of job '{}' as arrival {}",
                 options_.node_name, round, options_.rdzv_id, index);
    const auto start = Clock::now();
    bool min_reached = false;
    Clock::time_point min_reached_at;
    while (!Has(RoundKey(round, "size"))) {
      const int64_t joined = Add(RoundKey(round, "joined"), 0);
      if (joined >= options_.min_nodes) {
        if (!min_reached) {
          min_reached = true;
          min_reached_at = Clock::now();
        }
        if (joined >= options_.max_nodes || MillisSince(min_reached_at) >= options_.last_call_ms) {
          if (Add(RoundKey(round, "closer"), 1) == 1) {
            const int64_t size =
                std::min<int64_t>(Add(RoundKey(round, "joined"), 0), options_.max_nodes);
            Set(RoundKey(round, "size"), std::to_string(size));
          }
        }
      } else if (MillisSince(start) >= options_.join_timeout_ms) {
        return core::DeadlineExceededError(
            TooFewNodes(round, static_cast<int>(joined), previous, MillisSince(start)));
      }
      if (StopRequested()) return core::UnavailableError("stopped while waiting for other nodes");
      std::this_thread::sleep_for(kPollInterval);
    }
    const int size = std::stoi(Get(RoundKey(round, "size")));
    RoundView view;
    if (index >= size) return view;
    view.node_rank = static_cast<int>(index);
    for (int member = 0; member < size; ++member) {
      // Each member wrote its record right after its arrival index.
      const std::string text = Get(RoundKey(round, "node/" + std::to_string(member)));
      Member parsed;
      const size_t first = text.find('\n');
      const size_t second = text.find('\n', first + 1);
      parsed.name = text.substr(0, first);
      parsed.address = text.substr(first + 1, second - first - 1);
      parsed.nproc = std::stoi(text.substr(second + 1));
      view.members.push_back(parsed);
    }
    return view;
  }

  std::string TooFewNodes(int round, int joined, const std::vector<Member>& previous,
                          int64_t waited_ms) {
    std::vector<std::string> names;
    for (int member = 0; member < joined; ++member) {
      const std::string key = RoundKey(round, "node/" + std::to_string(member));
      if (Has(key)) {
        const std::string text = Get(key);
        names.push_back(text.substr(0, text.find('\n')));
      }
    }
    std::vector<std::string> missing;
    for (const Member& member : previous) {
      if (std::find(names.begin(), names.end(), member.name) == names.end()) {
        missing.push_back(member.name);
      }
    }
    std::string message = "rendezvous round " + std::to_string(round) + " of job '" +
                          options_.rdzv_id + "' at " + endpoint_ + ": " + std::to_string(joined) +
                          " of at least " + std::to_string(options_.min_nodes) +
                          " node(s) joined within " + std::to_string(waited_ms / 1000) + " s (" +
                          JoinNames(names) + "); " + std::to_string(options_.min_nodes - joined) +
                          " more needed";
    if (!previous.empty()) {
      message += "; not back from the previous round: " + JoinNames(missing);
    }
    return message + ". Start agents on more hosts, or lower MIN in --nnodes MIN:MAX";
  }

  // Ends `round` for every member unless another agent already did.
  void EndRound(int round, RoundEnd end, const std::string& reason) {
    if (Add(RoundKey(round, "end"), 1) != 1) return;
    if (end == RoundEnd::kFailure) Add(JobKey("failures"), 1);
    Set(RoundKey(round, "reason"), std::string(RoundEndName(end)) + "\n" + reason);
  }

  RoundResult ReadEnd(int round) {
    RoundResult result;
    const auto start = Clock::now();
    while (!Has(RoundKey(round, "reason")) &&
           Clock::now() - start < std::chrono::duration_cast<Clock::duration>(kReasonWait)) {
      std::this_thread::sleep_for(kPollInterval);
    }
    if (!Has(RoundKey(round, "reason"))) {
      result.reason = "the round ended without a reason";
      return result;
    }
    const std::string text = Get(RoundKey(round, "reason"));
    const std::string kind = text.substr(0, text.find('\n'));
    result.reason = text.substr(text.find('\n') + 1);
    for (RoundEnd end : {RoundEnd::kFailure, RoundEnd::kAdmit, RoundEnd::kLeave}) {
      if (kind == RoundEndName(end)) result.end = end;
    }
    return result;
  }

  // Steps 3 to 5 of the header for one round this node is a member of.
  core::Result<RoundResult> RunRound(int round, const RoundView& view, ElasticOutcome& outcome) {
    const int size = static_cast<int>(view.members.size());
    int world_size = 0;
    int first_rank = 0;
    for (int member = 0; member < size; ++member) {
      if (member == view.node_rank) first_rank = world_size;
      world_size += view.members[static_cast<size_t>(member)].nproc;
    }
    const std::string master_key = RoundKey(round, "master");
    if (view.node_rank == 0) {
      MLFORGE_ASSIGN_OR_RETURN(int port, PickFreePort(address_));
      Set(master_key, address_ + "\n" + std::to_string(port));
    }
    const auto start = Clock::now();
    while (!Has(master_key)) {
      if (Has(RoundKey(round, "end"))) return ReadEnd(round);
      if (MillisSince(start) >= options_.heartbeat_timeout_ms) {
        EndRound(round, RoundEnd::kFailure,
                 "node 0 (" + view.members[0].name + ") did not publish the workers' master");
        return ReadEnd(round);
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    const std::string master = Get(master_key);
    const std::string master_addr = master.substr(0, master.find('\n'));
    const std::string master_port = master.substr(master.find('\n') + 1);

    std::string names;
    for (const Member& member : view.members) names += (names.empty() ? "" : ", ") + member.name;
    spdlog::info(
        "agent {}: round {}: node {} of {} ({}), ranks {}..{} of world size {}, master {}:{}",
        options_.node_name, round, view.node_rank, size, names, first_rank,
        first_rank + options_.nproc_per_node - 1, world_size, master_addr, master_port);
    workers_.assign(static_cast<size_t>(options_.nproc_per_node), internal::Worker{});
    for (int local = 0; local < options_.nproc_per_node; ++local) {
      Environment env = base_env_;
      env["MLFORGE_DIST_RANK"] = std::to_string(first_rank + local);
      env["MLFORGE_DIST_WORLD_SIZE"] = std::to_string(world_size);
      env["MLFORGE_DIST_LOCAL_RANK"] = std::to_string(local);
      env["MLFORGE_DIST_LOCAL_WORLD_SIZE"] = std::to_string(options_.nproc_per_node);
      env["MLFORGE_DIST_MASTER_ADDR"] = master_addr;
      env["MLFORGE_DIST_MASTER_PORT"] = master_port;
      env["MLFORGE_DIST_RESTART_COUNT"] = std::to_string(round);
      auto pid = internal::Spawn(options_.argv, env);
      if (!pid.ok()) {
        EndRound(round, RoundEnd::kFailure,
                 "node " + options_.node_name + " could not start its workers");
        internal::StopAll(workers_, 0);
        return pid.status();
      }
      workers_[static_cast<size_t>(local)] = internal::Worker{*pid, true, 0};
    }
    outcome.rounds += 1;
    outcome.world_size = world_size;

    // Heartbeats of the other members: the last value seen and when it changed.
    std::vector<std::string> last_beat(static_cast<size_t>(size));
    std::vector<Clock::time_point> changed_at(static_cast<size_t>(size), Clock::now());
    const std::string done_key = RoundKey(round, "done");
    bool done = false;
    RoundResult result;
    while (true) {
      Set(RoundKey(round, "beat/" + std::to_string(view.node_rank)), std::to_string(++beat_));
      internal::Reap(workers_);
      if (!done) {
        bool all_exited_zero = true;
        for (int local = 0; local < options_.nproc_per_node; ++local) {
          const internal::Worker& worker = workers_[static_cast<size_t>(local)];
          if (worker.running) {
            all_exited_zero = false;
          } else if (worker.exit_code != 0) {
            result.exit_code = worker.exit_code;
            EndRound(round, RoundEnd::kFailure,
                     "node " + options_.node_name + ": worker rank " +
                         std::to_string(first_rank + local) + " exited with code " +
                         std::to_string(worker.exit_code) +
                         (worker.exit_code > 128
                              ? " (signal " + std::to_string(worker.exit_code - 128) + ")"
                              : std::string()));
            all_exited_zero = false;
            break;
          }
        }
        if (all_exited_zero) {
          done = true;
          Add(done_key, 1);
        }
      }
      if (Has(RoundKey(round, "end"))) {
        internal::StopAll(workers_, options_.stop_grace_ms);
        const int exit_code = result.exit_code;
        result = ReadEnd(round);
        result.exit_code = exit_code;
        return result;
      }
      if (done && Add(done_key, 0) >= size) {
        // Every member finished: the job is done. The store's host stays
        // until the others have seen it.
        Set(JobKey("finished"), "1");
        Add(RoundKey(round, "left"), 1);
        const auto finish = Clock::now();
        while (IsStoreHost() && Add(RoundKey(round, "left"), 0) < size &&
               MillisSince(finish) < options_.heartbeat_timeout_ms) {
          std::this_thread::sleep_for(kPollInterval);
        }
        spdlog::info("agent {}: round {} finished on {} node(s), world size {}", options_.node_name,
                     round, size, world_size);
        result.end = RoundEnd::kSuccess;
        return result;
      }
      if (StopRequested()) {
        EndRound(round, RoundEnd::kLeave, "node " + options_.node_name + " was asked to stop");
        continue;
      }
      for (int member = 0; member < size; ++member) {
        if (member == view.node_rank) continue;
        const std::string key = RoundKey(round, "beat/" + std::to_string(member));
        const std::string beat = Has(key) ? Get(key) : std::string();
        auto& last = last_beat[static_cast<size_t>(member)];
        auto& when = changed_at[static_cast<size_t>(member)];
        if (beat != last) {
          last = beat;
          when = Clock::now();
        } else if (Clock::now() - when > std::chrono::milliseconds(options_.heartbeat_timeout_ms)) {
          EndRound(round, RoundEnd::kFailure,
                   "node " + std::to_string(member) + " (" +
                       view.members[static_cast<size_t>(member)].name + ") sent no heartbeat for " +
                       std::to_string(options_.heartbeat_timeout_ms / 1000) +
                       " s: its agent died, or its host or the link to it is down");
          break;
        }
      }
      if (!done && size < options_.max_nodes && Add(RoundKey(round, "joined"), 0) > size) {
        const int64_t waiting = Add(RoundKey(round, "joined"), 0) - size;
        EndRound(round, RoundEnd::kAdmit,
                 std::to_string(waiting) + " node(s) waiting to join a group of " +
                     std::to_string(size) + " (at most " + std::to_string(options_.max_nodes) +
                     "): admitting them from the latest checkpoint");
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }

  bool IsStoreHost() const { return is_store_host_; }
  // How long one store call (or connection attempt) may take: the
  // heartbeat timeout, but at least 10 s. A node cut off from the store
  // thus fails about as soon as the others give up on it.
  std::chrono::milliseconds StoreTimeout() const {
    return std::chrono::milliseconds(std::max(options_.heartbeat_timeout_ms, 10'000));
  }

  const ElasticOptions& options_;
  const std::string prefix_;
  const std::string endpoint_;
  c10::intrusive_ptr<c10d::TCPStore> store_;
  bool is_store_host_ = false;
  std::string address_;  // this host's address towards the endpoint
  Environment base_env_;
  std::vector<internal::Worker> workers_;
  int64_t beat_ = 0;
};

}  // namespace

core::Result<std::pair<int, int>> ParseNodeRange(const std::string& text) {
  const size_t colon = text.find(':');
  try {
    size_t used = 0;
    const int min = std::stoi(text.substr(0, colon), &used);
    if (used != (colon == std::string::npos ? text.size() : colon)) throw std::invalid_argument("");
    int max = min;
    if (colon != std::string::npos) {
      const std::string rest = text.substr(colon + 1);
      max = std::stoi(rest, &used);
      if (used != rest.size()) throw std::invalid_argument("");
    }
    if (min >= 1 && max >= min) return std::make_pair(min, max);
  } catch (const std::exception&) {
  }
  return core::InvalidArgumentError("--nnodes '" + text +
                                    "' must be N or MIN:MAX with 1 <= MIN <= MAX, e.g. 2:3");
}

core::Result<std::pair<std::string, int>> ParseEndpoint(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon != std::string::npos && colon > 0) {
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    try {
      size_t used = 0;
      const int port = std::stoi(text.substr(colon + 1), &used);
      if (used == text.size() - colon - 1 && port > 0 && port < 65536) {
        return std::make_pair(host, port);
      }
    } catch (const std::exception&) {
    }
  }
  return core::InvalidArgumentError("--rdzv-endpoint '" + text +
                                    "' must be HOST:PORT, e.g. 10.0.0.1:29400");
}

core::Result<ElasticOutcome> RunElasticAgent(const ElasticOptions& given) {
  ElasticOptions options = given;
  if (options.argv.empty() || options.min_nodes < 1 || options.max_nodes < options.min_nodes ||
      options.nproc_per_node < 1 || options.max_restarts < 0 || options.threads_per_worker < 1 ||
      options.last_call_ms < 0 || options.join_timeout_ms < 1 || options.heartbeat_timeout_ms < 1 ||
      options.rdzv_id.empty() || options.rdzv_id.find('/') != std::string::npos) {
    return core::InvalidArgumentError(
        "the elastic agent needs a command, 1 <= MIN <= MAX nodes, nproc-per-node >= 1, "
        "max-restarts >= 0, positive timeouts and an rdzv id without '/'");
  }
  if (options.node_name.empty()) {
    options.node_name = Hostname() + ":" + std::to_string(getpid());
  }
  Agent agent(options);
  return agent.Run();
}

}  // namespace mlforge::dist
