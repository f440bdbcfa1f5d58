#include "registry/register_model.h"

#include <filesystem>
#include <string>
#include <system_error>

namespace mlforge::registry {
namespace {

struct RunsUri {
  std::string run_id;
  std::string path;  // inside the run's artifacts; may be empty
};

// "runs:/RUN_ID[/PATH]" (MLflow also writes "runs:///RUN_ID/PATH").
core::Result<RunsUri> ParseRunsUri(std::string_view uri) {
  std::string_view rest = uri.substr(std::string_view("runs:/").size());
  while (rest.starts_with('/')) rest.remove_prefix(1);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  const size_t slash = rest.find('/');
  RunsUri parsed;
  parsed.run_id = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) parsed.path = std::string(rest.substr(slash + 1));
  if (parsed.run_id.empty()) {
    return core::InvalidArgumentError("Invalid runs URI '" + std::string(uri) +
                                      "': no run id. Write runs:/RUN_ID/PATH, for example "
                                      "runs:/0123abcd/model");
  }
  return parsed;
}

// The newest live logged model of `run` named `path`, or "".
core::Result<std::string> MatchingLoggedModel(tracking::Store& store, const tracking::Run& run,
                                              const std::string& path) {
  if (path.empty()) return std::string();
  // Run ids are hex; one that would need quoting in a filter has no
  // logged model this search could find.
  if (run.info.run_id.find_first_of("'\\") != std::string::npos) return std::string();
  core::Result<tracking::LoggedModelPage> page = store.SearchLoggedModels(
      {run.info.experiment_id}, "source_run_id = '" + run.info.run_id + "'", {},
      tracking::kSearchLoggedModelsMax, {}, "");
  // A store without logged models (an MLflow 2 server) is no reason to fail
  // the registration: the version just gets no model_id.
  if (!page.ok()) {
    if (page.status().code() == core::StatusCode::kNotFound ||
        page.status().code() == core::StatusCode::kUnimplemented) {
      return std::string();
    }
    return page.status();
  }
  // Newest first (the search's default order).
  for (const tracking::LoggedModel& model : page->models) {
    if (model.name == path) return model.model_id;
  }
  return std::string();
}

// A source that is not a URI and names a local folder, made absolute.
std::string AbsoluteIfLocal(std::string_view source) {
  if (source.find(":/") != std::string_view::npos) return std::string(source);
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(std::string(source), error);
  if (error) return std::string(source);
  return absolute.lexically_normal().string();
}

}  // namespace

core::Result<ModelVersion> RegisterModel(tracking::Store& tracking_store,
                                         RegistryStore& registry_store, std::string_view source,
                                         std::string_view name,
                                         const RegisterModelOptions& options) {
  if (name.empty()) {
    return core::InvalidArgumentError("A registered model needs a name, e.g. 'mnist'");
  }
  if (source.empty()) {
    return core::InvalidArgumentError(
        "No model source: give runs:/RUN_ID/PATH, a folder or an artifact URI");
  }
  std::string version_source;
  std::string run_id;
  std::string model_id;
  if (source.starts_with("runs:/")) {
    MLFORGE_ASSIGN_OR_RETURN(RunsUri parsed, ParseRunsUri(source));
    core::Result<tracking::Run> run = tracking_store.GetRun(parsed.run_id);
    if (!run.ok()) {
      if (run.status().code() == core::StatusCode::kNotFound) {
        return core::NotFoundError("Run '" + parsed.run_id + "' not found in " +
                                   options.tracking_store_name +
                                   ". Check the id with `mlforge runs list --all`, or pass the "
                                   "tracking URI the run was logged to with --tracking-uri");
      }
      return run.status().WithContext("Looking up run '" + parsed.run_id + "' in " +
                                      options.tracking_store_name);
    }
    version_source = run->info.artifact_uri;
    while (version_source.ends_with('/')) version_source.pop_back();
    if (!parsed.path.empty()) version_source += "/" + parsed.path;
    run_id = parsed.run_id;
    MLFORGE_ASSIGN_OR_RETURN(model_id, MatchingLoggedModel(tracking_store, *run, parsed.path));
  } else {
    version_source = AbsoluteIfLocal(source);
  }

  core::Result<RegisteredModel> existing = registry_store.GetRegisteredModel(name);
  if (!existing.ok()) {
    if (existing.status().code() != core::StatusCode::kNotFound) return existing.status();
    core::Result<RegisteredModel> created = registry_store.CreateRegisteredModel(name, {}, "");
    // Another client may have created it in between: that is fine.
    if (!created.ok() && created.status().code() != core::StatusCode::kAlreadyExists) {
      return created.status();
    }
  }
  MLFORGE_ASSIGN_OR_RETURN(
      ModelVersion version,
      registry_store.CreateModelVersion(name, version_source, run_id, {}, "", "", model_id));
  if (options.alias.empty()) return version;
  MLFORGE_RETURN_IF_ERROR(
      registry_store.SetRegisteredModelAlias(name, options.alias, version.version)
          .WithContext("Registered " + std::string(name) + " version " +
                       std::to_string(version.version) + ", but setting alias '" + options.alias +
                       "' failed"));
  return registry_store.GetModelVersion(name, version.version);
}

}  // namespace mlforge::registry
