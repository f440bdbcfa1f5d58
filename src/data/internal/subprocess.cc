#include "data/internal/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

extern char** environ;

namespace mlforge::data::internal {
namespace {

// Closes the file descriptors it holds when it goes out of scope.
struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  void Close(int end) {
    if (fds[end] >= 0) ::close(fds[end]);
    fds[end] = -1;
  }
};

}  // namespace

std::optional<std::filesystem::path> FindProgram(const std::string& program) {
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) {
    if (::access(program.c_str(), X_OK) == 0) return std::filesystem::path(program);
    return std::nullopt;
  }
  const char* path_variable = std::getenv("PATH");
  std::string path_list = path_variable != nullptr ? path_variable : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= path_list.size()) {
    size_t end = path_list.find(':', start);
    if (end == std::string::npos) end = path_list.size();
    std::string_view folder = std::string_view(path_list).substr(start, end - start);
    std::filesystem::path candidate =
        std::filesystem::path(folder.empty() ? std::string_view(".") : folder) / program;
    std::error_code error;
    if (std::filesystem::is_regular_file(candidate, error) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::string CommandText(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& argument : argv) {
    if (!text.empty()) text += ' ';
    text += argument;
  }
  return text;
}

core::Result<CommandOutput> RunCommand(const std::vector<std::string>& argv) {
  if (argv.empty()) return core::InternalError("RunCommand: empty command line");
  const std::string command = CommandText(argv);
  Pipe out_pipe;
  Pipe err_pipe;
  if (::pipe2(out_pipe.fds, O_CLOEXEC) != 0 || ::pipe2(err_pipe.fds, O_CLOEXEC) != 0) {
    return core::InternalError("cannot create pipes to run " + command + ": " +
                               std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe.fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe.fds[1], 2);
  std::vector<char*> arguments;
  for (const std::string& argument : argv) arguments.push_back(const_cast<char*>(argument.c_str()));
  arguments.push_back(nullptr);
  pid_t child = -1;
  const int spawn_error =
      ::posix_spawnp(&child, arguments[0], &actions, nullptr, arguments.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    return core::InternalError("cannot run " + command + ": " + std::strerror(spawn_error));
  }
  out_pipe.Close(1);
  err_pipe.Close(1);

  CommandOutput output;
  // Read both pipes until both close, so neither can fill up and block the child.
  pollfd polls[2] = {{out_pipe.fds[0], POLLIN, 0}, {err_pipe.fds[0], POLLIN, 0}};
  std::string* sinks[2] = {&output.stdout_text, &output.stderr_text};
  int open_count = 2;
  char buffer[8192];
  while (open_count > 0) {
    if (::poll(polls, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int index = 0; index < 2; ++index) {
      if (polls[index].fd < 0 || polls[index].revents == 0) continue;
      ssize_t count = ::read(polls[index].fd, buffer, sizeof(buffer));
      if (count > 0) {
        sinks[index]->append(buffer, static_cast<size_t>(count));
      } else if (count == 0 || errno != EINTR) {
        polls[index].fd = -1;  // poll ignores negative descriptors
        --open_count;
      }
    }
  }
  int wait_status = 0;
  while (::waitpid(child, &wait_status, 0) < 0) {
    if (errno != EINTR) {
      return core::InternalError("cannot wait for " + command + ": " + std::strerror(errno));
    }
  }
  if (WIFEXITED(wait_status)) {
    output.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    output.exit_code = 128 + WTERMSIG(wait_status);
  }
  return output;
}

}  // namespace mlforge::data::internal
