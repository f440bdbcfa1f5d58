#pragma once

// The one table from core::StatusCode to an HTTP status code (TFS's
// ToHTTPStatusCode, Triton's HttpCodeFromError). Protocol layers write their
// own error bodies (MLflow's {"error_code","message"}, KServe's {"error"});
// they all take the status code from here.

#include "core/status.h"

namespace mlforge::net {

// kOk 200, kInvalidArgument 400, kFailedPrecondition 400, kUnauthenticated
// 401, kPermissionDenied 403, kNotFound 404, kAlreadyExists 409,
// kResourceExhausted 429, kInternal 500, kUnimplemented 501, kUnavailable
// 503, kDeadlineExceeded 504. Any other value gives 500.
int HttpStatusFor(core::StatusCode code);

}  // namespace mlforge::net
