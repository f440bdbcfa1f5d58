#pragma once

// The RegistryStore on one SQLite file, normally the very file the tracking
// SqliteStore uses (`mlforge server --backend-store-uri sqlite:///mlflow.db`
// serves both from it, as MLflow does).
//
//   MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<RegistryStore> registry,
//                            SqliteRegistryStore::Open("/data/mlflow.db"));
//
// Tables: registered_models, registered_model_tags, model_versions,
// model_version_tags and registered_model_aliases, versioned by their own
// `registry_schema_version` table and numbered migrations applied on open,
// so the tracking and registry schemas evolve independently in one file. A
// database from a newer mlforge is refused (FailedPrecondition).
//
// Concurrency is the tracking store's: one writer connection under a mutex
// runs each write as one IMMEDIATE transaction (so version numbers are
// assigned without races, across processes too), and reads run on pooled
// reader connections in WAL snapshots. Writes from other processes wait up
// to Options::busy_timeout_ms, then fail with Unavailable.
//
// Not for: many machines sharing one file over a network file system.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "registry/registry_store.h"

namespace mlforge::tracking::sqlite_internal {
class Connection;
class ConnectionPool;
}  // namespace mlforge::tracking::sqlite_internal

namespace mlforge::registry {

class SqliteRegistryStore final : public RegistryStore {
 public:
  // The path that opens a private in-memory database (one connection).
  static constexpr std::string_view kInMemory = ":memory:";

  struct Options {
    // fsync every commit (PRAGMA synchronous=FULL). Default false: commits
    // survive the death of the process, not a power loss.
    bool synchronous_full = false;
    // How long a write waits for another process's lock before failing
    // with Unavailable, in milliseconds. Default 5000.
    int busy_timeout_ms = 5000;
    // Idle reader connections kept open for reuse. Default 8.
    int max_idle_readers = 8;
  };

  // Opens or creates the database at `path` (or kInMemory) and applies
  // pending registry migrations; tables of other parts (tracking) are left
  // alone. Unavailable when the file cannot be opened; FailedPrecondition
  // for a registry schema newer than this build knows.
  static core::Result<std::unique_ptr<RegistryStore>> Open(const std::string& path);
  static core::Result<std::unique_ptr<RegistryStore>> Open(const std::string& path,
                                                           const Options& options);

  // The registry schema version this build creates and understands.
  static int LatestSchemaVersion();

  ~SqliteRegistryStore() override;

  core::Result<RegisteredModel> CreateRegisteredModel(std::string_view name,
                                                      const std::vector<RegisteredModelTag>& tags,
                                                      std::string_view description) override;
  core::Result<RegisteredModel> GetRegisteredModel(std::string_view name) override;
  core::Result<RegisteredModel> RenameRegisteredModel(std::string_view name,
                                                      std::string_view new_name) override;
  core::Result<RegisteredModel> UpdateRegisteredModel(std::string_view name,
                                                      std::string_view description) override;
  core::Status DeleteRegisteredModel(std::string_view name) override;
  core::Result<RegisteredModelPage> SearchRegisteredModels(std::string_view filter, int max_results,
                                                           const std::vector<std::string>& order_by,
                                                           std::string_view page_token) override;
  core::Result<std::vector<ModelVersion>> GetLatestVersions(
      std::string_view name, const std::vector<std::string>& stages) override;
  core::Status SetRegisteredModelTag(std::string_view name, const RegisteredModelTag& tag) override;
  core::Status DeleteRegisteredModelTag(std::string_view name, std::string_view key) override;

  core::Status SetRegisteredModelAlias(std::string_view name, std::string_view alias,
                                       int64_t version) override;
  core::Status DeleteRegisteredModelAlias(std::string_view name, std::string_view alias) override;
  core::Result<ModelVersion> GetModelVersionByAlias(std::string_view name,
                                                    std::string_view alias) override;

  core::Result<ModelVersion> CreateModelVersion(std::string_view name, std::string_view source,
                                                std::string_view run_id,
                                                const std::vector<ModelVersionTag>& tags,
                                                std::string_view run_link,
                                                std::string_view description,
                                                std::string_view model_id) override;
  core::Result<ModelVersion> GetModelVersion(std::string_view name, int64_t version) override;
  core::Result<ModelVersion> UpdateModelVersion(std::string_view name, int64_t version,
                                                std::string_view description) override;
  core::Status DeleteModelVersion(std::string_view name, int64_t version) override;
  core::Result<ModelVersion> TransitionModelVersionStage(std::string_view name, int64_t version,
                                                         std::string_view stage,
                                                         bool archive_existing_versions) override;
  core::Result<ModelVersionPage> SearchModelVersions(std::string_view filter, int max_results,
                                                     const std::vector<std::string>& order_by,
                                                     std::string_view page_token) override;
  core::Result<std::string> GetModelVersionDownloadUri(std::string_view name,
                                                       int64_t version) override;
  core::Status SetModelVersionTag(std::string_view name, int64_t version,
                                  const ModelVersionTag& tag) override;
  core::Status DeleteModelVersionTag(std::string_view name, int64_t version,
                                     std::string_view key) override;

 private:
  using Connection = tracking::sqlite_internal::Connection;

  SqliteRegistryStore(std::string path, Options options, std::unique_ptr<Connection> writer);

  // Runs `body` in one IMMEDIATE transaction on the writer connection,
  // committing when it returns OK (see tracking::sqlite_internal::ConnectionPool).
  core::Status Write(const std::function<core::Status(Connection&)>& body);
  // Runs `body` in one read snapshot on a reader connection (the writer,
  // under its mutex, for an in-memory database).
  core::Status Read(const std::function<core::Status(Connection&)>& body);

  const std::unique_ptr<tracking::sqlite_internal::ConnectionPool> pool_;
};

}  // namespace mlforge::registry
