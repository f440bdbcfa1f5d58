#pragma once

// The response writers the serving front ends share. MLflow scoring errors
// go through tracking::rest::MlflowErrorResponse; KServe V2 and TF Serving
// both answer errors as {"error": MESSAGE} and use ErrorResponse() below.
// An Unavailable status (a full batch queue, a draining server) also gets
// `Retry-After: 1`, so clients back off instead of failing.

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http.h"
#include "serving/batcher.h"
#include "serving/metrics.h"

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

// What every scoring answer gets on its way out, whichever thread sends it:
// the model headers (once the version is known) and the request's entry in
// the serving metrics. A plain value, copied into deferred answers.
struct AnswerContext {
  // Starts the request's clock now.
  AnswerContext(std::string_view protocol, ServingMetrics* metrics)
      : protocol(protocol), metrics(metrics) {}

  std::string_view protocol;  // a literal: "mlflow", "kserve_v2", ...
  ServingMetrics* metrics = nullptr;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::string model;    // empty until the servable is found
  std::string version;  // empty until the servable is found
  // Adds the headers, records the request, returns `response`.
  net::HttpResponse Finish(net::HttpResponse response) const;
};

// Turns a model call's outcome into the protocol's response. When the
// answer is deferred it runs on the batcher's thread, so it must not hold a
// ServableHandle (dropping the last one there would stop the batcher from
// its own thread): capture the shared Model instead.
using PredictionAnswer = std::function<net::HttpResponse(core::Result<Matrix>)>;

// Runs `rows` on `batcher` (with the request's `arrival`) and answers with
// `answer`'s response, finished by `context`. Where the server can defer
// (net::HttpRequest::Defer) it returns nullopt at once: the server thread is
// free while the batch waits and runs, and the batcher's thread sends the
// answer. Otherwise it waits for the batch and returns the answer, not yet
// finished (the caller finishes every synchronous answer alike).
std::optional<net::HttpResponse> PredictAndAnswer(const net::HttpRequest& request,
                                                  Batcher& batcher, Matrix rows,
                                                  Batcher::Arrival* arrival,
                                                  const AnswerContext& context,
                                                  PredictionAnswer answer);

}  // namespace mlforge::serving
