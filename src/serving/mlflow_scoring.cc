#include "serving/mlflow_scoring.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "serving/responses.h"
#include "serving/rows.h"
#include "tracking/rest/mlflow_json.h"

namespace mlforge::serving {
namespace {

using tracking::rest::MlflowErrorCode;
using tracking::rest::MlflowErrorResponse;

constexpr std::string_view kProtocol = "mlflow";

struct ContentType {
  std::string media_type;  // lower case, without parameters
  std::string format;      // the `format=` parameter, lower case
};

ContentType ParseContentType(std::string_view header) {
  auto lower_trim = [](std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  ContentType result;
  size_t semicolon = header.find(';');
  result.media_type = lower_trim(header.substr(0, semicolon));
  while (semicolon != std::string_view::npos) {
    std::string_view rest = header.substr(semicolon + 1);
    semicolon = rest.find(';');
    std::string parameter = lower_trim(rest.substr(0, semicolon));
    if (parameter.starts_with("format=")) result.format = parameter.substr(7);
    header = rest;
  }
  return result;
}

// A 400 in MLflow's shape for input that does not fit the model.
net::HttpResponse BadRequest(std::string_view message) {
  return MlflowErrorResponse(MlflowErrorCode::kBadRequest, message);
}

net::HttpResponse FromStatus(const core::Status& status) {
  if (status.code() == core::StatusCode::kInvalidArgument) return BadRequest(status.message());
  return WithRetryAfter(MlflowErrorResponse(status), status.code());
}

class Scoring {
 public:
  Scoring(ModelRepository* repository, std::string model_name)
      : repository_(repository), model_name_(std::move(model_name)) {}

  net::HttpResponse Health(const net::HttpRequest&) const {
    if (!repository_->ready()) return net::HttpResponse::Json(503, "\n");
    return net::HttpResponse::Json(200, "\n");
  }

  net::HttpResponse Version(const net::HttpRequest&) const {
    return net::HttpResponse::Text(200, MLFORGE_VERSION);
  }

  // POST /invocations: the server's default model.
  net::HttpResponse Invocations(const net::HttpRequest& request) const {
    return Invoke(request, model_name_);
  }

  // POST /serving-endpoints/{name}/invocations: the model by name.
  net::HttpResponse EndpointInvocations(const net::HttpRequest& request) const {
    return Invoke(request, request.PathParam("name"));
  }

 private:
  net::HttpResponse Invoke(const net::HttpRequest& request, const std::string& model_name) const {
    AnswerContext context(kProtocol, repository_->metrics());
    std::optional<net::HttpResponse> response = Score(request, model_name, &context);
    if (!response) return {};  // deferred: the batcher's thread answers
    return context.Finish(std::move(*response));
  }

  // The answer, or nullopt once the request went to the batcher deferred.
  std::optional<net::HttpResponse> Score(const net::HttpRequest& request,
                                         const std::string& model_name,
                                         AnswerContext* context) const {
    auto servable = repository_->Get(model_name, std::nullopt);
    if (!servable.ok()) {
      if (model_name == model_name_) {
        return FromStatus(core::UnavailableError(servable.status().message()));
      }
      return MlflowErrorResponse(servable.status());
    }
    context->model = model_name;
    context->version = std::to_string((*servable)->version);
    const ModelSignature& signature = (*servable)->model->signature();
    Batcher::Arrival arrival((*servable)->batcher.get());  // before parsing; see batcher.h

    const ContentType content_type = ParseContentType(request.Header("Content-Type").value_or(""));
    bool bare_list = false;
    core::Result<Matrix> rows = core::InvalidArgumentError("no input");
    std::optional<Matrix> fast_rows;
    if (content_type.media_type == "text/csv") {
      rows = RowsFromCsv(request.body, signature);
    } else if (content_type.media_type == "application/json" && content_type.format.empty() &&
               (fast_rows = FastRowsFromDataframeSplit(request.body, signature))) {
      rows = std::move(*fast_rows);
    } else if (content_type.media_type == "application/json") {
      auto document = ParseJsonBody(request.body);
      if (!document.ok()) return BadRequest(document.status().message());
      if (content_type.format == "pandas-split") {
        bare_list = true;
        if (!document->is_object() || !document->contains("data")) {
          return BadRequest(
              "format=pandas-split expects {\"columns\": [...], \"data\": [[...], ...]}");
        }
        rows = RowsFromSplit(document->contains("columns") ? &(*document)["columns"] : nullptr,
                             (*document)["data"], signature);
      } else if (content_type.format == "pandas-records") {
        bare_list = true;
        rows = RowsFromJson(*document, signature);
      } else if (!content_type.format.empty()) {
        return BadRequest(fmt::format(
            "unknown format '{}'; use pandas-split, pandas-records, or none", content_type.format));
      } else {
        rows = ParseDocument(*document, signature);
      }
    } else {
      net::HttpResponse response = BadRequest(fmt::format(
          "this predictor only supports the content types text/csv and application/json, got "
          "'{}'",
          content_type.media_type));
      response.status = 415;
      return response;
    }
    if (!rows.ok()) return BadRequest(rows.status().message());
    return PredictAndAnswer(
        request, *(*servable)->batcher, std::move(*rows), &arrival, *context,
        [model = (*servable)->model, bare_list](core::Result<Matrix> outputs) {
          if (!outputs.ok()) return FromStatus(outputs.status());
          Json predictions = Predictions(model->signature(), *outputs);
          if (bare_list) return JsonResponse(predictions);
          return JsonResponse(Json{{"predictions", std::move(predictions)}});
        });
  }

  // MLflow 2's JSON body: exactly one of the four input fields.
  static core::Result<Matrix> ParseDocument(const Json& document, const ModelSignature& signature) {
    constexpr std::string_view kFormats =
        "send exactly one of dataframe_split, dataframe_records, instances or inputs";
    if (!document.is_object()) {
      return core::InvalidArgumentError(
          fmt::format("the body must be a JSON object; {}", kFormats));
    }
    std::string field;
    for (const auto& [key, value] : document.items()) {
      if (key == "params") continue;
      if (key != "dataframe_split" && key != "dataframe_records" && key != "instances" &&
          key != "inputs") {
        return core::InvalidArgumentError(fmt::format("unknown field '{}'; {}", key, kFormats));
      }
      if (!field.empty()) {
        return core::InvalidArgumentError(
            fmt::format("both '{}' and '{}' were sent; {}", field, key, kFormats));
      }
      field = key;
    }
    if (field.empty()) return core::InvalidArgumentError(fmt::format("no input; {}", kFormats));
    const Json& value = document[field];
    if (field == "dataframe_split") {
      if (!value.is_object() || !value.contains("data")) {
        return core::InvalidArgumentError(
            "dataframe_split must be {\"columns\": [...], \"data\": [[...], ...]}");
      }
      return RowsFromSplit(value.contains("columns") ? &value["columns"] : nullptr, value["data"],
                           signature);
    }
    if (field == "dataframe_records") {
      if (!value.is_array()) {
        return core::InvalidArgumentError("dataframe_records must be a list of {column: value}");
      }
      return RowsFromJson(value, signature);
    }
    if (value.is_object()) return RowsFromColumnar(value, signature);
    return RowsFromJson(value, signature);
  }

  ModelRepository* const repository_;
  const std::string model_name_;
};

}  // namespace

void MlflowScoringHandler::AddRoutes(net::Router* router, ModelRepository* repository,
                                     std::string model_name) {
  auto scoring = std::make_shared<Scoring>(repository, std::move(model_name));
  router->Get("/ping", [scoring](const net::HttpRequest& r) { return scoring->Health(r); });
  router->Get("/health", [scoring](const net::HttpRequest& r) { return scoring->Health(r); });
  router->Get("/version", [scoring](const net::HttpRequest& r) { return scoring->Version(r); });
  router->Post("/invocations",
               [scoring](const net::HttpRequest& r) { return scoring->Invocations(r); });
  router->Post("/serving-endpoints/{name}/invocations",
               [scoring](const net::HttpRequest& r) { return scoring->EndpointInvocations(r); });
}

}  // namespace mlforge::serving
