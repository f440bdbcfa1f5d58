#include "serving/torch/serve_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "data/idx.h"
#include "models/package.h"
#include "net/http_client.h"
#include "serving/model_server.h"
#include "serving/rows.h"
#include "serving/torch/torch_model.h"

namespace mlforge::serving {
namespace {

// Whether two predictions agree: equal class indices, or numbers within a
// small relative tolerance (batches of other sizes may round differently).
bool Agree(const nlohmann::json& served, const nlohmann::json& direct) {
  if (served.is_array() != direct.is_array()) return false;
  if (served.is_array()) {
    if (served.size() != direct.size()) return false;
    for (size_t index = 0; index < served.size(); ++index) {
      if (!Agree(served[index], direct[index])) return false;
    }
    return true;
  }
  if (!served.is_number() || !direct.is_number()) return served == direct;
  if (served.is_number_integer() && direct.is_number_integer()) return served == direct;
  const double left = served.get<double>();
  const double right = direct.get<double>();
  return std::fabs(left - right) <= 1e-4 * std::max(1.0, std::fabs(right));
}

}  // namespace

core::Result<ServeCheckReport> RunServeCheck(const ServeCheckOptions& options) {
  if (options.rows_per_request < 1) {
    return core::InvalidArgumentError("rows per request must be at least 1");
  }
  ModelServer::Options server_options;
  Batcher::Options batching;
  batching.wait_for_announced = true;
  server_options.models.push_back({"", options.model_uri, 1, batching});
  server_options.stores = options.stores;
  server_options.cache_root = options.cache_root;
  server_options.poll_interval = std::chrono::milliseconds(0);
  server_options.http.host = "127.0.0.1";
  server_options.http.port = 0;
  server_options.http.worker_threads = 4;
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<ModelServer> server,
                           ModelServer::Start(std::move(server_options), TorchModelLoader()));
  const ModelServer::ServedModel served = server->models().front();
  ServeCheckReport report;
  report.model_name = served.name;
  report.version = served.version;
  report.address = server->address();

  // The rows, read as `mlforge predict` reads them, flattened to the
  // served signature's width.
  MLFORGE_ASSIGN_OR_RETURN(models::PackageInfo info, models::ReadPackageInfo(served.folder));
  MLFORGE_ASSIGN_OR_RETURN(torch::Tensor inputs,
                           models::ReadInputs(options.input, options.format, info, options.limit));
  const ModelSignature& signature = served.signature;
  const int64_t width = signature.row_width();
  Matrix rows;
  try {
    torch::Tensor flat = inputs.to(torch::kFloat32).contiguous().reshape({inputs.size(0), -1});
    if (flat.size(1) != width) {
      return core::InvalidArgumentError(fmt::format("{}: rows have {} values, the model takes {}",
                                                    options.input.string(), flat.size(1), width));
    }
    rows = Matrix(flat.size(0), width);
    std::copy(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel(), rows.values.begin());
  } catch (const std::exception& error) {
    return core::InvalidArgumentError(options.input.string() + ": " + error.what());
  }
  if (rows.rows == 0) return core::InvalidArgumentError(options.input.string() + " has no rows");

  // What the model itself says, to check the served answers against.
  MLFORGE_ASSIGN_OR_RETURN(ServableHandle servable,
                           server->repository().Get(served.name, served.version));
  MLFORGE_ASSIGN_OR_RETURN(Matrix direct_outputs, servable->model->Predict(rows));
  const Json direct = Predictions(signature, direct_outputs);

  Json columns = Json::array();
  if (!signature.columns.empty()) {
    for (const auto& column : signature.columns) columns.push_back(column);
  } else {
    for (int64_t column = 0; column < width; ++column)
      columns.push_back(fmt::format("x{}", column));
  }
  MLFORGE_ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> client,
                           net::HttpClient::Connect("127.0.0.1", server->port()));
  report.predictions = Json::array();
  for (int64_t first = 0; first < rows.rows; first += options.rows_per_request) {
    const int64_t last = std::min(rows.rows, first + options.rows_per_request);
    Json data = Json::array();
    for (int64_t row = first; row < last; ++row) {
      data.push_back(std::vector<float>(rows.values.begin() + row * width,
                                        rows.values.begin() + (row + 1) * width));
    }
    const Json body = {{"dataframe_split", {{"columns", columns}, {"data", std::move(data)}}}};
    MLFORGE_ASSIGN_OR_RETURN(net::HttpResponse response, client->Post("/invocations", body.dump()));
    ++report.requests;
    if (response.status != 200) {
      return core::InternalError(fmt::format("POST /invocations (rows {}-{}) answered {}: {}",
                                             first, last - 1, response.status, response.body));
    }
    Json answer = Json::parse(response.body, nullptr, false);
    if (answer.is_discarded() || !answer.contains("predictions") ||
        !answer["predictions"].is_array() ||
        static_cast<int64_t>(answer["predictions"].size()) != last - first) {
      return core::InternalError(
          fmt::format("POST /invocations (rows {}-{}) answered no list of {} predictions: {}",
                      first, last - 1, last - first, response.body.substr(0, 200)));
    }
    for (int64_t row = first; row < last; ++row) {
      const Json& prediction = answer["predictions"][static_cast<size_t>(row - first)];
      if (!Agree(prediction, direct[static_cast<size_t>(row)])) {
        return core::InternalError(
            fmt::format("row {}: the server answered {} but the model itself gives {}", row,
                        prediction.dump(), direct[static_cast<size_t>(row)].dump()));
      }
      report.predictions.push_back(prediction);
    }
  }
  report.rows = rows.rows;

  if (!options.labels.empty()) {
    if (!signature.classifier) {
      return core::InvalidArgumentError("--labels needs a classifier; this model is not one");
    }
    MLFORGE_ASSIGN_OR_RETURN(data::IdxArray labels, data::ReadIdx(options.labels));
    if (static_cast<int64_t>(labels.data.size()) < report.rows) {
      return core::InvalidArgumentError(fmt::format("{} has {} labels for {} rows",
                                                    options.labels.string(), labels.data.size(),
                                                    report.rows));
    }
    int64_t correct = 0;
    for (int64_t row = 0; row < report.rows; ++row) {
      correct += report.predictions[static_cast<size_t>(row)].get<int64_t>() ==
                 labels.data[static_cast<size_t>(row)];
    }
    report.accuracy = static_cast<double>(correct) / static_cast<double>(report.rows);
  }
  server->Drain();
  return report;
}

}  // namespace mlforge::serving
