#include "dist/strategy.h"

#include <gtest/gtest.h>

namespace mlforge::dist {
namespace {

core::Result<StrategyOptions> Read(const std::string& yaml) {
  auto config = core::Config::Parse(yaml, "test.yaml");
  if (!config.ok()) return config.status();
  return ReadStrategy(*config);
}

TEST(StrategyTest, DefaultsToDdp) {
  auto options = Read("seed: 1\n");
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->strategy, Strategy::kDdp);
  EXPECT_EQ(options->sync_every, 1);
  EXPECT_EQ(options->ps_mode, PsMode::kSync);
  EXPECT_EQ(DescribeStrategy(*options), "ddp");
}

TEST(StrategyTest, ReadsParameterServerKeys) {
  auto options = Read("dist: {strategy: ps, sync_every: 4, ps_mode: async, max_staleness: 0}\n");
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->strategy, Strategy::kParameterServer);
  EXPECT_EQ(options->sync_every, 4);
  EXPECT_EQ(options->ps_mode, PsMode::kAsync);
  EXPECT_EQ(options->max_staleness, 0);
  EXPECT_EQ(DescribeStrategy(*options), "ps async, sync_every 4, max_staleness 0");
}

TEST(StrategyTest, BadValuesNameTheirKey) {
  struct Case {
    const char* yaml;
    const char* key;
  };
  for (const Case& bad :
       {Case{"dist: {strategy: allreduce}\n", "dist.strategy"},
        Case{"dist: {strategy: ps, sync_every: 0}\n", "dist.sync_every"},
        Case{"dist: {sync_every: -3}\n", "dist.sync_every"},
        Case{"dist: {ps_mode: sometimes}\n", "dist.ps_mode"},
        Case{"dist: {ps_mode: async, max_staleness: -1}\n", "dist.max_staleness"}}) {
    auto options = Read(bad.yaml);
    ASSERT_FALSE(options.ok()) << bad.yaml;
    EXPECT_EQ(options.status().code(), core::StatusCode::kInvalidArgument) << bad.yaml;
    EXPECT_NE(options.status().message().find(bad.key), std::string::npos)
        << options.status().message();
  }
}

}  // namespace
}  // namespace mlforge::dist
