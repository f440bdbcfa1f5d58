#include "serving/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "serving/testing/test_models.h"

namespace mlforge::serving {
namespace {

Matrix Row(std::vector<float> values) {
  Matrix matrix(1, static_cast<int64_t>(values.size()));
  matrix.values = std::move(values);
  return matrix;
}

struct Fixture {
  net::MetricsRegistry registry;
  net::Histogram* batch_rows = nullptr;
  net::Gauge* depth = nullptr;
  Fixture() {
    batch_rows = &(*registry.AddHistogram("rows", "rows", {}, {1, 2, 4, 8, 16}))->WithLabels();
    depth = &(*registry.AddGauge("depth", "depth"))->WithLabels();
  }
  Batcher::Metrics metrics() { return {batch_rows, depth}; }
};

TEST(BatcherTest, MergesConcurrentRequestsIntoOneCallAndSplitsResults) {
  Fixture fixture;
  auto model = testing::TabularRegressor();
  Batcher::Options options;
  options.max_delay = std::chrono::seconds(10);  // only the hold or a full batch closes it
  auto batcher = Batcher::Create(model, options, fixture.metrics());
  ASSERT_TRUE(batcher.ok());
  (*batcher)->HoldUntilQueuedForTesting(4);
  std::vector<float> results(4);
  std::vector<std::thread> threads;
  for (int request = 0; request < 4; ++request) {
    threads.emplace_back([&, request] {
      auto out = (*batcher)->Predict(Row({float(request), 1, 0}));
      ASSERT_TRUE(out.ok()) << out.status().message();
      ASSERT_EQ(out->rows, 1);
      results[static_cast<size_t>(request)] = out->At(0, 0);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int request = 0; request < 4; ++request) {
    EXPECT_FLOAT_EQ(results[static_cast<size_t>(request)], float(request) + 2.0F + 0.5F);
  }
  auto snap = fixture.batch_rows->Snap();
  EXPECT_EQ(snap.count, 1u) << "four requests, one model call";
  EXPECT_DOUBLE_EQ(snap.sum, 4.0);
  EXPECT_DOUBLE_EQ(fixture.depth->Value(), 0.0);
}

// With wait_for_announced, a batch waits (even for an hour of max_delay)
// exactly while an announced request has not arrived, and runs as soon as
// none is on its way: the announced request joins it, a withdrawn one
// releases it, and a lone request never waits.
TEST(BatcherTest, WaitsOnlyForAnnouncedRequests) {
  Fixture fixture;
  Batcher::Options options;
  options.max_delay = std::chrono::hours(1);
  options.wait_for_announced = true;
  auto batcher = Batcher::Create(testing::TabularRegressor(), options, fixture.metrics());
  ASSERT_TRUE(batcher.ok());
  EXPECT_TRUE((*batcher)->Predict(Row({1, 0, 0})).ok()) << "alone: runs at once";

  auto coming = std::make_unique<Batcher::Arrival>(batcher->get());
  std::atomic<bool> first_done{false};
  std::thread first([&] {
    Batcher::Arrival arrival(batcher->get());
    EXPECT_TRUE((*batcher)->Predict(Row({1, 1, 1}), &arrival).ok());
    first_done = true;
  });
  while ((*batcher)->queued() == 0) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(first_done) << "it waits for the announced request";
  EXPECT_TRUE((*batcher)->Predict(Row({2, 2, 2}), coming.get()).ok()) << "which joins the batch";
  first.join();
  EXPECT_TRUE(first_done);
  auto snap = fixture.batch_rows->Snap();
  EXPECT_EQ(snap.count, 2u) << "the lone call, then one call for both";
  EXPECT_DOUBLE_EQ(snap.sum, 3.0);
  coming.reset();  // already arrived: nothing to withdraw

  // A request that is announced and then never scheduled (its body did not
  // parse) releases the waiting batch when it is withdrawn.
  auto withdrawn = std::make_unique<Batcher::Arrival>(batcher->get());
  std::thread second([&] { EXPECT_TRUE((*batcher)->Predict(Row({3, 3, 3})).ok()); });
  while ((*batcher)->queued() == 0) std::this_thread::yield();
  withdrawn.reset();
  second.join();
  // A refused request counts as arrived too.
  Batcher::Arrival refused(batcher->get());
  EXPECT_EQ((*batcher)->Predict(Row({1, 2}), &refused).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*batcher)->Predict(Row({1, 0, 0})).ok()) << "nothing left announced";
}

TEST(BatcherTest, ClosesBatchAtMaxRows) {
  Fixture fixture;
  Batcher::Options options;
  options.max_batch_rows = 3;
  options.max_delay = std::chrono::milliseconds(20);  // for the leftover row
  auto batcher = Batcher::Create(testing::TabularRegressor(), options, fixture.metrics());
  ASSERT_TRUE(batcher.ok());
  (*batcher)->HoldUntilQueuedForTesting(4);
  std::vector<std::thread> threads;
  for (int request = 0; request < 4; ++request) {
    threads.emplace_back([&] { EXPECT_TRUE((*batcher)->Predict(Row({1, 1, 1})).ok()); });
  }
  for (auto& thread : threads) thread.join();
  auto snap = fixture.batch_rows->Snap();
  EXPECT_EQ(snap.count, 2u) << "3 rows, then 1";
  EXPECT_DOUBLE_EQ(snap.sum, 4.0);
  EXPECT_EQ(snap.cumulative_counts[0], 1u);  // one batch of 1 row
}

TEST(BatcherTest, MaxDelayRunsALoneRequest) {
  Batcher::Options options;
  options.max_delay = std::chrono::microseconds(500);
  auto batcher = Batcher::Create(testing::TabularRegressor(), options, {});
  ASSERT_TRUE(batcher.ok());
  auto out = (*batcher)->Predict(Row({1, 0, 0}));
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ(out->At(0, 0), 1.5F);
}

TEST(BatcherTest, OneBadRequestDoesNotFailItsBatchMates) {
  Fixture fixture;
  auto model = std::make_shared<testing::PoisonModel>(testing::TabularRegressor(), -7.0F);
  Batcher::Options options;
  options.max_delay = std::chrono::seconds(10);
  auto batcher = Batcher::Create(model, options, fixture.metrics());
  ASSERT_TRUE(batcher.ok());
  (*batcher)->HoldUntilQueuedForTesting(3);
  std::atomic<int> ok_count{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int request = 0; request < 3; ++request) {
    threads.emplace_back([&, request] {
      auto out = (*batcher)->Predict(Row({request == 1 ? -7.0F : 1.0F, 0, 0}));
      if (out.ok()) {
        EXPECT_FLOAT_EQ(out->At(0, 0), 1.5F);
        ++ok_count;
      } else {
        EXPECT_EQ(out.status().code(), core::StatusCode::kInvalidArgument);
        ++failed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok_count.load(), 2);
  EXPECT_EQ(failed.load(), 1);
}

TEST(BatcherTest, FullQueueRefusesAtOnceAndKeepsTheTask) {
  Fixture fixture;
  Batcher::Options options;
  options.max_queued_requests = 2;
  auto batcher = Batcher::Create(testing::TabularRegressor(), options, fixture.metrics());
  ASSERT_TRUE(batcher.ok());
  (*batcher)->HoldUntilQueuedForTesting(100);
  std::atomic<int> done{0};
  for (int request = 0; request < 2; ++request) {
    auto task = std::make_unique<BatchTask>();
    task->inputs = Row({1, 2, 3});
    task->done = [&](core::Result<Matrix> result) {
      EXPECT_TRUE(result.ok());
      ++done;
    };
    ASSERT_TRUE((*batcher)->Schedule(&task).ok());
    EXPECT_EQ(task, nullptr);
  }
  EXPECT_EQ((*batcher)->queued(), 2u);
  EXPECT_DOUBLE_EQ(fixture.depth->Value(), 2.0);
  auto extra = std::make_unique<BatchTask>();
  extra->inputs = Row({1, 2, 3});
  extra->done = [](core::Result<Matrix>) { ADD_FAILURE() << "a refused task must not complete"; };
  core::Status refused = (*batcher)->Schedule(&extra);
  EXPECT_EQ(refused.code(), core::StatusCode::kUnavailable);
  EXPECT_NE(extra, nullptr) << "a refused task stays with the caller";
  (*batcher)->HoldUntilQueuedForTesting(0);
  batcher->reset();  // the destructor runs what is queued
  EXPECT_EQ(done.load(), 2);
}

TEST(BatcherTest, RejectsRowsOfTheWrongWidth) {
  auto batcher = Batcher::Create(testing::TabularRegressor(), {}, {});
  ASSERT_TRUE(batcher.ok());
  auto out = (*batcher)->Predict(Row({1, 2}));
  EXPECT_EQ(out.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("3 values"), std::string::npos) << out.status().message();
  EXPECT_EQ((*batcher)->Predict(Matrix(0, 3)).status().code(), core::StatusCode::kInvalidArgument);
}

TEST(BatcherTest, ManyThreadsGetTheirOwnRows) {
  Batcher::Options options;
  options.max_batch_rows = 8;
  options.max_delay = std::chrono::microseconds(200);
  auto batcher = Batcher::Create(testing::TabularRegressor(), options, {});
  ASSERT_TRUE(batcher.ok());
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int thread = 0; thread < 8; ++thread) {
    threads.emplace_back([&, thread] {
      for (int request = 0; request < 50; ++request) {
        Matrix rows(2, 3);
        rows.At(0, 0) = float(thread);
        rows.At(1, 2) = float(request);
        auto out = (*batcher)->Predict(rows);
        if (!out.ok() || out->At(0, 0) != float(thread) + 0.5F ||
            out->At(1, 0) != 3.0F * float(request) + 0.5F) {
          ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace mlforge::serving
