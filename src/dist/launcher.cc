#include "dist/launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "dist/internal/workers.h"
#include "dist/launch_env.h"

namespace mlforge::dist {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(20);

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

}  // namespace

namespace internal {

core::Result<pid_t> Spawn(const std::vector<std::string>& argv, const Environment& env) {
  std::vector<std::string> env_text;
  for (const auto& [name, value] : env) env_text.push_back(name + "=" + value);
  std::vector<char*> arg_pointers;
  for (const std::string& arg : argv) arg_pointers.push_back(const_cast<char*>(arg.c_str()));
  arg_pointers.push_back(nullptr);
  std::vector<char*> env_pointers;
  for (const std::string& entry : env_text)
    env_pointers.push_back(const_cast<char*>(entry.c_str()));
  env_pointers.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    return core::InternalError(std::string("cannot start a worker: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // A worker must not outlive its launcher: an orphan of an older attempt
    // could still write checkpoints while the next attempt runs.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(137);
    execve(arg_pointers[0], arg_pointers.data(), env_pointers.data());
    std::fprintf(stderr, "error: cannot start worker %s: %s\n", arg_pointers[0],
                 std::strerror(errno));
    _exit(127);
  }
  return pid;
}

bool Reap(std::vector<Worker>& workers) {
  bool any_running = false;
  for (Worker& worker : workers) {
    if (!worker.running) continue;
    int status = 0;
    pid_t done = waitpid(worker.pid, &status, WNOHANG);
    if (done == worker.pid) {
      worker.running = false;
      worker.exit_code = ExitCode(status);
    } else {
      any_running = true;
    }
  }
  return any_running;
}

void StopAll(std::vector<Worker>& workers, int grace_ms) {
  for (Worker& worker : workers) {
    if (worker.running) kill(worker.pid, SIGTERM);
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(grace_ms);
  while (Reap(workers) && Clock::now() < deadline) std::this_thread::sleep_for(kPollInterval);
  for (Worker& worker : workers) {
    if (worker.running) kill(worker.pid, SIGKILL);
  }
  while (Reap(workers)) std::this_thread::sleep_for(kPollInterval);
}

Environment WorkerBaseEnvironment(const std::map<std::string, std::string>& extra,
                                  int threads_per_worker) {
  Environment base = ProcessEnvironment();
  for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK",
                           "JOB_COMPLETION_INDEX", "OMPI_COMM_WORLD_RANK", "SLURM_PROCID",
                           "PET_NODE_RANK", "MASTER_ADDR", "MASTER_PORT"}) {
    base.erase(name);
  }
  for (const auto& [name, value] : extra) base[name] = value;
  base["OMP_NUM_THREADS"] = std::to_string(threads_per_worker);
  base["MLFORGE_DIST_THREADS"] = std::to_string(threads_per_worker);
  return base;
}

}  // namespace internal

using internal::Reap;
using internal::Spawn;
using internal::StopAll;
using internal::Worker;

core::Result<int> PickFreePort(const std::string& address) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return core::UnavailableError("cannot open a socket to find a free port");
  sockaddr_in socket_address{};
  socket_address.sin_family = AF_INET;
  socket_address.sin_port = 0;
  if (inet_pton(AF_INET, address.c_str(), &socket_address.sin_addr) != 1) {
    close(fd);
    return core::InvalidArgumentError("'" + address + "' is not an IPv4 address");
  }
  socklen_t length = sizeof(socket_address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&socket_address), sizeof(socket_address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&socket_address), &length) != 0) {
    close(fd);
    return core::UnavailableError("no free TCP port on " + address);
  }
  int port = ntohs(socket_address.sin_port);
  close(fd);
  return port;
}

core::Result<LaunchOutcome> LaunchAndSupervise(const LauncherOptions& options) {
  if (options.argv.empty() || options.nproc < 1 || options.max_restarts < 0 ||
      options.threads_per_worker < 1) {
    return core::InvalidArgumentError(
        "the launcher needs a command, nproc >= 1, max_restarts >= 0 and threads >= 1");
  }
  Environment base = internal::WorkerBaseEnvironment(options.extra_env, options.threads_per_worker);

  LaunchOutcome outcome;
  for (int attempt = 0;; ++attempt) {
    MLFORGE_ASSIGN_OR_RETURN(int port, PickFreePort(options.master_addr));
    std::vector<Worker> workers(static_cast<size_t>(options.nproc));
    for (int rank = 0; rank < options.nproc; ++rank) {
      Environment env = base;
      env["MLFORGE_DIST_RANK"] = std::to_string(rank);
      env["MLFORGE_DIST_WORLD_SIZE"] = std::to_string(options.nproc);
      env["MLFORGE_DIST_LOCAL_RANK"] = std::to_string(rank);
      env["MLFORGE_DIST_LOCAL_WORLD_SIZE"] = std::to_string(options.nproc);
      env["MLFORGE_DIST_MASTER_ADDR"] = options.master_addr;
      env["MLFORGE_DIST_MASTER_PORT"] = std::to_string(port);
      env["MLFORGE_DIST_RESTART_COUNT"] = std::to_string(attempt);
      auto pid = Spawn(options.argv, env);
      if (!pid.ok()) {
        StopAll(workers, 0);
        return pid.status();
      }
      workers[static_cast<size_t>(rank)] = Worker{*pid, true, 0};
    }
    spdlog::info("launcher: attempt {} started {} workers (master {}:{})", attempt + 1,
                 options.nproc, options.master_addr, port);

    int failed_rank = -1;
    bool stopped = false;
    while (Reap(workers)) {
      for (int rank = 0; rank < options.nproc && failed_rank < 0; ++rank) {
        const Worker& worker = workers[static_cast<size_t>(rank)];
        if (!worker.running && worker.exit_code != 0) failed_rank = rank;
      }
      if (failed_rank >= 0) break;
      if (options.stop_requested != nullptr && options.stop_requested->load()) {
        stopped = true;
        break;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    for (int rank = 0; rank < options.nproc && failed_rank < 0; ++rank) {
      if (workers[static_cast<size_t>(rank)].exit_code != 0) failed_rank = rank;
    }
    if (failed_rank >= 0 || stopped) StopAll(workers, options.stop_grace_ms);
    outcome.restarts = attempt;
    outcome.failed_rank = failed_rank;
    outcome.exit_code = failed_rank >= 0 ? workers[static_cast<size_t>(failed_rank)].exit_code
                                         : (stopped ? 143 : 0);
    if (failed_rank < 0 || stopped) return outcome;
    spdlog::warn("launcher: worker rank {} failed with exit code {}{}", failed_rank,
                 outcome.exit_code,
                 outcome.exit_code > 128 ? fmt::format(" (signal {})", outcome.exit_code - 128)
                                         : std::string());
    if (attempt >= options.max_restarts) {
      spdlog::error("launcher: giving up after {} restart(s)", attempt);
      return outcome;
    }
    spdlog::info("launcher: restarting the group ({} of {} restarts)", attempt + 1,
                 options.max_restarts);
  }
}

}  // namespace mlforge::dist
