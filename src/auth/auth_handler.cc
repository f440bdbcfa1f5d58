#include "auth/auth_handler.h"

#include <functional>
#include <string>

#include "auth/auth_gate.h"
#include "core/ids.h"
#include "tracking/rest/mlflow_json.h"
#include "tracking/rest/request_fields.h"

namespace mlforge::auth {
namespace {

using tracking::rest::Json;
using tracking::rest::MlflowErrorResponse;
using tracking::rest::RequestFields;

using Work = std::function<core::Result<Json>(const RequestFields&, const net::HttpRequest&)>;

// Reads the request's fields (query for GET, JSON body otherwise) and turns
// the work's result or error into MLflow's response shapes.
net::Handler Serve(Work work) {
  return [work = std::move(work)](const net::HttpRequest& request) {
    core::Result<RequestFields> fields =
        request.method == "GET"
            ? core::Result<RequestFields>(RequestFields::FromQuery(request.query))
            : RequestFields::FromJsonBody(request.Header("Content-Type"), request.body);
    if (!fields.ok()) return MlflowErrorResponse(fields.status());
    core::Result<Json> body = work(*fields, request);
    if (!body.ok()) return MlflowErrorResponse(body.status());
    return net::HttpResponse::Json(200, body->dump());
  };
}

Json UserJson(AuthStore& store, const User& user) {
  Json experiments = Json::array();
  if (auto grants = store.ExperimentPermissionsOf(user.id); grants.ok()) {
    for (const ExperimentPermission& grant : *grants) {
      experiments.push_back({{"experiment_id", grant.experiment_id},
                             {"user_id", grant.user_id},
                             {"permission", PermissionName(grant.permission)}});
    }
  }
  Json models = Json::array();
  if (auto grants = store.RegisteredModelPermissionsOf(user.id); grants.ok()) {
    for (const RegisteredModelPermission& grant : *grants) {
      models.push_back({{"name", grant.name},
                        {"user_id", grant.user_id},
                        {"permission", PermissionName(grant.permission)}});
    }
  }
  return Json{{"id", user.id},
              {"username", user.username},
              {"is_admin", user.is_admin},
              {"experiment_permissions", std::move(experiments)},
              {"registered_model_permissions", std::move(models)}};
}

core::Result<Permission> PermissionField(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("permission"));
  return ParsePermission(name);
}

// MLflow accepts is_admin as a bool or as "true"/"false" in any case.
core::Result<bool> IsAdminField(const RequestFields& fields) {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<bool> value, fields.OptionalBool("is_admin"));
  if (!value) return fields.MissingValue("is_admin");
  return *value;
}

}  // namespace

void AuthHandler::Register(net::Router& router) {
  AuthStore& store = store_;
  struct Route {
    const char* method;
    const char* path;
    Work work;
  };
  const Route routes[] = {
      {"POST", "users/create",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_ASSIGN_OR_RETURN(std::string password, f.RequiredString("password"));
         MLFORGE_ASSIGN_OR_RETURN(User user, store.CreateUser(username, password, false));
         return Json{{"user", UserJson(store, user)}};
       }},
      {"GET", "users/get",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_ASSIGN_OR_RETURN(User user, store.GetUser(username));
         return Json{{"user", UserJson(store, user)}};
       }},
      {"PATCH", "users/update-password",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_ASSIGN_OR_RETURN(std::string password, f.RequiredString("password"));
         MLFORGE_RETURN_IF_ERROR(store.UpdatePassword(username, password));
         return Json::object();
       }},
      {"PATCH", "users/update-admin",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_ASSIGN_OR_RETURN(bool is_admin, IsAdminField(f));
         MLFORGE_RETURN_IF_ERROR(store.UpdateAdmin(username, is_admin));
         return Json::object();
       }},
      {"DELETE", "users/delete",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_RETURN_IF_ERROR(store.DeleteUser(username));
         return Json::object();
       }},
      {"POST", "experiments/permissions/create",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, f.RequiredString("experiment_id"));
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_ASSIGN_OR_RETURN(Permission permission, PermissionField(f));
         MLFORGE_ASSIGN_OR_RETURN(ExperimentPermission grant,
                                  store.CreateExperimentPermission(experiment_id, username, permission));
         return Json{{"experiment_permission",
                      {{"experiment_id", grant.experiment_id},
                       {"user_id", grant.user_id},
                       {"permission", PermissionName(grant.permission)}}}};
       }},
      {"GET", "experiments/permissions/get",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, f.RequiredString("experiment_id"));
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_ASSIGN_OR_RETURN(ExperimentPermission grant,
                                  store.GetExperimentPermission(experiment_id, username));
         return Json{{"experiment_permission",
                      {{"experiment_id", grant.experiment_id},
                       {"user_id", grant.user_id},
                       {"permission", PermissionName(grant.permission)}}}};
       }},
      {"PATCH", "experiments/permissions/update",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, f.RequiredString("experiment_id"));
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_ASSIGN_OR_RETURN(Permission permission, PermissionField(f));
         MLFORGE_RETURN_IF_ERROR(store.UpdateExperimentPermission(experiment_id, username, permission));
         return Json::object();
       }},
      {"DELETE", "experiments/permissions/delete",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, f.RequiredString("experiment_id"));
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_RETURN_IF_ERROR(store.DeleteExperimentPermission(experiment_id, username));
         return Json::object();
       }},
      {"POST", "registered-models/permissions/create",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_ASSIGN_OR_RETURN(Permission permission, PermissionField(f));
         MLFORGE_ASSIGN_OR_RETURN(RegisteredModelPermission grant,
                                  store.CreateRegisteredModelPermission(name, username, permission));
         return Json{{"registered_model_permission",
                      {{"name", grant.name},
                       {"user_id", grant.user_id},
                       {"permission", PermissionName(grant.permission)}}}};
       }},
      {"GET", "registered-models/permissions/get",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_ASSIGN_OR_RETURN(RegisteredModelPermission grant,
                                  store.GetRegisteredModelPermission(name, username));
         return Json{{"registered_model_permission",
                      {{"name", grant.name},
                       {"user_id", grant.user_id},
                       {"permission", PermissionName(grant.permission)}}}};
       }},
      {"PATCH", "registered-models/permissions/update",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_ASSIGN_OR_RETURN(Permission permission, PermissionField(f));
         MLFORGE_RETURN_IF_ERROR(store.UpdateRegisteredModelPermission(name, username, permission));
         return Json::object();
       }},
      {"DELETE", "registered-models/permissions/delete",
       [&store](const RequestFields& f, const net::HttpRequest&) -> core::Result<Json> {
         MLFORGE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
         MLFORGE_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
         MLFORGE_RETURN_IF_ERROR(store.DeleteRegisteredModelPermission(name, username));
         return Json::object();
       }},
  };
  for (const char* prefix : {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"}) {
    for (const Route& route : routes) {
      router.Add(route.method, std::string(prefix) + route.path, Serve(route.work));
    }
  }
  Work create_token = [&store](const RequestFields& f,
                               const net::HttpRequest& request) -> core::Result<Json> {
    MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> username, f.OptionalString("username"));
    if (!username) username = request.Header(kAuthenticatedUserHeader);
    if (!username) return f.MissingValue("username");
    MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> name, f.OptionalString("name"));
    MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> ttl, f.OptionalInt64("expires_in_seconds"));
    std::optional<int64_t> expires_at;
    if (ttl) {
      if (*ttl <= 0) {
        return f.InvalidValue("expires_in_seconds", Json(*ttl), "must be a positive number");
      }
      expires_at = static_cast<int64_t>(core::NowMillis()) + *ttl * 1000;
    }
    MLFORGE_ASSIGN_OR_RETURN(std::string token,
                             store.CreateToken(*username, name.value_or(""), expires_at));
    Json body{{"token", token}, {"username", *username}};
    if (expires_at) body["expires_at"] = *expires_at;
    return body;
  };
  router.Post("/api/2.0/mlforge/tokens/create", Serve(create_token));
  router.Post("/ajax-api/2.0/mlforge/tokens/create", Serve(create_token));
}

}  // namespace mlforge::auth
