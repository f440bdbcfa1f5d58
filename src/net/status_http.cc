#include "net/status_http.h"

namespace mlforge::net {

int HttpStatusFor(core::StatusCode code) {
  switch (code) {
    case core::StatusCode::kOk:
      return 200;
    // Both are the caller's to fix, so both are 400 (as in TFS).
    case core::StatusCode::kInvalidArgument:  // NOLINT(bugprone-branch-clone)
    case core::StatusCode::kFailedPrecondition:
      return 400;
    case core::StatusCode::kUnauthenticated:
      return 401;
    case core::StatusCode::kPermissionDenied:
      return 403;
    case core::StatusCode::kNotFound:
      return 404;
    case core::StatusCode::kAlreadyExists:
      return 409;
    case core::StatusCode::kResourceExhausted:
      return 429;
    case core::StatusCode::kInternal:
      return 500;
    case core::StatusCode::kUnimplemented:
      return 501;
    case core::StatusCode::kUnavailable:
      return 503;
    case core::StatusCode::kDeadlineExceeded:
      return 504;
  }
  return 500;
}

}  // namespace mlforge::net
