#pragma once

// Runs a function as N real processes of one group on loopback, for tests.
// The parent only forks and waits (it must not have used LibTorch's thread
// pools in ways a child cannot inherit); each child joins the group and
// returns its exit code. For tests only.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <vector>

#include "dist/launch_env.h"
#include "dist/launcher.h"

namespace mlforge::dist::testing {

// The environment of rank `rank` of `world_size` on 127.0.0.1:`port`.
inline LaunchEnv LoopbackEnv(int rank, int world_size, int port) {
  LaunchEnv env;
  env.launcher = Launcher::kMlforge;
  env.rank = rank;
  env.local_rank = rank;
  env.world_size = world_size;
  env.local_world_size = world_size;
  env.master_addr = "127.0.0.1";
  env.master_port = static_cast<uint16_t>(port);
  return env;
}

// Forks `world_size` children running body(env) and returns their exit codes
// (128 + signal when killed), in rank order. A child exits with body's value.
inline std::vector<int> RunRanks(int world_size, const std::function<int(const LaunchEnv&)>& body) {
  auto port = PickFreePort("127.0.0.1");
  std::vector<pid_t> children;
  for (int rank = 0; rank < world_size; ++rank) {
    pid_t pid = fork();
    if (pid == 0) {
      int code = 1;
      try {
        code = body(LoopbackEnv(rank, world_size, port.ok() ? *port : 29500));
      } catch (const std::exception& error) {
        std::fprintf(stderr, "rank %d threw: %s\n", rank, error.what());
        code = 99;
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  std::vector<int> codes;
  for (pid_t child : children) {
    int status = 0;
    waitpid(child, &status, 0);
    codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return codes;
}

}  // namespace mlforge::dist::testing
