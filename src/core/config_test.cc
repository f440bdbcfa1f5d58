#include "core/config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/file.h"

namespace mlforge::core {
namespace {

constexpr char kYaml[] = R"(
model:
  kind: cnn
  channels: [32, 64]
optimizer:
  name: sgd
  lr: 0.05
  nesterov: true
epochs: 3
)";

TEST(ConfigTest, ReadsTypedValuesByDottedKey) {
  auto config = Config::Parse(kYaml, "train.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(*config->String("model.kind"), "cnn");
  EXPECT_EQ(*config->IntList("model.channels"), (std::vector<int64_t>{32, 64}));
  EXPECT_DOUBLE_EQ(*config->Double("optimizer.lr"), 0.05);
  EXPECT_TRUE(*config->Bool("optimizer.nesterov"));
  EXPECT_EQ(*config->Int("epochs"), 3);
  EXPECT_EQ(*config->Int("batch_size", 64), 64);
  EXPECT_TRUE(config->Has("optimizer.name"));
  EXPECT_FALSE(config->Has("optimizer.momentum"));
}

TEST(ConfigTest, ErrorsNameTheKeyAndTheFile) {
  auto config = Config::Parse(kYaml, "train.yaml");
  ASSERT_TRUE(config.ok());
  Status missing = config->String("data.name").status();
  EXPECT_EQ(missing.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.message().find("data.name"), std::string::npos);
  EXPECT_NE(missing.message().find("train.yaml"), std::string::npos);
  Status wrong_type = config->Int("model.kind").status();
  EXPECT_NE(wrong_type.message().find("must be an integer"), std::string::npos);
  EXPECT_FALSE(config->IntList("model.kind").ok());
  // A subtree's errors still name the full key.
  EXPECT_NE(config->Sub("optimizer").Int("lr").status().message().find("'optimizer.lr'"),
            std::string::npos);
  EXPECT_NE(config->Sub("data").String("name").status().message().find("'data.name'"),
            std::string::npos);
  EXPECT_EQ(*config->DoubleList("model.channels"), (std::vector<double>{32, 64}));
  EXPECT_FALSE(config->DoubleList("optimizer.name").ok());
}

TEST(ConfigTest, OverridesParseAsYamlAndCreatePaths) {
  auto config = Config::Parse(
      kYaml, "train.yaml",
      {"optimizer.lr=0.1", "model.channels=[8,16,32]", "data.name=mnist", "epochs=5"});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_DOUBLE_EQ(*config->Double("optimizer.lr"), 0.1);
  EXPECT_EQ(config->IntList("model.channels")->size(), 3u);
  EXPECT_EQ(*config->String("data.name"), "mnist");
  EXPECT_EQ(*config->Int("epochs"), 5);
  EXPECT_EQ(*config->Sub("optimizer").String("name"), "sgd");
}

TEST(ConfigTest, RejectsBadYamlAndBadOverrides) {
  auto bad = Config::Parse("model: [unclosed", "broken.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("broken.yaml"), std::string::npos);
  EXPECT_NE(bad.status().message().find("line"), std::string::npos);
  EXPECT_FALSE(Config::Parse(kYaml, "x", {"no-equals-sign"}).ok());
  EXPECT_FALSE(Config::Parse(kYaml, "x", {"epochs.inner=1"}).ok());
  EXPECT_FALSE(Config::Parse("- a list\n- at top", "list.yaml").ok());
  EXPECT_EQ(Config::Load("/nonexistent/train.yaml").status().code(), StatusCode::kNotFound);
}

TEST(ConfigTest, FlattenAndRoundTrip) {
  auto config = Config::Parse(kYaml, "train.yaml");
  ASSERT_TRUE(config.ok());
  auto flat = config->Flatten();
  auto find = [&](const std::string& key) {
    for (auto& [k, v] : flat) {
      if (k == key) return v;
    }
    return std::string("<absent>");
  };
  EXPECT_EQ(find("optimizer.lr"), "0.05");
  EXPECT_EQ(find("model.channels"), "[32, 64]");
  auto again = Config::Parse(config->ToYaml(), "again");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Flatten(), flat);
}

}  // namespace
}  // namespace mlforge::core
