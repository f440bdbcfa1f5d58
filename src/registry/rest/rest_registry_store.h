#pragma once

// registry::rest::RestRegistryStore: a RegistryStore whose data lives behind
// a tracking server, reached over MLflow's model registry REST API as
// MLflow's Python client reaches it
// (mlflow/store/model_registry/rest_store.py). Works against this project's
// server (registry/rest/registry_handler.h) and against MLflow's own.
//
//   MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<RegistryStore> registry,
//                            RestRegistryStore::Open("http://127.0.0.1:5000"));
//
// Requests, under "<path prefix>/api/2.0/mlflow/": reads are GETs with
// query parameters (registered-models/get, registered-models/search,
// registered-models/alias, model-versions/get, model-versions/search,
// model-versions/get-download-uri); updates are PATCHes, deletions DELETEs
// and everything else POSTs, each with a JSON body. Version numbers go out
// as decimal strings, as the proto has them. Responses are read with the
// FromJson functions of registry/rest/registry_json.h.
//
// Errors: the server's, decoded from {"error_code","message"} by the shared
// transport (tracking/rest/rest_transport.h, which also retries busy answers
// and refused connections); a response the client cannot read is Internal.
//
// Thread safety: every method may be called from many threads at once (the
// transport pools connections). Not for: https, authentication headers.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "registry/registry_store.h"
#include "tracking/rest/rest_transport.h"

namespace mlforge::registry::rest {

class RestRegistryStore : public RegistryStore {
 public:
  // `uri` is "http://host[:port][/path prefix]", as for the tracking
  // RestStore. Connects lazily. InvalidArgument for a malformed URI;
  // Unimplemented for https.
  static core::Result<std::unique_ptr<RegistryStore>> Open(std::string_view uri);

  explicit RestRegistryStore(std::unique_ptr<tracking::rest::RestTransport> transport);
  RestRegistryStore(const RestRegistryStore&) = delete;
  RestRegistryStore& operator=(const RestRegistryStore&) = delete;
  ~RestRegistryStore() override;

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
  const std::unique_ptr<tracking::rest::RestTransport> transport_;
};

}  // namespace mlforge::registry::rest
