#pragma once

// The one router a model server serves: the MLflow scoring, KServe V2 and
// TF Serving front ends over one ModelRepository (so one batcher per model
// version, whichever protocol a request came by). Unmatched paths get 404
// with {"error": ...}.
//
//   ServingMetrics metrics(&registry);
//   ModelRepository repository(options, &metrics);
//   ... repository.Load("mnist", 1, model) ...
//   net::Router router = MakeServingRouter(&repository, "mnist");
//   HttpServer::Start(server_options, std::move(router));
//
// `repository` is borrowed and must outlive the router; `mlflow_model` is the
// model /invocations scores (MLflow's scoring server holds one model).

#include <string>

#include "net/router.h"
#include "serving/repository.h"

namespace mlforge::serving {

net::Router MakeServingRouter(ModelRepository* repository, std::string mlflow_model);

}  // namespace mlforge::serving
