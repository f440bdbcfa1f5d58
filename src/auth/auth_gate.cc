#include "auth/auth_gate.h"

#include <array>
#include <string_view>
#include <vector>

#include "core/base64.h"
#include "tracking/rest/mlflow_json.h"
#include "tracking/rest/request_fields.h"

namespace mlforge::auth {
namespace {

using tracking::rest::Json;
using tracking::rest::MlflowErrorCode;
using tracking::rest::MlflowErrorResponse;
using tracking::rest::RequestFields;

constexpr std::string_view kUserHeader = kAuthenticatedUserHeader;

}  // namespace

// What a request touches and what it needs there.
enum class Resource {
  kAnyUser,         // any authenticated user
  kAdmin,           // admins only
  kSelf,            // the user named by `username`, or an admin
  kExperimentId,    // experiment_id
  kExperimentName,  // experiment_name
  kExperimentIds,   // every id in experiment_ids
  kRunId,           // the experiment of run_id (or run_uuid)
  kRunIds,          // the experiments of every run in run_ids
  kLoggedModel,     // the experiment of the logged model in the path
  kArtifactPath,    // the experiment named by an artifact path's first segment
  kModelName,       // the registered model `name`
};

enum class After {
  kNothing,
  kGrantExperiment,  // the creator manages the new experiment
  kGrantModel,       // the creator manages the new registered model
  kRenameModel,      // grants follow the new name
  kDeleteModel,      // grants go with the model
  kFilterExperiments,
  kFilterModels,
  kFilterVersions,
};

struct AuthGate::Rule {
  std::string_view method;
  std::string_view endpoint;  // the route without its API prefix
  Resource resource;
  Action action;
  After after = After::kNothing;
};

namespace {

using R = Resource;
using A = Action;

constexpr AuthGate::Rule kRules[] = {
    // experiments
    {"POST", "experiments/create", R::kAnyUser, A::kRead, After::kGrantExperiment},
    {"GET", "experiments/get", R::kExperimentId, A::kRead},
    {"GET", "experiments/get-by-name", R::kExperimentName, A::kRead},
    {"GET", "experiments/search", R::kAnyUser, A::kRead, After::kFilterExperiments},
    {"POST", "experiments/search", R::kAnyUser, A::kRead, After::kFilterExperiments},
    {"POST", "experiments/update", R::kExperimentId, A::kUpdate},
    {"POST", "experiments/delete", R::kExperimentId, A::kDelete},
    {"POST", "experiments/restore", R::kExperimentId, A::kDelete},
    {"POST", "experiments/set-experiment-tag", R::kExperimentId, A::kUpdate},
    {"POST", "experiments/delete-experiment-tag", R::kExperimentId, A::kUpdate},
    // runs
    {"POST", "runs/create", R::kExperimentId, A::kUpdate},
    {"GET", "runs/get", R::kRunId, A::kRead},
    {"POST", "runs/update", R::kRunId, A::kUpdate},
    {"POST", "runs/delete", R::kRunId, A::kDelete},
    {"POST", "runs/restore", R::kRunId, A::kDelete},
    {"POST", "runs/search", R::kExperimentIds, A::kRead},
    {"POST", "runs/log-metric", R::kRunId, A::kUpdate},
    {"POST", "runs/log-parameter", R::kRunId, A::kUpdate},
    {"POST", "runs/set-tag", R::kRunId, A::kUpdate},
    {"POST", "runs/delete-tag", R::kRunId, A::kUpdate},
    {"POST", "runs/log-batch", R::kRunId, A::kUpdate},
    {"POST", "runs/log-inputs", R::kRunId, A::kUpdate},
    {"POST", "runs/outputs", R::kRunId, A::kUpdate},
    {"GET", "metrics/get-history", R::kRunId, A::kRead},
    {"GET", "metrics/get-history-bulk-interval", R::kRunIds, A::kRead},
    // logged models (MLflow 3)
    {"POST", "logged-models", R::kExperimentId, A::kUpdate},
    {"POST", "logged-models/search", R::kExperimentIds, A::kRead},
    {"GET", "logged-models/{model_id}", R::kLoggedModel, A::kRead},
    {"PATCH", "logged-models/{model_id}", R::kLoggedModel, A::kUpdate},
    {"DELETE", "logged-models/{model_id}", R::kLoggedModel, A::kDelete},
    {"PATCH", "logged-models/{model_id}/tags", R::kLoggedModel, A::kUpdate},
    {"DELETE", "logged-models/{model_id}/tags/{tag_key}", R::kLoggedModel, A::kUpdate},
    {"POST", "logged-models/{model_id}/params", R::kLoggedModel, A::kUpdate},
    // the artifact proxy
    {"GET", "artifacts", R::kArtifactPath, A::kRead},
    {"GET", "artifacts/*", R::kArtifactPath, A::kRead},
    {"PUT", "artifacts/*", R::kArtifactPath, A::kUpdate},
    {"DELETE", "artifacts/*", R::kArtifactPath, A::kDelete},
    {"POST", "mpu/create/*", R::kArtifactPath, A::kUpdate},
    {"POST", "mpu/complete/*", R::kArtifactPath, A::kUpdate},
    {"POST", "mpu/abort/*", R::kArtifactPath, A::kUpdate},
    // the model registry
    {"POST", "registered-models/create", R::kAnyUser, A::kRead, After::kGrantModel},
    {"GET", "registered-models/get", R::kModelName, A::kRead},
    {"POST", "registered-models/rename", R::kModelName, A::kUpdate, After::kRenameModel},
    {"PATCH", "registered-models/update", R::kModelName, A::kUpdate},
    {"DELETE", "registered-models/delete", R::kModelName, A::kDelete, After::kDeleteModel},
    {"GET", "registered-models/search", R::kAnyUser, A::kRead, After::kFilterModels},
    {"GET", "registered-models/get-latest-versions", R::kModelName, A::kRead},
    {"POST", "registered-models/get-latest-versions", R::kModelName, A::kRead},
    {"POST", "registered-models/set-tag", R::kModelName, A::kUpdate},
    {"DELETE", "registered-models/delete-tag", R::kModelName, A::kUpdate},
    {"POST", "registered-models/alias", R::kModelName, A::kUpdate},
    {"DELETE", "registered-models/alias", R::kModelName, A::kDelete},
    {"GET", "registered-models/alias", R::kModelName, A::kRead},
    {"POST", "model-versions/create", R::kModelName, A::kUpdate},
    {"GET", "model-versions/get", R::kModelName, A::kRead},
    {"PATCH", "model-versions/update", R::kModelName, A::kUpdate},
    {"DELETE", "model-versions/delete", R::kModelName, A::kDelete},
    {"GET", "model-versions/search", R::kAnyUser, A::kRead, After::kFilterVersions},
    {"GET", "model-versions/get-download-uri", R::kModelName, A::kRead},
    {"POST", "model-versions/transition-stage", R::kModelName, A::kUpdate},
    {"POST", "model-versions/set-tag", R::kModelName, A::kUpdate},
    {"DELETE", "model-versions/delete-tag", R::kModelName, A::kDelete},
    // users and permissions
    {"POST", "users/create", R::kAdmin, A::kManage},
    {"GET", "users/get", R::kSelf, A::kRead},
    {"PATCH", "users/update-password", R::kSelf, A::kUpdate},
    {"PATCH", "users/update-admin", R::kAdmin, A::kManage},
    {"DELETE", "users/delete", R::kAdmin, A::kManage},
    {"POST", "experiments/permissions/create", R::kExperimentId, A::kManage},
    {"GET", "experiments/permissions/get", R::kExperimentId, A::kManage},
    {"PATCH", "experiments/permissions/update", R::kExperimentId, A::kManage},
    {"DELETE", "experiments/permissions/delete", R::kExperimentId, A::kManage},
    {"POST", "registered-models/permissions/create", R::kModelName, A::kManage},
    {"GET", "registered-models/permissions/get", R::kModelName, A::kManage},
    {"PATCH", "registered-models/permissions/update", R::kModelName, A::kManage},
    {"DELETE", "registered-models/permissions/delete", R::kModelName, A::kManage},
    {"POST", "tokens/create", R::kSelf, A::kUpdate},
};

// The route with its API prefix taken off ("runs/get", "artifacts/*").
std::string_view Endpoint(std::string_view route) {
  for (std::string_view prefix :
       {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/", "/api/2.0/mlflow-artifacts/",
        "/ajax-api/2.0/mlflow-artifacts/", "/api/2.0/mlforge/", "/ajax-api/2.0/mlforge/"}) {
    if (route.substr(0, prefix.size()) == prefix) return route.substr(prefix.size());
  }
  return route;
}

const AuthGate::Rule* FindRule(std::string_view method, std::string_view route) {
  std::string_view endpoint = Endpoint(route);
  for (const AuthGate::Rule& rule : kRules) {
    if (rule.method == method && rule.endpoint == endpoint) return &rule;
  }
  return nullptr;
}

bool Unprotected(const net::HttpRequest& request) {
  return request.route == "/health" || request.route == "/version" || request.route == "/ping";
}

net::HttpResponse Unauthenticated(std::string_view message) {
  net::HttpResponse response = MlflowErrorResponse(
      MlflowErrorCode::kUnauthenticated,
      std::string(message) +
          ". Send HTTP basic credentials (MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD "
          "for MLflow clients) or a bearer token (MLFLOW_TRACKING_TOKEN).");
  response.SetHeader("WWW-Authenticate", "Basic realm=\"mlflow\"");
  return response;
}

core::Result<RequestFields> Fields(const net::HttpRequest& request) {
  if (request.method == "GET") return RequestFields::FromQuery(request.query);
  return RequestFields::FromJsonBody(request.Header("Content-Type"), request.body);
}

// The first segment of an artifact path ("1/abc/artifacts/x" gives "1").
std::string FirstSegment(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return std::string(path.substr(0, path.find('/')));
}

// Keeps the elements of body[field] for which `keep` says yes.
template <typename Keep>
void FilterArray(net::HttpResponse& response, const char* field, Keep keep) {
  Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains(field) || !body[field].is_array()) return;
  Json kept = Json::array();
  for (Json& element : body[field]) {
    if (keep(element)) kept.push_back(std::move(element));
  }
  body[field] = std::move(kept);
  response.body = body.dump();
}

}  // namespace

AuthGate::AuthGate(AuthStore& users, tracking::Store& tracking, Options options)
    : users_(users), tracking_(tracking), options_(options) {}

core::Result<User> AuthGate::Authenticate(const net::HttpRequest& request) const {
  std::optional<std::string> header = request.Header("Authorization");
  if (!header) return core::UnauthenticatedError("You are not authenticated");
  std::string_view value = *header;
  auto starts = [&value](std::string_view scheme) {
    return value.size() > scheme.size() && net::EqualsIgnoreCase(value.substr(0, scheme.size()), scheme);
  };
  if (starts("Bearer ")) return users_.AuthenticateToken(value.substr(7));
  if (starts("Basic ")) {
    std::optional<std::string> decoded = core::Base64Decode(value.substr(6));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return core::UnauthenticatedError("Malformed basic credentials");
    }
    return users_.Authenticate(std::string_view(*decoded).substr(0, colon),
                               std::string_view(*decoded).substr(colon + 1));
  }
  return core::UnauthenticatedError("Unsupported Authorization scheme (use Basic or Bearer)");
}

core::Result<Permission> AuthGate::OnExperiment(const User& user,
                                                const std::string& experiment_id) const {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<Permission> granted,
                           users_.ExperimentPermissionOf(user.id, experiment_id));
  return granted.value_or(options_.default_permission);
}

core::Result<Permission> AuthGate::OnModel(const User& user, const std::string& name) const {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<Permission> granted,
                           users_.RegisteredModelPermissionOf(user.id, name));
  return granted.value_or(options_.default_permission);
}

core::Result<bool> AuthGate::Allowed(const User& user, const Rule& rule,
                                     const net::HttpRequest& request) const {
  if (user.is_admin || rule.resource == Resource::kAnyUser) return true;
  if (rule.resource == Resource::kAdmin) return false;
  auto experiment_allows = [&](const std::string& experiment_id) -> core::Result<bool> {
    MLFORGE_ASSIGN_OR_RETURN(Permission permission, OnExperiment(user, experiment_id));
    return Allows(permission, rule.action);
  };
  switch (rule.resource) {
    case Resource::kLoggedModel: {
      MLFORGE_ASSIGN_OR_RETURN(tracking::LoggedModel model,
                               tracking_.GetLoggedModel(request.PathParam("model_id")));
      return experiment_allows(model.experiment_id);
    }
    case Resource::kArtifactPath: {
      std::string experiment_id = FirstSegment(
          request.route.ends_with("/*") ? request.PathParam("*") : request.Query("path").value_or(""));
      if (experiment_id.empty()) return false;  // the root lists every experiment
      return experiment_allows(experiment_id);
    }
    default:
      break;
  }
  MLFORGE_ASSIGN_OR_RETURN(RequestFields fields, Fields(request));
  switch (rule.resource) {
    case Resource::kSelf: {
      MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> username,
                               fields.OptionalString("username"));
      return !username || *username == user.username;
    }
    case Resource::kExperimentId: {
      MLFORGE_ASSIGN_OR_RETURN(std::string experiment_id, fields.RequiredString("experiment_id"));
      return experiment_allows(experiment_id);
    }
    case Resource::kExperimentName: {
      MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("experiment_name"));
      MLFORGE_ASSIGN_OR_RETURN(tracking::Experiment experiment, tracking_.GetExperimentByName(name));
      return experiment_allows(experiment.experiment_id);
    }
    case Resource::kExperimentIds: {
      MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> ids, fields.StringList("experiment_ids"));
      for (const std::string& id : ids) {
        MLFORGE_ASSIGN_OR_RETURN(bool allowed, experiment_allows(id));
        if (!allowed) return false;
      }
      return true;
    }
    case Resource::kRunId: {
      MLFORGE_ASSIGN_OR_RETURN(std::string run_id, fields.RunId());
      MLFORGE_ASSIGN_OR_RETURN(tracking::Run run, tracking_.GetRun(run_id));
      return experiment_allows(run.info.experiment_id);
    }
    case Resource::kRunIds: {
      MLFORGE_ASSIGN_OR_RETURN(std::vector<std::string> ids, fields.StringList("run_ids"));
      for (const std::string& id : ids) {
        MLFORGE_ASSIGN_OR_RETURN(tracking::Run run, tracking_.GetRun(id));
        MLFORGE_ASSIGN_OR_RETURN(bool allowed, experiment_allows(run.info.experiment_id));
        if (!allowed) return false;
      }
      return true;
    }
    case Resource::kModelName: {
      MLFORGE_ASSIGN_OR_RETURN(std::string name, fields.RequiredString("name"));
      MLFORGE_ASSIGN_OR_RETURN(Permission permission, OnModel(user, name));
      return Allows(permission, rule.action);
    }
    default:
      return false;
  }
}

void AuthGate::AfterSuccess(const User& user, const Rule& rule, const net::HttpRequest& request,
                            net::HttpResponse& response) const {
  if (rule.after == After::kNothing) return;
  auto readable_experiment = [&](const Json& element) {
    if (user.is_admin) return true;
    core::Result<Permission> permission = OnExperiment(user, element.value("experiment_id", ""));
    return permission.ok() && Allows(*permission, Action::kRead);
  };
  auto readable_model = [&](const Json& element) {
    if (user.is_admin) return true;
    core::Result<Permission> permission = OnModel(user, element.value("name", ""));
    return permission.ok() && Allows(*permission, Action::kRead);
  };
  Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  core::Result<RequestFields> fields = Fields(request);
  switch (rule.after) {
    case After::kNothing:
      return;
    case After::kGrantExperiment:
      if (body.is_object() && body.contains("experiment_id")) {
        (void)users_.CreateExperimentPermission(body["experiment_id"].get<std::string>(),
                                                user.username, Permission::kManage);
      }
      return;
    case After::kGrantModel:
      if (body.is_object() && body.contains("registered_model")) {
        (void)users_.CreateRegisteredModelPermission(
            body["registered_model"].value("name", ""), user.username, Permission::kManage);
      }
      return;
    case After::kRenameModel:
      if (fields.ok()) {
        core::Result<std::string> name = fields->RequiredString("name");
        core::Result<std::string> new_name = fields->RequiredString("new_name");
        if (name.ok() && new_name.ok()) {
          (void)users_.RenameRegisteredModelPermissions(*name, *new_name);
        }
      }
      return;
    case After::kDeleteModel:
      if (fields.ok()) {
        if (core::Result<std::string> name = fields->RequiredString("name"); name.ok()) {
          (void)users_.DeleteRegisteredModelPermissions(*name);
        }
      }
      return;
    case After::kFilterExperiments:
      FilterArray(response, "experiments", readable_experiment);
      return;
    case After::kFilterModels:
      FilterArray(response, "registered_models", readable_model);
      return;
    case After::kFilterVersions:
      FilterArray(response, "model_versions", readable_model);
      return;
  }
}

net::HttpResponse AuthGate::Intercept(net::HttpRequest& request, const net::Handler& next) const {
  // Only the gate may say who is asking.
  std::erase_if(request.headers, [](const auto& header) {
    return net::EqualsIgnoreCase(header.first, kUserHeader);
  });
  if (Unprotected(request)) return next(request);
  core::Result<User> user = Authenticate(request);
  if (!user.ok()) return Unauthenticated(user.status().message());
  const Rule* rule = FindRule(request.method, request.route);
  if (rule != nullptr) {
    core::Result<bool> allowed = Allowed(*user, *rule, request);
    if (!allowed.ok()) return MlflowErrorResponse(allowed.status());
    if (!*allowed) {
      return MlflowErrorResponse(MlflowErrorCode::kPermissionDenied,
                                 "Permission denied: user '" + user->username + "' may not " +
                                     request.method + " " + request.path);
    }
  }
  request.headers.emplace_back(kUserHeader, user->username);
  net::HttpResponse response = next(request);
  if (rule != nullptr && response.status < 400) AfterSuccess(*user, *rule, request, response);
  return response;
}

}  // namespace mlforge::auth
