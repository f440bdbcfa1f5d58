#include "serving/tf_serving.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <memory>

#include "serving/responses.h"
#include "serving/rows.h"

namespace mlforge::serving {
namespace {

constexpr std::string_view kProtocol = "tfserving";
constexpr std::string_view kSignature = "serving_default";

core::Result<int64_t> ParseVersionText(std::string_view name, std::string_view text) {
  int64_t version = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (error != std::errc() || end != text.data() + text.size()) {
    return core::InvalidArgumentError(
        fmt::format("model '{}': version '{}' is not an integer", name, text));
  }
  return version;
}

// Splits "NAME:predict" (or "3:predict") into the part before the verb and
// the verb.
bool SplitVerb(std::string_view segment, std::string* before, std::string* verb) {
  size_t colon = segment.rfind(':');
  if (colon == std::string_view::npos) return false;
  *before = std::string(segment.substr(0, colon));
  *verb = std::string(segment.substr(colon + 1));
  return true;
}

Json TensorInfo(const std::string& name, const std::string& datatype,
                const std::vector<int64_t>& shape) {
  Json dims = Json::array();
  for (int64_t size : shape) dims.push_back({{"size", std::to_string(size)}, {"name", ""}});
  const std::string dtype = datatype == "INT64" ? "DT_INT64" : "DT_FLOAT";
  return {
      {"dtype", dtype}, {"tensor_shape", {{"dim", dims}, {"unknown_rank", false}}}, {"name", name}};
}

// Which version a request names: the latest, a number or a label.
struct Selector {
  std::optional<std::string> version;
  std::optional<std::string> label;
};

// The selector of a GET route: "{version}" or "{label}" segments.
Selector SelectorOf(const net::HttpRequest& request) {
  Selector selector;
  if (request.route.find("{version}") != std::string::npos) {
    selector.version = request.PathParam("version");
  } else if (request.route.find("{label}") != std::string::npos) {
    selector.label = request.PathParam("label");
  }
  return selector;
}

class TfServing {
 public:
  explicit TfServing(ModelRepository* repository) : repository_(repository) {}

  net::HttpResponse Status(const net::HttpRequest& request) const {
    const std::string& name = request.PathParam("name");
    const Selector selector = SelectorOf(request);
    std::vector<ServableHandle> versions;
    if (selector.version || selector.label) {
      auto servable = Find(name, selector);
      if (!servable.ok()) return ErrorResponse(servable.status());
      versions.push_back(*servable);
    } else {
      versions = repository_->Versions(name);
      if (versions.empty()) return ErrorResponse(repository_->Get(name, std::nullopt).status());
    }
    Json statuses = Json::array();
    for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
      statuses.push_back({{"version", std::to_string((*it)->version)},
                          {"state", "AVAILABLE"},
                          {"status", {{"error_code", "OK"}, {"error_message", ""}}}});
    }
    return JsonResponse({{"model_version_status", statuses}});
  }

  net::HttpResponse Metadata(const net::HttpRequest& request) const {
    auto servable = Find(request.PathParam("name"), SelectorOf(request));
    if (!servable.ok()) return ErrorResponse(servable.status());
    const ModelSignature& signature = (*servable)->model->signature();
    Json inputs = Json::object();
    if (signature.columns.empty()) {
      inputs[signature.input.name] =
          TensorInfo(signature.input.name, signature.input.datatype, signature.input.shape);
    } else {
      for (const auto& column : signature.columns)
        inputs[column] = TensorInfo(column, "FP32", {-1});
    }
    Json outputs = Json::object();
    if (signature.classifier) outputs["predictions"] = TensorInfo("predictions", "INT64", {-1});
    outputs[signature.output.name] =
        TensorInfo(signature.output.name, signature.output.datatype, signature.output.shape);
    Json signature_def = {
        {"inputs", inputs}, {"outputs", outputs}, {"method_name", "tensorflow/serving/predict"}};
    return JsonResponse(
        {{"model_spec",
          {{"name", (*servable)->name},
           {"signature_name", ""},
           {"version", std::to_string((*servable)->version)}}},
         {"metadata",
          {{"signature_def", {{"signature_def", {{std::string(kSignature), signature_def}}}}}}}});
  }

  // POST /v1/models/{name}: the segment is "NAME:predict".
  net::HttpResponse PostModel(const net::HttpRequest& request) const {
    std::string name;
    std::string verb;
    if (!SplitVerb(request.PathParam("name"), &name, &verb)) return NoRoute(request);
    return Dispatch(request, verb, name, Selector{});
  }

  // POST /v1/models/{name}/versions/{version}: the last segment is "3:predict".
  net::HttpResponse PostVersion(const net::HttpRequest& request) const {
    std::string version;
    std::string verb;
    if (!SplitVerb(request.PathParam("version"), &version, &verb)) return NoRoute(request);
    return Dispatch(request, verb, request.PathParam("name"), Selector{version, std::nullopt});
  }

  // POST /v1/models/{name}/labels/{label}: the last segment is "champion:predict".
  net::HttpResponse PostLabel(const net::HttpRequest& request) const {
    std::string label;
    std::string verb;
    if (!SplitVerb(request.PathParam("label"), &label, &verb)) return NoRoute(request);
    return Dispatch(request, verb, request.PathParam("name"), Selector{std::nullopt, label});
  }

 private:
  static net::HttpResponse NoRoute(const net::HttpRequest& request) {
    return ErrorResponse(core::NotFoundError(
        fmt::format("no such API: {} {}; use /v1/models/NAME[/versions/N|/labels/L]:predict",
                    request.method, request.path)));
  }

  core::Result<ServableHandle> Find(const std::string& name, const Selector& selector) const {
    if (selector.label) {
      auto servable = repository_->GetByLabel(name, *selector.label);
      if (!servable.ok()) {
        return core::NotFoundError(fmt::format("Unrecognized servable version label: {}; {}",
                                               *selector.label, servable.status().message()));
      }
      return servable;
    }
    std::optional<int64_t> version;
    if (selector.version) {
      MLFORGE_ASSIGN_OR_RETURN(version, ParseVersionText(name, *selector.version));
    }
    auto servable = repository_->Get(name, version);
    if (!servable.ok()) {
      return core::NotFoundError(fmt::format(
          "Servable not found for request: {}({}); {}", version ? "Specific" : "Latest",
          version ? name + ", " + std::to_string(*version) : name, servable.status().message()));
    }
    return servable;
  }

  net::HttpResponse Dispatch(const net::HttpRequest& request, const std::string& verb,
                             const std::string& name, const Selector& version) const {
    if (verb != "predict") {
      if (verb == "classify" || verb == "regress") {
        return ErrorResponse(core::UnimplementedError(fmt::format(
            ":{} needs tf.Example inputs, which this server does not take; use :predict", verb)));
      }
      return NoRoute(request);
    }
    AnswerContext context(kProtocol, repository_->metrics());
    std::optional<net::HttpResponse> response = Predict(request, name, version, &context);
    if (!response) return {};  // deferred: the batcher's thread answers
    return context.Finish(std::move(*response));
  }

  // The answer, or nullopt once the request went to the batcher deferred.
  std::optional<net::HttpResponse> Predict(const net::HttpRequest& request,
                                           const std::string& name, const Selector& version,
                                           AnswerContext* context) const {
    auto servable = Find(name, version);
    if (!servable.ok()) return ErrorResponse(servable.status());
    context->model = (*servable)->name;
    context->version = std::to_string((*servable)->version);
    const ModelSignature& signature = (*servable)->model->signature();
    Batcher::Arrival arrival((*servable)->batcher.get());  // before parsing; see batcher.h
    auto document = ParseJsonBody(request.body);
    if (!document.ok()) return ErrorResponse(document.status());
    if (!document->is_object()) {
      return ErrorResponse(core::InvalidArgumentError(
          "the request must be a JSON object with \"instances\" or \"inputs\""));
    }
    if (document->contains("signature_name")) {
      const Json& signature_name = (*document)["signature_name"];
      if (!signature_name.is_string() || signature_name.get<std::string>() != kSignature) {
        return ErrorResponse(core::InvalidArgumentError(fmt::format(
            "Serving signature name: {} not found in signature def; the only one is \"{}\"",
            signature_name.dump(), kSignature)));
      }
    }
    const bool row_form = document->contains("instances");
    if (row_form == document->contains("inputs")) {
      return ErrorResponse(core::InvalidArgumentError(
          "send exactly one of \"instances\" (row format) or \"inputs\" (columnar format)"));
    }
    core::Result<Matrix> rows = core::InvalidArgumentError("no input");
    if (row_form) {
      Json instances = (*document)["instances"];
      // A tensor model's row may name its one input: {"input": [...]}.
      if (signature.columns.empty() && instances.is_array()) {
        for (auto& instance : instances) {
          if (instance.is_object() && instance.size() == 1 &&
              instance.contains(signature.input.name)) {
            instance = Json(instance[signature.input.name]);
          }
        }
      }
      rows = RowsFromJson(instances, signature);
    } else {
      const Json& inputs = (*document)["inputs"];
      rows = inputs.is_object() ? RowsFromColumnar(inputs, signature)
                                : RowsFromJson(inputs, signature);
    }
    if (!rows.ok()) return ErrorResponse(rows.status());
    return PredictAndAnswer(
        request, *(*servable)->batcher, std::move(*rows), &arrival, *context,
        [model = (*servable)->model, row_form](core::Result<Matrix> outputs) {
          if (!outputs.ok()) return ErrorResponse(outputs.status());
          return PredictResponse(model->signature(), *outputs, row_form);
        });
  }

  // :predict's body: `predictions` for the row form, `outputs` for the
  // columnar one.
  static net::HttpResponse PredictResponse(const ModelSignature& signature, const Matrix& outputs,
                                           bool row_form) {
    const std::string& scores_name = signature.output.name;
    if (row_form) {
      Json predictions = Json::array();
      for (int64_t row = 0; row < outputs.rows; ++row) {
        if (signature.classifier) {
          predictions.push_back(
              {{"predictions", ArgMax(outputs, row)}, {scores_name, OutputRow(outputs, row)}});
        } else {
          predictions.push_back(OutputRow(outputs, row));
        }
      }
      return JsonResponse({{"predictions", std::move(predictions)}});
    }
    Json scores = Json::array();
    for (int64_t row = 0; row < outputs.rows; ++row) scores.push_back(OutputRow(outputs, row));
    if (!signature.classifier) return JsonResponse({{"outputs", std::move(scores)}});
    Json classes = Json::array();
    for (int64_t row = 0; row < outputs.rows; ++row) classes.push_back(ArgMax(outputs, row));
    return JsonResponse(
        {{"outputs", {{"predictions", std::move(classes)}, {scores_name, std::move(scores)}}}});
  }

  ModelRepository* const repository_;
};

}  // namespace

void TfServingHandler::AddRoutes(net::Router* router, ModelRepository* repository) {
  auto handler = std::make_shared<TfServing>(repository);
  auto bind = [handler](net::HttpResponse (TfServing::*method)(const net::HttpRequest&) const) {
    return
        [handler, method](const net::HttpRequest& request) { return (*handler.*method)(request); };
  };
  router->Get("/v1/models/{name}", bind(&TfServing::Status));
  router->Get("/v1/models/{name}/versions/{version}", bind(&TfServing::Status));
  router->Get("/v1/models/{name}/metadata", bind(&TfServing::Metadata));
  router->Get("/v1/models/{name}/versions/{version}/metadata", bind(&TfServing::Metadata));
  router->Post("/v1/models/{name}", bind(&TfServing::PostModel));
  router->Post("/v1/models/{name}/versions/{version}", bind(&TfServing::PostVersion));
  router->Get("/v1/models/{name}/labels/{label}", bind(&TfServing::Status));
  router->Get("/v1/models/{name}/labels/{label}/metadata", bind(&TfServing::Metadata));
  router->Post("/v1/models/{name}/labels/{label}", bind(&TfServing::PostLabel));
}

}  // namespace mlforge::serving
