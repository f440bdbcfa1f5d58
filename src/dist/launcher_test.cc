#include "dist/launcher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/testing/temp_dir.h"

namespace mlforge::dist {
namespace {

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Workers are real shell processes; each writes what it was told to a file.
TEST(LauncherTest, StartsEveryRankWithItsEnvironment) {
  core::testing::ScopedTempDir dir("launcher");
  LauncherOptions options;
  options.argv = {"/bin/sh", "-c",
                  "echo \"$MLFORGE_DIST_RANK/$MLFORGE_DIST_WORLD_SIZE $MLFORGE_DIST_MASTER_ADDR "
                  "$OMP_NUM_THREADS $MLFORGE_DIST_RESTART_COUNT\" > " +
                      dir.path().string() + "/rank$MLFORGE_DIST_RANK"};
  options.nproc = 3;
  auto outcome = LaunchAndSupervise(options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->exit_code, 0);
  EXPECT_EQ(outcome->restarts, 0);
  EXPECT_EQ(outcome->failed_rank, -1);
  for (int rank = 0; rank < 3; ++rank) {
    EXPECT_EQ(ReadAll(dir.path() / ("rank" + std::to_string(rank))),
              std::to_string(rank) + "/3 127.0.0.1 1 0\n");
  }
}

TEST(LauncherTest, KilledWorkerStopsTheOthersAndRestartsTheGroup) {
  core::testing::ScopedTempDir dir("launcher");
  const std::string log = dir.path().string() + "/log";
  // On the first attempt rank 1 kills itself with SIGKILL once rank 0 has
  // logged its start (so the launcher cannot stop rank 0 before it wrote its
  // line) while rank 0 sleeps and must be stopped; on the second both succeed.
  LauncherOptions options;
  options.argv = {"/bin/sh", "-c",
                  "echo \"start $MLFORGE_DIST_RANK $MLFORGE_DIST_RESTART_COUNT\" >> " + log +
                      "; if [ $MLFORGE_DIST_RESTART_COUNT = 0 ]; then "
                      "if [ $MLFORGE_DIST_RANK = 1 ]; then "
                      "while ! grep -q 'start 0 0' " + log + "; do sleep 0.01; done; "
                      "kill -9 $$; fi; "
                      "exec sleep 60; fi"};
  options.nproc = 2;
  options.max_restarts = 2;
  options.stop_grace_ms = 2000;
  auto start = std::chrono::steady_clock::now();
  auto outcome = LaunchAndSupervise(options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->exit_code, 0);
  EXPECT_EQ(outcome->restarts, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  std::string text = ReadAll(log);
  for (const char* line : {"start 0 0", "start 1 0", "start 0 1", "start 1 1"}) {
    EXPECT_NE(text.find(line), std::string::npos) << text;
  }
}

TEST(LauncherTest, GivesUpAfterMaxRestarts) {
  LauncherOptions options;
  options.argv = {"/bin/sh", "-c", "[ $MLFORGE_DIST_RANK = 0 ] || exit 3"};
  options.nproc = 2;
  options.max_restarts = 1;
  auto outcome = LaunchAndSupervise(options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->exit_code, 3);
  EXPECT_EQ(outcome->failed_rank, 1);
  EXPECT_EQ(outcome->restarts, 1);
}

TEST(LauncherTest, MissingProgramFailsWith127) {
  LauncherOptions options;
  options.argv = {"/nonexistent/worker"};
  options.nproc = 1;
  auto outcome = LaunchAndSupervise(options);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->exit_code, 127);
}

TEST(LauncherTest, RejectsBadOptions) {
  LauncherOptions options;
  options.nproc = 2;
  EXPECT_FALSE(LaunchAndSupervise(options).ok());
  options.argv = {"/bin/true"};
  options.nproc = 0;
  EXPECT_FALSE(LaunchAndSupervise(options).ok());
}

TEST(LauncherTest, PickFreePort) {
  auto port = PickFreePort("127.0.0.1");
  ASSERT_TRUE(port.ok());
  EXPECT_GT(*port, 0);
  EXPECT_FALSE(PickFreePort("not-an-address").ok());
}

}  // namespace
}  // namespace mlforge::dist
