#pragma once

// registry::RegistryStore: where registered models, their numbered versions,
// tags and aliases live. One abstract interface in the words of MLflow's
// model registry service; the SQL registry store (registry/sql/) implements
// it once for SQLite (registry/sqlite/) and PostgreSQL (registry/postgres/),
// each on the same database as the tracking store. SQL never leaves an
// implementation.
//
// Semantics follow MLflow's SQLAlchemy registry store
// (mlflow/store/model_registry/sqlalchemy_store.py):
//  - Model names are unique. Renaming keeps every version, tag and alias.
//    Deleting a model deletes its versions, tags and aliases.
//  - Versions are numbered 1, 2, ... per model: a new version gets one more
//    than the highest number the model ever had, so a number is never
//    reused, even after its version is deleted. A new version is READY at
//    once, in stage "None".
//  - A deleted version is gone for every call (NotFound), and every alias
//    that pointed at it is deleted with it.
//  - An alias names one version of its model; setting it again moves it.
//  - Stages are None, Staging, Production and Archived, named in any case.
//    Transitioning with archive_existing_versions moves every other version
//    in the target stage (Staging or Production only) to Archived.
//  - Writes to a version or model bump its last_updated_timestamp; creating
//    or transitioning a version also bumps the model's.
//  - Deleting a tag or alias that does not exist is not an error (the model
//    or version must exist).
//  - Registered models tagged mlflow.prompt.is_prompt = 'true' (MLflow
//    prompts) are left out of SearchRegisteredModels unless the filter asks
//    for them with tags.`mlflow.prompt.is_prompt` = 'true'.
//
// Errors (REST error code in brackets): NotFound for a missing model or
// version [RESOURCE_DOES_NOT_EXIST]; AlreadyExists for a duplicate model name
// [RESOURCE_ALREADY_EXISTS]; InvalidArgument for bad input, a bad filter,
// order_by or page token, and an unknown alias in GetModelVersionByAlias (as
// MLflow) [INVALID_PARAMETER_VALUE]; Unavailable when the database is busy
// or unreachable; Internal for anything else from the database.
//
// Thread safety: every method may be called from many threads at once. A
// store returned by a factory is owned by the caller and must outlive every
// call in flight.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "registry/entities.h"

namespace mlforge::registry {

struct RegisteredModelPage {
  std::vector<RegisteredModel> registered_models;
  std::string next_page_token;  // empty on the last page
};

struct ModelVersionPage {
  std::vector<ModelVersion> model_versions;
  std::string next_page_token;  // empty on the last page
};

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  // ---- Registered models -------------------------------------------------

  // Creates a model with no versions. Tags with the same key: the last wins.
  // AlreadyExists when the name is taken; InvalidArgument for an empty name
  // or a bad tag.
  virtual core::Result<RegisteredModel> CreateRegisteredModel(
      std::string_view name, const std::vector<RegisteredModelTag>& tags,
      std::string_view description) = 0;

  // The model with its tags, aliases and latest version per stage.
  // NotFound if none.
  virtual core::Result<RegisteredModel> GetRegisteredModel(std::string_view name) = 0;

  // Renames the model; its versions, tags and aliases follow. NotFound;
  // AlreadyExists when another model has `new_name`; InvalidArgument for an
  // empty `new_name`.
  virtual core::Result<RegisteredModel> RenameRegisteredModel(std::string_view name,
                                                              std::string_view new_name) = 0;

  // Replaces the description (empty clears it, as MLflow does when none is
  // sent). NotFound.
  virtual core::Result<RegisteredModel> UpdateRegisteredModel(std::string_view name,
                                                              std::string_view description) = 0;

  // Deletes the model and everything under it. NotFound.
  virtual core::Status DeleteRegisteredModel(std::string_view name) = 0;

  // One page of models matching `filter` (registry/search_filter.h), ordered
  // by `order_by` clauses, then by name ASC. 1 <= max_results <=
  // kSearchRegisteredModelsThreshold. `page_token` is empty or a
  // next_page_token of the same query.
  virtual core::Result<RegisteredModelPage> SearchRegisteredModels(
      std::string_view filter, int max_results, const std::vector<std::string>& order_by,
      std::string_view page_token) = 0;

  // The highest-numbered version in each of `stages` (any case; empty means
  // every stage) that has one, with aliases, in the order of kAllStages.
  // NotFound for the model; InvalidArgument for an unknown stage.
  virtual core::Result<std::vector<ModelVersion>> GetLatestVersions(
      std::string_view name, const std::vector<std::string>& stages) = 0;

  // Sets (inserts or replaces) a tag. NotFound; InvalidArgument.
  virtual core::Status SetRegisteredModelTag(std::string_view name,
                                             const RegisteredModelTag& tag) = 0;
  // Deletes a tag if present. NotFound for the model.
  virtual core::Status DeleteRegisteredModelTag(std::string_view name, std::string_view key) = 0;

  // ---- Aliases -----------------------------------------------------------

  // Points `alias` at `version`, moving it if it pointed elsewhere. NotFound
  // when the version does not exist; InvalidArgument for a bad alias.
  virtual core::Status SetRegisteredModelAlias(std::string_view name, std::string_view alias,
                                               int64_t version) = 0;
  // Deletes the alias if present. NotFound for the model.
  virtual core::Status DeleteRegisteredModelAlias(std::string_view name,
                                                  std::string_view alias) = 0;
  // The version `alias` points at. InvalidArgument "Registered model alias
  // <alias> not found." when the model has no such alias (MLflow's code).
  virtual core::Result<ModelVersion> GetModelVersionByAlias(std::string_view name,
                                                            std::string_view alias) = 0;

  // ---- Model versions ----------------------------------------------------

  // Registers the next version of model `name` from `source` (an artifact
  // URI, or MLflow 3's "models:/<model_id>"), READY and in stage None.
  // `model_id` names the MLflow 3 logged model the version was made from
  // (kept as given: the caller checks it). Empty strings mean "not given".
  // Numbers are assigned inside one write transaction, so concurrent calls
  // never collide. NotFound for the model; InvalidArgument for a bad tag.
  virtual core::Result<ModelVersion> CreateModelVersion(
      std::string_view name, std::string_view source, std::string_view run_id,
      const std::vector<ModelVersionTag>& tags, std::string_view run_link,
      std::string_view description, std::string_view model_id) = 0;

  // The version with its tags and aliases. NotFound (also for a deleted one).
  virtual core::Result<ModelVersion> GetModelVersion(std::string_view name, int64_t version) = 0;

  // Replaces the description (empty clears it). NotFound.
  virtual core::Result<ModelVersion> UpdateModelVersion(std::string_view name, int64_t version,
                                                        std::string_view description) = 0;

  // Deletes the version and the aliases pointing at it. NotFound.
  virtual core::Status DeleteModelVersion(std::string_view name, int64_t version) = 0;

  // Moves the version to `stage` (any case). With archive_existing_versions
  // every other version of the model in that stage goes to Archived, which
  // needs stage Staging or Production (InvalidArgument otherwise). NotFound;
  // InvalidArgument for an unknown stage.
  virtual core::Result<ModelVersion> TransitionModelVersionStage(
      std::string_view name, int64_t version, std::string_view stage,
      bool archive_existing_versions) = 0;

  // One page of versions matching `filter` (registry/search_filter.h),
  // ordered by `order_by`, or by default last_updated_timestamp DESC; then
  // name ASC and version DESC break ties. 1 <= max_results <=
  // kSearchModelVersionsThreshold.
  virtual core::Result<ModelVersionPage> SearchModelVersions(
      std::string_view filter, int max_results, const std::vector<std::string>& order_by,
      std::string_view page_token) = 0;

  // Where the version's artifacts are: its source. NotFound.
  virtual core::Result<std::string> GetModelVersionDownloadUri(std::string_view name,
                                                               int64_t version) = 0;

  // Sets (inserts or replaces) a version tag. NotFound; InvalidArgument.
  virtual core::Status SetModelVersionTag(std::string_view name, int64_t version,
                                          const ModelVersionTag& tag) = 0;
  // Deletes a version tag if present. NotFound for the version.
  virtual core::Status DeleteModelVersionTag(std::string_view name, int64_t version,
                                             std::string_view key) = 0;
};

}  // namespace mlforge::registry
