#include "serving/responses.h"

#include <chrono>

#include "net/status_http.h"

namespace mlforge::serving {

net::HttpResponse JsonResponse(const nlohmann::json& body, int status) {
  return net::HttpResponse::Json(
      status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

net::HttpResponse WithRetryAfter(net::HttpResponse response, core::StatusCode code) {
  if (code == core::StatusCode::kUnavailable) response.SetHeader("Retry-After", "1");
  return response;
}

net::HttpResponse ErrorResponse(const core::Status& status) {
  return WithRetryAfter(
      JsonResponse({{"error", status.message()}}, net::HttpStatusFor(status.code())),
      status.code());
}

void SetModelHeaders(net::HttpResponse* response, const std::string& name,
                     const std::string& version) {
  response->SetHeader("X-Model-Name", name);
  response->SetHeader("X-Model-Version", version);
}

core::Result<nlohmann::json> ParseJsonBody(std::string_view body) {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& error) {
    return core::InvalidArgumentError(std::string("the body is not valid JSON: ") + error.what());
  }
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

net::HttpResponse AnswerContext::Finish(net::HttpResponse response) const {
  if (!version.empty()) SetModelHeaders(&response, model, version);
  if (metrics != nullptr) {
    metrics->RecordRequest(protocol, model, version, response.status, SecondsSince(start));
  }
  return response;
}

std::optional<net::HttpResponse> PredictAndAnswer(const net::HttpRequest& request,
                                                  Batcher& batcher, Matrix rows,
                                                  Batcher::Arrival* arrival,
                                                  const AnswerContext& context,
                                                  PredictionAnswer answer) {
  net::Responder respond = request.Defer();
  if (!respond) return answer(batcher.Predict(std::move(rows), arrival));
  auto task = std::make_unique<BatchTask>();
  task->inputs = std::move(rows);
  task->done = [respond, context, answer](core::Result<Matrix> outputs) {
    respond(context.Finish(answer(std::move(outputs))));
  };
  core::Status scheduled = batcher.Schedule(&task, arrival);
  // Refused (bad shape, full queue, shutting down): the task was not taken,
  // and this request is answered now, through the same Responder.
  if (!scheduled.ok()) respond(context.Finish(answer(scheduled)));
  return std::nullopt;
}

}  // namespace mlforge::serving
