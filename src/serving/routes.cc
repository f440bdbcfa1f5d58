#include "serving/routes.h"

#include <fmt/format.h>

#include "serving/kserve_v2.h"
#include "serving/mlflow_scoring.h"
#include "serving/responses.h"
#include "serving/tf_serving.h"

namespace mlforge::serving {

net::Router MakeServingRouter(ModelRepository* repository, std::string mlflow_model) {
  net::Router router;
  MlflowScoringHandler::AddRoutes(&router, repository, std::move(mlflow_model));
  KserveV2Handler::AddRoutes(&router, repository);
  TfServingHandler::AddRoutes(&router, repository);
  router.SetFallback([](const net::HttpRequest& request) {
    return ErrorResponse(core::NotFoundError(fmt::format(
        "no route for {} {}; this server speaks MLflow scoring (/invocations), KServe V2 (/v2/...) "
        "and TF Serving (/v1/models/...)",
        request.method, request.path)));
  });
  return router;
}

}  // namespace mlforge::serving
