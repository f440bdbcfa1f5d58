#pragma once

// MLflow's model registry REST API over a RegistryStore, wire-compatible
// with MLflow's server (mlflow/server/handlers.py) so MLflow's own Python
// client (mlflow.register_model, MlflowClient().set_registered_model_alias,
// get_model_version_by_alias, search_model_versions, ...) works against it.
//
// Routes, each under /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/, with the
// methods of model_registry.proto:
//
//   POST   registered-models/create               CreateRegisteredModel
//   GET    registered-models/get                  GetRegisteredModel
//   POST   registered-models/rename               RenameRegisteredModel
//   PATCH  registered-models/update               UpdateRegisteredModel
//   DELETE registered-models/delete               DeleteRegisteredModel
//   GET    registered-models/search               SearchRegisteredModels
//   POST   registered-models/get-latest-versions  GetLatestVersions
//   GET    registered-models/get-latest-versions  GetLatestVersions
//   POST   registered-models/set-tag              SetRegisteredModelTag
//   DELETE registered-models/delete-tag           DeleteRegisteredModelTag
//   POST   registered-models/alias                SetRegisteredModelAlias
//   DELETE registered-models/alias                DeleteRegisteredModelAlias
//   GET    registered-models/alias                GetModelVersionByAlias
//   POST   model-versions/create                  CreateModelVersion
//   GET    model-versions/get                     GetModelVersion
//   PATCH  model-versions/update                  UpdateModelVersion
//   DELETE model-versions/delete                  DeleteModelVersion
//   GET    model-versions/search                  SearchModelVersions
//   GET    model-versions/get-download-uri        GetModelVersionDownloadUri
//   POST   model-versions/transition-stage        TransitionModelVersionStage
//   POST   model-versions/set-tag                 SetModelVersionTag
//   DELETE model-versions/delete-tag              DeleteModelVersionTag
//
// Requests: GET reads the query string (repeated order_by / stages collect
// every value); POST and PATCH need a JSON body sent as application/json;
// DELETE reads a JSON body (MLflow's client sends one). Responses are the
// proto's Response message as JSON (registry/rest/registry_json.h); errors
// are {"error_code","message"} with MLflow's status, written only by
// tracking::rest::MlflowErrorResponse.
//
// MLflow 3: model-versions/create takes `model_id`, the logged model the
// version is made from (register_model("runs:/<run>/<name>") sends source
// "models:/<model_id>" with it). Given a tracking store, the handler checks
// that the logged model exists (RESOURCE_DOES_NOT_EXIST otherwise), fills a
// missing run_id from the model's source run, and get-download-uri answers
// the logged model's artifact_uri for a "models:/" source, as MLflow's
// registry stores the model's artifact location.
//
// The handler borrows its stores: they must outlive the handler, and the
// handler every Router it registered with. Thread-safe as the stores are.

#include "net/http.h"
#include "net/router.h"
#include "registry/registry_store.h"
#include "tracking/store.h"

namespace mlforge::registry::rest {

class MlflowRegistryHandler {
 public:
  explicit MlflowRegistryHandler(RegistryStore& store) : store_(store) {}
  // With the tracking store that holds the logged models (see above).
  MlflowRegistryHandler(RegistryStore& store, tracking::Store& logged_models)
      : store_(store), logged_models_(&logged_models) {}
  MlflowRegistryHandler(const MlflowRegistryHandler&) = delete;
  MlflowRegistryHandler& operator=(const MlflowRegistryHandler&) = delete;

  // Adds every route above, under both prefixes, to `router`.
  void Register(net::Router& router);

 private:
  net::HttpResponse CreateRegisteredModel(const net::HttpRequest& request);
  net::HttpResponse GetRegisteredModel(const net::HttpRequest& request);
  net::HttpResponse RenameRegisteredModel(const net::HttpRequest& request);
  net::HttpResponse UpdateRegisteredModel(const net::HttpRequest& request);
  net::HttpResponse DeleteRegisteredModel(const net::HttpRequest& request);
  net::HttpResponse SearchRegisteredModels(const net::HttpRequest& request);
  net::HttpResponse GetLatestVersions(const net::HttpRequest& request);
  net::HttpResponse SetRegisteredModelTag(const net::HttpRequest& request);
  net::HttpResponse DeleteRegisteredModelTag(const net::HttpRequest& request);
  net::HttpResponse SetRegisteredModelAlias(const net::HttpRequest& request);
  net::HttpResponse DeleteRegisteredModelAlias(const net::HttpRequest& request);
  net::HttpResponse GetModelVersionByAlias(const net::HttpRequest& request);
  net::HttpResponse CreateModelVersion(const net::HttpRequest& request);
  net::HttpResponse GetModelVersion(const net::HttpRequest& request);
  net::HttpResponse UpdateModelVersion(const net::HttpRequest& request);
  net::HttpResponse DeleteModelVersion(const net::HttpRequest& request);
  net::HttpResponse SearchModelVersions(const net::HttpRequest& request);
  net::HttpResponse GetModelVersionDownloadUri(const net::HttpRequest& request);
  net::HttpResponse TransitionModelVersionStage(const net::HttpRequest& request);
  net::HttpResponse SetModelVersionTag(const net::HttpRequest& request);
  net::HttpResponse DeleteModelVersionTag(const net::HttpRequest& request);

  RegistryStore& store_;  // borrowed; outlives this handler
  // Borrowed; outlives this handler. Null: logged models are not checked.
  tracking::Store* const logged_models_ = nullptr;
};

}  // namespace mlforge::registry::rest
