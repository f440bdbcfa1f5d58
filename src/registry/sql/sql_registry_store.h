#pragma once

// The RegistryStore over any tracking::sql::ConnectionPool: the registry's
// logic and SQL, written once for SQLite (registry/sqlite/) and PostgreSQL
// (registry/postgres/), whose headers are the front doors. Models have a
// surrogate integer key, so a rename touches one row; version numbers are
// assigned inside the write transaction that creates the version. Private
// to the SQL registry stores. Thread-safe as far as the pool is.

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "registry/registry_store.h"
#include "tracking/sql/sql_connection.h"

namespace mlforge::registry {

class SqlRegistryStore final : public RegistryStore {
 public:
  // Applies pending `migrations` (recorded in `registry_schema_version`) in
  // one write transaction and returns the store. FailedPrecondition for a
  // registry schema newer than `migrations`; whatever the pool returns
  // otherwise.
  static core::Result<std::unique_ptr<RegistryStore>> Open(
      std::unique_ptr<tracking::sql::ConnectionPool> pool,
      std::span<const std::string_view> migrations);

  ~SqlRegistryStore() override;

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
  using Connection = tracking::sql::Connection;

  explicit SqlRegistryStore(std::unique_ptr<tracking::sql::ConnectionPool> pool);

  // Runs `body` in one write transaction, committing when it returns OK.
  core::Status Write(const std::function<core::Status(Connection&)>& body);
  // Runs `body` in one read snapshot.
  core::Status Read(const std::function<core::Status(Connection&)>& body);

  const std::unique_ptr<tracking::sql::ConnectionPool> pool_;
};

}  // namespace mlforge::registry
