#pragma once

// registry::RegisterModel: what MLflow's mlflow.register_model(model_uri,
// name) does, over one tracking store and one registry store:
//
//   MLFORGE_ASSIGN_OR_RETURN(ModelVersion version,
//       RegisterModel(tracking_store, registry_store, "runs:/<run-id>/model",
//                     "mnist", {.alias = "champion"}));
//
// 1. The source. For "runs:/RUN_ID[/PATH]" the run is looked up (NotFound,
//    naming the run id and `options.tracking_store_name`, when it is not
//    there) and the version's source is the run's artifact location joined
//    with PATH, its run_id the run. If the run has a live MLflow 3 logged
//    model (source_run_id = RUN_ID) whose name is PATH, the version's
//    model_id names it (the newest, when several do). Any other source (a
//    folder, "file://", "s3://", "mlflow-artifacts:/") is registered as
//    given, except that a relative or absolute local folder becomes an
//    absolute path, so the registry never depends on the working folder.
// 2. The registered model is created when missing.
// 3. A new version is created from the source; with options.alias set, the
//    alias is pointed at it (moved if it pointed elsewhere).
//
// Returns the new version as the registry has it after step 3 (aliases
// included). Errors: InvalidArgument for an empty name, a malformed runs:/
// URI or a bad alias; the stores' errors otherwise. Steps are not atomic: a
// failure to set the alias leaves the version registered.

#include <string>
#include <string_view>

#include "core/status.h"
#include "registry/entities.h"
#include "registry/registry_store.h"
#include "tracking/store.h"

namespace mlforge::registry {

struct RegisterModelOptions {
  // An alias to point at the new version ("champion"). Default: none.
  std::string alias;
  // How errors name the tracking store ("sqlite:///home/mlruns.db",
  // "http://127.0.0.1:5000"). Default: "the tracking store".
  std::string tracking_store_name = "the tracking store";
};

core::Result<ModelVersion> RegisterModel(tracking::Store& tracking_store,
                                         RegistryStore& registry_store, std::string_view source,
                                         std::string_view name,
                                         const RegisterModelOptions& options = {});

}  // namespace mlforge::registry
