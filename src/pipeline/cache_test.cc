#include "pipeline/cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "core/file.h"
#include "core/hash.h"

namespace mlforge::pipeline {
namespace {
namespace fs = std::filesystem;

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pipeline_cache_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code error;
    fs::remove_all(dir_, error);
  }
  fs::path dir_;
};

TEST_F(CacheTest, DigestMemoMatchesTheContentAndNoticesChanges) {
  ASSERT_TRUE(core::WriteFileAtomic(dir_ / "data" / "a.txt", "alpha").ok());
  ASSERT_TRUE(core::WriteFileAtomic(dir_ / "data" / "sub" / "b.txt", "beta").ok());
  DigestMemo memo(dir_ / "memo.json");
  auto file = memo.Digest(dir_ / "data" / "a.txt");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*file, "sha256:" + core::Sha256Hex("alpha"));
  auto folder = memo.Digest(dir_ / "data");
  ASSERT_TRUE(folder.ok());
  EXPECT_EQ(*folder, "sha256:" + *core::Sha256Tree(dir_ / "data"));
  ASSERT_TRUE(memo.Save().ok());

  // A new memo reads the saved one and gives the same answers.
  DigestMemo reloaded(dir_ / "memo.json");
  EXPECT_EQ(*reloaded.Digest(dir_ / "data"), *folder);
  // A changed file (new size, mtime and inode) changes both digests.
  ASSERT_TRUE(core::WriteFileAtomic(dir_ / "data" / "sub" / "b.txt", "beta, changed").ok());
  EXPECT_NE(*reloaded.Digest(dir_ / "data"), *folder);
  EXPECT_EQ(*reloaded.Digest(dir_ / "data"), "sha256:" + *core::Sha256Tree(dir_ / "data"));
  EXPECT_FALSE(reloaded.Digest(dir_ / "missing").ok());
}

TEST_F(CacheTest, CommitLookupAndRestore) {
  StepCache cache(dir_ / "cache");
  ASSERT_TRUE(core::WriteFileAtomic(dir_ / "out" / "model" / "weights.bin", "0123").ok());
  ASSERT_TRUE(core::WriteFileAtomic(dir_ / "out" / "metrics", "{}").ok());
  EXPECT_EQ(cache.Lookup("k1").status().code(), core::StatusCode::kNotFound);
  // A stale temporary of a killed process is cleaned up by the next commit.
  fs::create_directories(dir_ / "cache" / ".tmp-k1-dead");
  CacheEntry entry;
  entry.key = "k1";
  entry.step = "train";
  entry.producer_run_id = "run-1";
  entry.outputs = {{"model", "folder", "sha256:x", ""},
                   {"metrics", "file", "sha256:y", ""},
                   {"accuracy", "float", "value:0.9", "0.9"}};
  core::Status committed = cache.Commit(entry, dir_ / "out");
  ASSERT_TRUE(committed.ok()) << committed.ToString();
  EXPECT_FALSE(fs::exists(dir_ / "cache" / ".tmp-k1-dead"));
  auto found = cache.Lookup("k1");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->producer_run_id, "run-1");
  ASSERT_EQ(found->outputs.size(), 3u);
  EXPECT_EQ(found->outputs[2].value, "0.9");
  // The cached copy is independent of the source and read-only.
  ASSERT_TRUE(core::WriteFileAtomic(dir_ / "out" / "metrics", "{\"changed\": 1}").ok());
  EXPECT_EQ(*core::ReadFile(dir_ / "cache" / "k1" / "outputs" / "metrics"), "{}");
  EXPECT_EQ(fs::status(dir_ / "cache" / "k1" / "outputs" / "metrics").permissions() &
                fs::perms::owner_write,
            fs::perms::none);

  ASSERT_TRUE(cache.Restore(*found, dir_ / "restored").ok());
  EXPECT_EQ(*core::ReadFile(dir_ / "restored" / "model" / "weights.bin"), "0123");
  EXPECT_EQ(*core::ReadFile(dir_ / "restored" / "metrics"), "{}");
  // A manifest whose artifact went missing is not a hit.
  fs::remove_all(dir_ / "cache" / "k1" / "outputs" / "model");
  EXPECT_FALSE(cache.Lookup("k1").ok());
}

TEST_F(CacheTest, KeyLockSerialisesHolders) {
  auto first = KeyLock::Acquire(dir_ / "cache", "k");
  ASSERT_TRUE(first.ok());
  std::atomic<bool> second_held{false};
  std::thread other([&] {
    auto second = KeyLock::Acquire(dir_ / "cache", "k");
    ASSERT_TRUE(second.ok());
    second_held.store(true);
  });
  // The other holder cannot get in while the first lock is held.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(second_held.load());
  first->reset();
  other.join();
  EXPECT_TRUE(second_held.load());
  // Another key is independent.
  auto other_key = KeyLock::Acquire(dir_ / "cache", "other");
  EXPECT_TRUE(other_key.ok());
}

}  // namespace
}  // namespace mlforge::pipeline
