#include "tracking/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "core/ids.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/testing/store_wrapper.h"

namespace mlforge::tracking {
namespace {

// A real store whose first `failures` LogBatch calls fail with Unavailable,
// to exercise retries (STYLE.md: wrap the real thing to inject faults).
class FlakyStore : public testing::StoreWrapper {
 public:
  FlakyStore(std::unique_ptr<Store> real, int failures)
      : StoreWrapper(std::move(real)), failures_(failures) {}
  core::Status LogBatch(std::string_view run_id, const std::vector<Metric>& metrics,
                        const std::vector<Param>& params,
                        const std::vector<RunTag>& tags) override {
    batches_.fetch_add(1);
    if (failures_.fetch_sub(1) > 0) return core::UnavailableError("server restarting");
    return StoreWrapper::LogBatch(run_id, metrics, params, tags);
  }
  int batches() const { return batches_.load(); }

 private:
  std::atomic<int> failures_;
  std::atomic<int> batches_{0};
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mlforge-client-" + core::NewId());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ClientTest, AsyncMetricsArriveInBatchesAfterFlush) {
  auto client = Client::Open("sqlite:///" + (dir_ / "mlruns.db").string(), "",
                             ClientOptions{.flush_interval = std::chrono::seconds(30)});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto experiment = (*client)->GetOrCreateExperiment("mnist");
  ASSERT_TRUE(experiment.ok()) << experiment.status().ToString();
  EXPECT_EQ(*(*client)->GetOrCreateExperiment("mnist"), *experiment);
  auto run = (*client)->store().CreateRun(*experiment, "tester", core::NowMillis(), {}, {});
  ASSERT_TRUE(run.ok());
  for (int step = 0; step < 2500; ++step) {
    (*client)->LogMetricAsync(run->info.run_id, {"loss", 1.0 / (step + 1), 1000 + step, step});
  }
  ASSERT_TRUE((*client)->Flush().ok());
  auto history = (*client)->store().GetMetricHistory(run->info.run_id, "loss", std::nullopt, "");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->metrics.size(), 2500u);
}

TEST_F(ClientTest, TransientFailuresAreRetriedAndPermanentOnesReported) {
  auto real = SqliteStore::Open((dir_ / "flaky.db").string(), (dir_ / "artifacts").string());
  ASSERT_TRUE(real.ok());
  auto flaky = std::make_unique<FlakyStore>(std::move(real).value(), 2);
  FlakyStore* flaky_view = flaky.get();
  auto client = Client::ForStore(std::move(flaky),
                                 ClientOptions{.initial_backoff = std::chrono::milliseconds(5)});
  auto run = client->store().CreateRun("0", "tester", core::NowMillis(), {}, {});
  ASSERT_TRUE(run.ok());
  client->LogMetricAsync(run->info.run_id, {"acc", 0.5, 1, 0});
  ASSERT_TRUE(client->Flush().ok());
  EXPECT_EQ(flaky_view->batches(), 3);  // two failures, then success
  EXPECT_EQ(client->store().GetRun(run->info.run_id)->data.metrics.size(), 1u);

  // An invalid metric key is permanent: no retries, reported by Flush.
  client->LogMetricAsync(run->info.run_id, {"bad..key/../x", 1, 1, 0});
  core::Status status = client->Flush();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_TRUE(client->Flush().ok());  // the error is reported once
}

TEST_F(ClientTest, UriComesFromTheEnvironmentWhenNotGiven) {
  std::string uri = "sqlite:///" + (dir_ / "env.db").string();
  setenv("MLFLOW_TRACKING_URI", uri.c_str(), 1);
  auto client = Client::Open("", "sqlite:///" + (dir_ / "fallback.db").string());
  unsetenv("MLFLOW_TRACKING_URI");
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->uri(), uri);
  EXPECT_FALSE(Client::Open("", "").ok());
}

}  // namespace
}  // namespace mlforge::tracking
