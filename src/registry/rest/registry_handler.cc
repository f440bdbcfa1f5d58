#include "registry/rest/registry_handler.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "registry/rest/registry_json.h"
#include "registry/validation.h"
#include "tracking/rest/mlflow_json.h"
#include "tracking/rest/request_fields.h"

namespace mlforge::registry::rest {

namespace {

using tracking::rest::MlflowErrorResponse;
using tracking::rest::MlflowJsonResponse;
using tracking::rest::RequestFields;

constexpr std::array<std::string_view, 2> kPrefixes = {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"};

// Query parameters that are repeated fields of the registry's requests.
bool IsRepeatedQueryField(std::string_view name) { return name == "order_by" || name == "stages"; }

// The request's fields: the query string for GET, the JSON body otherwise.
// MLflow checks the Content-Type of POST and PATCH bodies only, so a DELETE
// without one is read as JSON.
core::Result<RequestFields> ReadFields(const net::HttpRequest& request) {
  if (request.method == "GET" || request.method == "HEAD") {
    Json object = Json::object();
    for (const auto& [raw_name, value] : request.query) {
      // The web UI's array form: "order_by[]" or "order_by[0]".
      std::string name = raw_name;
      if (size_t bracket = name.find('['); bracket != std::string::npos && name.ends_with("]")) {
        name.resize(bracket);
      }
      if (IsRepeatedQueryField(name)) {
        Json& list = object[name];
        if (!list.is_array()) list = Json::array();
        list.push_back(value);
      } else if (!object.contains(name)) {
        object[name] = value;
      }
    }
    return RequestFields(std::move(object), "");
  }
  std::optional<std::string> content_type = request.Header("Content-Type");
  if (request.method == "DELETE" && !content_type) content_type = "application/json";
  return RequestFields::FromJsonBody(content_type, request.body);
}

// A version number given as a string (as the proto has it) or, leniently,
// as a JSON integer.
core::Result<int64_t> RequiredVersion(const RequestFields& fields) {
  core::Result<std::optional<std::string>> text = fields.OptionalString("version");
  if (text.ok()) {
    if (!text->has_value() || (*text)->empty()) return fields.MissingValue("version");
    return ParseModelVersionNumber(**text);
  }
  MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> number, fields.OptionalInt64("version"));
  if (!number) return fields.MissingValue("version");
  return *number;
}

core::Result<std::string> OptionalStringOrEmpty(const RequestFields& fields,
                                                std::string_view name) {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> value, fields.OptionalString(name));
  return value.value_or("");
}

// max_results with the proto's default, clamped into int so the store's
// range check words the error.
core::Result<int> MaxResults(const RequestFields& fields, int default_value) {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> value, fields.OptionalInt64("max_results"));
  if (!value) return default_value;
  return static_cast<int>(std::clamp<int64_t>(*value, INT_MIN, INT_MAX));
}

// A bool field of a JSON body (RequestFields has no bool reader): JSON
// true/false or the strings "true"/"false"; absent is `default_value`.
core::Result<bool> BodyBool(const net::HttpRequest& request, std::string_view name,
                            bool default_value) {
  Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_string()) {
    body = Json::parse(body.get<std::string>(), nullptr, /*allow_exceptions=*/false);
  }
  if (!body.is_object()) return default_value;
  auto found = body.find(name);
  if (found == body.end() || found->is_null()) return default_value;
  if (found->is_boolean()) return found->get<bool>();
  if (found->is_string()) {
    std::string text = found->get<std::string>();
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return core::InvalidArgumentError("Invalid value " + tracking::rest::DumpJson(*found) +
                                    " for parameter '" + std::string(name) +
                                    "' supplied: Hint: Value was of type '" + found->type_name() +
                                    "'. See the API docs for more information about request "
                                    "parameters.");
}

template <typename Tag>
core::Result<std::vector<Tag>> ReadTags(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::vector<RequestFields> objects, fields.ObjectList("tags"));
  std::vector<Tag> tags;
  for (const RequestFields& object : objects) {
    Tag tag;
    MLFORGE_ASSIGN_OR_RETURN(tag.key, object.RequiredString("key"));
    MLFORGE_ASSIGN_OR_RETURN(tag.value, OptionalStringOrEmpty(object, "value"));
    tags.push_back(std::move(tag));
  }
  return tags;
}

// Runs one route: a body that returns the response JSON, or an error that
// MlflowErrorResponse writes.
net::HttpResponse Respond(const std::function<core::Result<Json>()>& body) {
  core::Result<Json> result = body();
  if (!result.ok()) return MlflowErrorResponse(result.status());
  return MlflowJsonResponse(*result);
}

Json ModelVersionListToJson(const std::vector<ModelVersion>& versions) {
  Json list = Json::array();
  for (const ModelVersion& version : versions) list.push_back(ModelVersionToJson(version));
  return list;
}

}  // namespace

void MlflowRegistryHandler::Register(net::Router& router) {
  using Method = net::HttpResponse (MlflowRegistryHandler::*)(const net::HttpRequest&);
  struct Route {
    std::string_view method;
    std::string_view path;
    Method handler;
  };
  const Route routes[] = {
      {"POST", "registered-models/create", &MlflowRegistryHandler::CreateRegisteredModel},
      {"GET", "registered-models/get", &MlflowRegistryHandler::GetRegisteredModel},
      {"POST", "registered-models/rename", &MlflowRegistryHandler::RenameRegisteredModel},
      {"PATCH", "registered-models/update", &MlflowRegistryHandler::UpdateRegisteredModel},
      {"DELETE", "registered-models/delete", &MlflowRegistryHandler::DeleteRegisteredModel},
      {"GET", "registered-models/search", &MlflowRegistryHandler::SearchRegisteredModels},
      {"POST", "registered-models/get-latest-versions", &MlflowRegistryHandler::GetLatestVersions},
      {"GET", "registered-models/get-latest-versions", &MlflowRegistryHandler::GetLatestVersions},
      {"POST", "registered-models/set-tag", &MlflowRegistryHandler::SetRegisteredModelTag},
      {"DELETE", "registered-models/delete-tag", &MlflowRegistryHandler::DeleteRegisteredModelTag},
      {"POST", "registered-models/alias", &MlflowRegistryHandler::SetRegisteredModelAlias},
      {"DELETE", "registered-models/alias", &MlflowRegistryHandler::DeleteRegisteredModelAlias},
      {"GET", "registered-models/alias", &MlflowRegistryHandler::GetModelVersionByAlias},
      {"POST", "model-versions/create", &MlflowRegistryHandler::CreateModelVersion},
      {"GET", "model-versions/get", &MlflowRegistryHandler::GetModelVersion},
      {"PATCH", "model-versions/update", &MlflowRegistryHandler::UpdateModelVersion},
      {"DELETE", "model-versions/delete", &MlflowRegistryHandler::DeleteModelVersion},
      {"GET", "model-versions/search", &MlflowRegistryHandler::SearchModelVersions},
      {"GET", "model-versions/get-download-uri",
       &MlflowRegistryHandler::GetModelVersionDownloadUri},
      {"POST", "model-versions/transition-stage",
       &MlflowRegistryHandler::TransitionModelVersionStage},
      {"POST", "model-versions/set-tag", &MlflowRegistryHandler::SetModelVersionTag},
      {"DELETE", "model-versions/delete-tag", &MlflowRegistryHandler::DeleteModelVersionTag},
  };
  for (std::string_view prefix : kPrefixes) {
    for (const Route& route : routes) {
      Method handler = route.handler;
      router.Add(
          route.method, std::string(prefix) + std::string(route.path),
          [this, handler](const net::HttpRequest& request) { return (this->*handler)(request); });
    }
  }
}

// ---- registered models -----------------------------------------------------------

net::HttpResponse MlflowRegistryHandler::CreateRegisteredModel(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(auto tags, ReadTags<RegisteredModelTag>(fields));
    MLFORGE_ASSIGN_OR_RETURN(std::string description, OptionalStringOrEmpty(fields, "description"));
    MLFORGE_ASSIGN_OR_RETURN(RegisteredModel model,
                             store_.CreateRegisteredModel(name, tags, description));
    return Json{{"registered_model", RegisteredModelToJson(model)}};
  });
}

net::HttpResponse MlflowRegistryHandler::GetRegisteredModel(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(RegisteredModel model, store_.GetRegisteredModel(name));
    return Json{{"registered_model", RegisteredModelToJson(model)}};
  });
}

net::HttpResponse MlflowRegistryHandler::RenameRegisteredModel(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(std::string new_name, fields.RequiredString("new_name"));
    MLFORGE_ASSIGN_OR_RETURN(RegisteredModel model, store_.RenameRegisteredModel(name, new_name));
    return Json{{"registered_model", RegisteredModelToJson(model)}};
  });
}

net::HttpResponse MlflowRegistryHandler::UpdateRegisteredModel(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(std::string description, OptionalStringOrEmpty(fields, "description"));
    MLFORGE_ASSIGN_OR_RETURN(RegisteredModel model,
                             store_.UpdateRegisteredModel(name, description));
    return Json{{"registered_model", RegisteredModelToJson(model)}};
  });
}

net::HttpResponse MlflowRegistryHandler::DeleteRegisteredModel(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_RETURN_IF_ERROR(store_.DeleteRegisteredModel(name));
    return Json::object();
  });
}

net::HttpResponse MlflowRegistryHandler::SearchRegisteredModels(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string filter, OptionalStringOrEmpty(fields, "filter"));
    MLFORGE_ASSIGN_OR_RETURN(int max_results, MaxResults(fields, kSearchRegisteredModelsDefault));
    MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> order_by, fields.StringList("order_by"));
    MLFORGE_ASSIGN_OR_RETURN(std::string page_token, OptionalStringOrEmpty(fields, "page_token"));
    MLFORGE_ASSIGN_OR_RETURN(
        RegisteredModelPage page,
        store_.SearchRegisteredModels(filter, max_results, order_by, page_token));
    Json response = Json::object();
    if (!page.registered_models.empty()) {
      Json models = Json::array();
      for (const RegisteredModel& model : page.registered_models) {
        models.push_back(RegisteredModelToJson(model));
      }
      response["registered_models"] = std::move(models);
    }
    if (!page.next_page_token.empty()) response["next_page_token"] = page.next_page_token;
    return response;
  });
}

net::HttpResponse MlflowRegistryHandler::GetLatestVersions(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> stages, fields.StringList("stages"));
    MLFORGE_ASSIGN_OR_RETURN(std::vector<ModelVersion> versions,
                             store_.GetLatestVersions(name, stages));
    Json response = Json::object();
    if (!versions.empty()) response["model_versions"] = ModelVersionListToJson(versions);
    return response;
  });
}

net::HttpResponse MlflowRegistryHandler::SetRegisteredModelTag(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    RegisteredModelTag tag;
    MLFORGE_ASSIGN_OR_RETURN(tag.key, fields.RequiredString("key"));
    MLFORGE_ASSIGN_OR_RETURN(tag.value, OptionalStringOrEmpty(fields, "value"));
    MLFORGE_RETURN_IF_ERROR(store_.SetRegisteredModelTag(name, tag));
    return Json::object();
  });
}

net::HttpResponse MlflowRegistryHandler::DeleteRegisteredModelTag(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(std::string key, fields.RequiredString("key"));
    MLFORGE_RETURN_IF_ERROR(store_.DeleteRegisteredModelTag(name, key));
    return Json::object();
  });
}

// ---- aliases ---------------------------------------------------------------------

net::HttpResponse MlflowRegistryHandler::SetRegisteredModelAlias(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(std::string alias, fields.RequiredString("alias"));
    MLFORGE_ASSIGN_OR_RETURN(int64_t version, RequiredVersion(fields));
    MLFORGE_RETURN_IF_ERROR(store_.SetRegisteredModelAlias(name, alias, version));
    return Json::object();
  });
}

net::HttpResponse MlflowRegistryHandler::DeleteRegisteredModelAlias(
    const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(std::string alias, fields.RequiredString("alias"));
    MLFORGE_RETURN_IF_ERROR(store_.DeleteRegisteredModelAlias(name, alias));
    return Json::object();
  });
}

net::HttpResponse MlflowRegistryHandler::GetModelVersionByAlias(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(std::string alias, fields.RequiredString("alias"));
    MLFORGE_ASSIGN_OR_RETURN(ModelVersion version, store_.GetModelVersionByAlias(name, alias));
    return Json{{"model_version", ModelVersionToJson(version)}};
  });
}

// ---- model versions ------------------------------------------------------------

net::HttpResponse MlflowRegistryHandler::CreateModelVersion(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(std::string source, fields.RequiredString("source"));
    MLFORGE_ASSIGN_OR_RETURN(std::string run_id, OptionalStringOrEmpty(fields, "run_id"));
    MLFORGE_ASSIGN_OR_RETURN(auto tags, ReadTags<ModelVersionTag>(fields));
    MLFORGE_ASSIGN_OR_RETURN(std::string run_link, OptionalStringOrEmpty(fields, "run_link"));
    MLFORGE_ASSIGN_OR_RETURN(std::string description, OptionalStringOrEmpty(fields, "description"));
    MLFORGE_ASSIGN_OR_RETURN(std::string model_id, OptionalStringOrEmpty(fields, "model_id"));
    MLFORGE_RETURN_IF_ERROR(ValidateModelVersionSource(source));
    if (!model_id.empty() && logged_models_ != nullptr) {
      MLFORGE_ASSIGN_OR_RETURN(tracking::LoggedModel logged_model,
                               logged_models_->GetLoggedModel(model_id));
      if (run_id.empty()) run_id = logged_model.source_run_id;
    }
    MLFORGE_ASSIGN_OR_RETURN(
        ModelVersion version,
        store_.CreateModelVersion(name, source, run_id, tags, run_link, description, model_id));
    return Json{{"model_version", ModelVersionToJson(version)}};
  });
}

net::HttpResponse MlflowRegistryHandler::GetModelVersion(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(int64_t number, RequiredVersion(fields));
    MLFORGE_ASSIGN_OR_RETURN(ModelVersion version, store_.GetModelVersion(name, number));
    return Json{{"model_version", ModelVersionToJson(version)}};
  });
}

net::HttpResponse MlflowRegistryHandler::UpdateModelVersion(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(int64_t number, RequiredVersion(fields));
    MLFORGE_ASSIGN_OR_RETURN(std::string description, OptionalStringOrEmpty(fields, "description"));
    MLFORGE_ASSIGN_OR_RETURN(ModelVersion version,
                             store_.UpdateModelVersion(name, number, description));
    return Json{{"model_version", ModelVersionToJson(version)}};
  });
}

net::HttpResponse MlflowRegistryHandler::DeleteModelVersion(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(int64_t number, RequiredVersion(fields));
    MLFORGE_RETURN_IF_ERROR(store_.DeleteModelVersion(name, number));
    return Json::object();
  });
}

net::HttpResponse MlflowRegistryHandler::SearchModelVersions(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string filter, OptionalStringOrEmpty(fields, "filter"));
    MLFORGE_ASSIGN_OR_RETURN(int max_results, MaxResults(fields, kSearchModelVersionsDefault));
    MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> order_by, fields.StringList("order_by"));
    MLFORGE_ASSIGN_OR_RETURN(std::string page_token, OptionalStringOrEmpty(fields, "page_token"));
    MLFORGE_ASSIGN_OR_RETURN(ModelVersionPage page,
                             store_.SearchModelVersions(filter, max_results, order_by, page_token));
    Json response = Json::object();
    if (!page.model_versions.empty()) {
      response["model_versions"] = ModelVersionListToJson(page.model_versions);
    }
    if (!page.next_page_token.empty()) response["next_page_token"] = page.next_page_token;
    return response;
  });
}

net::HttpResponse MlflowRegistryHandler::GetModelVersionDownloadUri(
    const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(int64_t number, RequiredVersion(fields));
    MLFORGE_ASSIGN_OR_RETURN(std::string uri, store_.GetModelVersionDownloadUri(name, number));
    if (logged_models_ != nullptr && uri.starts_with("models:/")) {
      MLFORGE_ASSIGN_OR_RETURN(ModelVersion version, store_.GetModelVersion(name, number));
      if (!version.model_id.empty()) {
        MLFORGE_ASSIGN_OR_RETURN(tracking::LoggedModel logged_model,
                                 logged_models_->GetLoggedModel(version.model_id));
        uri = logged_model.artifact_uri;
      }
    }
    return Json{{"artifact_uri", uri}};
  });
}

net::HttpResponse MlflowRegistryHandler::TransitionModelVersionStage(
    const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(int64_t number, RequiredVersion(fields));
    MLFORGE_ASSIGN_OR_RETURN(std::string stage, fields.RequiredString("stage"));
    MLFORGE_ASSIGN_OR_RETURN(bool archive, BodyBool(request, "archive_existing_versions", false));
    MLFORGE_ASSIGN_OR_RETURN(ModelVersion version,
                             store_.TransitionModelVersionStage(name, number, stage, archive));
    return Json{{"model_version", ModelVersionToJson(version)}};
  });
}

net::HttpResponse MlflowRegistryHandler::SetModelVersionTag(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(int64_t number, RequiredVersion(fields));
    ModelVersionTag tag;
    MLFORGE_ASSIGN_OR_RETURN(tag.key, fields.RequiredString("key"));
    MLFORGE_ASSIGN_OR_RETURN(tag.value, OptionalStringOrEmpty(fields, "value"));
    MLFORGE_RETURN_IF_ERROR(store_.SetModelVersionTag(name, number, tag));
    return Json::object();
  });
}

net::HttpResponse MlflowRegistryHandler::DeleteModelVersionTag(const net::HttpRequest& request) {
  return Respond([&]() -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, ReadFields(request));
    MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
    MLFORGE_ASSIGN_OR_RETURN(int64_t number, RequiredVersion(fields));
    MLFORGE_ASSIGN_OR_RETURN(std::string key, fields.RequiredString("key"));
    MLFORGE_RETURN_IF_ERROR(store_.DeleteModelVersionTag(name, number, key));
    return Json::object();
  });
}

}  // namespace mlforge::registry::rest
