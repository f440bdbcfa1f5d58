#include "data/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/file.h"
#include "data/testing/temp_dir.h"

namespace mlforge::data {
namespace {

using ::testing::HasSubstr;

// A small image array (count x 2 x 3) with distinct values, and its labels.
IdxArray Images(int64_t count) {
  IdxArray array{{count, 2, 3}, {}};
  for (int64_t index = 0; index < count * 6; ++index)
    array.data.push_back(static_cast<uint8_t>(index * 7 % 256));
  return array;
}

IdxArray Labels(std::vector<uint8_t> values) {
  return IdxArray{{static_cast<int64_t>(values.size())}, std::move(values)};
}

TEST(IdxTest, RoundTripKeepsDimsAndBytes) {
  testing::ScopedTempDir dir;
  const IdxArray images = Images(4);
  ASSERT_TRUE(WriteIdx(dir.path() / "images", images).ok());
  auto read = ReadIdx(dir.path() / "images");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, images);
  // The header is the documented big-endian layout: 4 magic bytes, 3 dims.
  auto bytes = core::ReadFile(dir.path() / "images");
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->size(), 4u + 3 * 4 + 24);
  EXPECT_EQ(bytes->substr(0, 8), std::string("\0\0\x08\x03\0\0\0\x04", 8));
}

TEST(IdxTest, WriteRejectsDataThatDoesNotFitTheDims) {
  testing::ScopedTempDir dir;
  IdxArray wrong{{2, 2}, {1, 2, 3}};
  core::Status status = WriteIdx(dir.path() / "wrong", wrong);
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("2 x 2"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "wrong"));
}

TEST(IdxTest, TruncatedFileNamesFileAndSizes) {
  testing::ScopedTempDir dir;
  const auto path = dir.path() / "short-idx3-ubyte";
  ASSERT_TRUE(WriteIdx(path, Images(4)).ok());
  std::filesystem::resize_file(path, 4 + 12 + 20);
  auto read = ReadIdx(path);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status().message(), HasSubstr(path.string()));
  EXPECT_THAT(read.status().message(), HasSubstr("truncated"));
  EXPECT_THAT(read.status().message(), HasSubstr("expected 40 bytes"));
  EXPECT_THAT(read.status().message(), HasSubstr("found 36"));
}

TEST(IdxTest, TruncatedHeaderAndTrailingBytesAreErrors) {
  testing::ScopedTempDir dir;
  const auto header_only = dir.path() / "header";
  ASSERT_TRUE(core::WriteFileAtomic(header_only, std::string("\0\0\x08\x03\0\0", 6)).ok());
  auto read = ReadIdx(header_only);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("truncated"));
  EXPECT_THAT(read.status().message(), HasSubstr("found 6"));

  const auto trailing = dir.path() / "trailing";
  ASSERT_TRUE(WriteIdx(trailing, Labels({1, 2})).ok());
  auto bytes = core::ReadFile(trailing);
  ASSERT_TRUE(core::WriteFileAtomic(trailing, *bytes + "xyz").ok());
  read = ReadIdx(trailing);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("3 trailing bytes"));
}

TEST(IdxTest, BadMagicNamesFileAndHintsAtGzip) {
  testing::ScopedTempDir dir;
  const auto path = dir.path() / "images.gz";
  ASSERT_TRUE(core::WriteFileAtomic(path, std::string("\x1f\x8b\x08\x00\0\0\0\0", 8)).ok());
  auto read = ReadIdx(path);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr(path.string()));
  EXPECT_THAT(read.status().message(), HasSubstr("bad magic number 0x1F8B0800"));
  EXPECT_THAT(read.status().message(), HasSubstr("gzip"));
}

TEST(IdxTest, UnsupportedTypeIsRejected) {
  testing::ScopedTempDir dir;
  const auto path = dir.path() / "floats";
  ASSERT_TRUE(core::WriteFileAtomic(path, std::string("\0\0\x0D\x01\0\0\0\x01\0\0\0\0", 12)).ok());
  auto read = ReadIdx(path);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("unsupported data type 0x0D (float)"));
  EXPECT_THAT(read.status().message(), HasSubstr(path.string()));
}

TEST(IdxTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadIdx("/nonexistent/idx").status().code(), core::StatusCode::kNotFound);
}

TEST(IdxTest, DatasetHasImageShapeRawPixelsAndLabels) {
  testing::ScopedTempDir dir;
  const IdxArray images = Images(3);
  ASSERT_TRUE(WriteIdx(dir.path() / "images", images).ok());
  ASSERT_TRUE(WriteIdx(dir.path() / "labels", Labels({2, 0, 1})).ok());
  auto dataset = ReadIdxDataset(dir.path() / "images", dir.path() / "labels", 3);
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  EXPECT_EQ(dataset->feature_shape, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(dataset->rows(), 3);
  EXPECT_EQ(dataset->row_size(), 6);
  EXPECT_EQ(dataset->labels, (std::vector<int64_t>{2, 0, 1}));
  ASSERT_EQ(dataset->features.size(), images.data.size());
  for (size_t index = 0; index < images.data.size(); ++index) {
    EXPECT_EQ(dataset->features[index], static_cast<float>(images.data[index]));
  }
  EXPECT_TRUE(dataset->feature_names.empty());
}

TEST(IdxTest, CountMismatchBetweenImagesAndLabels) {
  testing::ScopedTempDir dir;
  ASSERT_TRUE(WriteIdx(dir.path() / "images", Images(3)).ok());
  ASSERT_TRUE(WriteIdx(dir.path() / "labels", Labels({1, 2})).ok());
  auto dataset = ReadIdxDataset(dir.path() / "images", dir.path() / "labels");
  ASSERT_FALSE(dataset.ok());
  EXPECT_EQ(dataset.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(dataset.status().message(), HasSubstr("count mismatch"));
  EXPECT_THAT(dataset.status().message(), HasSubstr("3 images"));
  EXPECT_THAT(dataset.status().message(), HasSubstr("2 labels"));
  EXPECT_THAT(dataset.status().message(), HasSubstr((dir.path() / "labels").string()));
}

TEST(IdxTest, LabelOutOfRangeAndWrongRank) {
  testing::ScopedTempDir dir;
  ASSERT_TRUE(WriteIdx(dir.path() / "images", Images(2)).ok());
  ASSERT_TRUE(WriteIdx(dir.path() / "labels", Labels({1, 10})).ok());
  auto dataset = ReadIdxDataset(dir.path() / "images", dir.path() / "labels", 10);
  ASSERT_FALSE(dataset.ok());
  EXPECT_THAT(dataset.status().message(), HasSubstr("label out of range"));
  EXPECT_THAT(dataset.status().message(), HasSubstr("label 10 at index 1"));

  // Labels passed as images: the rank check names the file.
  dataset = ReadIdxDataset(dir.path() / "labels", dir.path() / "labels");
  ASSERT_FALSE(dataset.ok());
  EXPECT_THAT(dataset.status().message(), HasSubstr("must have 3 dimensions"));
}

}  // namespace
}  // namespace mlforge::data
