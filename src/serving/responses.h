#pragma once

// The response writers the serving front ends share. MLflow scoring errors
// go through tracking::rest::MlflowErrorResponse; KServe V2 and TF Serving
// both answer errors as {"error": MESSAGE} and use ErrorResponse() below.
// An Unavailable status (a full batch queue, a draining server) also gets
// `Retry-After: 1`, so clients back off instead of failing.

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http.h"

namespace mlforge::serving {

// {"error": status.message()} with the HTTP status of status.code().
net::HttpResponse ErrorResponse(const core::Status& status);

// 200 (or `status`) with `body` as compact JSON; invalid UTF-8 replaced.
net::HttpResponse JsonResponse(const nlohmann::json& body, int status = 200);

// Adds Retry-After to `response` when `code` is Unavailable; returns it.
net::HttpResponse WithRetryAfter(net::HttpResponse response, core::StatusCode code);

// Sets X-Model-Name and X-Model-Version: which model version answered (a
// hot reload shows in them from one request to the next).
void SetModelHeaders(net::HttpResponse* response, const std::string& name,
                     const std::string& version);

// Parses `body` as JSON; InvalidArgument naming the parse error.
core::Result<nlohmann::json> ParseJsonBody(std::string_view body);

// Seconds since `start` on the steady clock, for latency metrics.
double SecondsSince(std::chrono::steady_clock::time_point start);

}  // namespace mlforge::serving
