#pragma once

// MLflow's tracking REST API over a tracking::Store, wire-compatible with
// MLflow's own server so the MLflow Python client (`mlflow.set_tracking_uri(
// "http://host:5000")`), the MLflow UI and plain curl work unchanged.
//
//   MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
//                            OpenStore("sqlite:///mlflow.db", "mlflow-artifacts:/"));
//   MlflowRestHandler handler(*store);      // borrows the store
//   net::Router router;
//   handler.Register(router);               // borrowed by the routes, too
//   MLFORGE_ASSIGN_OR_RETURN(auto server, net::HttpServer::Start(options, std::move(router)));
//
// Routes, each under both /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/ (the
// UI's prefix), methods as in mlflow/protos/service.proto:
//
//   POST     experiments/create                 {"experiment_id"}
//   GET      experiments/get                    {"experiment"}
//   GET      experiments/get-by-name            {"experiment"}
//   POST,GET experiments/search                 {"experiments", "next_page_token"}
//   POST     experiments/update                 {}
//   POST     experiments/delete                 {}
//   POST     experiments/restore                {}
//   POST     experiments/set-experiment-tag     {}
//   POST     experiments/delete-experiment-tag  {}
//   POST     runs/create                        {"run"}
//   GET      runs/get                           {"run"}
//   POST     runs/update                        {"run_info"}
//   POST     runs/delete                        {}
//   POST     runs/restore                       {}
//   POST     runs/search                        {"runs", "next_page_token"}
//   POST     runs/log-metric                    {}
//   POST     runs/log-parameter                 {}
//   POST     runs/set-tag                       {}
//   POST     runs/delete-tag                    {}
//   POST     runs/log-batch                     {}
//   POST     runs/log-inputs                    {}
//   GET      metrics/get-history                {"metrics", "next_page_token"}
//   GET      metrics/get-history-bulk-interval  {"metrics"} (each with run_id)
//   POST     runs/outputs                       {} (MLflow 3 log-outputs)
//   POST     logged-models                      {"model"} (MLflow 3, below)
//   POST     logged-models/search               {"models", "next_page_token"}
//   GET      logged-models/{model_id}           {"model"}
//   PATCH    logged-models/{model_id}           {"model"} (finalize: status)
//   DELETE   logged-models/{model_id}           {}
//   PATCH    logged-models/{model_id}/tags      {}
//   DELETE   logged-models/{model_id}/tags/{tag_key}  {}
//   POST     logged-models/{model_id}/params    {}
//   any      anything else under the two prefixes: 404 ENDPOINT_NOT_FOUND
//            (Options::answer_unknown_endpoints)
//
// Requests are read by RequestFields (tracking/rest/request_fields.h: the
// Content-Type rule, GET query parameters, MLflow's messages for missing and
// mistyped fields); responses and every error body are written by
// tracking/rest/mlflow_json.h. Store errors keep their message and map to
// MLflow codes there (NotFound 404 RESOURCE_DOES_NOT_EXIST, InvalidArgument
// 400 INVALID_PARAMETER_VALUE, AlreadyExists 400 RESOURCE_ALREADY_EXISTS...).
//
// Logged models (MLflow 3): an MLflow 3 client's log_model creates one
// (POST logged-models), uploads its files under the model's artifact_uri
// ("<experiment location>/models/<id>/artifacts", so through the artifact
// proxy when the store's root is "mlflow-artifacts:/"), links it to the run
// (runs/outputs, then log-batch metrics carrying model_id) and finalizes it
// (PATCH with status LOGGED_MODEL_READY). register_model("runs:/<run>/<name>")
// then finds it with logged-models/search. Path parameters ({model_id},
// {tag_key}) win over body fields of the same name; a DELETE may have no
// body. The finalize status is a name or its proto number.
//
// Artifact locations: the store decides them. An experiment created without
// artifact_location gets "<store's default artifact root>/<id>", and a run
// "<experiment location>/<run id>/artifacts". For MLflow's proxied-artifact
// mode (`mlflow server --serve-artifacts`), open the store with the root
// "mlflow-artifacts:/", giving "mlflow-artifacts:/<id>" and
// "mlflow-artifacts:/<id>/<run id>/artifacts", exactly MLflow's URIs.
//
// Limits: the log-batch counts and sizes come from tracking/validation.h and
// are enforced by the store. Request bodies over Options::max_request_bytes
// (MLflow's 1 MB for log-batch) are answered with 413 here, because a server
// that also mounts the artifact proxy must accept far larger bodies.
//
// Deliberate differences from MLflow: a body that is not JSON is 400
// INVALID_PARAMETER_VALUE (MLflow silently reads it as {}); runs/create
// without start_time starts the run now (MLflow stores 0); an invalid enum
// name (status, view_type) is 400 (MLflow ignores the field).
//
// Thread safety: the handler is immutable after construction; routes run
// concurrently and call the Store, which is thread-safe.
//
// Ownership: borrows `store`, which must outlive the handler; the routes
// Register() adds borrow the handler, which must outlive the router (and so
// the server serving it).

#include <string>

#include "core/status.h"
#include "net/http.h"
#include "net/router.h"
#include "tracking/rest/mlflow_json.h"
#include "tracking/rest/request_fields.h"
#include "tracking/store.h"

namespace mlforge::tracking::rest {

class MlflowRestHandler {
 public:
  struct Options {
    // Whether Register() also mounts catch-all routes under
    // /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/ answering 404
    // ENDPOINT_NOT_FOUND, the code MLflow's client falls back on when it
    // probes endpoints (rest_utils.call_endpoints). Turn it off when another
    // component owns those catch-alls on the same router. Default true.
    bool answer_unknown_endpoints = true;
    // Largest JSON request body accepted, in bytes; larger ones get 413
    // with MLflow's error shape. Default 1 MiB (MLflow's log-batch limit).
    size_t max_request_bytes = size_t{1} << 20;
  };

  explicit MlflowRestHandler(Store& store);
  MlflowRestHandler(Store& store, Options options);
  MlflowRestHandler(const MlflowRestHandler&) = delete;
  MlflowRestHandler& operator=(const MlflowRestHandler&) = delete;

  // Adds every route above to `router`. Call once per router; a second call
  // is a duplicate route, which Router treats as a programmer error.
  void Register(net::Router& router);

 private:
  // A route: reads the request's fields, calls the store, and returns the
  // response body, or the error to render.
  using Route = core::Result<Json> (MlflowRestHandler::*)(const RequestFields& fields);

  // Reads the fields (body for POST, query otherwise), runs `route` and
  // renders its answer or error.
  net::HttpResponse Serve(const net::HttpRequest& request, Route route);

  core::Result<Json> CreateExperiment(const RequestFields& fields);
  core::Result<Json> GetExperiment(const RequestFields& fields);
  core::Result<Json> GetExperimentByName(const RequestFields& fields);
  core::Result<Json> SearchExperiments(const RequestFields& fields);
  core::Result<Json> UpdateExperiment(const RequestFields& fields);
  core::Result<Json> DeleteExperiment(const RequestFields& fields);
  core::Result<Json> RestoreExperiment(const RequestFields& fields);
  core::Result<Json> SetExperimentTag(const RequestFields& fields);
  core::Result<Json> DeleteExperimentTag(const RequestFields& fields);
  core::Result<Json> CreateRun(const RequestFields& fields);
  core::Result<Json> GetRun(const RequestFields& fields);
  core::Result<Json> UpdateRun(const RequestFields& fields);
  core::Result<Json> DeleteRun(const RequestFields& fields);
  core::Result<Json> RestoreRun(const RequestFields& fields);
  core::Result<Json> SearchRuns(const RequestFields& fields);
  core::Result<Json> LogMetric(const RequestFields& fields);
  core::Result<Json> LogParam(const RequestFields& fields);
  core::Result<Json> SetTag(const RequestFields& fields);
  core::Result<Json> DeleteTag(const RequestFields& fields);
  core::Result<Json> LogBatch(const RequestFields& fields);
  core::Result<Json> LogInputs(const RequestFields& fields);
  core::Result<Json> GetMetricHistory(const RequestFields& fields);
  core::Result<Json> GetMetricHistoryBulkInterval(const RequestFields& fields);
  core::Result<Json> LogOutputs(const RequestFields& fields);
  core::Result<Json> CreateLoggedModel(const RequestFields& fields);
  core::Result<Json> GetLoggedModel(const RequestFields& fields);
  core::Result<Json> FinalizeLoggedModel(const RequestFields& fields);
  core::Result<Json> DeleteLoggedModel(const RequestFields& fields);
  core::Result<Json> SetLoggedModelTags(const RequestFields& fields);
  core::Result<Json> DeleteLoggedModelTag(const RequestFields& fields);
  core::Result<Json> LogLoggedModelParams(const RequestFields& fields);
  core::Result<Json> SearchLoggedModels(const RequestFields& fields);

  Store& store_;  // borrowed; outlives the handler
  const Options options_;
};

}  // namespace mlforge::tracking::rest
