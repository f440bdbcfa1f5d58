#pragma once

// The credentials MLflow's clients send to a tracking server, read from the
// same environment variables (mlflow.utils.rest_utils): basic auth from
// MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD when both are set,
// else a bearer token from MLFLOW_TRACKING_TOKEN, else nothing.

#include "net/http.h"

namespace mlforge::tracking::rest {

// An `Authorization` header, or no headers.
net::HttpHeaders CredentialHeadersFromEnvironment();

}  // namespace mlforge::tracking::rest
