#include "lineage/lineage.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include "registry/model_uri.h"
#include "tracking/artifacts/artifact_repository.h"

namespace mlforge::lineage {
namespace {

constexpr std::string_view kParentRunTag = "mlflow.parentRunId";
constexpr size_t kTreeParams = 12;

// Params the tree shows first, when the run has them (mlforge train's config
// keys); the rest follow in key order until kTreeParams.
constexpr std::string_view kKeyParams[] = {
    "seed",           "model.kind",    "data.name",    "data.limit_train", "optimizer.name",
    "optimizer.lr",   "schedule.name", "train.epochs", "train.batch_size", "model.layers",
    "model.channels", "experiment"};

std::string TagValue(const tracking::Run& run, std::string_view key) {
  for (const auto& tag : run.data.tags) {
    if (tag.key == key) return tag.value;
  }
  return "";
}

std::string UtcTime(int64_t millis) {
  if (millis <= 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

std::string Number(double value) {
  if (std::isnan(value)) return "nan";
  return fmt::format("{:.6g}", value);
}

bool IsConfigArtifact(const std::string& name) {
  if (name == "MLproject") return true;
  for (std::string_view extension : {".yaml", ".yml"}) {
    if (name.size() > extension.size() &&
        name.compare(name.size() - extension.size(), extension.size(), extension) == 0) {
      return true;
    }
  }
  return false;
}

nlohmann::json RunToJson(const RunRecord& record) {
  const tracking::RunInfo& info = record.run.info;
  nlohmann::json params = nlohmann::json::object();
  for (const auto& param : record.run.data.params) params[param.key] = param.value;
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& metric : record.run.data.metrics) {
    metrics[metric.key] = std::isfinite(metric.value) ? nlohmann::json(metric.value)
                                                      : nlohmann::json(Number(metric.value));
  }
  nlohmann::json tags = nlohmann::json::object();
  for (const auto& tag : record.run.data.tags) tags[tag.key] = tag.value;
  nlohmann::json datasets = nlohmann::json::array();
  for (const DatasetRecord& dataset : record.datasets) {
    datasets.push_back({{"name", dataset.name},
                        {"digest", dataset.digest},
                        {"source_type", dataset.source_type},
                        {"source", dataset.source},
                        {"context", dataset.context}});
  }
  return {{"run_id", info.run_id},
          {"run_name", info.run_name},
          {"experiment_id", info.experiment_id},
          {"experiment_name", record.experiment_name},
          {"status", std::string(tracking::RunStatusName(info.status))},
          {"user_id", info.user_id},
          {"start_time", info.start_time},
          {"end_time", info.end_time ? nlohmann::json(*info.end_time) : nlohmann::json()},
          {"artifact_uri", info.artifact_uri},
          {"params", params},
          {"metrics", metrics},
          {"tags", tags},
          {"datasets", datasets},
          {"code",
           {{"source_name", record.source_name},
            {"source_type", record.source_type},
            {"git_commit", record.git_commit},
            {"entry_point", record.entry_point}}},
          {"config_artifacts", record.config_artifacts},
          {"parent_run_id",
           record.parent_run_id.empty() ? nlohmann::json() : nlohmann::json(record.parent_run_id)}};
}

void AppendRun(std::string& out, const RunRecord& record, const std::string& label) {
  const tracking::RunInfo& info = record.run.info;
  out += fmt::format("  <- {} {}  {}  {}", label, info.run_id, info.run_name,
                     tracking::RunStatusName(info.status));
  if (!record.experiment_name.empty()) {
    out += fmt::format("  experiment {} ({})", record.experiment_name, info.experiment_id);
  }
  out += "\n";
  std::string when = UtcTime(info.start_time);
  if (info.end_time && *info.end_time >= info.start_time) {
    when += fmt::format(", {:.1f} s", static_cast<double>(*info.end_time - info.start_time) / 1e3);
  }
  out += fmt::format("       started   {}\n", when);

  const auto& params = record.run.data.params;
  if (!params.empty()) {
    std::vector<const tracking::Param*> shown;
    for (std::string_view key : kKeyParams) {
      for (const auto& param : params) {
        if (param.key == key) shown.push_back(&param);
      }
    }
    for (const auto& param : params) {
      if (shown.size() >= kTreeParams) break;
      if (std::find(shown.begin(), shown.end(), &param) == shown.end()) shown.push_back(&param);
    }
    std::string line;
    for (const tracking::Param* param : shown) {
      line += fmt::format("{}{}={}", line.empty() ? "" : "  ", param->key, param->value);
    }
    if (params.size() > shown.size()) {
      line += fmt::format("  (+{} more, --json shows all)", params.size() - shown.size());
    }
    out += fmt::format("       params    {}\n", line);
  }
  if (!record.run.data.metrics.empty()) {
    std::string line;
    for (const auto& metric : record.run.data.metrics) {
      line += fmt::format("{}{}={}", line.empty() ? "" : "  ", metric.key, Number(metric.value));
    }
    out += fmt::format("       metrics   {}\n", line);
  }
  for (const DatasetRecord& dataset : record.datasets) {
    out += fmt::format("       dataset   {}  digest {}  source {}{}\n", dataset.name,
                       dataset.digest.empty() ? "-" : dataset.digest,
                       dataset.source.empty() ? "-" : dataset.source,
                       dataset.context.empty() ? "" : "  (" + dataset.context + ")");
  }
  if (!record.source_name.empty() || !record.git_commit.empty()) {
    out += fmt::format(
        "       code      {}{}{}{}\n", record.source_name.empty() ? "-" : record.source_name,
        record.source_type.empty() ? "" : "  (" + record.source_type + ")",
        record.entry_point.empty() ? "" : "  entry point " + record.entry_point,
        record.git_commit.empty() ? "  git commit not recorded" : "  git " + record.git_commit);
  }
  if (!record.config_artifacts.empty()) {
    std::string line;
    for (const std::string& name : record.config_artifacts) {
      line += (line.empty() ? "" : ", ") + name;
    }
    out +=
        fmt::format("       config    {}  (artifacts of the run: {})\n", line, info.artifact_uri);
  }
}

}  // namespace

core::Result<RunRecord> DescribeRun(tracking::Store& tracking, std::string_view run_id,
                                    const LineageOptions& options) {
  RunRecord record;
  MLFORGE_ASSIGN_OR_RETURN(record.run, tracking.GetRun(run_id));
  if (auto experiment = tracking.GetExperiment(record.run.info.experiment_id); experiment.ok()) {
    record.experiment_name = experiment->name;
  }
  for (const auto& input : record.run.inputs.dataset_inputs) {
    DatasetRecord dataset{input.dataset.name, input.dataset.digest, input.dataset.source_type,
                          input.dataset.source, ""};
    for (const auto& tag : input.tags) {
      if (tag.key == tracking::kDatasetContextTag) dataset.context = tag.value;
    }
    record.datasets.push_back(std::move(dataset));
  }
  record.source_name = TagValue(record.run, "mlflow.source.name");
  record.source_type = TagValue(record.run, "mlflow.source.type");
  record.git_commit = TagValue(record.run, "mlflow.source.git.commit");
  record.entry_point = TagValue(record.run, "mlflow.project.entryPoint");
  record.parent_run_id = TagValue(record.run, kParentRunTag);
  if (!record.run.info.artifact_uri.empty()) {
    auto repository =
        tracking::ArtifactRepository::Open(record.run.info.artifact_uri, options.tracking_uri);
    if (repository.ok()) {
      auto entries = (*repository)->List("");
      if (entries.ok()) {
        for (const auto& entry : *entries) {
          if (entry.is_dir) continue;
          const std::string name = std::filesystem::path(entry.path).filename().string();
          if (IsConfigArtifact(name)) record.config_artifacts.push_back(name);
        }
        std::sort(record.config_artifacts.begin(), record.config_artifacts.end());
      }
    }
  }
  return record;
}

core::Result<Lineage> TraceModelLineage(registry::RegistryStore& registry,
                                        tracking::Store& tracking, std::string_view model_uri,
                                        const LineageOptions& options) {
  Lineage lineage;
  lineage.model_uri = std::string(model_uri);
  MLFORGE_ASSIGN_OR_RETURN(registry::ResolvedModelUri resolved,
                           registry::ResolveModelUri(registry, model_uri));
  MLFORGE_ASSIGN_OR_RETURN(lineage.version,
                           registry.GetModelVersion(resolved.name, resolved.version));
  std::string run_id = lineage.version.run_id;
  if (run_id.empty() && !lineage.version.model_id.empty()) {
    auto logged = tracking.GetLoggedModel(lineage.version.model_id);
    if (logged.ok()) {
      run_id = logged->source_run_id;
    } else {
      lineage.notes.push_back("logged model " + lineage.version.model_id +
                              " cannot be read: " + logged.status().message());
    }
  }
  if (run_id.empty()) {
    lineage.notes.push_back(fmt::format("{} version {} names no source run (registered from {})",
                                        lineage.version.name, lineage.version.version,
                                        lineage.version.source));
    return lineage;
  }
  auto source = DescribeRun(tracking, run_id, options);
  if (!source.ok()) {
    lineage.notes.push_back("source run " + run_id + ": " + source.status().message());
    return lineage;
  }
  lineage.source_run = std::move(source).value();
  std::set<std::string> seen = {run_id};
  std::string parent = lineage.source_run->parent_run_id;
  while (!parent.empty()) {
    if (seen.count(parent) != 0) {
      lineage.notes.push_back("parent run " + parent + " appears twice: the chain loops");
      break;
    }
    if (static_cast<int>(lineage.parents.size()) >= options.max_parents) {
      lineage.notes.push_back(
          fmt::format("stopped after {} parent runs (at {})", options.max_parents, parent));
      break;
    }
    seen.insert(parent);
    auto record = DescribeRun(tracking, parent, options);
    if (!record.ok()) {
      lineage.notes.push_back("parent run " + parent + ": " + record.status().message());
      break;
    }
    parent = record->parent_run_id;
    lineage.parents.push_back(std::move(record).value());
  }
  return lineage;
}

nlohmann::json LineageToJson(const Lineage& lineage) {
  const registry::ModelVersion& version = lineage.version;
  nlohmann::json parents = nlohmann::json::array();
  for (const RunRecord& record : lineage.parents) parents.push_back(RunToJson(record));
  return {{"model_uri", lineage.model_uri},
          {"model",
           {{"name", version.name},
            {"version", version.version},
            {"status", std::string(registry::ModelVersionStatusName(version.status))},
            {"stage", version.current_stage},
            {"source", version.source},
            {"run_id", version.run_id},
            {"model_id", version.model_id},
            {"aliases", version.aliases},
            {"creation_timestamp", version.creation_timestamp}}},
          {"run", lineage.source_run ? RunToJson(*lineage.source_run) : nlohmann::json()},
          {"parents", parents},
          {"notes", lineage.notes}};
}

std::string FormatLineage(const Lineage& lineage) {
  const registry::ModelVersion& version = lineage.version;
  std::string out =
      fmt::format("model {} version {}  {}  stage {}", version.name, version.version,
                  registry::ModelVersionStatusName(version.status), version.current_stage);
  if (!version.aliases.empty()) {
    std::string aliases;
    for (const std::string& alias : version.aliases)
      aliases += (aliases.empty() ? "" : ", ") + alias;
    out += "  aliases " + aliases;
  }
  out += fmt::format("\n       uri       {}\n       source    {}\n       created   {}\n",
                     lineage.model_uri, version.source, UtcTime(version.creation_timestamp));
  if (lineage.source_run) AppendRun(out, *lineage.source_run, "run");
  for (const RunRecord& record : lineage.parents) AppendRun(out, record, "parent run");
  for (const std::string& note : lineage.notes) out += "  note: " + note + "\n";
  return out;
}

}  // namespace mlforge::lineage
