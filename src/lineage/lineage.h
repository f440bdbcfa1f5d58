#pragma once

// Where a registered model version came from: `mlforge lineage`.
//
//   model version (registry)
//     <- source run: the version's run_id (or, for a version registered from
//        an MLflow 3 logged model, that model's source run), with its status,
//        params, latest metrics, dataset inputs (name, digest, source,
//        context), code version (mlflow.source.name, mlflow.source.type,
//        mlflow.source.git.commit, mlflow.project.entryPoint) and config
//        artifacts (top-level *.yaml / *.yml / MLproject files of the run)
//     <- parent run (the mlflow.parentRunId tag, as MLflow nests runs: a
//        pipeline run above its steps), and its parent, recursively
//
//   MLFORGE_ASSIGN_OR_RETURN(Lineage lineage,
//       TraceModelLineage(registry, tracking, "models:/mnist@champion", {uri}));
//   std::printf("%s", FormatLineage(lineage).c_str());
//
// A broken link (a run that no longer exists, a parent chain that loops, an
// artifact location that cannot be listed) does not fail the trace: the
// chain stops there and Lineage::notes says why.
//
// Thread safety: as the stores'.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "registry/entities.h"
#include "registry/registry_store.h"
#include "tracking/entities.h"
#include "tracking/store.h"

namespace mlforge::lineage {

struct DatasetRecord {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::string context;  // the mlflow.data.context input tag ("training", ...)
};

struct RunRecord {
  tracking::Run run;
  std::string experiment_name;  // empty when the experiment cannot be read
  std::vector<DatasetRecord> datasets;
  // Code version, from MLflow's system tags (empty when not recorded).
  std::string source_name;
  std::string source_type;
  std::string git_commit;
  std::string entry_point;
  // Top-level config files among the run's artifacts ("config.yaml").
  std::vector<std::string> config_artifacts;
  std::string parent_run_id;  // the mlflow.parentRunId tag
};

struct Lineage {
  std::string model_uri;
  registry::ModelVersion version;
  std::optional<RunRecord> source_run;  // absent when the version names no run
  std::vector<RunRecord> parents;       // source_run's parent first, then its parent, ...
  std::vector<std::string> notes;       // why the chain stops early, if it does
};

struct LineageOptions {
  // Reaches mlflow-artifacts:/ artifact URIs (a tracking server's proxy)
  // when listing config artifacts; may be empty for local stores.
  std::string tracking_uri;
  // Parent runs followed at most. Default 32.
  int max_parents = 32;
};

// The lineage of the version `model_uri` names (models:/NAME/VERSION,
// models:/NAME@ALIAS, models:/NAME/latest). Errors are ResolveModelUri's
// (registry/model_uri.h): InvalidArgument for another URI or an unknown
// alias, NotFound for a missing model or version.
core::Result<Lineage> TraceModelLineage(registry::RegistryStore& registry,
                                        tracking::Store& tracking, std::string_view model_uri,
                                        const LineageOptions& options);

// One run as the chain shows it. NotFound when there is no such run.
core::Result<RunRecord> DescribeRun(tracking::Store& tracking, std::string_view run_id,
                                    const LineageOptions& options);

// {"model_uri", "model": {...}, "run": {...} | null, "parents": [...],
// "notes": [...]}, every run with all its params, metrics and tags.
nlohmann::json LineageToJson(const Lineage& lineage);

// The human-readable chain, one "<-" step per link, with the key params
// (at most 12; --json has them all) and every latest metric.
std::string FormatLineage(const Lineage& lineage);

}  // namespace mlforge::lineage
