#include "train/evaluate_run.h"

#include "core/file.h"
#include "core/hash.h"
#include "core/ids.h"
#include "data/datasets.h"
#include "data/idx.h"
#include "registry/model_fetch.h"
#include "tracking/client.h"

namespace mlforge::train {
namespace {

struct LoadedData {
  data::Dataset dataset;
  std::string name;
  std::string digest;
  std::string source;
};

core::Result<LoadedData> LoadEvaluationData(const EvaluateOptions& options) {
  if (options.split != "test" && options.split != "train") {
    return core::InvalidArgumentError("--split must be test or train, not '" + options.split + "'");
  }
  std::filesystem::path folder = options.data;
  std::error_code error;
  const bool is_named =
      options.data.find('/') == std::string::npos && !std::filesystem::is_directory(folder, error);
  if (is_named) folder = options.data_dir / options.data;
  if (!std::filesystem::is_directory(folder, error)) {
    return core::NotFoundError("dataset '" + options.data + "' is not in " +
                               options.data_dir.string() + "; fetch it with: mlforge data get " +
                               options.data + " (or give a folder of IDX files)");
  }
  LoadedData loaded;
  if (std::filesystem::exists(folder / data::kManifestFile)) {
    MLFORGE_ASSIGN_OR_RETURN(data::Manifest manifest, data::ReadManifest(folder));
    MLFORGE_ASSIGN_OR_RETURN(loaded.dataset, data::LoadSplit(folder, options.split));
    loaded.name = manifest.name;
    loaded.digest = manifest.digest;
    loaded.source = manifest.source;
    return loaded;
  }
  const bool test = options.split == "test";
  const std::filesystem::path images =
      folder / (test ? data::kTestImagesFile : data::kTrainImagesFile);
  const std::filesystem::path labels =
      folder / (test ? data::kTestLabelsFile : data::kTrainLabelsFile);
  if (!std::filesystem::exists(images) || !std::filesystem::exists(labels)) {
    return core::NotFoundError(folder.string() + " has no manifest.json and no " +
                               images.filename().string() + " / " + labels.filename().string());
  }
  MLFORGE_ASSIGN_OR_RETURN(loaded.dataset, data::ReadIdxDataset(images, labels));
  MLFORGE_ASSIGN_OR_RETURN(loaded.digest, core::Sha256Tree(folder));
  loaded.name = std::filesystem::absolute(folder).lexically_normal().filename().string();
  loaded.source = std::filesystem::absolute(folder).lexically_normal().string();
  return loaded;
}

core::Status LogToRun(const EvaluateOptions& options, const EvaluateReport& report) {
  MLFORGE_ASSIGN_OR_RETURN(
      std::unique_ptr<tracking::Client> client,
      tracking::Client::Open(options.tracking_uri, "", {}, options.default_artifact_root));
  const int64_t now = core::NowMillis();
  std::vector<tracking::Metric> metrics = {
      tracking::Metric(report.split + "_loss", report.result.loss, now, 0)};
  if (report.result.classification) {
    metrics.emplace_back(report.split + "_accuracy", report.result.accuracy, now, 0);
  }
  MLFORGE_RETURN_IF_ERROR(client->store().LogBatch(options.run_id, metrics, {}, {}));
  tracking::DatasetInput input;
  nlohmann::json profile = {{"split", report.split}, {"rows", report.result.samples}};
  input.dataset = {report.dataset_name + "-" + report.split,
                   report.dataset_digest.substr(0, 16),
                   "local",
                   report.dataset_source,
                   "",
                   profile.dump()};
  input.tags = {{std::string(tracking::kDatasetContextTag), "evaluation"}};
  return client->store().LogInputs(options.run_id, {input});
}

}  // namespace

nlohmann::json EvaluateReport::ToJson() const {
  nlohmann::json per_class = nlohmann::json::array();
  for (const models::ClassAccuracy& entry : result.per_class) {
    per_class.push_back(
        {{"class", entry.name}, {"samples", entry.samples}, {"accuracy", entry.accuracy()}});
  }
  nlohmann::json json = {{"loss", result.loss},
                         {"samples", result.samples},
                         {"model_uri", model_uri},
                         {"model_folder", model_folder.string()},
                         {"dataset", dataset_name},
                         {"dataset_digest", dataset_digest},
                         {"dataset_source", dataset_source},
                         {"split", split},
                         {"run_id", run_id.empty() ? nlohmann::json() : nlohmann::json(run_id)}};
  if (result.classification) {
    json["accuracy"] = result.accuracy;
    json["per_class"] = per_class;
  }
  return json;
}

core::Result<EvaluateReport> EvaluateModel(const EvaluateOptions& options) {
  EvaluateReport report;
  report.model_uri = options.model_uri;
  report.split = options.split;
  MLFORGE_ASSIGN_OR_RETURN(LoadedData loaded, LoadEvaluationData(options));
  report.dataset_name = loaded.name;
  report.dataset_digest = loaded.digest;
  report.dataset_source = loaded.source;
  MLFORGE_ASSIGN_OR_RETURN(
      registry::FetchedModel fetched,
      registry::FetchModel(options.model_uri, {options.tracking_uri, options.registry_uri},
                           options.model_cache));
  report.model_folder = fetched.folder;
  MLFORGE_ASSIGN_OR_RETURN(models::Package package, models::LoadPackage(fetched.folder));
  MLFORGE_ASSIGN_OR_RETURN(report.result,
                           models::EvaluatePackage(package, loaded.dataset, options.batch_size));
  if (!options.run_id.empty()) {
    report.run_id = options.run_id;
    MLFORGE_RETURN_IF_ERROR(
        LogToRun(options, report).WithContext("logging the evaluation to run " + options.run_id));
  }
  if (!options.output.empty()) {
    MLFORGE_RETURN_IF_ERROR(core::WriteFileAtomic(options.output, report.ToJson().dump(2) + "\n"));
  }
  return report;
}

}  // namespace mlforge::train
