#include "serving/repository.h"

#include <gtest/gtest.h>

#include "serving/testing/test_models.h"

namespace mlforge::serving {
namespace {

Matrix Ones(int64_t width) {
  Matrix rows(1, width);
  for (float& value : rows.values) value = 1;
  return rows;
}

TEST(ModelRepositoryTest, GetsLatestOrNamedVersion) {
  net::MetricsRegistry registry;
  ServingMetrics metrics(&registry);
  ModelRepository repository({}, &metrics);
  EXPECT_FALSE(repository.ready()) << "nothing loaded yet";
  ASSERT_TRUE(repository.Load("tab", 1, testing::TabularRegressor()).ok());
  ASSERT_TRUE(repository.Load("tab", 3, testing::TabularRegressor()).ok());
  EXPECT_TRUE(repository.ready());
  auto latest = repository.Get("tab", std::nullopt);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ((*latest)->version, 3);
  auto first = repository.Get("tab", 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)->version, 1);
  auto missing = repository.Get("tab", 2);
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("1, 3"), std::string::npos)
      << missing.status().message();
  EXPECT_EQ(repository.Get("other", std::nullopt).status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(repository.Versions("tab").size(), 2u);
  EXPECT_EQ(repository.Names(), std::vector<std::string>{"tab"});
  EXPECT_NE(registry.RenderPrometheus().find(
                R"(mlforge_serving_model_events_total{model="tab",version="3",event="load"} 1)"),
            std::string::npos);
  EXPECT_EQ(repository.Load("", 1, testing::TabularRegressor()).code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(repository.Load("tab", 0, testing::TabularRegressor()).code(),
            core::StatusCode::kInvalidArgument);
}

TEST(ModelRepositoryTest, SwapKeepsInFlightHandlesOnTheOldVersion) {
  ModelRepository repository({}, nullptr);
  ASSERT_TRUE(repository.Load("m", 1, testing::TabularRegressor()).ok());
  auto old_handle = repository.Get("m", 1);
  ASSERT_TRUE(old_handle.ok());
  // Same name and version, a different model: y = 10 x0 + 10 x1 + 10 x2.
  ModelSignature signature = testing::TabularRegressor()->signature();  // a copy
  auto replacement = LinearModel::Create(signature, {10, 10, 10}, {0});
  ASSERT_TRUE(replacement.ok());
  ASSERT_TRUE(repository.Load("m", 1, *replacement).ok());
  auto old_out = (*old_handle)->batcher->Predict(Ones(3));
  ASSERT_TRUE(old_out.ok());
  EXPECT_FLOAT_EQ(old_out->At(0, 0), 6.5F) << "the request that started on the old version";
  auto new_handle = repository.Get("m", 1);
  ASSERT_TRUE(new_handle.ok());
  auto new_out = (*new_handle)->batcher->Predict(Ones(3));
  ASSERT_TRUE(new_out.ok());
  EXPECT_FLOAT_EQ(new_out->At(0, 0), 30.0F);
}

TEST(ModelRepositoryTest, UnloadAndReadiness) {
  ModelRepository repository({}, nullptr);
  ASSERT_TRUE(repository.Load("m", 1, testing::TabularRegressor()).ok());
  auto handle = repository.Get("m", std::nullopt);
  ASSERT_TRUE(repository.Unload("m", 1).ok());
  EXPECT_EQ(repository.Unload("m", 1).code(), core::StatusCode::kNotFound);
  EXPECT_EQ(repository.Get("m", std::nullopt).status().code(), core::StatusCode::kNotFound);
  EXPECT_TRUE((*handle)->batcher->Predict(Ones(3)).ok()) << "a held handle still serves";
  EXPECT_FALSE(repository.ready());
  ASSERT_TRUE(repository.Load("m", 2, testing::TabularRegressor()).ok());
  EXPECT_TRUE(repository.ready());
  repository.SetReady(false);
  EXPECT_FALSE(repository.ready());
}

TEST(ModelRepositoryTest, PreparedVersionIsHiddenUntilSwappedWithItsLabel) {
  ModelRepository repository({}, nullptr);
  ASSERT_TRUE(repository.Load("m", 1, testing::TabularRegressor()).ok());
  ASSERT_TRUE(repository.Load("m", 2, testing::TabularRegressor()).ok());
  ASSERT_TRUE(repository.SetLabel("m", "stable", 1).ok());
  EXPECT_EQ(repository.SetLabel("m", "stable", 9).code(), core::StatusCode::kNotFound);
  auto prepared = repository.Prepare("m", 3, testing::TabularRegressor(), {});
  ASSERT_TRUE(prepared.ok());
  EXPECT_TRUE((*prepared)->batcher->Predict(Ones(3)).ok()) << "a warm-up call before the swap";
  EXPECT_EQ(repository.Get("m", 3).status().code(), core::StatusCode::kNotFound);
  auto held = repository.Get("m", 1);
  ASSERT_TRUE(repository.Swap(*prepared, "champion").ok());
  ASSERT_EQ(repository.Versions("m").size(), 1u) << "the swapped-in version is the only one";
  EXPECT_EQ((*repository.Get("m", std::nullopt))->version, 3);
  EXPECT_EQ((*repository.GetByLabel("m", "champion"))->version, 3);
  auto gone = repository.GetByLabel("m", "stable");
  EXPECT_EQ(gone.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(gone.status().message().find("champion"), std::string::npos) << gone.status().message();
  EXPECT_EQ(repository.Labels("m"), (std::map<std::string, int64_t>{{"champion", 3}}));
  EXPECT_TRUE((*held)->batcher->Predict(Ones(3)).ok()) << "a held handle still serves";
  ASSERT_TRUE(repository.Unload("m", 3).ok());
  EXPECT_TRUE(repository.Labels("m").empty()) << "labels go with their version";
  EXPECT_EQ(repository.Swap(nullptr, "").code(), core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlforge::serving
