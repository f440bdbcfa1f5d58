#include "registry/rest/registry_json.h"

#include <string>
#include <utility>

#include "tracking/rest/json_fields.h"

namespace mlforge::registry::rest {

namespace {

using tracking::rest::KeyValueList;
using tracking::rest::ReadInt64Into;
using tracking::rest::ReadList;
using tracking::rest::ReadString;
using tracking::rest::RequireObject;
using tracking::rest::WrongType;

void PutIfNotEmpty(Json& object, const char* name, const std::string& value) {
  if (!value.empty()) object[name] = value;
}

template <typename Tag>
Json TagsToJson(const std::vector<Tag>& tags) {
  Json list = Json::array();
  for (const Tag& tag : tags) list.push_back({{"key", tag.key}, {"value", tag.value}});
  return list;
}

}  // namespace

Json ModelVersionToJson(const ModelVersion& model_version) {
  Json object = Json::object();
  object["name"] = model_version.name;
  object["version"] = std::to_string(model_version.version);
  object["creation_timestamp"] = model_version.creation_timestamp;
  object["last_updated_timestamp"] = model_version.last_updated_timestamp;
  PutIfNotEmpty(object, "user_id", model_version.user_id);
  object["current_stage"] = model_version.current_stage;
  PutIfNotEmpty(object, "description", model_version.description);
  PutIfNotEmpty(object, "source", model_version.source);
  PutIfNotEmpty(object, "run_id", model_version.run_id);
  object["status"] = std::string(ModelVersionStatusName(model_version.status));
  PutIfNotEmpty(object, "status_message", model_version.status_message);
  if (!model_version.tags.empty()) object["tags"] = TagsToJson(model_version.tags);
  PutIfNotEmpty(object, "run_link", model_version.run_link);
  PutIfNotEmpty(object, "model_id", model_version.model_id);
  if (!model_version.aliases.empty()) object["aliases"] = model_version.aliases;
  return object;
}

Json RegisteredModelToJson(const RegisteredModel& model) {
  Json object = Json::object();
  object["name"] = model.name;
  object["creation_timestamp"] = model.creation_timestamp;
  object["last_updated_timestamp"] = model.last_updated_timestamp;
  PutIfNotEmpty(object, "description", model.description);
  if (!model.latest_versions.empty()) {
    Json versions = Json::array();
    for (const ModelVersion& version : model.latest_versions) {
      versions.push_back(ModelVersionToJson(version));
    }
    object["latest_versions"] = std::move(versions);
  }
  if (!model.tags.empty()) object["tags"] = TagsToJson(model.tags);
  if (!model.aliases.empty()) {
    Json aliases = Json::array();
    for (const RegisteredModelAlias& alias : model.aliases) {
      aliases.push_back({{"alias", alias.alias}, {"version", std::to_string(alias.version)}});
    }
    object["aliases"] = std::move(aliases);
  }
  return object;
}

core::Result<ModelVersion> ModelVersionFromJson(const Json& json) {
  MLFORGE_RETURN_IF_ERROR(RequireObject(json, "a model version"));
  ModelVersion version;
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "name", version.name));
  MLFORGE_RETURN_IF_ERROR(ReadInt64Into(json, "version", version.version));
  MLFORGE_RETURN_IF_ERROR(ReadInt64Into(json, "creation_timestamp", version.creation_timestamp));
  MLFORGE_RETURN_IF_ERROR(
      ReadInt64Into(json, "last_updated_timestamp", version.last_updated_timestamp));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "user_id", version.user_id));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "current_stage", version.current_stage));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "description", version.description));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "source", version.source));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "run_id", version.run_id));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "run_link", version.run_link));
  std::string status;
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "status", status));
  if (!status.empty()) {
    MLFORGE_ASSIGN_OR_RETURN(version.status, ParseModelVersionStatus(status));
  }
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "status_message", version.status_message));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "model_id", version.model_id));
  MLFORGE_ASSIGN_OR_RETURN(version.tags, KeyValueList<ModelVersionTag>(json, "tags"));
  MLFORGE_ASSIGN_OR_RETURN(const Json* aliases, ReadList(json, "aliases"));
  for (const Json& alias : *aliases) {
    if (!alias.is_string()) return WrongType("aliases", "a list of strings", alias);
    version.aliases.push_back(alias.get<std::string>());
  }
  return version;
}

core::Result<RegisteredModel> RegisteredModelFromJson(const Json& json) {
  MLFORGE_RETURN_IF_ERROR(RequireObject(json, "a registered model"));
  RegisteredModel model;
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "name", model.name));
  MLFORGE_RETURN_IF_ERROR(ReadInt64Into(json, "creation_timestamp", model.creation_timestamp));
  MLFORGE_RETURN_IF_ERROR(
      ReadInt64Into(json, "last_updated_timestamp", model.last_updated_timestamp));
  MLFORGE_RETURN_IF_ERROR(ReadString(json, "description", model.description));
  MLFORGE_ASSIGN_OR_RETURN(const Json* latest, ReadList(json, "latest_versions"));
  for (const Json& entry : *latest) {
    MLFORGE_ASSIGN_OR_RETURN(ModelVersion version, ModelVersionFromJson(entry));
    model.latest_versions.push_back(std::move(version));
  }
  MLFORGE_ASSIGN_OR_RETURN(model.tags, KeyValueList<RegisteredModelTag>(json, "tags"));
  MLFORGE_ASSIGN_OR_RETURN(const Json* aliases, ReadList(json, "aliases"));
  for (const Json& entry : *aliases) {
    MLFORGE_RETURN_IF_ERROR(RequireObject(entry, "a registered model alias"));
    RegisteredModelAlias alias;
    MLFORGE_RETURN_IF_ERROR(ReadString(entry, "alias", alias.alias));
    MLFORGE_RETURN_IF_ERROR(ReadInt64Into(entry, "version", alias.version));
    model.aliases.push_back(std::move(alias));
  }
  return model;
}

}  // namespace mlforge::registry::rest
