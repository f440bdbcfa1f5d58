#pragma once

// The tracking Store on one SQLite file: the store of `mlforge server` on a
// single machine, and of training when no server runs.
//
//   MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
//                            SqliteStore::Open("/data/mlflow.db", "file:///data/mlruns"));
//
// Concurrency: one writer connection, guarded by a mutex, runs every write
// as one IMMEDIATE transaction; reads run on a pool of reader connections
// in WAL mode, each read in its own snapshot transaction, so readers never
// wait for the writer and see only committed data. Several processes may
// open the same file; their writes serialise through SQLite's lock,
// waiting up to Options::busy_timeout_ms before Unavailable.
//
// Durability: WAL with synchronous=NORMAL (the default) makes every
// acknowledged write survive a crash or SIGKILL of the process, because the
// commit is in the WAL file (in the OS page cache) before the call returns;
// the last commits before a power loss or OS crash may be lost. With
// Options::synchronous_full every commit is also fsynced and survives those
// too, at the cost of one fsync per write call.
//
// Schema: a `schema_version` table and numbered migrations, each applied in
// one transaction on open; a database from a newer mlforge is refused
// (FailedPrecondition) rather than guessed at.
//
// Not for: many machines sharing one file over a network file system; use
// the PostgreSQL store there.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tracking/store.h"

namespace mlforge::tracking {

namespace sqlite_internal {
class Connection;
class ConnectionPool;
}  // namespace sqlite_internal

class SqliteStore final : public Store {
 public:
  // The path that opens a private in-memory database (one connection, for
  // tests and throwaway use).
  static constexpr std::string_view kInMemory = ":memory:";

  struct Options {
    // fsync every commit (PRAGMA synchronous=FULL) so writes also survive
    // power loss. Default false: survive process death only (see above).
    bool synchronous_full = false;
    // How long a write waits for another process holding the database lock
    // before failing with Unavailable, in milliseconds. Default 5000.
    int busy_timeout_ms = 5000;
    // Idle reader connections kept open for reuse; more are opened when
    // more threads read at once. Default 8.
    int max_idle_readers = 8;
  };

  // Opens or creates the database at `path` (or kInMemory), applies pending
  // migrations and creates the Default experiment (id "0", artifacts at
  // "<default_artifact_root>/0") if missing. An empty root means "./mlruns",
  // MLflow's default. Unavailable when the file cannot be opened;
  // FailedPrecondition for a schema newer than this build knows.
  static core::Result<std::unique_ptr<Store>> Open(const std::string& path,
                                                   std::string_view default_artifact_root);
  static core::Result<std::unique_ptr<Store>> Open(const std::string& path,
                                                   std::string_view default_artifact_root,
                                                   const Options& options);

  // The schema version this build creates and understands.
  static int LatestSchemaVersion();

  ~SqliteStore() override;

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
  SqliteStore(std::string path, std::string artifact_root, Options options,
              std::unique_ptr<sqlite_internal::Connection> writer);

  // Runs `body` inside one write transaction on the writer connection,
  // committing when it returns OK and rolling back otherwise (see
  // sqlite_internal::ConnectionPool::Write).
  core::Status Write(const std::function<core::Status(sqlite_internal::Connection&)>& body);
  // Runs `body` inside one read snapshot on a reader connection (the writer
  // connection, under its mutex, for an in-memory database).
  core::Status Read(const std::function<core::Status(sqlite_internal::Connection&)>& body);

  // Fixed at construction.
  const std::string artifact_root_;

  const std::unique_ptr<sqlite_internal::ConnectionPool> pool_;
};

}  // namespace mlforge::tracking
