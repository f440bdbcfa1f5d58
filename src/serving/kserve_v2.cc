#include "serving/kserve_v2.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <set>

#include "serving/responses.h"
#include "serving/rows.h"

namespace mlforge::serving {
namespace {

constexpr std::string_view kProtocol = "kserve_v2";

Json ShapeJson(const std::vector<int64_t>& shape) { return Json(shape); }

Json TensorMetadata(const TensorSpec& spec) {
  return {{"name", spec.name}, {"datatype", spec.datatype}, {"shape", ShapeJson(spec.shape)}};
}

core::Result<std::optional<int64_t>> ParseVersion(const net::HttpRequest& request) {
  const std::string& text = request.PathParam("version");
  if (request.route.find("{version}") == std::string::npos) return std::optional<int64_t>();
  int64_t version = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (error != std::errc() || end != text.data() + text.size()) {
    return core::NotFoundError(fmt::format("model '{}' has no version '{}'; versions are integers",
                                           request.PathParam("name"), text));
  }
  return std::optional<int64_t>(version);
}

bool IsNumericDatatype(std::string_view datatype) {
  static const std::set<std::string_view> kNumeric = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64",
                                                      "INT8", "INT16", "INT32",  "INT64",  "FP16",
                                                      "FP32", "FP64",  "BF16"};
  return kNumeric.contains(datatype);
}

// One request input checked against its declared shape and datatype.
struct InputTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

core::Result<InputTensor> ParseInput(const Json& input, size_t index) {
  if (!input.is_object()) {
    return core::InvalidArgumentError(fmt::format("inputs[{}] must be an object", index));
  }
  InputTensor tensor;
  if (!input.contains("name") || !input["name"].is_string()) {
    return core::InvalidArgumentError(fmt::format("inputs[{}] needs a string 'name'", index));
  }
  tensor.name = input["name"].get<std::string>();
  if (!input.contains("datatype") || !input["datatype"].is_string()) {
    return core::InvalidArgumentError(
        fmt::format("input '{}' needs a string 'datatype'", tensor.name));
  }
  const std::string datatype = input["datatype"].get<std::string>();
  if (!IsNumericDatatype(datatype)) {
    return core::InvalidArgumentError(fmt::format(
        "input '{}' has datatype '{}'; this model takes numeric tensors (FP32, INT64, ...)",
        tensor.name, datatype));
  }
  if (!input.contains("shape") || !input["shape"].is_array()) {
    return core::InvalidArgumentError(fmt::format("input '{}' needs a 'shape' list", tensor.name));
  }
  int64_t elements = 1;
  for (const auto& dim : input["shape"]) {
    if (!dim.is_number_integer() || dim.get<int64_t>() < 0) {
      return core::InvalidArgumentError(
          fmt::format("input '{}' has shape {}; dimensions are non-negative integers", tensor.name,
                      input["shape"].dump()));
    }
    tensor.shape.push_back(dim.get<int64_t>());
    elements *= dim.get<int64_t>();
  }
  if (tensor.shape.empty()) {
    return core::InvalidArgumentError(
        fmt::format("input '{}' needs a batch dimension in its shape", tensor.name));
  }
  if (!input.contains("data")) {
    return core::InvalidArgumentError(fmt::format("input '{}' has no 'data'", tensor.name));
  }
  if (auto status = FlattenNumbers(input["data"], &tensor.values); !status.ok()) {
    return core::InvalidArgumentError(fmt::format("input '{}': {}", tensor.name, status.message()));
  }
  if (static_cast<int64_t>(tensor.values.size()) != elements) {
    return core::InvalidArgumentError(
        fmt::format("input '{}' has shape {} ({} elements) but {} data values", tensor.name,
                    input["shape"].dump(), elements, tensor.values.size()));
  }
  return tensor;
}

core::Result<Matrix> RowsFromInputs(const Json& inputs, const ModelSignature& signature,
                                    const std::string& model_name) {
  if (!inputs.is_array() || inputs.empty()) {
    return core::InvalidArgumentError("'inputs' must be a non-empty list of tensors");
  }
  std::vector<InputTensor> tensors;
  for (size_t index = 0; index < inputs.size(); ++index) {
    MLFORGE_ASSIGN_OR_RETURN(InputTensor tensor, ParseInput(inputs[index], index));
    tensors.push_back(std::move(tensor));
  }
  const int64_t width = signature.row_width();
  // One tensor holding whole rows.
  if (tensors.size() == 1 && tensors[0].name == signature.input.name) {
    InputTensor& tensor = tensors[0];
    const int64_t rows = tensor.shape[0];
    if (rows < 1 || static_cast<int64_t>(tensor.values.size()) != rows * width) {
      return core::InvalidArgumentError(
          fmt::format("input '{}' must be shaped [rows, ...] with {} values per row, like {}",
                      tensor.name, width, ShapeJson(signature.input.shape).dump()));
    }
    Matrix matrix;
    matrix.rows = rows;
    matrix.cols = width;
    matrix.values = std::move(tensor.values);
    return matrix;
  }
  if (signature.columns.empty()) {
    std::string names;
    for (const auto& tensor : tensors) names += (names.empty() ? "'" : ", '") + tensor.name + "'";
    return core::InvalidArgumentError(fmt::format("model '{}' has one input, '{}'; got input(s) {}",
                                                  model_name, signature.input.name, names));
  }
  // One tensor per column.
  Json columns = Json::object();
  for (const auto& tensor : tensors) {
    if (tensor.shape.size() > 2 || (tensor.shape.size() == 2 && tensor.shape[1] != 1)) {
      return core::InvalidArgumentError(
          fmt::format("column input '{}' must be shaped [rows] or [rows, 1]", tensor.name));
    }
    if (columns.contains(tensor.name)) {
      return core::InvalidArgumentError(fmt::format("input '{}' appears twice", tensor.name));
    }
    columns[tensor.name] = tensor.values;
  }
  return RowsFromColumnar(columns, signature);
}

Json OutputTensor(const std::string& name, const std::string& datatype, std::vector<int64_t> shape,
                  Json data) {
  return {{"name", name},
          {"datatype", datatype},
          {"shape", std::move(shape)},
          {"data", std::move(data)}};
}

class KserveV2 {
 public:
  explicit KserveV2(ModelRepository* repository) : repository_(repository) {}

  net::HttpResponse Live(const net::HttpRequest&) const { return JsonResponse({{"live", true}}); }

  net::HttpResponse Ready(const net::HttpRequest&) const {
    const bool ready = repository_->ready();
    return JsonResponse({{"ready", ready}}, ready ? 200 : 503);
  }

  net::HttpResponse ServerMetadata(const net::HttpRequest&) const {
    return JsonResponse(
        {{"name", "mlforge"}, {"version", MLFORGE_VERSION}, {"extensions", Json::array()}});
  }

  net::HttpResponse ModelMetadata(const net::HttpRequest& request) const {
    auto servable = Find(request);
    if (!servable.ok()) return ErrorResponse(servable.status());
    const ModelSignature& signature = (*servable)->model->signature();
    Json versions = Json::array();
    if (request.route.find("{version}") != std::string::npos) {
      versions.push_back(std::to_string((*servable)->version));
    } else {
      for (const auto& loaded : repository_->Versions((*servable)->name)) {
        versions.push_back(std::to_string(loaded->version));
      }
    }
    Json outputs = Json::array();
    if (signature.classifier) {
      outputs.push_back(TensorMetadata({"predictions", "INT64", {-1}}));
    }
    outputs.push_back(TensorMetadata(signature.output));
    return JsonResponse({{"name", (*servable)->name},
                         {"versions", versions},
                         {"platform", (*servable)->model->platform()},
                         {"inputs", Json::array({TensorMetadata(signature.input)})},
                         {"outputs", outputs}});
  }

  net::HttpResponse ModelReady(const net::HttpRequest& request) const {
    auto servable = Find(request);
    if (!servable.ok()) return ErrorResponse(servable.status());
    const bool ready = repository_->ready();
    return JsonResponse({{"name", (*servable)->name}, {"ready", ready}}, ready ? 200 : 503);
  }

  net::HttpResponse Infer(const net::HttpRequest& request) const {
    AnswerContext context(kProtocol, repository_->metrics());
    std::optional<net::HttpResponse> response = RunInfer(request, &context);
    if (!response) return {};  // deferred: the batcher's thread answers
    return context.Finish(std::move(*response));
  }

 private:
  core::Result<ServableHandle> Find(const net::HttpRequest& request) const {
    MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> version, ParseVersion(request));
    return repository_->Get(request.PathParam("name"), version);
  }

  // The answer, or nullopt once the request went to the batcher deferred.
  std::optional<net::HttpResponse> RunInfer(const net::HttpRequest& request,
                                            AnswerContext* context) const {
    auto servable = Find(request);
    if (!servable.ok()) return ErrorResponse(servable.status());
    context->model = (*servable)->name;
    context->version = std::to_string((*servable)->version);
    const ModelSignature& signature = (*servable)->model->signature();
    Batcher::Arrival arrival((*servable)->batcher.get());  // before parsing; see batcher.h
    auto document = ParseJsonBody(request.body);
    if (!document.ok()) return ErrorResponse(document.status());
    if (!document->is_object() || !document->contains("inputs")) {
      return ErrorResponse(
          core::InvalidArgumentError("an inference request is {\"inputs\": [{\"name\", \"shape\", "
                                     "\"datatype\", \"data\"}, ...]}"));
    }
    Json id;
    if (document->contains("id")) {
      if (!(*document)["id"].is_string()) {
        return ErrorResponse(core::InvalidArgumentError("'id' must be a string"));
      }
      id = (*document)["id"];
    }
    // Which outputs to send: all unless the request names some.
    std::vector<std::string> available;
    if (signature.classifier) available.push_back("predictions");
    available.push_back(signature.output.name);
    std::vector<std::string> wanted = available;
    if (document->contains("outputs")) {
      const Json& requested = (*document)["outputs"];
      if (!requested.is_array()) {
        return ErrorResponse(core::InvalidArgumentError("'outputs' must be a list of {\"name\"}"));
      }
      wanted.clear();
      for (const auto& output : requested) {
        if (!output.is_object() || !output.contains("name") || !output["name"].is_string()) {
          return ErrorResponse(core::InvalidArgumentError("each of 'outputs' needs a 'name'"));
        }
        std::string name = output["name"].get<std::string>();
        if (std::find(available.begin(), available.end(), name) == available.end()) {
          return ErrorResponse(core::InvalidArgumentError(
              fmt::format("model '{}' has no output '{}'", (*servable)->name, name)));
        }
        wanted.push_back(std::move(name));
      }
    }
    auto rows = RowsFromInputs((*document)["inputs"], signature, (*servable)->name);
    if (!rows.ok()) return ErrorResponse(rows.status());
    return PredictAndAnswer(
        request, *(*servable)->batcher, std::move(*rows), &arrival, *context,
        [model = (*servable)->model, name = (*servable)->name, version = context->version,
         wanted = std::move(wanted), id = std::move(id)](core::Result<Matrix> outputs) {
          if (!outputs.ok()) return ErrorResponse(outputs.status());
          const ModelSignature& signature = model->signature();
          Json tensors = Json::array();
          for (const auto& output : wanted) {
            if (output == "predictions" && signature.classifier) {
              Json classes = Json::array();
              for (int64_t row = 0; row < outputs->rows; ++row) {
                classes.push_back(ArgMax(*outputs, row));
              }
              tensors.push_back(OutputTensor(output, "INT64", {outputs->rows}, std::move(classes)));
            } else {
              tensors.push_back(OutputTensor(output, "FP32", {outputs->rows, outputs->cols},
                                             Json(outputs->values)));
            }
          }
          Json body = {{"model_name", name}, {"model_version", version}};
          if (!id.is_null()) body["id"] = id;
          body["outputs"] = std::move(tensors);
          return JsonResponse(body);
        });
  }

  ModelRepository* const repository_;
};

}  // namespace

void KserveV2Handler::AddRoutes(net::Router* router, ModelRepository* repository) {
  auto handler = std::make_shared<KserveV2>(repository);
  auto bind = [handler](net::HttpResponse (KserveV2::*method)(const net::HttpRequest&) const) {
    return
        [handler, method](const net::HttpRequest& request) { return (*handler.*method)(request); };
  };
  router->Get("/v2/health/live", bind(&KserveV2::Live));
  router->Get("/v2/health/ready", bind(&KserveV2::Ready));
  router->Get("/v2", bind(&KserveV2::ServerMetadata));
  router->Get("/v2/models/{name}", bind(&KserveV2::ModelMetadata));
  router->Get("/v2/models/{name}/versions/{version}", bind(&KserveV2::ModelMetadata));
  router->Get("/v2/models/{name}/ready", bind(&KserveV2::ModelReady));
  router->Get("/v2/models/{name}/versions/{version}/ready", bind(&KserveV2::ModelReady));
  router->Post("/v2/models/{name}/infer", bind(&KserveV2::Infer));
  router->Post("/v2/models/{name}/versions/{version}/infer", bind(&KserveV2::Infer));
}

}  // namespace mlforge::serving
