#include "core/file.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "core/ids.h"

namespace mlforge::core {
namespace {

std::filesystem::path TempDir() {
  auto dir = std::filesystem::temp_directory_path() / ("mlforge-file-test-" + NewId());
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(FileTest, WriteAtomicCreatesReplacesAndLeavesNoTempFiles) {
  auto dir = TempDir();
  auto path = dir / "nested" / "state.json";
  ASSERT_TRUE(WriteFileAtomic(path, "first").ok());
  EXPECT_EQ(*ReadFile(path), "first");
  ASSERT_TRUE(WriteFileAtomic(path, "second, longer").ok());
  EXPECT_EQ(*ReadFile(path), "second, longer");
  int entries = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator(dir / "nested"))
    ++entries;
  EXPECT_EQ(entries, 1);
  std::filesystem::remove_all(dir);
}

TEST(FileTest, ReadMissingIsNotFound) {
  EXPECT_EQ(ReadFile("/nonexistent/file").status().code(), StatusCode::kNotFound);
}

// A writer killed with SIGKILL while it rewrites a file over and over must
// leave the file holding one complete version, never a torn mix.
TEST(FileTest, KillDuringRewritesNeverTearsTheFile) {
  auto dir = TempDir();
  auto path = dir / "model.bin";
  const std::string version_a(1 << 20, 'a');
  const std::string version_b(1 << 20, 'b');
  ASSERT_TRUE(WriteFileAtomic(path, version_a).ok());
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    for (int round = 0;; ++round) {
      (void)WriteFileAtomic(path, round % 2 ? version_a : version_b);
    }
  }
  usleep(150 * 1000);
  kill(child, SIGKILL);
  int wait_status = 0;
  waitpid(child, &wait_status, 0);
  ASSERT_TRUE(WIFSIGNALED(wait_status));
  auto contents = ReadFile(path);
  ASSERT_TRUE(contents.ok());
  EXPECT_TRUE(*contents == version_a || *contents == version_b);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mlforge::core
