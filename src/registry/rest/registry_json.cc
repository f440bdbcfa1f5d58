#include "registry/rest/registry_json.h"

#include <string>

namespace mlforge::registry::rest {

namespace {

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

}  // namespace mlforge::registry::rest
