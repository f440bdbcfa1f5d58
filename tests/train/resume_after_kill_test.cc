// A training process killed with SIGKILL mid-epoch and resumed with
// `mlforge train --resume` must end with exactly the weights of a run that
// was never interrupted (same seed, same thread count).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "models/package.h"

namespace mlforge {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// Starts `args` with stdout and stderr going to `log`; returns the pid.
pid_t Spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> TrainArgs(const std::filesystem::path& run_dir) {
  return {Env("MLFORGE_BIN"),
          "train",
          Env("MLFORGE_CONFIG"),
          "--run-dir",
          run_dir.string(),
          "--data-dir",
          Env("MLFORGE_TEST_DATA"),
          "--threads",
          "1",
          "--no-progress",
          "--set",
          "data.limit_train=4000",
          "--set",
          "data.limit_test=1000",
          "--set",
          "train.epochs=2",
          "--set",
          "train.batch_size=32",
          "--set",
          "checkpoint.every_steps=10",
          "--set",
          "schedule.warmup_steps=30"};
}

TEST(ResumeAfterKillTest, ResumedRunMatchesUninterruptedRunBitForBit) {
  ASSERT_FALSE(Env("MLFORGE_BIN").empty()) << "run through ctest";
  std::filesystem::path root = Env("MLFORGE_TEST_RUNS");
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);

  // The reference: one uninterrupted run.
  pid_t reference = Spawn(TrainArgs(root / "reference"), root / "reference.log");
  ASSERT_EQ(WaitExit(reference), 0) << Slurp(root / "reference.log");

  // The victim: killed soon after its first checkpoint, in the first epoch.
  pid_t victim = Spawn(TrainArgs(root / "victim"), root / "victim.log");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!std::filesystem::exists(root / "victim" / "checkpoint.pt") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(std::filesystem::exists(root / "victim" / "checkpoint.pt"))
      << Slurp(root / "victim.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  kill(victim, SIGKILL);
  ASSERT_EQ(WaitExit(victim), -SIGKILL) << "the run ended before it could be killed";
  ASSERT_FALSE(std::filesystem::exists(root / "victim" / "model"));

  // Resume: the config comes from the run folder.
  pid_t resumed = Spawn({Env("MLFORGE_BIN"), "train", "--resume", (root / "victim").string(),
                         "--data-dir", Env("MLFORGE_TEST_DATA"), "--threads", "1", "--no-progress"},
                        root / "resumed.log");
  ASSERT_EQ(WaitExit(resumed), 0) << Slurp(root / "resumed.log");
  std::smatch match;
  std::string resumed_log = Slurp(root / "resumed.log");
  ASSERT_TRUE(std::regex_search(
      resumed_log, match, std::regex("resuming run [0-9a-f]{32} at epoch (\\d+), batch (\\d+)")))
      << resumed_log;
  EXPECT_EQ(match[1], "1") << "killed in the first epoch";
  EXPECT_NE(match[2], "0") << "resumed mid-epoch";

  auto expected = models::LoadPackage(root / "reference" / "model");
  auto actual = models::LoadPackage(root / "victim" / "model");
  ASSERT_TRUE(expected.ok() && actual.ok());
  auto expected_parameters = expected->module.named_parameters();
  auto actual_parameters = actual->module.named_parameters();
  auto it = actual_parameters.begin();
  int compared = 0;
  for (const auto& parameter : expected_parameters) {
    ASSERT_EQ((*it).name, parameter.name);
    EXPECT_TRUE(torch::equal((*it).value, parameter.value)) << parameter.name << " differs";
    ++it;
    ++compared;
  }
  EXPECT_GT(compared, 4);
  EXPECT_EQ(Slurp(root / "reference" / "summary.json").find("val_accuracy") != std::string::npos,
            true);
}

}  // namespace
}  // namespace mlforge
