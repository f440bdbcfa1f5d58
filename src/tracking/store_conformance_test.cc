// The Store conformance suite: MLflow's tracking semantics, written against
// the Store interface only, run once per backend (INSTANTIATE_TEST_SUITE_P at
// the bottom, over the backends the test binary registers: see
// testing/store_conformance.h). Search results are checked against an
// independent in-test model of the runs, not against the store's own SQL.

#include "tracking/testing/store_conformance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tracking/store.h"
#include "tracking/testing/temp_dir.h"
#include "tracking/validation.h"

namespace mlforge::tracking {
namespace {

using testing::ScopedTempDir;
using testing::StoreBackend;

#define ASSERT_OK(expr)                                                       \
  do {                                                                        \
    auto&& conformance_status_ = (expr);                                      \
    ASSERT_TRUE(conformance_status_.ok()) << StatusText(conformance_status_); \
  } while (0)

#define EXPECT_OK_RESULT(expr)                                                \
  do {                                                                        \
    auto&& conformance_status_ = (expr);                                      \
    EXPECT_TRUE(conformance_status_.ok()) << StatusText(conformance_status_); \
  } while (0)

#define EXPECT_CODE(expr, expected_code)                                    \
  do {                                                                      \
    auto&& conformance_status_ = (expr);                                    \
    EXPECT_EQ(CodeOf(conformance_status_), core::StatusCode::expected_code) \
        << StatusText(conformance_status_);                                 \
  } while (0)

std::string StatusText(const core::Status& status) { return status.ToString(); }
template <typename T>
std::string StatusText(const core::Result<T>& result) {
  return result.status().ToString();
}
core::StatusCode CodeOf(const core::Status& status) { return status.code(); }
template <typename T>
core::StatusCode CodeOf(const core::Result<T>& result) {
  return result.status().code();
}

// The value of a Result, failing the test (and returning T{}) on error.
template <typename T>
T Must(core::Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return T{};
  return std::move(result).value();
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::optional<std::string> TagValue(const std::vector<RunTag>& tags, std::string_view key) {
  for (const RunTag& tag : tags) {
    if (tag.key == key) return tag.value;
  }
  return std::nullopt;
}

std::optional<Metric> LatestMetric(const tracking::Run& run, std::string_view key) {
  for (const Metric& metric : run.data.metrics) {
    if (metric.key == key) return metric;
  }
  return std::nullopt;
}

// "adjective-noun-123"
bool LooksGenerated(const std::string& name) {
  size_t first = name.find('-');
  size_t second = name.find('-', first == std::string::npos ? 0 : first + 1);
  if (first == std::string::npos || second == std::string::npos || first == 0 ||
      second == first + 1 || second + 1 >= name.size()) {
    return false;
  }
  for (size_t index = 0; index < name.size(); ++index) {
    char c = name[index];
    bool ok = index == first || index == second ||
              (index < second ? (c >= 'a' && c <= 'z') : (c >= '0' && c <= '9'));
    if (!ok) return false;
  }
  return true;
}

class StoreConformanceTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    core::Result<std::unique_ptr<Store>> opened = GetParam().open(folder_.path());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  void Reopen() {
    store_.reset();
    core::Result<std::unique_ptr<Store>> opened = GetParam().open(folder_.path());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  std::string NewExperiment(const std::string& name) {
    return Must(store_->CreateExperiment(name, "", {}));
  }

  tracking::Run NewRun(const std::string& experiment_id,
                       std::optional<std::string> name = std::nullopt, int64_t start_time = 1000) {
    return Must(store_->CreateRun(experiment_id, "tester", start_time, {}, std::move(name)));
  }

  // Every run of a search, following page tokens.
  std::vector<std::string> SearchAll(const std::vector<std::string>& experiment_ids,
                                     const std::string& filter, ViewType view_type,
                                     const std::vector<std::string>& order_by, int page_size) {
    std::vector<std::string> ids;
    std::string token;
    for (int page = 0; page < 1000; ++page) {
      core::Result<RunPage> result =
          store_->SearchRuns(experiment_ids, filter, view_type, page_size, order_by, token);
      EXPECT_TRUE(result.ok()) << filter << ": " << result.status().ToString();
      if (!result.ok()) break;
      for (const tracking::Run& run : result->runs) ids.push_back(run.info.run_id);
      token = result->next_page_token;
      if (token.empty()) break;
    }
    return ids;
  }

  ScopedTempDir folder_;
  std::unique_ptr<Store> store_;
};

// ---- experiments ------------------------------------------------------------------

// An empty experiment or run id names nothing, so a store answers NotFound.
// MLflow's REST API cannot say "the empty id": proto3 JSON leaves an empty
// string out, and the server (MLflow's and ours) answers a missing required
// field with INVALID_PARAMETER_VALUE before any store is asked. Backends
// over REST check that instead; the NotFound cases elsewhere skip "" there.
TEST_P(StoreConformanceTest, EmptyIdIsMissingOverRest) {
  if (!GetParam().over_rest) GTEST_SKIP() << "REST protocol behaviour only";
  EXPECT_CODE(store_->GetExperiment(""), kInvalidArgument);
  EXPECT_CODE(store_->DeleteExperiment(""), kInvalidArgument);
  EXPECT_CODE(store_->GetRun(""), kInvalidArgument);
  EXPECT_CODE(store_->LogParam("", {"p", "1"}), kInvalidArgument);
  EXPECT_CODE(store_->GetMetricHistory("", "m", std::nullopt, ""), kInvalidArgument);
}

TEST_P(StoreConformanceTest, DefaultExperimentExists) {
  Experiment fallback = Must(store_->GetExperiment("0"));
  EXPECT_EQ(fallback.name, "Default");
  EXPECT_EQ(fallback.lifecycle_stage, "active");
  EXPECT_TRUE(fallback.artifact_location.ends_with("/0")) << fallback.artifact_location;
  EXPECT_EQ(Must(store_->GetExperimentByName("Default")).experiment_id, "0");
}

TEST_P(StoreConformanceTest, ExperimentLifecycleAndNameUniqueness) {
  std::string id = Must(store_->CreateExperiment("exp", "", {{"owner", "me"}, {"k", "v"}}));
  EXPECT_EQ(id, "1");
  Experiment experiment = Must(store_->GetExperiment(id));
  EXPECT_EQ(experiment.name, "exp");
  EXPECT_TRUE(experiment.artifact_location.ends_with("/1")) << experiment.artifact_location;
  EXPECT_EQ(experiment.tags, (std::vector<ExperimentTag>{{"k", "v"}, {"owner", "me"}}));
  EXPECT_GT(experiment.creation_time, 0);
  EXPECT_EQ(experiment.creation_time, experiment.last_update_time);

  std::string located = Must(store_->CreateExperiment("located", "s3://bucket/x", {}));
  EXPECT_EQ(Must(store_->GetExperiment(located)).artifact_location, "s3://bucket/x");

  EXPECT_CODE(store_->CreateExperiment("exp", "", {}), kAlreadyExists);
  EXPECT_CODE(store_->CreateExperiment("", "", {}), kInvalidArgument);
  EXPECT_CODE(store_->CreateExperiment(std::string(501, 'x'), "", {}), kInvalidArgument);
  EXPECT_CODE(store_->CreateExperiment("tagged", "", {{"bad;key", "v"}}), kInvalidArgument);

  ASSERT_OK(store_->DeleteExperiment(id));
  EXPECT_EQ(Must(store_->GetExperiment(id)).lifecycle_stage, "deleted");
  EXPECT_EQ(Must(store_->GetExperimentByName("exp")).lifecycle_stage, "deleted");
  EXPECT_CODE(store_->CreateExperiment("exp", "", {}), kAlreadyExists);
  EXPECT_CODE(store_->DeleteExperiment(id), kNotFound);
  EXPECT_CODE(store_->UpdateExperiment(id, "renamed"), kInvalidArgument);
  EXPECT_CODE(store_->SetExperimentTag(id, {"a", "b"}), kInvalidArgument);
  ASSERT_OK(store_->RestoreExperiment(id));
  EXPECT_CODE(store_->RestoreExperiment(id), kNotFound);
  EXPECT_EQ(Must(store_->GetExperiment(id)).lifecycle_stage, "active");

  ASSERT_OK(store_->UpdateExperiment(id, "renamed"));
  EXPECT_EQ(Must(store_->GetExperiment(id)).name, "renamed");
  EXPECT_CODE(store_->GetExperimentByName("exp"), kNotFound);
  EXPECT_CODE(store_->UpdateExperiment(id, "Default"), kAlreadyExists);
  EXPECT_CODE(store_->UpdateExperiment(id, ""), kInvalidArgument);
  std::string reused = Must(store_->CreateExperiment("exp", "", {}));
  EXPECT_NE(reused, id);

  ASSERT_OK(store_->SetExperimentTag(id, {"owner", "you"}));
  EXPECT_EQ(Must(store_->GetExperiment(id)).tags,
            (std::vector<ExperimentTag>{{"k", "v"}, {"owner", "you"}}));
  ASSERT_OK(store_->DeleteExperimentTag(id, "k"));
  EXPECT_CODE(store_->DeleteExperimentTag(id, "k"), kNotFound);
  EXPECT_CODE(store_->SetExperimentTag(id, {"k", std::string(5001, 'v')}), kInvalidArgument);

  for (std::string_view missing : {"999", "abc", "", "-1", "1; DROP TABLE experiments"}) {
    if (missing.empty() && GetParam().over_rest) continue;  // see EmptyIdIsMissingOverRest
    EXPECT_CODE(store_->GetExperiment(missing), kNotFound);
    EXPECT_CODE(store_->DeleteExperiment(missing), kNotFound);
    EXPECT_CODE(store_->SetExperimentTag(missing, {"a", "b"}), kNotFound);
  }
  EXPECT_CODE(store_->GetExperimentByName("nope"), kNotFound);
}

TEST_P(StoreConformanceTest, SearchExperiments) {
  std::vector<std::string> ids;
  for (int index = 0; index < 30; ++index) {
    std::string name = (index % 2 == 0 ? "even-" : "odd-") + std::to_string(100 + index);
    std::vector<ExperimentTag> tags;
    if (index % 3 == 0) tags.push_back({"group", "three"});
    ids.push_back(Must(store_->CreateExperiment(name, "", tags)));
  }
  ASSERT_OK(store_->DeleteExperiment(ids[0]));
  ASSERT_OK(store_->DeleteExperiment(ids[1]));

  auto names = [](const ExperimentPage& page) {
    std::vector<std::string> out;
    for (const Experiment& experiment : page.experiments) out.push_back(experiment.name);
    return out;
  };
  ExperimentPage even = Must(store_->SearchExperiments(ViewType::kActiveOnly, 1000,
                                                       "name LIKE 'even-%'", {"name ASC"}, ""));
  ASSERT_EQ(even.experiments.size(), 14u);
  std::vector<std::string> even_names = names(even);
  EXPECT_EQ(even_names.front(), "even-102");
  EXPECT_TRUE(std::is_sorted(even_names.begin(), even_names.end()));
  EXPECT_TRUE(even.next_page_token.empty());

  ExperimentPage grouped = Must(store_->SearchExperiments(
      ViewType::kAll, 1000, "tags.group = 'three' and name ILIKE 'EVEN%'", {}, ""));
  EXPECT_EQ(grouped.experiments.size(), 5u);  // 0, 6, 12, 18, 24

  ExperimentPage deleted =
      Must(store_->SearchExperiments(ViewType::kDeletedOnly, 1000, "", {"name DESC"}, ""));
  EXPECT_EQ(names(deleted), (std::vector<std::string>{"odd-101", "even-100"}));

  // Default order: creation_time DESC, then experiment_id ASC; 7 at a time.
  std::vector<std::string> paged;
  std::string token;
  do {
    ExperimentPage page = Must(store_->SearchExperiments(ViewType::kActiveOnly, 7, "", {}, token));
    EXPECT_LE(page.experiments.size(), 7u);
    for (const Experiment& experiment : page.experiments) paged.push_back(experiment.experiment_id);
    token = page.next_page_token;
  } while (!token.empty());
  EXPECT_EQ(paged.size(), 29u);  // 28 active + Default
  EXPECT_EQ(std::set<std::string>(paged.begin(), paged.end()).size(), paged.size());

  ExperimentPage by_id_desc =
      Must(store_->SearchExperiments(ViewType::kAll, 3, "", {"experiment_id DESC"}, ""));
  ASSERT_EQ(by_id_desc.experiments.size(), 3u);
  EXPECT_EQ(by_id_desc.experiments[0].experiment_id, ids.back());

  EXPECT_CODE(store_->SearchExperiments(ViewType::kAll, 0, "", {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchExperiments(ViewType::kAll, 50001, "", {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchExperiments(ViewType::kAll, 10, "name > 'a'", {}, ""),
              kInvalidArgument);
  EXPECT_CODE(store_->SearchExperiments(ViewType::kAll, 10, "", {"tags.x"}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchExperiments(ViewType::kAll, 10, "", {}, "garbage"), kInvalidArgument);
}

// ---- runs --------------------------------------------------------------------------

TEST_P(StoreConformanceTest, RunLifecycle) {
  std::string experiment_id = NewExperiment("runs");
  tracking::Run run = Must(store_->CreateRun(experiment_id, "alice", 1234, {{"k", "v"}}, "first"));
  const RunInfo& info = run.info;
  EXPECT_EQ(info.run_id.size(), 32u);
  EXPECT_EQ(info.run_uuid, info.run_id);
  EXPECT_EQ(info.experiment_id, experiment_id);
  EXPECT_EQ(info.run_name, "first");
  EXPECT_EQ(info.user_id, "alice");
  EXPECT_EQ(info.status, RunStatus::kRunning);
  EXPECT_EQ(info.start_time, 1234);
  EXPECT_FALSE(info.end_time.has_value());
  EXPECT_EQ(info.lifecycle_stage, "active");
  std::string location = Must(store_->GetExperiment(experiment_id)).artifact_location;
  EXPECT_EQ(info.artifact_uri, location + "/" + info.run_id + "/artifacts");
  EXPECT_EQ(TagValue(run.data.tags, "mlflow.runName"), "first");
  EXPECT_EQ(TagValue(run.data.tags, "k"), "v");

  tracking::Run fetched = Must(store_->GetRun(info.run_id));
  EXPECT_EQ(fetched.info, info);

  // The name from the tag, a generated name, and a conflict.
  tracking::Run from_tag =
      Must(store_->CreateRun(experiment_id, "u", 1, {{"mlflow.runName", "tagged"}}, std::nullopt));
  EXPECT_EQ(from_tag.info.run_name, "tagged");
  tracking::Run generated = Must(store_->CreateRun(experiment_id, "u", 1, {}, std::nullopt));
  EXPECT_TRUE(LooksGenerated(generated.info.run_name)) << generated.info.run_name;
  EXPECT_EQ(TagValue(generated.data.tags, "mlflow.runName"), generated.info.run_name);
  EXPECT_CODE(store_->CreateRun(experiment_id, "u", 1, {{"mlflow.runName", "a"}}, "b"),
              kInvalidArgument);
  EXPECT_CODE(store_->CreateRun("4242", "u", 1, {}, std::nullopt), kNotFound);
  EXPECT_CODE(store_->CreateRun(experiment_id, "u", 1, {{"bad;", "v"}}, std::nullopt),
              kInvalidArgument);

  RunInfo updated = Must(
      store_->UpdateRun(info.run_id, RunStatus::kFinished, int64_t{5678}, std::string("second")));
  EXPECT_EQ(updated.status, RunStatus::kFinished);
  EXPECT_EQ(updated.end_time, 5678);
  EXPECT_EQ(updated.run_name, "second");
  EXPECT_EQ(TagValue(Must(store_->GetRun(info.run_id)).data.tags, "mlflow.runName"), "second");
  RunInfo unchanged =
      Must(store_->UpdateRun(info.run_id, std::nullopt, std::nullopt, std::nullopt));
  EXPECT_EQ(unchanged, updated);

  ASSERT_OK(store_->DeleteRun(info.run_id));
  EXPECT_EQ(Must(store_->GetRun(info.run_id)).info.lifecycle_stage, "deleted");
  EXPECT_CODE(store_->DeleteRun(info.run_id), kInvalidArgument);
  EXPECT_CODE(store_->LogMetric(info.run_id, {"m", 1, 1, 1}), kInvalidArgument);
  EXPECT_CODE(store_->LogParam(info.run_id, {"p", "1"}), kInvalidArgument);
  EXPECT_CODE(store_->SetTag(info.run_id, {"t", "1"}), kInvalidArgument);
  EXPECT_CODE(store_->UpdateRun(info.run_id, RunStatus::kFailed, std::nullopt, std::nullopt),
              kInvalidArgument);
  ASSERT_OK(store_->RestoreRun(info.run_id));
  EXPECT_CODE(store_->RestoreRun(info.run_id), kInvalidArgument);
  ASSERT_OK(store_->LogMetric(info.run_id, {"m", 1, 1, 1}));

  for (std::string_view missing : {"0123456789abcdef0123456789abcdef", "nope", ""}) {
    if (missing.empty() && GetParam().over_rest) continue;  // see EmptyIdIsMissingOverRest
    EXPECT_CODE(store_->GetRun(missing), kNotFound);
    EXPECT_CODE(store_->LogParam(missing, {"p", "1"}), kNotFound);
    EXPECT_CODE(store_->DeleteRun(missing), kNotFound);
    EXPECT_CODE(store_->GetMetricHistory(missing, "m", std::nullopt, ""), kNotFound);
  }

  // Deleting the experiment deletes its runs; restoring restores them, and
  // no new run can start in a deleted experiment.
  ASSERT_OK(store_->DeleteExperiment(experiment_id));
  EXPECT_EQ(Must(store_->GetRun(from_tag.info.run_id)).info.lifecycle_stage, "deleted");
  EXPECT_CODE(store_->CreateRun(experiment_id, "u", 1, {}, std::nullopt), kInvalidArgument);
  ASSERT_OK(store_->RestoreExperiment(experiment_id));
  EXPECT_EQ(Must(store_->GetRun(from_tag.info.run_id)).info.lifecycle_stage, "active");
}

TEST_P(StoreConformanceTest, ParamsAreWriteOnce) {
  tracking::Run run = NewRun("0");
  ASSERT_OK(store_->LogParam(run.info.run_id, {"lr", "0.01"}));
  ASSERT_OK(store_->LogParam(run.info.run_id, {"lr", "0.01"}));
  core::Status changed = store_->LogParam(run.info.run_id, {"lr", "0.02"});
  EXPECT_EQ(changed.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(changed.message().find("Changing param values is not allowed"), std::string::npos);
  EXPECT_EQ(Must(store_->GetRun(run.info.run_id)).data.params,
            (std::vector<Param>{{"lr", "0.01"}}));
  ASSERT_OK(store_->LogParam(run.info.run_id, {"empty", ""}));
  ASSERT_OK(store_->LogParam(run.info.run_id, {"long", std::string(6000, 'x')}));
  EXPECT_CODE(store_->LogParam(run.info.run_id, {"longer", std::string(6001, 'x')}),
              kInvalidArgument);
  EXPECT_CODE(store_->LogParam(run.info.run_id, {"", "x"}), kInvalidArgument);
  EXPECT_CODE(store_->LogParam(run.info.run_id, {"../etc", "x"}), kInvalidArgument);
}

TEST_P(StoreConformanceTest, MetricsHistoryDuplicatesAndLatest) {
  tracking::Run run = NewRun("0");
  const std::string& id = run.info.run_id;
  ASSERT_OK(store_->LogMetric(id, {"loss", 3.0, 100, 0}));
  ASSERT_OK(store_->LogMetric(id, {"loss", 2.0, 200, 1}));
  ASSERT_OK(store_->LogMetric(id, {"loss", 2.0, 200, 1}));  // exact duplicate: ignored
  ASSERT_OK(store_->LogMetric(id, {"loss", 2.5, 200, 1}));  // same step and time, other value
  ASSERT_OK(store_->LogMetric(id, {"loss", 9.0, 50, 0}));   // older
  ASSERT_OK(store_->LogBatch(id, {{"loss", 2.0, 200, 1}, {"loss", 1.5, 150, 1}}, {}, {}));

  std::vector<Metric> history =
      Must(store_->GetMetricHistory(id, "loss", std::nullopt, "")).metrics;
  ASSERT_EQ(history.size(), 5u);
  std::vector<std::tuple<int64_t, int64_t, double>> seen;
  for (const Metric& metric : history) {
    EXPECT_EQ(metric.key, "loss");
    seen.emplace_back(metric.timestamp, metric.step, metric.value);
  }
  EXPECT_EQ(seen, (std::vector<std::tuple<int64_t, int64_t, double>>{
                      {50, 0, 9.0}, {100, 0, 3.0}, {150, 1, 1.5}, {200, 1, 2.0}, {200, 1, 2.5}}));

  // Latest: the largest step, then timestamp, then value.
  std::optional<Metric> latest = LatestMetric(Must(store_->GetRun(id)), "loss");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->value, 2.5);
  EXPECT_EQ(latest->step, 1);
  EXPECT_EQ(latest->timestamp, 200);
  ASSERT_OK(store_->LogMetric(id, {"loss", 7.0, 10, 2}));  // a larger step wins, even if older
  EXPECT_EQ(LatestMetric(Must(store_->GetRun(id)), "loss")->value, 7.0);

  // NaN and infinities round-trip; NaN duplicates are ignored too.
  ASSERT_OK(store_->LogMetric(id, {"odd", kNaN, 1, 0}));
  ASSERT_OK(store_->LogMetric(id, {"odd", kNaN, 1, 0}));
  ASSERT_OK(store_->LogMetric(id, {"odd", kInf, 2, 0}));
  ASSERT_OK(store_->LogMetric(id, {"odd", -kInf, 3, 0}));
  ASSERT_OK(store_->LogMetric(id, {"odd", -0.0, 4, 0}));
  std::vector<Metric> odd = Must(store_->GetMetricHistory(id, "odd", std::nullopt, "")).metrics;
  ASSERT_EQ(odd.size(), 4u);
  EXPECT_TRUE(std::isnan(odd[0].value));
  EXPECT_EQ(odd[1].value, kInf);
  EXPECT_EQ(odd[2].value, -kInf);
  EXPECT_EQ(odd[3].value, 0.0);
  ASSERT_OK(store_->LogMetric(id, {"nan_last", 1, 1, 0}));
  ASSERT_OK(store_->LogMetric(id, {"nan_last", kNaN, 1, 5}));
  EXPECT_TRUE(std::isnan(LatestMetric(Must(store_->GetRun(id)), "nan_last")->value));

  // Pages of history.
  std::vector<Metric> batch;
  batch.reserve(95);
  for (int step = 0; step < 95; ++step) batch.push_back({"paged", step * 1.0, 1000 + step, step});
  ASSERT_OK(store_->LogBatch(id, batch, {}, {}));
  std::vector<int64_t> steps;
  std::string token;
  int pages = 0;
  do {
    MetricPage page = Must(store_->GetMetricHistory(id, "paged", 10, token));
    for (const Metric& metric : page.metrics) steps.push_back(metric.step);
    token = page.next_page_token;
    ++pages;
  } while (!token.empty() && pages < 100);
  EXPECT_EQ(pages, 10);
  ASSERT_EQ(steps.size(), 95u);
  for (int step = 0; step < 95; ++step) EXPECT_EQ(steps[static_cast<size_t>(step)], step);

  EXPECT_TRUE(Must(store_->GetMetricHistory(id, "never", std::nullopt, "")).metrics.empty());
  EXPECT_CODE(store_->GetMetricHistory(id, "paged", 0, ""), kInvalidArgument);
  EXPECT_CODE(store_->GetMetricHistory(id, "paged", 10, "bad-token"), kInvalidArgument);
  EXPECT_CODE(store_->LogMetric(id, {"neg", 1, -5, 0}), kInvalidArgument);
  EXPECT_CODE(store_->LogMetric(id, {"bad key!", 1, 5, 0}), kInvalidArgument);
}

TEST_P(StoreConformanceTest, TagsAndRunNameTag) {
  tracking::Run run = NewRun("0", "before");
  const std::string& id = run.info.run_id;
  ASSERT_OK(store_->SetTag(id, {"t", "1"}));
  ASSERT_OK(store_->SetTag(id, {"t", "2"}));
  ASSERT_OK(store_->SetTag(id, {"mlflow.runName", "after"}));
  tracking::Run fetched = Must(store_->GetRun(id));
  EXPECT_EQ(TagValue(fetched.data.tags, "t"), "2");
  EXPECT_EQ(fetched.info.run_name, "after");
  ASSERT_OK(store_->DeleteTag(id, "t"));
  EXPECT_FALSE(TagValue(Must(store_->GetRun(id)).data.tags, "t").has_value());
  EXPECT_CODE(store_->DeleteTag(id, "t"), kNotFound);
  ASSERT_OK(store_->SetTag(id, {"big", std::string(8000, 'x')}));
  EXPECT_CODE(store_->SetTag(id, {"bigger", std::string(8001, 'x')}), kInvalidArgument);
}

TEST_P(StoreConformanceTest, LogBatchIsAtomic) {
  tracking::Run run = NewRun("0");
  const std::string& id = run.info.run_id;
  ASSERT_OK(store_->LogParam(id, {"fixed", "1"}));

  // One invalid entry: nothing is written.
  EXPECT_CODE(
      store_->LogBatch(id, {{"good", 1, 1, 1}, {"bad key;", 1, 1, 1}}, {{"p", "v"}}, {{"t", "v"}}),
      kInvalidArgument);
  // A changed param found only inside the transaction: nothing is written.
  EXPECT_CODE(store_->LogBatch(id, {{"good", 1, 1, 1}}, {{"p", "v"}, {"fixed", "2"}}, {{"t", "v"}}),
              kInvalidArgument);
  // Duplicate param keys, and limits.
  EXPECT_CODE(store_->LogBatch(id, {}, {{"a", "1"}, {"a", "1"}}, {}), kInvalidArgument);
  EXPECT_CODE(store_->LogBatch(id, std::vector<Metric>(1001, Metric{"m", 1, 1, 1}), {}, {}),
              kInvalidArgument);
  std::vector<Param> many_params;
  many_params.reserve(101);
  for (int index = 0; index < 101; ++index)
    many_params.push_back({"p" + std::to_string(index), "v"});
  EXPECT_CODE(store_->LogBatch(id, {}, many_params, {}), kInvalidArgument);

  tracking::Run after = Must(store_->GetRun(id));
  EXPECT_TRUE(after.data.metrics.empty());
  EXPECT_EQ(after.data.params, (std::vector<Param>{{"fixed", "1"}}));
  EXPECT_FALSE(TagValue(after.data.tags, "t").has_value());

  // A good batch writes everything at once.
  std::vector<Metric> metrics;
  metrics.reserve(1000);
  for (int step = 0; step < 1000; ++step)
    metrics.push_back({"m" + std::to_string(step % 4), 1.0 * step, step, step});
  ASSERT_OK(store_->LogBatch(id, metrics, {}, {}));
  ASSERT_OK(store_->LogBatch(id, {{"x", 1, 1, 1}}, {{"p", "v"}, {"fixed", "1"}},
                             {{"t", "v"}, {"mlflow.runName", "batched"}}));
  after = Must(store_->GetRun(id));
  EXPECT_EQ(after.data.metrics.size(), 5u);
  EXPECT_EQ(LatestMetric(after, "m3")->value, 999.0);
  EXPECT_EQ(after.data.params, (std::vector<Param>{{"fixed", "1"}, {"p", "v"}}));
  EXPECT_EQ(TagValue(after.data.tags, "t"), "v");
  EXPECT_EQ(after.info.run_name, "batched");
  EXPECT_EQ(Must(store_->GetMetricHistory(id, "m0", std::nullopt, "")).metrics.size(), 250u);
}

TEST_P(StoreConformanceTest, LogInputs) {
  std::string experiment_id = NewExperiment("data");
  tracking::Run run = NewRun(experiment_id);
  const std::string& id = run.info.run_id;
  DatasetInput train{{{"mlflow.data.context", "training"}},
                     {"mnist", "abc123", "local", "{\"uri\": \"/data/mnist\"}", "{}", ""}};
  DatasetInput eval{{{"mlflow.data.context", "eval"}},
                    {"mnist-test", "def456", "local", "/data/mnist-test", "", "{\"rows\": 10}"}};
  ASSERT_OK(store_->LogInputs(id, {train, eval}));
  ASSERT_OK(store_->LogInputs(id, {train}));  // the same dataset again: no-op
  tracking::Run fetched = Must(store_->GetRun(id));
  ASSERT_EQ(fetched.inputs.dataset_inputs.size(), 2u);
  EXPECT_EQ(fetched.inputs.dataset_inputs[0], train);
  EXPECT_EQ(fetched.inputs.dataset_inputs[1], eval);

  tracking::Run other = NewRun(experiment_id);
  ASSERT_OK(store_->LogInputs(other.info.run_id, {eval}));
  auto search = [&](const std::string& filter) {
    std::vector<std::string> ids = SearchAll({experiment_id}, filter, ViewType::kAll, {}, 100);
    return std::set<std::string>(ids.begin(), ids.end());
  };
  EXPECT_EQ(search("datasets.name = 'mnist'"), (std::set<std::string>{id}));
  EXPECT_EQ(search("datasets.digest IN ('def456')"),
            (std::set<std::string>{id, other.info.run_id}));
  EXPECT_EQ(search("datasets.context = 'training'"), (std::set<std::string>{id}));
  EXPECT_EQ(search("datasets.name LIKE 'mnist%' and datasets.context = 'eval'"),
            (std::set<std::string>{id, other.info.run_id}));

  EXPECT_CODE(store_->LogInputs(id, {{{}, {"n", std::string(37, 'd'), "local", "s", "", ""}}}),
              kInvalidArgument);
  EXPECT_CODE(store_->LogInputs(id, {{{}, {"", "d", "local", "s", "", ""}}}), kInvalidArgument);
}

// ---- search against an independent model ----------------------------------------------

// What the test itself knows about each run, to compute expected results.
struct ModelRun {
  std::string run_id;
  std::string experiment_id;
  std::string name;
  std::string user;
  std::string status;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::map<std::string, double> metrics;
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> tags;
  bool deleted = false;
};

// MLflow's LIKE, evaluated the simplest way (recursion over ASCII
// characters, which is all the model's data uses), independently of the
// store's matcher.
bool ModelLike(std::string_view text, std::string_view pattern, bool ignore_case) {
  if (pattern.empty()) return text.empty();
  if (pattern.front() == '%') {
    for (size_t skip = 0; skip <= text.size(); ++skip) {
      if (ModelLike(text.substr(skip), pattern.substr(1), ignore_case)) return true;
    }
    return false;
  }
  if (text.empty()) return false;
  bool same = pattern.front() == '_' || pattern.front() == text.front() ||
              (ignore_case && std::tolower(static_cast<unsigned char>(pattern.front())) ==
                                  std::tolower(static_cast<unsigned char>(text.front())));
  return same && ModelLike(text.substr(1), pattern.substr(1), ignore_case);
}

class SearchModelTest : public StoreConformanceTest {
 protected:
  void SetUp() override {
    StoreConformanceTest::SetUp();
    if (HasFatalFailure()) return;
    experiments_ = {NewExperiment("search-a"), NewExperiment("search-b")};
    const std::vector<std::string> learning_rates = {"0.1", "0.01", "0.001"};
    for (int index = 0; index < 200; ++index) {
      ModelRun model;
      model.experiment_id = experiments_[static_cast<size_t>(index % 2)];
      char name[16];
      std::snprintf(name, sizeof(name), "run-%03d", index);
      model.name = name;
      model.user = index % 3 == 0 ? "alice" : "bob";
      model.start_time = 1000 + index % 50;  // four runs share each start time
      model.metrics["acc"] = (index % 10) / 10.0;
      if (index % 3 != 0) model.metrics["loss"] = 1.0 / (index + 1);
      if (index % 5 == 0) model.metrics["my metric"] = index;
      if (index % 17 == 0) {
        model.metrics["score"] = kNaN;
      } else if (index % 4 != 1) {
        model.metrics["score"] = index * 0.5;
      }
      model.params["lr"] = learning_rates[static_cast<size_t>(index % 3)];
      model.params["optimizer"] = index % 2 == 1 ? "adam" : "SGD";
      if (index % 4 == 0) model.params["model-type"] = index % 8 == 0 ? "cnn" : "mlp";
      model.tags["team"] = "team" + std::to_string(index % 4);
      if (index % 5 != 0) model.tags["mlflow.source.type"] = "LOCAL";
      model.tags["note"] = "run " + std::to_string(index);
      model.tags["mlflow.runName"] = model.name;
      model.status = index % 6 == 0 ? "FINISHED" : index % 6 == 1 ? "FAILED" : "RUNNING";
      if (model.status != "RUNNING") model.end_time = model.start_time + 100;

      tracking::Run run = Must(
          store_->CreateRun(model.experiment_id, model.user, model.start_time, {}, model.name));
      model.run_id = run.info.run_id;
      std::vector<Metric> metrics;
      for (const auto& [key, value] : model.metrics) metrics.push_back({key, value, 5, 0});
      std::vector<Param> params;
      for (const auto& [key, value] : model.params) params.push_back({key, value});
      std::vector<RunTag> tags;
      for (const auto& [key, value] : model.tags) tags.push_back({key, value});
      EXPECT_TRUE(store_->LogBatch(model.run_id, metrics, params, tags).ok());
      if (model.status != "RUNNING") {
        EXPECT_TRUE(store_
                        ->UpdateRun(model.run_id, Must(ParseRunStatus(model.status)),
                                    model.end_time, std::nullopt)
                        .ok());
      }
      if (index % 25 == 24) {
        EXPECT_TRUE(store_->DeleteRun(model.run_id).ok());
        model.deleted = true;
      }
      runs_.push_back(std::move(model));
    }
  }

  std::set<std::string> Expected(const std::function<bool(const ModelRun&)>& predicate,
                                 ViewType view_type = ViewType::kActiveOnly) const {
    std::set<std::string> ids;
    for (const ModelRun& run : runs_) {
      bool stage_ok = view_type == ViewType::kAll ||
                      (view_type == ViewType::kActiveOnly ? !run.deleted : run.deleted);
      if (stage_ok && predicate(run)) ids.insert(run.run_id);
    }
    return ids;
  }

  std::set<std::string> Actual(const std::string& filter,
                               ViewType view_type = ViewType::kActiveOnly) {
    std::vector<std::string> ids = SearchAll(experiments_, filter, view_type, {}, 1000);
    std::set<std::string> unique(ids.begin(), ids.end());
    EXPECT_EQ(unique.size(), ids.size()) << "a run came back twice for " << filter;
    return unique;
  }

  std::vector<std::string> experiments_;
  std::vector<ModelRun> runs_;
};

TEST_P(SearchModelTest, FiltersMatchTheModel) {
  auto metric = [](const ModelRun& run, const std::string& key) -> std::optional<double> {
    auto found = run.metrics.find(key);
    if (found == run.metrics.end()) return std::nullopt;
    return found->second;
  };
  auto param = [](const ModelRun& run, const std::string& key) -> std::optional<std::string> {
    auto found = run.params.find(key);
    if (found == run.params.end()) return std::nullopt;
    return found->second;
  };
  auto tag = [](const ModelRun& run, const std::string& key) -> std::optional<std::string> {
    auto found = run.tags.find(key);
    if (found == run.tags.end()) return std::nullopt;
    return found->second;
  };
  std::string some_ids = "('" + runs_[3].run_id + "', '" + runs_[10].run_id + "', '" +
                         runs_[24].run_id + "', 'not-a-run')";

  struct FilterCase {
    std::string filter;
    std::function<bool(const ModelRun&)> predicate;
  };
  std::vector<FilterCase> cases = {
      {"", [](const ModelRun&) { return true; }},
      {"metrics.acc > 0.5", [&](const ModelRun& r) { return *metric(r, "acc") > 0.5; }},
      {"metrics.acc >= 0.5 and params.lr = '0.01'",
       [&](const ModelRun& r) { return *metric(r, "acc") >= 0.5 && param(r, "lr") == "0.01"; }},
      {"metrics.acc = 0.3", [&](const ModelRun& r) { return *metric(r, "acc") == 0.3; }},
      {"metrics.score != 3",
       [&](const ModelRun& r) {
         auto v = metric(r, "score");
         return v && (std::isnan(*v) || *v != 3);
       }},
      {"metrics.score < 10",
       [&](const ModelRun& r) {
         auto v = metric(r, "score");
         return v && !std::isnan(*v) && *v < 10;
       }},
      {"metrics.loss IS NULL", [&](const ModelRun& r) { return !metric(r, "loss"); }},
      {"metrics.loss IS NOT NULL and metrics.loss <= 0.01",
       [&](const ModelRun& r) { return metric(r, "loss") && *metric(r, "loss") <= 0.01; }},
      {"metrics.`my metric` <= 50",
       [&](const ModelRun& r) { return metric(r, "my metric") && *metric(r, "my metric") <= 50; }},
      {"params.optimizer LIKE 'a%'",
       [&](const ModelRun& r) { return ModelLike(*param(r, "optimizer"), "a%", false); }},
      {"params.optimizer ILIKE 's%'",
       [&](const ModelRun& r) { return ModelLike(*param(r, "optimizer"), "s%", true); }},
      {"params.optimizer LIKE 's%'", [](const ModelRun&) { return false; }},
      {"params.lr != '0.1'", [&](const ModelRun& r) { return param(r, "lr") != "0.1"; }},
      {"params.`model-type` = \"cnn\"",
       [&](const ModelRun& r) { return param(r, "model-type") == "cnn"; }},
      {"params.`model-type` IS NULL", [&](const ModelRun& r) { return !param(r, "model-type"); }},
      {"params.`model-type` != 'cnn'",
       [&](const ModelRun& r) { return param(r, "model-type") == "mlp"; }},
      {"tags.team != 'team1'", [&](const ModelRun& r) { return tag(r, "team") != "team1"; }},
      {"tags.`mlflow.source.type` = 'LOCAL' and tags.team LIKE '%2'",
       [&](const ModelRun& r) {
         return tag(r, "mlflow.source.type") == "LOCAL" && ModelLike(*tag(r, "team"), "%2", false);
       }},
      {"tags.mlflow.source.type IS NULL",
       [&](const ModelRun& r) { return !tag(r, "mlflow.source.type"); }},
      {"tags.note LIKE 'run 1_'",
       [&](const ModelRun& r) { return ModelLike(*tag(r, "note"), "run 1_", false); }},
      {"tags.note ILIKE 'RUN 1%5'",
       [&](const ModelRun& r) { return ModelLike(*tag(r, "note"), "RUN 1%5", true); }},
      {"attributes.status = 'FINISHED'", [](const ModelRun& r) { return r.status == "FINISHED"; }},
      {"status != 'RUNNING'", [](const ModelRun& r) { return r.status != "RUNNING"; }},
      {"attributes.status IN ('FINISHED')", nullptr},  // IN is run_id-only: an error
      {"attributes.run_name LIKE 'run-00%'",
       [](const ModelRun& r) { return ModelLike(r.name, "run-00%", false); }},
      {"run_name = 'run-042'", [](const ModelRun& r) { return r.name == "run-042"; }},
      {"attributes.start_time >= 1040", [](const ModelRun& r) { return r.start_time >= 1040; }},
      {"created < 1005", [](const ModelRun& r) { return r.start_time < 1005; }},
      {"attributes.end_time > 0", [](const ModelRun& r) { return r.end_time.has_value(); }},
      {"attributes.end_time = 1100", [](const ModelRun& r) { return r.end_time == 1100; }},
      {"attributes.user_id = 'alice'", [](const ModelRun& r) { return r.user == "alice"; }},
      {"attributes.artifact_uri LIKE '%/artifacts'", [](const ModelRun&) { return true; }},
      {"attributes.run_id IN " + some_ids,
       [&](const ModelRun& r) {
         return r.run_id == runs_[3].run_id || r.run_id == runs_[10].run_id ||
                r.run_id == runs_[24].run_id;
       }},
      {"attributes.run_id NOT IN " + some_ids,
       [&](const ModelRun& r) {
         return r.run_id != runs_[3].run_id && r.run_id != runs_[10].run_id &&
                r.run_id != runs_[24].run_id;
       }},
      {"metrics.acc > 0.2 and metrics.acc < 0.6 and params.optimizer = 'adam' and "
       "tags.team = 'team3' and attributes.status = 'RUNNING'",
       [&](const ModelRun& r) {
         double acc = *metric(r, "acc");
         return acc > 0.2 && acc < 0.6 && param(r, "optimizer") == "adam" &&
                tag(r, "team") == "team3" && r.status == "RUNNING";
       }},
  };
  for (const FilterCase& filter_case : cases) {
    SCOPED_TRACE(filter_case.filter);
    if (!filter_case.predicate) {
      EXPECT_CODE(store_->SearchRuns(experiments_, filter_case.filter, ViewType::kAll, 10, {}, ""),
                  kInvalidArgument);
      continue;
    }
    for (ViewType view_type : {ViewType::kActiveOnly, ViewType::kDeletedOnly, ViewType::kAll}) {
      std::set<std::string> expected = Expected(filter_case.predicate, view_type);
      EXPECT_EQ(Actual(filter_case.filter, view_type), expected)
          << "view " << ViewTypeName(view_type);
    }
  }
  // Sanity of the model itself: the filters above are not all trivially empty.
  EXPECT_EQ(Expected([](const ModelRun&) { return true; }).size(), 192u);
  EXPECT_EQ(Expected([](const ModelRun&) { return true; }, ViewType::kDeletedOnly).size(), 8u);
}

TEST_P(SearchModelTest, OnlyTheGivenExperiments) {
  std::vector<std::string> first = SearchAll({experiments_[0]}, "", ViewType::kAll, {}, 1000);
  EXPECT_EQ(first.size(), 100u);
  EXPECT_TRUE(SearchAll({"424242", "not-an-id"}, "", ViewType::kAll, {}, 10).empty());
  EXPECT_TRUE(SearchAll({}, "", ViewType::kAll, {}, 10).empty());
}

// The order MLflow defines, computed by the test: each clause in turn, a
// run without the value last (for metrics: numbers, then NaN, then absent),
// then start_time DESC, then run_id ASC.
std::vector<std::string> ModelOrder(
    std::vector<ModelRun> runs, const std::vector<std::tuple<char, std::string, bool>>& clauses) {
  auto compare_clause = [](const ModelRun& a, const ModelRun& b, char kind, const std::string& key,
                           bool ascending) -> int {
    auto directed = [ascending](auto left, auto right) {
      if (left == right) return 0;
      return (left < right) == ascending ? -1 : 1;
    };
    if (kind == 'm') {
      auto group = [&key](const ModelRun& run) {
        auto found = run.metrics.find(key);
        if (found == run.metrics.end()) return 2;
        return std::isnan(found->second) ? 1 : 0;
      };
      int group_a = group(a);
      int group_b = group(b);
      if (group_a != group_b) return group_a < group_b ? -1 : 1;
      if (group_a != 0) return 0;
      return directed(a.metrics.at(key), b.metrics.at(key));
    }
    if (kind == 'p' || kind == 't') {
      const auto& map_a = kind == 'p' ? a.params : a.tags;
      const auto& map_b = kind == 'p' ? b.params : b.tags;
      bool has_a = map_a.count(key) > 0;
      bool has_b = map_b.count(key) > 0;
      if (has_a != has_b) return has_a ? -1 : 1;
      if (!has_a) return 0;
      return directed(map_a.at(key), map_b.at(key));
    }
    if (key == "start_time") return directed(a.start_time, b.start_time);
    if (key == "run_name") return directed(a.name, b.name);
    if (key == "status") return directed(a.status, b.status);
    ADD_FAILURE() << "model cannot order by " << key;
    return 0;
  };
  std::sort(runs.begin(), runs.end(), [&](const ModelRun& a, const ModelRun& b) {
    for (const auto& [kind, key, ascending] : clauses) {
      int order = compare_clause(a, b, kind, key, ascending);
      if (order != 0) return order < 0;
    }
    if (a.start_time != b.start_time) return a.start_time > b.start_time;
    return a.run_id < b.run_id;
  });
  std::vector<std::string> ids;
  ids.reserve(runs.size());
  for (const ModelRun& run : runs) ids.push_back(run.run_id);
  return ids;
}

TEST_P(SearchModelTest, OrderByMatchesTheModel) {
  std::vector<ModelRun> active;
  for (const ModelRun& run : runs_) {
    if (!run.deleted) active.push_back(run);
  }
  struct OrderCase {
    std::vector<std::string> order_by;
    std::vector<std::tuple<char, std::string, bool>> model;
  };
  std::vector<OrderCase> cases = {
      {{}, {}},
      {{"metrics.acc DESC"}, {{'m', "acc", false}}},
      {{"metrics.score"}, {{'m', "score", true}}},
      {{"metrics.score DESC"}, {{'m', "score", false}}},
      {{"metrics.loss ASC"}, {{'m', "loss", true}}},
      {{"params.lr ASC", "metrics.acc DESC"}, {{'p', "lr", true}, {'m', "acc", false}}},
      {{"params.`model-type` DESC"}, {{'p', "model-type", false}}},
      {{"tags.team", "attributes.run_name DESC"}, {{'t', "team", true}, {'a', "run_name", false}}},
      {{"attributes.start_time ASC"}, {{'a', "start_time", true}}},
      {{"created DESC"}, {{'a', "start_time", false}}},
      {{"attributes.status"}, {{'a', "status", true}}},
  };
  for (const OrderCase& order_case : cases) {
    std::string shown;
    for (const std::string& clause : order_case.order_by) shown += clause + "; ";
    SCOPED_TRACE(shown);
    std::vector<std::string> actual =
        SearchAll(experiments_, "", ViewType::kActiveOnly, order_case.order_by, 1000);
    EXPECT_EQ(actual, ModelOrder(active, order_case.model));
  }
  EXPECT_CODE(store_->SearchRuns(experiments_, "", ViewType::kAll, 10, {"datasets.name"}, ""),
              kInvalidArgument);
  EXPECT_CODE(store_->SearchRuns(experiments_, "", ViewType::kAll, 10, {"metrics.acc UP"}, ""),
              kInvalidArgument);
}

TEST_P(SearchModelTest, PaginationCoversEveryRunOnce) {
  std::vector<std::string> whole =
      SearchAll(experiments_, "", ViewType::kAll, {"metrics.score DESC"}, 1000);
  ASSERT_EQ(whole.size(), 200u);
  for (int page_size : {1, 17, 50, 199, 200, 201}) {
    SCOPED_TRACE(page_size);
    std::vector<std::string> paged =
        SearchAll(experiments_, "", ViewType::kAll, {"metrics.score DESC"}, page_size);
    EXPECT_EQ(paged, whole);
  }
  RunPage last = Must(store_->SearchRuns(experiments_, "", ViewType::kAll, 200, {}, ""));
  EXPECT_EQ(last.runs.size(), 200u);
  EXPECT_TRUE(last.next_page_token.empty());
  RunPage filtered = Must(store_->SearchRuns(experiments_, "metrics.acc = 0.9", ViewType::kAll, 7,
                                             {"attributes.run_name"}, ""));
  ASSERT_EQ(filtered.runs.size(), 7u);
  EXPECT_EQ(filtered.runs[0].info.run_name, "run-009");
  EXPECT_EQ(filtered.runs[0].data.params.size(), 2u);  // lr, optimizer
  EXPECT_FALSE(filtered.next_page_token.empty());

  EXPECT_CODE(store_->SearchRuns(experiments_, "", ViewType::kAll, 0, {}, ""), kInvalidArgument);
  EXPECT_CODE(
      store_->SearchRuns(experiments_, "", ViewType::kAll, kSearchMaxResultsThreshold + 1, {}, ""),
      kInvalidArgument);
  EXPECT_CODE(store_->SearchRuns(experiments_, "", ViewType::kAll, 10, {}, "not a token"),
              kInvalidArgument);
  EXPECT_CODE(store_->SearchRuns(experiments_, "metrics.acc >", ViewType::kAll, 10, {}, ""),
              kInvalidArgument);
}

// ---- hostile input ------------------------------------------------------------------

TEST_P(StoreConformanceTest, InjectionAttemptsAreStoredVerbatimAndHarmless) {
  const std::string evil = "x'); DROP TABLE runs; --";
  std::string experiment_id =
      Must(store_->CreateExperiment("exp'; DROP TABLE experiments; --", "", {{"k", evil}}));
  tracking::Run run = NewRun(experiment_id, evil);
  const std::string& id = run.info.run_id;
  ASSERT_OK(store_->LogParam(id, {"p", evil}));
  ASSERT_OK(store_->SetTag(id, {"tag -- key", evil}));
  ASSERT_OK(store_->LogMetric(id, {"m -- OR 1/1", 1, 1, 1}));
  EXPECT_CODE(store_->LogMetric(id, {"m' OR '1'='1", 1, 1, 1}), kInvalidArgument);
  EXPECT_CODE(store_->LogParam(id, {"p; DROP TABLE params", "x"}), kInvalidArgument);

  tracking::Run fetched = Must(store_->GetRun(id));
  EXPECT_EQ(fetched.info.run_name, evil);
  EXPECT_EQ(fetched.data.params, (std::vector<Param>{{"p", evil}}));
  EXPECT_EQ(TagValue(fetched.data.tags, "tag -- key"), evil);
  EXPECT_EQ(fetched.data.metrics.at(0).key, "m -- OR 1/1");
  EXPECT_EQ(Must(store_->GetExperimentByName("exp'; DROP TABLE experiments; --")).experiment_id,
            experiment_id);

  auto count = [&](const std::string& filter) {
    return SearchAll({experiment_id}, filter, ViewType::kAll, {}, 100).size();
  };
  EXPECT_EQ(count("params.p = 'x''); DROP TABLE runs; --'"), 0u);  // quotes stay doubled
  EXPECT_EQ(count("params.p = \"x'); DROP TABLE runs; --\""), 1u);
  EXPECT_EQ(count("params.p = 'x'' OR ''1''=''1'"), 0u);
  EXPECT_EQ(count("tags.`tag -- key` LIKE '%DROP%'"), 1u);
  EXPECT_EQ(count("metrics.`m -- OR 1/1` = 1"), 1u);
  EXPECT_EQ(count("metrics.`m' OR '1'='1` = 1"), 0u);
  EXPECT_EQ(count("params.`p\" OR 1=1 --` = 'x'"), 0u);
  EXPECT_CODE(store_->SearchRuns({experiment_id}, "params.p = 'x'; DROP TABLE runs", ViewType::kAll,
                                 10, {}, ""),
              kInvalidArgument);
  EXPECT_CODE(store_->SearchRuns({experiment_id}, "", ViewType::kAll, 10,
                                 {"metrics.acc; DROP TABLE runs"}, ""),
              kInvalidArgument);
  EXPECT_EQ(
      SearchAll({experiment_id}, "", ViewType::kAll, {"params.`p; DROP TABLE x` DESC"}, 10).size(),
      1u);
  // Everything is still there.
  EXPECT_EQ(count(""), 1u);
  EXPECT_EQ(Must(store_->GetExperiment("0")).name, "Default");
}

// ---- concurrency and durability ---------------------------------------------------------

TEST_P(StoreConformanceTest, ConcurrentWritersToDifferentRuns) {
  constexpr int kThreads = 8;
  constexpr int kSingles = 40;
  constexpr int kBatches = 3;
  constexpr int kPerBatch = 100;
  std::string experiment_id = NewExperiment("concurrent");
  std::vector<std::string> run_ids;
  run_ids.reserve(kThreads);
  for (int thread = 0; thread < kThreads; ++thread) {
    run_ids.push_back(NewRun(experiment_id, "worker-" + std::to_string(thread)).info.run_id);
  }
  std::atomic<int> failures{0};
  std::atomic<bool> writers_done{false};
  std::vector<std::thread> threads;
  threads.reserve(kThreads + 2);
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      const std::string& run_id = run_ids[static_cast<size_t>(thread)];
      for (int step = 0; step < kSingles; ++step) {
        if (!store_->LogMetric(run_id, {"m", step * 1.0, step, step}).ok()) ++failures;
        if (!store_->LogParam(run_id, {"p" + std::to_string(step % 5), "v"}).ok()) ++failures;
      }
      for (int batch = 0; batch < kBatches; ++batch) {
        std::vector<Metric> metrics;
        for (int index = 0; index < kPerBatch; ++index) {
          int step = kSingles + batch * kPerBatch + index;
          metrics.push_back({"m", step * 1.0, step, step});
        }
        if (!store_->LogBatch(run_id, metrics, {}, {{"batch", std::to_string(batch)}}).ok()) {
          ++failures;
        }
      }
    });
  }
  for (int reader = 0; reader < 2; ++reader) {
    threads.emplace_back([&] {
      while (!writers_done.load()) {
        if (!store_->SearchRuns({experiment_id}, "metrics.m >= 0", ViewType::kAll, 100, {}, "")
                 .ok()) {
          ++failures;
        }
        if (!store_->GetRun(run_ids[0]).ok()) ++failures;
      }
    });
  }
  for (int thread = 0; thread < kThreads; ++thread) threads[static_cast<size_t>(thread)].join();
  writers_done = true;
  for (size_t index = kThreads; index < threads.size(); ++index) threads[index].join();
  EXPECT_EQ(failures.load(), 0);

  const size_t expected = kSingles + kBatches * kPerBatch;
  for (const std::string& run_id : run_ids) {
    MetricPage history = Must(store_->GetMetricHistory(run_id, "m", std::nullopt, ""));
    EXPECT_EQ(history.metrics.size(), expected);
    tracking::Run run = Must(store_->GetRun(run_id));
    EXPECT_EQ(LatestMetric(run, "m")->step, static_cast<int64_t>(expected - 1));
    EXPECT_EQ(run.data.params.size(), 5u);
  }
}

TEST_P(StoreConformanceTest, ReopenSeesEverything) {
  std::string experiment_id = Must(store_->CreateExperiment("durable", "", {{"a", "b"}}));
  tracking::Run run = NewRun(experiment_id, "kept");
  std::string run_id = run.info.run_id;
  ASSERT_OK(store_->LogBatch(run_id, {{"m", 0.5, 10, 1}, {"m", kNaN, 11, 2}}, {{"p", "1"}},
                             {{"t", "x"}}));
  ASSERT_OK(store_->LogInputs(run_id, {{{}, {"d", "dig", "local", "src", "", ""}}}));
  ASSERT_OK(store_->UpdateRun(run_id, RunStatus::kKilled, int64_t{99}, std::nullopt).status());
  tracking::Run deleted = NewRun(experiment_id, "gone");
  ASSERT_OK(store_->DeleteRun(deleted.info.run_id));
  tracking::Run before = Must(store_->GetRun(run_id));

  Reopen();
  Experiment experiment = Must(store_->GetExperiment(experiment_id));
  EXPECT_EQ(experiment.name, "durable");
  EXPECT_EQ(experiment.tags, (std::vector<ExperimentTag>{{"a", "b"}}));
  tracking::Run after = Must(store_->GetRun(run_id));
  EXPECT_EQ(after.info, before.info);
  EXPECT_EQ(after.data.params, before.data.params);
  EXPECT_EQ(after.data.tags, before.data.tags);
  EXPECT_EQ(after.inputs.dataset_inputs, before.inputs.dataset_inputs);
  ASSERT_EQ(after.data.metrics.size(), 1u);
  EXPECT_TRUE(std::isnan(after.data.metrics[0].value));
  EXPECT_EQ(Must(store_->GetMetricHistory(run_id, "m", std::nullopt, "")).metrics.size(), 2u);
  EXPECT_EQ(Must(store_->GetRun(deleted.info.run_id)).info.lifecycle_stage, "deleted");
  EXPECT_EQ(Must(store_->GetExperiment("0")).name, "Default");
  // Ids keep counting after a reopen.
  EXPECT_EQ(Must(store_->CreateExperiment("next", "", {})), "2");
}

// ---- logged models (MLflow 3) ---------------------------------------------------------

bool LooksLikeModelId(const std::string& id) {
  if (id.size() != 34 || !id.starts_with("m-")) return false;
  for (size_t index = 2; index < id.size(); ++index) {
    char c = id[index];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST_P(StoreConformanceTest, LoggedModelLifecycle) {
  std::string experiment_id = NewExperiment("models");
  Experiment experiment = Must(store_->GetExperiment(experiment_id));
  tracking::Run run = NewRun(experiment_id, "trainer");
  LoggedModel created = Must(
      store_->CreateLoggedModel(experiment_id, "model", "classifier", run.info.run_id,
                                {{"lr", "0.1"}, {"depth", "3"}}, {{"z", "last"}, {"a", "first"}}));
  EXPECT_TRUE(LooksLikeModelId(created.model_id)) << created.model_id;
  EXPECT_EQ(created.experiment_id, experiment_id);
  EXPECT_EQ(created.name, "model");
  EXPECT_EQ(created.model_type, "classifier");
  EXPECT_EQ(created.source_run_id, run.info.run_id);
  EXPECT_EQ(created.status, LoggedModelStatus::kPending);
  EXPECT_EQ(created.artifact_uri,
            experiment.artifact_location + "/models/" + created.model_id + "/artifacts");
  EXPECT_GT(created.creation_timestamp_ms, 0);
  EXPECT_EQ(created.last_updated_timestamp_ms, created.creation_timestamp_ms);
  EXPECT_EQ(created.params, (std::vector<LoggedModelParam>{{"depth", "3"}, {"lr", "0.1"}}));
  EXPECT_EQ(created.tags, (std::vector<LoggedModelTag>{{"a", "first"}, {"z", "last"}}));

  LoggedModel fetched = Must(store_->GetLoggedModel(created.model_id));
  EXPECT_EQ(fetched.name, created.name);
  EXPECT_EQ(fetched.artifact_uri, created.artifact_uri);
  EXPECT_EQ(fetched.params, created.params);
  EXPECT_EQ(fetched.tags, created.tags);
  EXPECT_TRUE(fetched.metrics.empty());

  // No name: a generated one; no run, no type: left empty.
  LoggedModel anonymous = Must(store_->CreateLoggedModel(experiment_id, "", "", "", {}, {}));
  EXPECT_TRUE(LooksGenerated(anonymous.name)) << anonymous.name;
  EXPECT_TRUE(anonymous.source_run_id.empty());
  EXPECT_TRUE(anonymous.model_type.empty());
  EXPECT_NE(anonymous.model_id, created.model_id);

  LoggedModel ready =
      Must(store_->FinalizeLoggedModel(created.model_id, LoggedModelStatus::kReady));
  EXPECT_EQ(ready.status, LoggedModelStatus::kReady);
  EXPECT_GE(ready.last_updated_timestamp_ms, created.last_updated_timestamp_ms);
  EXPECT_EQ(Must(store_->GetLoggedModel(created.model_id)).status, LoggedModelStatus::kReady);

  ASSERT_OK(store_->SetLoggedModelTags(created.model_id, {{"a", "changed"}, {"m", "new"}}));
  EXPECT_EQ(Must(store_->GetLoggedModel(created.model_id)).tags,
            (std::vector<LoggedModelTag>{{"a", "changed"}, {"m", "new"}, {"z", "last"}}));
  ASSERT_OK(store_->DeleteLoggedModelTag(created.model_id, "z"));
  EXPECT_CODE(store_->DeleteLoggedModelTag(created.model_id, "z"), kNotFound);
  EXPECT_EQ(Must(store_->GetLoggedModel(created.model_id)).tags.size(), 2u);

  // Params are write-once, as a run's.
  ASSERT_OK(store_->LogLoggedModelParams(created.model_id, {{"lr", "0.1"}, {"epochs", "5"}}));
  EXPECT_CODE(store_->LogLoggedModelParams(created.model_id, {{"lr", "0.2"}}), kInvalidArgument);
  EXPECT_EQ(Must(store_->GetLoggedModel(created.model_id)).params,
            (std::vector<LoggedModelParam>{{"depth", "3"}, {"epochs", "5"}, {"lr", "0.1"}}));

  // Deleted: gone for Get, still there for finalize (as in MLflow).
  ASSERT_OK(store_->DeleteLoggedModel(anonymous.model_id));
  EXPECT_CODE(store_->GetLoggedModel(anonymous.model_id), kNotFound);
  EXPECT_OK_RESULT(
      store_->FinalizeLoggedModel(anonymous.model_id, LoggedModelStatus::kUploadFailed));

  // Errors.
  const std::string missing = "m-" + std::string(32, '0');
  EXPECT_CODE(store_->GetLoggedModel(missing), kNotFound);
  EXPECT_CODE(store_->FinalizeLoggedModel(missing, LoggedModelStatus::kReady), kNotFound);
  EXPECT_CODE(store_->DeleteLoggedModel(missing), kNotFound);
  EXPECT_CODE(store_->SetLoggedModelTags(missing, {{"k", "v"}}), kNotFound);
  EXPECT_CODE(store_->DeleteLoggedModelTag(missing, "k"), kNotFound);
  EXPECT_CODE(store_->LogLoggedModelParams(missing, {{"k", "v"}}), kNotFound);
  EXPECT_CODE(store_->CreateLoggedModel("12345", "x", "", "", {}, {}), kNotFound);
  EXPECT_CODE(store_->CreateLoggedModel(experiment_id, "x", "", std::string(32, 'f'), {}, {}),
              kNotFound);
  EXPECT_CODE(store_->CreateLoggedModel(experiment_id, "x", "", "", {{"bad..key/", "v"}}, {}),
              kInvalidArgument);
  std::string gone = NewExperiment("gone");
  ASSERT_OK(store_->DeleteExperiment(gone));
  EXPECT_CODE(store_->CreateLoggedModel(gone, "x", "", "", {}, {}), kInvalidArgument);
}

TEST_P(StoreConformanceTest, LoggedModelOutputsAndMetrics) {
  std::string experiment_id = NewExperiment("linked");
  tracking::Run run = NewRun(experiment_id);
  std::string run_id = run.info.run_id;
  EXPECT_TRUE(run.outputs.model_outputs.empty());
  LoggedModel first = Must(store_->CreateLoggedModel(experiment_id, "a", "", run_id, {}, {}));
  LoggedModel second = Must(store_->CreateLoggedModel(experiment_id, "b", "", run_id, {}, {}));

  ASSERT_OK(store_->LogOutputs(run_id, {{first.model_id, 3}}));
  ASSERT_OK(store_->LogOutputs(run_id, {{second.model_id, 7}, {first.model_id, 5}}));
  EXPECT_EQ(Must(store_->GetRun(run_id)).outputs.model_outputs,
            (std::vector<LoggedModelOutput>{{first.model_id, 5}, {second.model_id, 7}}));
  EXPECT_CODE(store_->LogOutputs(run_id, {{"m-" + std::string(32, '1'), 0}}), kNotFound);
  EXPECT_CODE(store_->LogOutputs(std::string(32, 'a'), {{first.model_id, 0}}), kNotFound);

  // Metrics logged with a model id become the model's metrics, and the run's.
  Metric accuracy("acc", 0.75, 100, 5);
  accuracy.model_id = first.model_id;
  accuracy.dataset_name = "val";
  accuracy.dataset_digest = "d1";
  Metric loss("loss", kNaN, 101, 5);
  loss.model_id = first.model_id;
  ASSERT_OK(store_->LogBatch(run_id, {accuracy, loss, {"plain", 1.0, 102, 5}}, {}, {}));
  Metric again("acc", 0.8, 200, 6);
  again.model_id = first.model_id;
  ASSERT_OK(store_->LogMetric(run_id, again));
  LoggedModel linked = Must(store_->GetLoggedModel(first.model_id));
  ASSERT_EQ(linked.metrics.size(), 3u);
  EXPECT_EQ(linked.metrics[0].key, "acc");
  EXPECT_EQ(linked.metrics[0].value, 0.75);
  EXPECT_EQ(linked.metrics[0].timestamp, 100);
  EXPECT_EQ(linked.metrics[0].step, 5);
  EXPECT_EQ(linked.metrics[0].dataset_name, "val");
  EXPECT_EQ(linked.metrics[0].dataset_digest, "d1");
  EXPECT_EQ(linked.metrics[0].run_id, run_id);
  EXPECT_EQ(linked.metrics[0].model_id, first.model_id);
  EXPECT_EQ(linked.metrics[1].value, 0.8);
  EXPECT_EQ(linked.metrics[2].key, "loss");
  EXPECT_TRUE(std::isnan(linked.metrics[2].value));
  EXPECT_TRUE(Must(store_->GetLoggedModel(second.model_id)).metrics.empty());
  tracking::Run after = Must(store_->GetRun(run_id));
  EXPECT_EQ(after.data.metrics.size(), 3u);
  EXPECT_EQ(LatestMetric(after, "acc")->value, 0.8);
  // A metric naming an unknown model is refused, and nothing of its batch is written.
  Metric orphan("orphan", 1.0, 300, 0);
  orphan.model_id = "m-" + std::string(32, '2');
  EXPECT_CODE(store_->LogBatch(run_id, {{"first", 1.0, 300, 0}, orphan}, {}, {}), kNotFound);
  EXPECT_FALSE(LatestMetric(Must(store_->GetRun(run_id)), "first").has_value());

  // Durable across a reopen.
  Reopen();
  EXPECT_EQ(Must(store_->GetLoggedModel(first.model_id)).metrics.size(), 3u);
  EXPECT_EQ(Must(store_->GetRun(run_id)).outputs.model_outputs.size(), 2u);
}

TEST_P(StoreConformanceTest, SearchLoggedModels) {
  std::string experiment_id = NewExperiment("search-models");
  std::string other_id = NewExperiment("other-models");
  tracking::Run run = NewRun(experiment_id);
  auto create = [&](const std::string& experiment, const std::string& name, const std::string& type,
                    std::vector<LoggedModelParam> params, std::vector<LoggedModelTag> tags) {
    return Must(store_->CreateLoggedModel(experiment, name, type, run.info.run_id, params, tags));
  };
  LoggedModel alpha = create(experiment_id, "alpha", "cnn", {{"lr", "0.1"}}, {{"team", "vision"}});
  LoggedModel beta = create(experiment_id, "beta", "mlp", {{"lr", "0.01"}}, {{"team", "nlp"}});
  LoggedModel gamma = create(experiment_id, "gamma-2", "", {}, {});
  LoggedModel elsewhere = create(other_id, "alpha", "cnn", {}, {});
  LoggedModel removed = create(experiment_id, "removed", "cnn", {}, {});
  ASSERT_OK(store_->DeleteLoggedModel(removed.model_id));
  ASSERT_OK(store_->FinalizeLoggedModel(beta.model_id, LoggedModelStatus::kReady).status());
  auto log_metric = [&](const LoggedModel& model, const std::string& key, double value,
                        int64_t timestamp, const std::string& dataset) {
    Metric metric(key, value, timestamp, 0);
    metric.model_id = model.model_id;
    metric.dataset_name = dataset;
    ASSERT_OK(store_->LogMetric(run.info.run_id, metric));
  };
  log_metric(alpha, "acc", 0.9, 10, "val");
  log_metric(alpha, "acc", 0.5, 20, "test");  // latest
  log_metric(beta, "acc", 0.7, 10, "val");

  auto names = [&](const std::vector<std::string>& experiments, const std::string& filter,
                   const std::vector<LoggedModelDatasetFilter>& datasets,
                   const std::vector<LoggedModelOrderBy>& order_by) {
    std::vector<std::string> found;
    std::string token;
    for (int page = 0; page < 100; ++page) {
      core::Result<LoggedModelPage> result =
          store_->SearchLoggedModels(experiments, filter, datasets, 2, order_by, token);
      EXPECT_TRUE(result.ok()) << filter << ": " << result.status().ToString();
      if (!result.ok()) break;
      EXPECT_LE(result->models.size(), 2u);
      for (const LoggedModel& model : result->models) {
        found.push_back(model.name + (model.experiment_id == other_id ? "@other" : ""));
      }
      token = result->next_page_token;
      if (token.empty()) break;
    }
    return found;
  };
  using Names = std::vector<std::string>;
  auto sorted = [](Names values) {
    std::sort(values.begin(), values.end());
    return values;
  };
  const std::vector<std::string> here = {experiment_id};
  EXPECT_EQ(sorted(names(here, "", {}, {})), (Names{"alpha", "beta", "gamma-2"}));
  EXPECT_EQ(sorted(names({experiment_id, other_id}, "name = 'alpha'", {}, {})),
            (Names{"alpha", "alpha@other"}));
  EXPECT_EQ(names(here, "name LIKE 'gam%'", {}, {}), (Names{"gamma-2"}));
  EXPECT_EQ(names(here, "attributes.name ILIKE 'BETA'", {}, {}), (Names{"beta"}));
  EXPECT_EQ(sorted(names(here, "model_type IN ('cnn', 'mlp')", {}, {})), (Names{"alpha", "beta"}));
  EXPECT_EQ(names(here, "model_type NOT IN ('cnn')", {}, {}), (Names{"beta"}));
  EXPECT_EQ(names(here, "status = 'LOGGED_MODEL_READY'", {}, {}), (Names{"beta"}));
  EXPECT_EQ(names(here, "model_id = '" + gamma.model_id + "'", {}, {}), (Names{"gamma-2"}));
  EXPECT_EQ(sorted(names(here, "source_run_id = '" + run.info.run_id + "'", {}, {})),
            (Names{"alpha", "beta", "gamma-2"}));
  EXPECT_EQ(sorted(names(here, "creation_time >= 0 and last_updated_timestamp > 0", {}, {})),
            (Names{"alpha", "beta", "gamma-2"}));
  EXPECT_EQ(names(here, "params.lr = '0.01'", {}, {}), (Names{"beta"}));
  EXPECT_EQ(names(here, "tags.team != 'nlp'", {}, {}), (Names{"alpha"}));
  EXPECT_EQ(sorted(names(here, "tags.team IS NULL", {}, {})), (Names{"gamma-2"}));
  // A metrics comparison holds when any value of the metric does.
  EXPECT_EQ(sorted(names(here, "metrics.acc > 0.6", {}, {})), (Names{"alpha", "beta"}));
  EXPECT_EQ(names(here, "metrics.acc < 0.6", {}, {}), (Names{"alpha"}));
  EXPECT_EQ(sorted(names(here, "metrics.acc > 0.6", {{"val", ""}}, {})), (Names{"alpha", "beta"}));
  EXPECT_TRUE(names(here, "metrics.acc > 0.6", {{"test", ""}}, {}).empty());
  EXPECT_TRUE(names(here, "metrics.acc > 0.6", {{"val", "no-such-digest"}}, {}).empty());
  // Datasets alone keep the models with any metric on them.
  EXPECT_EQ(names(here, "", {{"test", ""}}, {}), (Names{"alpha"}));
  EXPECT_EQ(names(here, "name = 'removed'", {}, {}), Names{});

  // Order: explicit keys, then creation time (newest first) and id.
  EXPECT_EQ(names(here, "", {}, {{"name", false, "", ""}}), (Names{"gamma-2", "beta", "alpha"}));
  EXPECT_EQ(names(here, "", {}, {{"name", true, "", ""}}), (Names{"alpha", "beta", "gamma-2"}));
  // By the latest value of a metric; models without it last.
  EXPECT_EQ(names(here, "", {}, {{"metrics.acc", false, "", ""}}),
            (Names{"beta", "alpha", "gamma-2"}));
  EXPECT_EQ(names(here, "", {}, {{"metrics.acc", true, "", ""}}),
            (Names{"alpha", "beta", "gamma-2"}));
  EXPECT_EQ(names(here, "", {}, {{"metrics.acc", false, "val", ""}}),
            (Names{"alpha", "beta", "gamma-2"}));
  EXPECT_EQ(names(here, "", {}, {{"model_type", true, "", ""}, {"name", false, "", ""}}),
            (Names{"alpha", "beta", "gamma-2"}));
  {
    std::vector<LoggedModel> all =
        Must(store_->SearchLoggedModels(here, "", {}, 100, {}, "")).models;
    ASSERT_EQ(all.size(), 3u);
    for (size_t index = 1; index < all.size(); ++index) {
      const LoggedModel& before = all[index - 1];
      const LoggedModel& after = all[index];
      EXPECT_TRUE(before.creation_timestamp_ms > after.creation_timestamp_ms ||
                  (before.creation_timestamp_ms == after.creation_timestamp_ms &&
                   before.model_id < after.model_id))
          << before.model_id << " then " << after.model_id;
    }
    EXPECT_EQ(all[0].tags.size() + all[1].tags.size() + all[2].tags.size(), 2u);
  }
  EXPECT_TRUE(Must(store_->SearchLoggedModels({"987654"}, "", {}, 10, {}, "")).models.empty());

  EXPECT_CODE(store_->SearchLoggedModels(here, "name = ", {}, 10, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchLoggedModels(here, "run_name = 'x'", {}, 10, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchLoggedModels(here, "datasets.name = 'x'", {}, 10, {}, ""),
              kInvalidArgument);
  EXPECT_CODE(store_->SearchLoggedModels(here, "", {}, 10, {{"params.lr", true, "", ""}}, ""),
              kInvalidArgument);
  EXPECT_CODE(store_->SearchLoggedModels(here, "", {}, 10, {{"bogus", true, "", ""}}, ""),
              kInvalidArgument);
  EXPECT_CODE(store_->SearchLoggedModels(here, "", {}, 0, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchLoggedModels(here, "", {{"", "digest"}}, 10, {}, ""), kInvalidArgument);
  EXPECT_CODE(store_->SearchLoggedModels(here, "", {}, 10, {}, "not a token"), kInvalidArgument);
  (void)elsewhere;
}

// ---- backends -------------------------------------------------------------------------

// Registered by the test binary (testing/store_conformance.h): SQLite in
// sqlite/sqlite_conformance_test.cc, REST in rest/rest_store_test.cc.
std::vector<StoreBackend> Backends() { return testing::ConformanceBackends(); }

std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest, ::testing::ValuesIn(Backends()),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, SearchModelTest, ::testing::ValuesIn(Backends()), BackendName);

}  // namespace
}  // namespace mlforge::tracking
