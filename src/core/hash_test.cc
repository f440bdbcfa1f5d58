#include "core/hash.h"

#include <gtest/gtest.h>

#include "core/file.h"
#include "core/ids.h"

namespace mlforge::core {
namespace {

TEST(HashTest, KnownVectors) {
  // FIPS 180-2 test vectors.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 incremental;
  incremental.Update("a");
  incremental.Update("bc");
  EXPECT_EQ(incremental.FinishHex(), Sha256Hex("abc"));
}

TEST(HashTest, FilesAndTrees) {
  auto dir = std::filesystem::temp_directory_path() / ("mlforge-hash-" + NewId());
  ASSERT_TRUE(WriteFileAtomic(dir / "a.txt", "abc").ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "sub" / "b.txt", "data").ok());
  EXPECT_EQ(*Sha256File(dir / "a.txt"), Sha256Hex("abc"));
  auto tree = Sha256Tree(dir);
  ASSERT_TRUE(tree.ok());
  // Same content written again gives the same digest; a changed byte does not.
  ASSERT_TRUE(WriteFileAtomic(dir / "a.txt", "abc").ok());
  EXPECT_EQ(*Sha256Tree(dir), *tree);
  ASSERT_TRUE(WriteFileAtomic(dir / "sub" / "b.txt", "datA").ok());
  EXPECT_NE(*Sha256Tree(dir), *tree);
  EXPECT_EQ(Sha256File(dir / "missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Sha256Tree(dir / "missing").status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(IdsTest, IdsAreHexUuids) {
  std::string id = NewId();
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id[12], '4');
  EXPECT_NE(NewId(), id);
  EXPECT_EQ(UtcTimestamp().size(), 26u);
}

}  // namespace
}  // namespace mlforge::core
