#pragma once

// TensorFlow Serving's REST API over a ModelRepository. Routes:
// where [/versions/{v}] may also be /labels/{label} (a version label: the
// registry alias a followed model serves, ModelRepository::SetLabel):
//   GET  /v1/models/{name}[/versions/{v}]            model status
//        {"model_version_status": [{"version", "state": "AVAILABLE",
//                                   "status": {"error_code": "OK", "error_message": ""}}]}
//   GET  /v1/models/{name}[/versions/{v}]/metadata   {"model_spec", "metadata":
//        {"signature_def": {"signature_def": {"serving_default": ...}}}}
//   POST /v1/models/{name}[/versions/{v}]:predict    prediction
//
// :predict takes {"signature_name"?, "instances": [...]} (row form: one
// element per row, a value or list for a tensor model, an object of columns
// for a tabular one) and answers {"predictions": [...]}, or {"inputs": ...}
// (columnar form: rows as a list, or an object of named inputs/columns) and
// answers {"outputs": ...}. A model with one output answers its rows
// directly; a classifier has two ("predictions", the class index, and its
// scores), so each row is an object of both in row form and "outputs" is an
// object of both in columnar form. Only "serving_default" (or no
// signature_name) is a signature.
//
// Errors are {"error": MESSAGE} with the status of the error (400 bad
// request, 404 unknown model or version, 503 with Retry-After when the batch
// queue is full).
//
// Borrows the repository, which must outlive the router. Thread-safe.

#include "net/router.h"
#include "serving/repository.h"

namespace mlforge::serving {

class TfServingHandler {
 public:
  static void AddRoutes(net::Router* router, ModelRepository* repository);
};

}  // namespace mlforge::serving
