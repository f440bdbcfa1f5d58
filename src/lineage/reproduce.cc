#include "lineage/reproduce.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/config.h"
#include "core/hash.h"
#include "data/datasets.h"
#include "tracking/artifacts/artifact_repository.h"

namespace mlforge::lineage {
namespace {

std::string TagValue(const tracking::Run& run, std::string_view key) {
  for (const auto& tag : run.data.tags) {
    if (tag.key == key) return tag.value;
  }
  return "";
}

// The recorded digest matches the local one: equal, or the recorded one is
// the 16-character prefix that dataset inputs carry.
bool DigestsMatch(const std::string& recorded, const std::string& local) {
  if (recorded.empty() || local.empty()) return false;
  return local.size() >= recorded.size() && local.compare(0, recorded.size(), recorded) == 0;
}

// The config rebuilt from params that are the flattened config: each value
// parsed as YAML, as --set does.
core::Result<std::string> ConfigFromParams(const tracking::Run& run) {
  core::Config config;
  for (const auto& param : run.data.params) {
    MLFORGE_RETURN_IF_ERROR(config.Set(param.key, param.value)
                                .WithContext("rebuilding the config from param " + param.key));
  }
  return config.ToYaml();
}

// Checks the dataset files of `folder` against its manifest and returns the
// manifest's digest.
core::Result<std::string> VerifiedDatasetDigest(const std::filesystem::path& folder,
                                                const std::string& name) {
  auto manifest = data::ReadManifest(folder);
  if (!manifest.ok()) {
    return core::NotFoundError("dataset '" + name + "' is not in " + folder.parent_path().string() +
                               "; fetch it with: mlforge data get " + name +
                               " (or give --data-dir)");
  }
  for (const auto& [file, digest] : manifest->files) {
    MLFORGE_ASSIGN_OR_RETURN(std::string actual, core::Sha256File(folder / file));
    if (actual != digest) {
      return core::FailedPreconditionError(
          fmt::format("{} has changed since it was fetched (SHA-256 {} where manifest.json says "
                      "{}); fetch it again with: mlforge data get {}",
                      (folder / file).string(), actual, digest, name));
    }
  }
  return manifest->digest;
}

}  // namespace

core::Result<ReproductionPlan> PlanReproduction(tracking::Store& store, std::string_view run_id,
                                                const std::string& tracking_uri,
                                                const std::filesystem::path& data_dir) {
  ReproductionPlan plan;
  MLFORGE_ASSIGN_OR_RETURN(plan.source, store.GetRun(run_id));
  const tracking::Run& source = plan.source;
  if (source.info.status != tracking::RunStatus::kFinished) {
    return core::FailedPreconditionError(
        fmt::format("run {} is {}: only a FINISHED run has the metrics to compare against",
                    source.info.run_id, tracking::RunStatusName(source.info.status)));
  }
  MLFORGE_ASSIGN_OR_RETURN(tracking::Experiment experiment,
                           store.GetExperiment(source.info.experiment_id));
  plan.experiment_name = experiment.name;
  plan.config_source = TagValue(source, "mlflow.source.name");
  if (plan.config_source.empty()) plan.config_source = "run " + source.info.run_id;

  std::string artifact_error = "the run has no artifact location";
  if (!source.info.artifact_uri.empty()) {
    auto repository = tracking::ArtifactRepository::Open(source.info.artifact_uri, tracking_uri);
    if (repository.ok()) {
      auto text = (*repository)->Read("config.yaml");
      if (text.ok()) {
        plan.config_yaml = *text;
        plan.config_origin = "artifact config.yaml";
      } else {
        artifact_error = text.status().message();
      }
    } else {
      artifact_error = repository.status().message();
    }
  }
  if (plan.config_yaml.empty()) {
    if (source.data.params.empty()) {
      return core::FailedPreconditionError(
          "run " + source.info.run_id +
          " records no config to reproduce: no config.yaml artifact (" + artifact_error +
          ") and no params");
    }
    MLFORGE_ASSIGN_OR_RETURN(plan.config_yaml, ConfigFromParams(source));
    plan.config_origin = "params";
  }
  MLFORGE_ASSIGN_OR_RETURN(core::Config config,
                           core::Config::Parse(plan.config_yaml, plan.config_source));

  const std::string threads = TagValue(source, "mlforge.intra_op_threads");
  if (!threads.empty() && threads.find_first_not_of("0123456789") == std::string::npos &&
      threads.size() < 5) {
    plan.intra_op_threads = std::stoi(threads);
  }
  plan.recorded_digest = TagValue(source, "mlforge.dataset.digest");
  plan.dataset_name = TagValue(source, "mlforge.dataset.name");
  for (const auto& input : source.inputs.dataset_inputs) {
    bool training = true;
    for (const auto& tag : input.tags) {
      if (tag.key == tracking::kDatasetContextTag) training = tag.value == "training";
    }
    if (!training) continue;
    if (plan.recorded_digest.empty()) plan.recorded_digest = input.dataset.digest;
    if (plan.dataset_name.empty()) plan.dataset_name = input.dataset.name;
    break;
  }
  if (plan.recorded_digest.empty()) {
    return core::FailedPreconditionError(
        "run " + source.info.run_id +
        " records no dataset digest (no mlforge.dataset.digest tag, no training dataset input), "
        "so its data cannot be checked");
  }
  if (config.Has("data.csv")) {
    MLFORGE_ASSIGN_OR_RETURN(std::string train_path, config.String("data.csv.train"));
    plan.local_data = train_path;
    auto digest = core::Sha256File(train_path);
    if (!digest.ok()) {
      return core::NotFoundError("the run trained on " + train_path + ", which is not here");
    }
    plan.local_digest = *digest;
  } else {
    MLFORGE_ASSIGN_OR_RETURN(std::string name, config.String("data.name"));
    plan.dataset_name = name;
    plan.local_data = data_dir / name;
    MLFORGE_ASSIGN_OR_RETURN(plan.local_digest, VerifiedDatasetDigest(plan.local_data, name));
  }
  if (!DigestsMatch(plan.recorded_digest, plan.local_digest)) {
    return core::FailedPreconditionError(fmt::format(
        "the local data {} has digest {}, but run {} trained on digest {}: it is other data. Fetch "
        "the data the run used, or point --data-dir at a copy of it",
        plan.local_data.string(), plan.local_digest, source.info.run_id, plan.recorded_digest));
  }
  return plan;
}

bool ReproductionReport::matches() const {
  return !checks.empty() &&
         std::all_of(checks.begin(), checks.end(), [](const MetricCheck& c) { return c.matches; });
}

bool IsTimingMetric(std::string_view key) {
  auto ends_with = [&](std::string_view suffix) {
    return key.size() >= suffix.size() && key.substr(key.size() - suffix.size()) == suffix;
  };
  return key.rfind("samples_per_second", 0) == 0 || ends_with("_seconds") || key == "restarts";
}

ReproductionReport CompareRuns(const tracking::Run& source, const tracking::Run& reproduced,
                               double tolerance) {
  ReproductionReport report;
  report.source_run_id = source.info.run_id;
  report.new_run_id = reproduced.info.run_id;
  std::map<std::string, double> latest;
  for (const auto& metric : reproduced.data.metrics) latest[metric.key] = metric.value;
  for (const auto& metric : source.data.metrics) {
    auto found = latest.find(metric.key);
    if (IsTimingMetric(metric.key) || found == latest.end()) {
      report.skipped.push_back(metric.key);
      continue;
    }
    MetricCheck check;
    check.key = metric.key;
    check.recorded = metric.value;
    check.reproduced = found->second;
    if (std::isnan(check.recorded) || std::isnan(check.reproduced)) {
      check.matches = std::isnan(check.recorded) && std::isnan(check.reproduced);
      check.difference = check.matches ? 0 : std::nan("");
    } else {
      check.difference = std::fabs(check.recorded - check.reproduced);
      check.matches = check.difference <= tolerance * std::max(1.0, std::fabs(check.recorded));
    }
    report.checks.push_back(check);
  }
  return report;
}

core::Result<ReproductionReport> Reproduce(tracking::Store& store, std::string_view run_id,
                                           const std::string& tracking_uri,
                                           const std::filesystem::path& data_dir, double tolerance,
                                           int intra_op_threads, const Trainer& train) {
  MLFORGE_ASSIGN_OR_RETURN(ReproductionPlan plan,
                           PlanReproduction(store, run_id, tracking_uri, data_dir));
  TrainRequest request;
  request.config_yaml = plan.config_yaml;
  request.config_source = plan.config_source;
  request.experiment_name = plan.experiment_name;
  request.tags = {{kReproductionSourceTag, plan.source.info.run_id}};
  request.intra_op_threads = intra_op_threads > 0 ? intra_op_threads : plan.intra_op_threads;
  MLFORGE_ASSIGN_OR_RETURN(std::string new_run_id, train(request));
  MLFORGE_ASSIGN_OR_RETURN(tracking::Run reproduced, store.GetRun(new_run_id));
  ReproductionReport report = CompareRuns(plan.source, reproduced, tolerance);
  MLFORGE_RETURN_IF_ERROR(
      store.SetTag(new_run_id, {kReproductionMatchesTag, report.matches() ? "true" : "false"}));
  return report;
}

std::string FormatReport(const ReproductionReport& report, double tolerance) {
  std::string out = fmt::format("{:<24} {:>14} {:>14} {:>11}  {}\n", "METRIC", "RECORDED",
                                "REPRODUCED", "DIFFERENCE", "");
  for (const MetricCheck& check : report.checks) {
    out += fmt::format("{:<24} {:>14.8g} {:>14.8g} {:>11.3g}  {}\n", check.key, check.recorded,
                       check.reproduced, check.difference, check.matches ? "ok" : "MISMATCH");
  }
  if (!report.skipped.empty()) {
    std::string skipped;
    for (const std::string& key : report.skipped) skipped += (skipped.empty() ? "" : ", ") + key;
    out += "not compared (timing, or not logged by the reproduction): " + skipped + "\n";
  }
  if (report.matches()) {
    out += fmt::format("run {} reproduces run {}: {} metric(s) match within {:g}\n",
                       report.new_run_id, report.source_run_id, report.checks.size(), tolerance);
  } else if (report.checks.empty()) {
    out += fmt::format("run {} and run {} have no metric in common to compare\n", report.new_run_id,
                       report.source_run_id);
  } else {
    const auto mismatches = std::count_if(report.checks.begin(), report.checks.end(),
                                          [](const MetricCheck& c) { return !c.matches; });
    out += fmt::format(
        "run {} does NOT reproduce run {}: {} of {} metric(s) differ by more than {:g}\n",
        report.new_run_id, report.source_run_id, mismatches, report.checks.size(), tolerance);
  }
  return out;
}

}  // namespace mlforge::lineage
