#pragma once

// MLflow's scoring protocol (`mlflow models serve`) over one model of a
// ModelRepository. Routes:
//   GET  /ping, GET /health   200 "\n" when ready, 503 otherwise
//   GET  /version             the server version, as text
//   POST /invocations         score rows with the server's default model
//   POST /serving-endpoints/{name}/invocations
//                             the same with model `name` (the path Databricks
//                             model serving gives each endpoint), for a
//                             server holding several models
//   Either body is one of
//     application/json  {"dataframe_split": {"columns": [...], "data": [[...]]}}
//                       {"dataframe_records": [{"col": value, ...}, ...]}
//                       {"instances": rows or {name: values}}
//                       {"inputs": rows or {name: values}}
//                       (and an optional "params" object, ignored)
//     application/json; format=pandas-split    {"columns": [...], "data": [[...]]}
//     application/json; format=pandas-records  [{"col": value, ...}, ...]
//     text/csv          a header row, then rows
//   and answers {"predictions": [...]}, or, for the two `format=` forms, the
//   bare list as MLflow 1.x did. A classifier's prediction is its class index.
//   Answers that a model version gave carry X-Model-Name and X-Model-Version.
//
// Columns are matched to the signature by name; a missing, extra or
// duplicated column, a ragged row or a non-number is 400 BAD_REQUEST in
// MLflow's {"error_code","message"} body; an unknown content type 415; a full
// batch queue 503 TEMPORARILY_UNAVAILABLE with Retry-After.
//
// The handler borrows the repository and the metrics, which must outlive the
// router it is added to. Thread safety: the routes run concurrently.

#include <string>

#include "net/router.h"
#include "serving/metrics.h"
#include "serving/repository.h"

namespace mlforge::serving {

class MlflowScoringHandler {
 public:
  // Adds the routes above to `router`, scoring `model_name` (its highest
  // loaded version) from `repository`.
  static void AddRoutes(net::Router* router, ModelRepository* repository, std::string model_name);
};

}  // namespace mlforge::serving
