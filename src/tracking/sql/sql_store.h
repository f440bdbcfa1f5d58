#pragma once

// The tracking Store over any sql::ConnectionPool: the store logic and its
// SQL, written once for SQLite (tracking/sqlite/sqlite_store.h) and
// PostgreSQL (tracking/postgres/postgres_store.h). Those headers are the
// front doors; they open the backend, apply its schema migrations and hand
// back a SqlStore as a Store. Private to the SQL stores.
//
// Every call runs in one transaction of the pool (a write transaction for
// a change, a snapshot for a read), so a multi-row write such as LogBatch
// commits whole or not at all. Thread-safe as far as the pool is.

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tracking/sql/sql_connection.h"
#include "tracking/store.h"

namespace mlforge::tracking {

class SqlStore final : public Store {
 public:
  // Applies pending `migrations` (entry i takes the schema from version i
  // to i + 1, recorded in table `schema_version`) in one write transaction,
  // creates the Default experiment (id "0", artifacts at
  // "<default_artifact_root>/0") if missing, and returns the store. An
  // empty root means "./mlruns", MLflow's default. FailedPrecondition for a
  // schema newer than `migrations`; whatever the pool returns otherwise.
  static core::Result<std::unique_ptr<Store>> Open(std::unique_ptr<sql::ConnectionPool> pool,
                                                   std::span<const std::string_view> migrations,
                                                   std::string_view default_artifact_root);

  ~SqlStore() override;

  core::Result<std::string> CreateExperiment(std::string_view name,
                                             std::string_view artifact_location,
                                             const std::vector<ExperimentTag>& tags) override;
  core::Result<Experiment> GetExperiment(std::string_view experiment_id) override;
  core::Result<Experiment> GetExperimentByName(std::string_view name) override;
  core::Result<ExperimentPage> SearchExperiments(ViewType view_type, int max_results,
                                                 std::string_view filter,
                                                 const std::vector<std::string>& order_by,
                                                 std::string_view page_token) override;
  core::Status UpdateExperiment(std::string_view experiment_id, std::string_view new_name) override;
  core::Status DeleteExperiment(std::string_view experiment_id) override;
  core::Status RestoreExperiment(std::string_view experiment_id) override;
  core::Status SetExperimentTag(std::string_view experiment_id, const ExperimentTag& tag) override;
  core::Status DeleteExperimentTag(std::string_view experiment_id, std::string_view key) override;

  core::Result<Run> CreateRun(std::string_view experiment_id, std::string_view user_id,
                              int64_t start_time, const std::vector<RunTag>& tags,
                              std::optional<std::string> run_name) override;
  core::Result<Run> GetRun(std::string_view run_id) override;
  core::Result<RunInfo> UpdateRun(std::string_view run_id, std::optional<RunStatus> status,
                                  std::optional<int64_t> end_time,
                                  std::optional<std::string> run_name) override;
  core::Status DeleteRun(std::string_view run_id) override;
  core::Status RestoreRun(std::string_view run_id) override;
  core::Status LogMetric(std::string_view run_id, const Metric& metric) override;
  core::Status LogParam(std::string_view run_id, const Param& param) override;
  core::Status SetTag(std::string_view run_id, const RunTag& tag) override;
  core::Status DeleteTag(std::string_view run_id, std::string_view key) override;
  core::Status LogBatch(std::string_view run_id, const std::vector<Metric>& metrics,
                        const std::vector<Param>& params, const std::vector<RunTag>& tags) override;
  core::Status LogInputs(std::string_view run_id, const std::vector<DatasetInput>& inputs) override;
  core::Result<MetricPage> GetMetricHistory(std::string_view run_id, std::string_view key,
                                            std::optional<int> max_results,
                                            std::string_view page_token) override;
  core::Result<RunPage> SearchRuns(const std::vector<std::string>& experiment_ids,
                                   std::string_view filter, ViewType view_type, int max_results,
                                   const std::vector<std::string>& order_by,
                                   std::string_view page_token) override;

  core::Result<LoggedModel> CreateLoggedModel(std::string_view experiment_id, std::string_view name,
                                              std::string_view model_type,
                                              std::string_view source_run_id,
                                              const std::vector<LoggedModelParam>& params,
                                              const std::vector<LoggedModelTag>& tags) override;
  core::Result<LoggedModel> GetLoggedModel(std::string_view model_id) override;
  core::Result<LoggedModel> FinalizeLoggedModel(std::string_view model_id,
                                                LoggedModelStatus status) override;
  core::Status DeleteLoggedModel(std::string_view model_id) override;
  core::Status SetLoggedModelTags(std::string_view model_id,
                                  const std::vector<LoggedModelTag>& tags) override;
  core::Status DeleteLoggedModelTag(std::string_view model_id, std::string_view key) override;
  core::Status LogLoggedModelParams(std::string_view model_id,
                                    const std::vector<LoggedModelParam>& params) override;
  core::Result<LoggedModelPage> SearchLoggedModels(
      const std::vector<std::string>& experiment_ids, std::string_view filter,
      const std::vector<LoggedModelDatasetFilter>& datasets, int max_results,
      const std::vector<LoggedModelOrderBy>& order_by, std::string_view page_token) override;
  core::Status LogOutputs(std::string_view run_id,
                          const std::vector<LoggedModelOutput>& models) override;

 private:
  SqlStore(std::string artifact_root, std::unique_ptr<sql::ConnectionPool> pool);

  // Runs `body` inside one write transaction, committing when it returns
  // OK and rolling back otherwise (sql::ConnectionPool::Write).
  core::Status Write(const std::function<core::Status(sql::Connection&)>& body);
  // Write() for bodies that check their parent rows themselves
  // (sql::ConnectionPool::WriteCheckedChildren).
  core::Status WriteCheckedChildren(const std::function<core::Status(sql::Connection&)>& body);
  // Runs `body` inside one read snapshot (sql::ConnectionPool::Read).
  core::Status Read(const std::function<core::Status(sql::Connection&)>& body);

  // Fixed at construction.
  const std::string artifact_root_;

  const std::unique_ptr<sql::ConnectionPool> pool_;
};

}  // namespace mlforge::tracking
