#pragma once

// KServe V2 / Open Inference Protocol, REST, over a ModelRepository. Routes:
//   GET  /v2/health/live                      200 {"live": true}
//   GET  /v2/health/ready                     200 {"ready": true}, 503 {"ready": false}
//   GET  /v2                                  {"name", "version", "extensions"}
//   GET  /v2/models/{name}[/versions/{v}]     {"name", "versions", "platform",
//                                              "inputs", "outputs"} (tensor metadata)
//   GET  /v2/models/{name}[/versions/{v}]/ready   {"name", "ready"}
//   POST /v2/models/{name}[/versions/{v}]/infer   inference
//
// An inference request is {"id"?, "parameters"?, "inputs": [{"name",
// "shape", "datatype", "data", "parameters"?}], "outputs"?: [{"name"}]}.
// A tensor model takes one input named like its signature's input; a tabular
// model takes that one [rows, columns] tensor or one tensor per column
// ([rows] or [rows, 1]) named by column. Numeric datatypes (BOOL, INT*,
// UINT*, FP16/32/64) are accepted and read as floats; `data` may be flat or
// nested, row-major, and must hold exactly the shape's element count. The
// response is {"model_name", "model_version", "id" (echoed when sent),
// "outputs": [...]}; a classifier answers "predictions" (INT64 [rows], the
// class index) and its scores tensor, others their output tensor; "outputs"
// in the request selects among them.
//
// Errors are {"error": MESSAGE}: 400 for a bad request, 404 for an unknown
// model or version, 503 with Retry-After when the batch queue is full.
//
// Borrows the repository, which must outlive the router. Thread-safe.

#include "net/router.h"
#include "serving/repository.h"

namespace mlforge::serving {

class KserveV2Handler {
 public:
  static void AddRoutes(net::Router* router, ModelRepository* repository);
};

}  // namespace mlforge::serving
