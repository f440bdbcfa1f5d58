#include "deploy/validation.h"

#include <gtest/gtest.h>

namespace mlforge::deploy {
namespace {

TEST(ValidateNameTest, AcceptsKubernetesNamesOnly) {
  EXPECT_TRUE(ValidateName("--name", "mnist-train-2").ok());
  for (const char* bad : {"", "Mnist", "-mnist", "mnist-", "2mnist", "mn_ist", "mn.ist"}) {
    auto status = ValidateName("--name", bad);
    EXPECT_FALSE(status.ok()) << bad;
    EXPECT_NE(status.message().find("--name"), std::string::npos) << status.message();
  }
  auto long_name = ValidateName("--name", std::string(51, 'a'), 50);
  ASSERT_FALSE(long_name.ok());
  EXPECT_NE(long_name.message().find("at most 50"), std::string::npos) << long_name.message();
}

TEST(ValidateImageTest, DockerReferenceGrammar) {
  for (const char* good :
       {"mlforge", "mlforge:0.1.0", "library/mlforge", "registry.example.com/team/mlforge:v1",
        "localhost:5000/mlforge", "ghcr.io/a/b_c--d:latest",
        "mlforge@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}) {
    EXPECT_TRUE(ValidateImage("--image", good).ok()) << good;
  }
  for (const char* bad : {"", "MLforge", "mlforge:", "mlforge:-x", "a//b", "mlforge image",
                          "mlforge@sha256:short", "/mlforge", "mlforge/"}) {
    auto status = ValidateImage("--image", bad);
    EXPECT_FALSE(status.ok()) << bad;
    EXPECT_NE(status.message().find("--image"), std::string::npos);
  }
}

TEST(ValidateQuantityTest, CpuAndMemoryForms) {
  for (const char* good : {"1", "500m", "0.5", "2Gi", "512Mi", "1e3", "4G"}) {
    EXPECT_TRUE(ValidateQuantity("--cpu", good).ok()) << good;
  }
  for (const char* bad : {"", "one", "2 Gi", "2GB", "-1", "1.2.3"}) {
    EXPECT_FALSE(ValidateQuantity("--memory", bad).ok()) << bad;
  }
}

TEST(ValidateNumbersTest, PortsAndCounts) {
  EXPECT_TRUE(ValidatePort("--port", 8080).ok());
  EXPECT_FALSE(ValidatePort("--port", 0).ok());
  EXPECT_FALSE(ValidatePort("--port", 70000).ok());
  auto workers = ValidateAtLeast("--workers", 0, 1);
  ASSERT_FALSE(workers.ok());
  EXPECT_EQ(workers.message(), "--workers is 0; it must be at least 1");
}

TEST(ValidateConfigKeyTest, FileNames) {
  EXPECT_TRUE(ValidateConfigKey("config", "train.yaml").ok());
  EXPECT_FALSE(ValidateConfigKey("config", "my train.yaml").ok());
  EXPECT_FALSE(ValidateConfigKey("config", "..").ok());
}

TEST(ToNameFragmentTest, MakesNamesFromFreeText) {
  EXPECT_EQ(ToNameFragment("Train_MNIST.v2"), "train-mnist-v2");
  EXPECT_EQ(ToNameFragment("--a  b--"), "a-b");
  EXPECT_EQ(ToNameFragment("abcdef-ghij", 7), "abcdef");
  EXPECT_EQ(ToNameFragment("___"), "");
}

}  // namespace
}  // namespace mlforge::deploy
