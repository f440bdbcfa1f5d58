#include "registry/rest/rest_registry_store.h"

#include <string>
#include <utility>

#include "registry/rest/registry_json.h"

namespace mlforge::registry::rest {
namespace {

using tracking::rest::DumpJson;
using tracking::rest::RestTransport;
using Query = std::vector<std::pair<std::string, std::string>>;

template <typename Tag>
Json TagsJson(const std::vector<Tag>& tags) {
  Json list = Json::array();
  for (const Tag& tag : tags) list.push_back(Json{{"key", tag.key}, {"value", tag.value}});
  return list;
}

// A response entity the client could not read is the server's fault, not
// the caller's: Internal rather than InvalidArgument.
core::Status BadResponse(std::string_view field, const Json& body, const core::Status& status) {
  return core::InternalError("Malformed model registry response ('" + std::string(field) +
                             "'): " + status.message() + " in " + DumpJson(body).substr(0, 300));
}

core::Result<RegisteredModel> RegisteredModelField(const Json& body) {
  auto found = body.find("registered_model");
  if (found == body.end()) {
    return core::InternalError("Model registry response has no 'registered_model': " +
                               DumpJson(body));
  }
  core::Result<RegisteredModel> model = RegisteredModelFromJson(*found);
  if (!model.ok()) return BadResponse("registered_model", body, model.status());
  return model;
}

core::Result<ModelVersion> ModelVersionField(const Json& body) {
  auto found = body.find("model_version");
  if (found == body.end()) {
    return core::InternalError("Model registry response has no 'model_version': " + DumpJson(body));
  }
  core::Result<ModelVersion> version = ModelVersionFromJson(*found);
  if (!version.ok()) return BadResponse("model_version", body, version.status());
  return version;
}

// Every entry of list `field` (absent: none) as a ModelVersion.
core::Result<std::vector<ModelVersion>> ModelVersionList(const Json& body) {
  std::vector<ModelVersion> versions;
  auto list = body.find("model_versions");
  if (list == body.end() || list->is_null()) return versions;
  if (!list->is_array()) {
    return core::InternalError(
        "Model registry response has a 'model_versions' that is not a "
        "list: " +
        DumpJson(body).substr(0, 300));
  }
  for (const Json& entry : *list) {
    core::Result<ModelVersion> version = ModelVersionFromJson(entry);
    if (!version.ok()) return BadResponse("model_versions", body, version.status());
    versions.push_back(std::move(version).value());
  }
  return versions;
}

std::string PageToken(const Json& body) {
  auto found = body.find("next_page_token");
  if (found == body.end() || !found->is_string()) return "";
  return found->get<std::string>();
}

// The query of a search: filter, max_results, each order_by, page_token.
Query SearchQuery(std::string_view filter, int max_results,
                  const std::vector<std::string>& order_by, std::string_view page_token) {
  Query query = {{"max_results", std::to_string(max_results)}};
  if (!filter.empty()) query.emplace_back("filter", std::string(filter));
  for (const std::string& clause : order_by) query.emplace_back("order_by", clause);
  if (!page_token.empty()) query.emplace_back("page_token", std::string(page_token));
  return query;
}

}  // namespace

core::Result<std::unique_ptr<RegistryStore>> RestRegistryStore::Open(std::string_view uri) {
  RestTransport::Options options;
  options.server_kind = "Model registry";
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<RestTransport> transport,
                           RestTransport::Open(uri, std::move(options)));
  return std::unique_ptr<RegistryStore>(std::make_unique<RestRegistryStore>(std::move(transport)));
}

RestRegistryStore::RestRegistryStore(std::unique_ptr<RestTransport> transport)
    : transport_(std::move(transport)) {}

RestRegistryStore::~RestRegistryStore() = default;

// ---- Registered models ---------------------------------------------------------

core::Result<RegisteredModel> RestRegistryStore::CreateRegisteredModel(
    std::string_view name, const std::vector<RegisteredModelTag>& tags,
    std::string_view description) {
  Json body = {{"name", name}};
  if (!tags.empty()) body["tags"] = TagsJson(tags);
  if (!description.empty()) body["description"] = description;
  MLFORGE_ASSIGN_OR_RETURN(Json response, transport_->Post("registered-models/create", body));
  return RegisteredModelField(response);
}

core::Result<RegisteredModel> RestRegistryStore::GetRegisteredModel(std::string_view name) {
  MLFORGE_ASSIGN_OR_RETURN(Json response,
                           transport_->Get("registered-models/get", {{"name", std::string(name)}}));
  return RegisteredModelField(response);
}

core::Result<RegisteredModel> RestRegistryStore::RenameRegisteredModel(std::string_view name,
                                                                       std::string_view new_name) {
  MLFORGE_ASSIGN_OR_RETURN(
      Json response,
      transport_->Post("registered-models/rename", {{"name", name}, {"new_name", new_name}}));
  return RegisteredModelField(response);
}

core::Result<RegisteredModel> RestRegistryStore::UpdateRegisteredModel(
    std::string_view name, std::string_view description) {
  MLFORGE_ASSIGN_OR_RETURN(Json response,
                           transport_->Send("PATCH", "registered-models/update",
                                            {{"name", name}, {"description", description}}));
  return RegisteredModelField(response);
}

core::Status RestRegistryStore::DeleteRegisteredModel(std::string_view name) {
  return transport_->Send("DELETE", "registered-models/delete", {{"name", name}}).status();
}

core::Result<RegisteredModelPage> RestRegistryStore::SearchRegisteredModels(
    std::string_view filter, int max_results, const std::vector<std::string>& order_by,
    std::string_view page_token) {
  MLFORGE_ASSIGN_OR_RETURN(Json response,
                           transport_->Get("registered-models/search",
                                           SearchQuery(filter, max_results, order_by, page_token)));
  RegisteredModelPage page;
  auto list = response.find("registered_models");
  if (list != response.end() && list->is_array()) {
    for (const Json& entry : *list) {
      core::Result<RegisteredModel> model = RegisteredModelFromJson(entry);
      if (!model.ok()) return BadResponse("registered_models", response, model.status());
      page.registered_models.push_back(std::move(model).value());
    }
  }
  page.next_page_token = PageToken(response);
  return page;
}

core::Result<std::vector<ModelVersion>> RestRegistryStore::GetLatestVersions(
    std::string_view name, const std::vector<std::string>& stages) {
  Json body = {{"name", name}};
  if (!stages.empty()) body["stages"] = stages;
  MLFORGE_ASSIGN_OR_RETURN(Json response,
                           transport_->Post("registered-models/get-latest-versions", body));
  return ModelVersionList(response);
}

core::Status RestRegistryStore::SetRegisteredModelTag(std::string_view name,
                                                      const RegisteredModelTag& tag) {
  return transport_
      ->Post("registered-models/set-tag", {{"name", name}, {"key", tag.key}, {"value", tag.value}})
      .status();
}

core::Status RestRegistryStore::DeleteRegisteredModelTag(std::string_view name,
                                                         std::string_view key) {
  return transport_->Send("DELETE", "registered-models/delete-tag", {{"name", name}, {"key", key}})
      .status();
}

// ---- Aliases -------------------------------------------------------------------

core::Status RestRegistryStore::SetRegisteredModelAlias(std::string_view name,
                                                        std::string_view alias, int64_t version) {
  return transport_
      ->Post("registered-models/alias",
             {{"name", name}, {"alias", alias}, {"version", std::to_string(version)}})
      .status();
}

core::Status RestRegistryStore::DeleteRegisteredModelAlias(std::string_view name,
                                                           std::string_view alias) {
  return transport_->Send("DELETE", "registered-models/alias", {{"name", name}, {"alias", alias}})
      .status();
}

core::Result<ModelVersion> RestRegistryStore::GetModelVersionByAlias(std::string_view name,
                                                                     std::string_view alias) {
  MLFORGE_ASSIGN_OR_RETURN(
      Json response, transport_->Get("registered-models/alias",
                                     {{"name", std::string(name)}, {"alias", std::string(alias)}}));
  return ModelVersionField(response);
}

// ---- Model versions ------------------------------------------------------------

core::Result<ModelVersion> RestRegistryStore::CreateModelVersion(
    std::string_view name, std::string_view source, std::string_view run_id,
    const std::vector<ModelVersionTag>& tags, std::string_view run_link,
    std::string_view description, std::string_view model_id) {
  Json body = {{"name", name}, {"source", source}};
  if (!run_id.empty()) body["run_id"] = run_id;
  if (!tags.empty()) body["tags"] = TagsJson(tags);
  if (!run_link.empty()) body["run_link"] = run_link;
  if (!description.empty()) body["description"] = description;
  if (!model_id.empty()) body["model_id"] = model_id;
  MLFORGE_ASSIGN_OR_RETURN(Json response, transport_->Post("model-versions/create", body));
  return ModelVersionField(response);
}

core::Result<ModelVersion> RestRegistryStore::GetModelVersion(std::string_view name,
                                                              int64_t version) {
  MLFORGE_ASSIGN_OR_RETURN(
      Json response, transport_->Get("model-versions/get", {{"name", std::string(name)},
                                                            {"version", std::to_string(version)}}));
  return ModelVersionField(response);
}

core::Result<ModelVersion> RestRegistryStore::UpdateModelVersion(std::string_view name,
                                                                 int64_t version,
                                                                 std::string_view description) {
  MLFORGE_ASSIGN_OR_RETURN(Json response, transport_->Send("PATCH", "model-versions/update",
                                                           {{"name", name},
                                                            {"version", std::to_string(version)},
                                                            {"description", description}}));
  return ModelVersionField(response);
}

core::Status RestRegistryStore::DeleteModelVersion(std::string_view name, int64_t version) {
  return transport_
      ->Send("DELETE", "model-versions/delete",
             {{"name", name}, {"version", std::to_string(version)}})
      .status();
}

core::Result<ModelVersion> RestRegistryStore::TransitionModelVersionStage(
    std::string_view name, int64_t version, std::string_view stage,
    bool archive_existing_versions) {
  MLFORGE_ASSIGN_OR_RETURN(
      Json response, transport_->Post("model-versions/transition-stage",
                                      {{"name", name},
                                       {"version", std::to_string(version)},
                                       {"stage", stage},
                                       {"archive_existing_versions", archive_existing_versions}}));
  return ModelVersionField(response);
}

core::Result<ModelVersionPage> RestRegistryStore::SearchModelVersions(
    std::string_view filter, int max_results, const std::vector<std::string>& order_by,
    std::string_view page_token) {
  MLFORGE_ASSIGN_OR_RETURN(Json response,
                           transport_->Get("model-versions/search",
                                           SearchQuery(filter, max_results, order_by, page_token)));
  ModelVersionPage page;
  MLFORGE_ASSIGN_OR_RETURN(page.model_versions, ModelVersionList(response));
  page.next_page_token = PageToken(response);
  return page;
}

core::Result<std::string> RestRegistryStore::GetModelVersionDownloadUri(std::string_view name,
                                                                        int64_t version) {
  MLFORGE_ASSIGN_OR_RETURN(Json response, transport_->Get("model-versions/get-download-uri",
                                                          {{"name", std::string(name)},
                                                           {"version", std::to_string(version)}}));
  auto found = response.find("artifact_uri");
  if (found == response.end() || !found->is_string()) {
    return core::InternalError("Model registry response has no 'artifact_uri': " +
                               DumpJson(response));
  }
  return found->get<std::string>();
}

core::Status RestRegistryStore::SetModelVersionTag(std::string_view name, int64_t version,
                                                   const ModelVersionTag& tag) {
  return transport_
      ->Post("model-versions/set-tag", {{"name", name},
                                        {"version", std::to_string(version)},
                                        {"key", tag.key},
                                        {"value", tag.value}})
      .status();
}

core::Status RestRegistryStore::DeleteModelVersionTag(std::string_view name, int64_t version,
                                                      std::string_view key) {
  return transport_
      ->Send("DELETE", "model-versions/delete-tag",
             {{"name", name}, {"version", std::to_string(version)}, {"key", key}})
      .status();
}

}  // namespace mlforge::registry::rest
