#include "models/package.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/file.h"
#include "core/ids.h"

namespace mlforge::models {
namespace {

class PackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mlforge-package-" + core::NewId());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(PackageTest, WriteThenLoadGivesTheSameOutputs) {
  auto config = core::Config::Parse("kind: cnn\nchannels: [4, 8]\nhidden: 16", "m.yaml");
  auto built = BuildModel(*config, InputSpec{{1, 28, 28}, 10, 33.3, 78.6});
  ASSERT_TRUE(built.ok());
  PackageInfo info;
  info.run_id = "abc123";
  info.model_kind = "cnn";
  info.class_names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  info.signature.input_shape = {-1, 1, 28, 28};
  info.signature.output_shape = {-1, 10};
  info.input_example = nlohmann::json::array({std::vector<float>(784, 0.0f)});
  ASSERT_TRUE(WritePackage(dir_ / "model", built->module, info).ok());

  auto package = LoadPackage(dir_ / "model");
  ASSERT_TRUE(package.ok()) << package.status().ToString();
  EXPECT_EQ(package->info.run_id, "abc123");
  EXPECT_EQ(package->info.model_uuid.size(), 32u);
  EXPECT_EQ(package->info.class_names.size(), 10u);
  EXPECT_EQ(package->info.signature.input_shape, (std::vector<int64_t>{-1, 1, 28, 28}));
  EXPECT_FALSE(package->info.input_example.is_null());

  auto input = torch::rand({3, 1, 28, 28}) * 255;
  built->module.eval();
  auto expected = built->module.forward({input}).toTensor();
  auto actual = RunModel(*package, input);
  ASSERT_TRUE(actual.ok());
  EXPECT_TRUE(torch::allclose(*actual, expected));

  auto wrong = RunModel(*package, torch::rand({3, 784}));
  EXPECT_EQ(wrong.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("signature"), std::string::npos);

  auto mlmodel = core::ReadFile(dir_ / "model" / "MLmodel");
  for (const char* field :
       {"flavors:", "torchscript:", "model_file: model.pt", "signature:", "run_id: abc123",
        "utc_time_created:", "model_uuid:", "mlforge_version:", "saved_input_example_info:"}) {
    EXPECT_NE(mlmodel->find(field), std::string::npos) << field;
  }
}

TEST_F(PackageTest, RewritingReplacesWholeAndLeavesNoStagingFolders) {
  auto config = core::Config::Parse("kind: logreg", "m.yaml");
  InputSpec input{{4}, 3, 0, 1};
  PackageInfo info;
  info.signature.input_columns = {{"a"}, {"b"}, {"c"}, {"d"}};
  info.signature.output_shape = {-1, 3};
  for (const char* run : {"first", "second"}) {
    auto built = BuildModel(*config, input);
    info.run_id = run;
    ASSERT_TRUE(WritePackage(dir_ / "model", built->module, info).ok());
  }
  EXPECT_EQ(ReadPackageInfo(dir_ / "model")->run_id, "second");
  EXPECT_EQ(ReadPackageInfo(dir_ / "model")->signature.input_columns.size(), 4u);
  int entries = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(PackageTest, MissingOrCorruptPackagesAreClearErrors) {
  EXPECT_EQ(LoadPackage(dir_ / "nothing").status().code(), core::StatusCode::kNotFound);
  ASSERT_TRUE(core::WriteFileAtomic(dir_ / "bad" / "MLmodel",
                                    "flavors:\n  torchscript:\n    model_file: model.pt\n")
                  .ok());
  ASSERT_TRUE(core::WriteFileAtomic(dir_ / "bad" / "model.pt", "not a zip archive").ok());
  auto corrupt = LoadPackage(dir_ / "bad");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.status().message().find("model.pt"), std::string::npos);
}

}  // namespace
}  // namespace mlforge::models
