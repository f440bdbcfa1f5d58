#include "registry/sql/sql_registry_store.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "core/ids.h"
#include "registry/search_filter.h"
#include "registry/validation.h"
#include "tracking/page_token.h"
#include "tracking/sql/sql_connection.h"

namespace mlforge::registry {

using tracking::sql::Connection;
using tracking::sql::Dialect;
using tracking::sql::SelectIds;
using tracking::sql::SqlQuery;
using tracking::sql::SqlValue;
using tracking::sql::Statement;

namespace {

// What MLflow writes over a deleted version's fields.
constexpr std::string_view kRedactedSource = "REDACTED-SOURCE-PATH";
constexpr std::string_view kRedactedRunId = "REDACTED-RUN-ID";
constexpr std::string_view kRedactedRunLink = "REDACTED-RUN-LINK";

core::Status ModelNotFound(std::string_view name) {
  return core::NotFoundError("Registered Model with name=" + std::string(name) + " not found");
}

core::Status VersionNotFound(std::string_view name, int64_t version) {
  return core::NotFoundError("Model Version (name=" + std::string(name) +
                             ", version=" + std::to_string(version) + ") not found");
}

// ---- lookups ---------------------------------------------------------------

core::Result<int64_t> FindModelId(Connection& connection, std::string_view name) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(name));
  MLFORGE_ASSIGN_OR_RETURN(
      Statement select,
      connection.Prepare("SELECT model_id FROM registered_models WHERE name = ?"));
  select.Bind(1, name);
  MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return ModelNotFound(name);
  return select.ColumnInt(0);
}

// The model id of a version that exists and is not deleted.
core::Result<int64_t> FindLiveVersion(Connection& connection, std::string_view name,
                                      int64_t version) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(name));
  MLFORGE_ASSIGN_OR_RETURN(
      Statement select,
      connection.Prepare("SELECT mv.model_id FROM model_versions mv JOIN registered_models rm "
                         "ON rm.model_id = mv.model_id WHERE rm.name = ? AND mv.version = ? "
                         "AND mv.current_stage != ?"));
  select.Bind(1, name).Bind(2, version).Bind(3, kStageDeletedInternal);
  MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return VersionNotFound(name, version);
  return select.ColumnInt(0);
}

core::Status TouchModel(Connection& connection, int64_t model_id, int64_t now_ms) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement update,
      connection.Prepare("UPDATE registered_models SET last_updated_time = ? WHERE model_id = ?"));
  update.Bind(1, now_ms).Bind(2, model_id);
  return update.Run();
}

core::Result<ModelVersion> LoadModelVersion(Connection& connection, int64_t model_id,
                                            int64_t version) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement select,
      connection.Prepare(
          "SELECT rm.name, mv.creation_time, mv.last_updated_time, mv.user_id, mv.current_stage, "
          "mv.description, mv.source, mv.run_id, mv.run_link, mv.status, mv.status_message, "
          "mv.logged_model_id FROM model_versions mv JOIN registered_models rm ON rm.model_id = "
          "mv.model_id "
          "WHERE mv.model_id = ? AND mv.version = ?"));
  select.Bind(1, model_id).Bind(2, version);
  MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) {
    return core::InternalError("Model version row " + std::to_string(model_id) + "/" +
                               std::to_string(version) + " vanished inside a transaction");
  }
  ModelVersion model_version;
  model_version.name = select.ColumnText(0);
  model_version.version = version;
  model_version.creation_timestamp = select.ColumnInt(1);
  model_version.last_updated_timestamp = select.ColumnInt(2);
  model_version.user_id = select.ColumnText(3);
  model_version.current_stage = select.ColumnText(4);
  model_version.description = select.ColumnText(5);
  model_version.source = select.ColumnText(6);
  model_version.run_id = select.ColumnText(7);
  model_version.run_link = select.ColumnText(8);
  core::Result<ModelVersionStatus> status = ParseModelVersionStatus(select.ColumnText(9));
  if (!status.ok())
    return core::InternalError("Corrupt model version status: " + status.status().message());
  model_version.status = *status;
  model_version.status_message = select.ColumnText(10);
  model_version.model_id = select.ColumnText(11);

  MLFORGE_ASSIGN_OR_RETURN(
      Statement tags,
      connection.Prepare("SELECT key, value FROM model_version_tags WHERE model_id = ? AND "
                         "version = ? ORDER BY key"));
  tags.Bind(1, model_id).Bind(2, version);
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(bool row, tags.Step());
    if (!row) break;
    model_version.tags.push_back({tags.ColumnText(0), tags.ColumnText(1)});
  }
  MLFORGE_ASSIGN_OR_RETURN(
      Statement aliases,
      connection.Prepare("SELECT alias FROM registered_model_aliases WHERE model_id = ? AND "
                         "version = ? ORDER BY alias"));
  aliases.Bind(1, model_id).Bind(2, version);
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(bool row, aliases.Step());
    if (!row) break;
    model_version.aliases.push_back(aliases.ColumnText(0));
  }
  return model_version;
}

// The latest version in each of `stages` (canonical names) that has one, in
// the order given.
core::Result<std::vector<ModelVersion>> LoadLatestVersions(Connection& connection, int64_t model_id,
                                                           const std::vector<std::string>& stages) {
  std::vector<ModelVersion> latest;
  for (const std::string& stage : stages) {
    MLFORGE_ASSIGN_OR_RETURN(
        Statement select,
        connection.Prepare("SELECT MAX(version) FROM model_versions WHERE model_id = ? AND "
                           "current_stage = ?"));
    select.Bind(1, model_id).Bind(2, stage);
    MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
    if (!found || select.ColumnIsNull(0)) continue;
    int64_t version = select.ColumnInt(0);
    MLFORGE_ASSIGN_OR_RETURN(ModelVersion model_version,
                             LoadModelVersion(connection, model_id, version));
    latest.push_back(std::move(model_version));
  }
  return latest;
}

std::vector<std::string> AllStageNames() {
  std::vector<std::string> stages;
  for (std::string_view stage : kAllStages) stages.emplace_back(stage);
  return stages;
}

core::Result<RegisteredModel> LoadRegisteredModel(Connection& connection, int64_t model_id) {
  MLFORGE_ASSIGN_OR_RETURN(
      Statement select,
      connection.Prepare("SELECT name, creation_time, last_updated_time, description FROM "
                         "registered_models WHERE model_id = ?"));
  select.Bind(1, model_id);
  MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) {
    return core::InternalError("Registered model row " + std::to_string(model_id) +
                               " vanished inside a transaction");
  }
  RegisteredModel model;
  model.name = select.ColumnText(0);
  model.creation_timestamp = select.ColumnInt(1);
  model.last_updated_timestamp = select.ColumnInt(2);
  model.description = select.ColumnText(3);
  MLFORGE_ASSIGN_OR_RETURN(
      Statement tags,
      connection.Prepare(
          "SELECT key, value FROM registered_model_tags WHERE model_id = ? ORDER BY key"));
  tags.Bind(1, model_id);
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(bool row, tags.Step());
    if (!row) break;
    model.tags.push_back({tags.ColumnText(0), tags.ColumnText(1)});
  }
  MLFORGE_ASSIGN_OR_RETURN(
      Statement aliases,
      connection.Prepare("SELECT alias, version FROM registered_model_aliases WHERE model_id = ? "
                         "ORDER BY alias"));
  aliases.Bind(1, model_id);
  while (true) {
    MLFORGE_ASSIGN_OR_RETURN(bool row, aliases.Step());
    if (!row) break;
    model.aliases.push_back({aliases.ColumnText(0), aliases.ColumnInt(1)});
  }
  MLFORGE_ASSIGN_OR_RETURN(model.latest_versions,
                           LoadLatestVersions(connection, model_id, AllStageNames()));
  return model;
}

// ---- search SQL ----------------------------------------------------------------

// Appends "<column> <op> ?" for a string comparison (LIKE and ILIKE in
// `dialect`'s spelling of MLflow's).
void AppendStringComparison(Dialect dialect, std::string_view column, FilterComparator comparator,
                            const std::string& value, std::string* sql,
                            std::vector<SqlValue>* parameters) {
  switch (comparator) {
    case FilterComparator::kLike:
      *sql += tracking::sql::LikeCondition(dialect, column, /*ignore_case=*/false);
      break;
    case FilterComparator::kILike:
      *sql += tracking::sql::LikeCondition(dialect, column, /*ignore_case=*/true);
      break;
    default:
      *sql += std::string(column) + " " + std::string(FilterComparatorName(comparator)) + " ?";
      break;
  }
  parameters->push_back(value);
}

// MLflow's rule: a search is "for prompts" when it filters on the prompt
// tag being 'true'; otherwise prompts are hidden and prompt-tag comparisons
// dropped.
bool IsQueryingPrompts(const RegistryFilter& filter) {
  for (const FilterComparison& comparison : filter.comparisons) {
    if (comparison.entity != FilterEntity::kTag || comparison.key != kIsPromptTag) continue;
    std::string value = std::get<std::string>(comparison.value);
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return (comparison.comparator == FilterComparator::kEqual && value == "true") ||
           (comparison.comparator == FilterComparator::kNotEqual && value == "false");
  }
  return false;
}

core::Result<SqlQuery> BuildSearchRegisteredModels(Dialect dialect, const RegistryFilter& filter,
                                                   const std::vector<RegistryOrderBy>& order_by,
                                                   int64_t limit, int64_t offset) {
  SqlQuery query;
  query.text = "SELECT rm.model_id FROM registered_models rm WHERE TRUE";
  bool for_prompts = IsQueryingPrompts(filter);
  for (const FilterComparison& comparison : filter.comparisons) {
    const std::string& value = std::get<std::string>(comparison.value);
    if (comparison.entity == FilterEntity::kAttribute) {
      query.text += " AND ";
      AppendStringComparison(dialect, "rm.name", comparison.comparator, value, &query.text,
                             &query.parameters);
    } else {
      if (comparison.key == kIsPromptTag && !for_prompts) continue;
      query.text +=
          " AND EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.model_id = rm.model_id "
          "AND t.key = ? AND ";
      query.parameters.push_back(comparison.key);
      AppendStringComparison(dialect, "t.value", comparison.comparator, value, &query.text,
                             &query.parameters);
      query.text += ")";
    }
  }
  if (!for_prompts) {
    query.text +=
        " AND NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.model_id = rm.model_id "
        "AND p.key = ? AND p.value = 'true')";
    query.parameters.push_back(std::string(kIsPromptTag));
  }
  static const std::map<std::string, std::string> kColumns = {
      {"name", "rm.name"},
      {"creation_timestamp", "rm.creation_time"},
      {"last_updated_timestamp", "rm.last_updated_time"}};
  std::string clauses;
  std::set<std::string> seen;
  for (const RegistryOrderBy& clause : order_by) {
    if (!seen.insert(clause.key).second) {
      return core::InvalidArgumentError("`order_by` contains duplicate fields: " + clause.key);
    }
    clauses += (clauses.empty() ? "" : ", ") + kColumns.at(clause.key) +
               (clause.ascending ? " ASC" : " DESC");
  }
  if (!seen.contains("name")) clauses += (clauses.empty() ? "" : ", ") + std::string("rm.name ASC");
  query.text += " ORDER BY " + clauses + " LIMIT ? OFFSET ?";
  query.parameters.push_back(limit);
  query.parameters.push_back(offset);
  return query;
}

core::Result<SqlQuery> BuildSearchModelVersions(Dialect dialect, const RegistryFilter& filter,
                                                const std::vector<RegistryOrderBy>& order_by,
                                                int64_t limit, int64_t offset) {
  SqlQuery query;
  query.text =
      "SELECT mv.model_id, mv.version FROM model_versions mv JOIN registered_models rm ON "
      "rm.model_id = mv.model_id WHERE mv.current_stage != ?";
  query.parameters.push_back(std::string(kStageDeletedInternal));
  static const std::map<std::string, std::string> kFilterColumns = {
      {"name", "rm.name"},
      {"run_id", "mv.run_id"},
      {"source_path", "mv.source"},
      {"version_number", "mv.version"}};
  for (const FilterComparison& comparison : filter.comparisons) {
    query.text += " AND ";
    if (comparison.entity == FilterEntity::kTag) {
      query.text +=
          "EXISTS (SELECT 1 FROM model_version_tags t WHERE t.model_id = mv.model_id AND "
          "t.version = mv.version AND t.key = ? AND ";
      query.parameters.push_back(comparison.key);
      AppendStringComparison(dialect, "t.value", comparison.comparator,
                             std::get<std::string>(comparison.value), &query.text,
                             &query.parameters);
      query.text += ")";
      continue;
    }
    const std::string& column = kFilterColumns.at(comparison.key);
    if (comparison.comparator == FilterComparator::kIn) {
      const auto& values = std::get<std::vector<std::string>>(comparison.value);
      if (values.empty()) {
        query.text += "FALSE";
        continue;
      }
      query.text += column + " IN (";
      for (size_t index = 0; index < values.size(); ++index) {
        query.text += index == 0 ? "?" : ", ?";
        query.parameters.push_back(values[index]);
      }
      query.text += ")";
    } else if (std::holds_alternative<int64_t>(comparison.value)) {
      query.text += column + " " + std::string(FilterComparatorName(comparison.comparator)) + " ?";
      query.parameters.push_back(std::get<int64_t>(comparison.value));
    } else {
      AppendStringComparison(dialect, column, comparison.comparator,
                             std::get<std::string>(comparison.value), &query.text,
                             &query.parameters);
    }
  }
  static const std::map<std::string, std::string> kOrderColumns = {
      {"name", "rm.name"},
      {"version_number", "mv.version"},
      {"creation_timestamp", "mv.creation_time"},
      {"last_updated_timestamp", "mv.last_updated_time"}};
  std::vector<RegistryOrderBy> clauses_in = order_by;
  if (clauses_in.empty()) {
    clauses_in = {{"last_updated_timestamp", false}, {"name", true}, {"version_number", false}};
  }
  std::string clauses;
  std::set<std::string> seen;
  for (const RegistryOrderBy& clause : clauses_in) {
    if (!seen.insert(clause.key).second) {
      return core::InvalidArgumentError("`order_by` contains duplicate fields: " + clause.key);
    }
    clauses += (clauses.empty() ? "" : ", ") + kOrderColumns.at(clause.key) +
               (clause.ascending ? " ASC" : " DESC");
  }
  if (!seen.contains("name")) clauses += ", rm.name ASC";
  if (!seen.contains("version_number")) clauses += ", mv.version DESC";
  query.text += " ORDER BY " + clauses + " LIMIT ? OFFSET ?";
  query.parameters.push_back(limit);
  query.parameters.push_back(offset);
  return query;
}

core::Status ValidateSearchPage(int max_results, int threshold) {
  if (max_results < 1) {
    return core::InvalidArgumentError(
        "Invalid value for max_results. It must be a positive integer, but got " +
        std::to_string(max_results));
  }
  if (max_results > threshold) {
    return core::InvalidArgumentError(
        "Invalid value for request parameter max_results. It must be at most " +
        std::to_string(threshold) + ", but got value " + std::to_string(max_results));
  }
  return core::Status::Ok();
}

}  // namespace

// ---- lifecycle ----------------------------------------------------------------

core::Result<std::unique_ptr<RegistryStore>> SqlRegistryStore::Open(
    std::unique_ptr<tracking::sql::ConnectionPool> pool,
    std::span<const std::string_view> migrations) {
  MLFORGE_RETURN_IF_ERROR(pool->Write([&](Connection& connection) -> core::Status {
    return tracking::sql::ApplyMigrations(connection, "registry_schema_version", migrations,
                                          "model registry");
  }));
  return std::unique_ptr<RegistryStore>(new SqlRegistryStore(std::move(pool)));
}

SqlRegistryStore::SqlRegistryStore(std::unique_ptr<tracking::sql::ConnectionPool> pool)
    : pool_(std::move(pool)) {}

SqlRegistryStore::~SqlRegistryStore() = default;

core::Status SqlRegistryStore::Write(const std::function<core::Status(Connection&)>& body) {
  return pool_->Write(body);
}

core::Status SqlRegistryStore::Read(const std::function<core::Status(Connection&)>& body) {
  return pool_->Read(body);
}

// ---- registered models -----------------------------------------------------------

core::Result<RegisteredModel> SqlRegistryStore::CreateRegisteredModel(
    std::string_view name, const std::vector<RegisteredModelTag>& tags,
    std::string_view description) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(name));
  std::map<std::string, std::string> unique_tags;
  for (const RegisteredModelTag& tag : tags) {
    MLFORGE_RETURN_IF_ERROR(ValidateRegistryTag(tag.key, tag.value));
    unique_tags[tag.key] = tag.value;
  }
  RegisteredModel created;
  MLFORGE_RETURN_IF_ERROR(Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(Statement exists,
                             connection.Prepare("SELECT 1 FROM registered_models WHERE name = ?"));
    exists.Bind(1, name);
    MLFORGE_ASSIGN_OR_RETURN(bool taken, exists.Step());
    if (taken) {
      return core::AlreadyExistsError("Registered Model (name=" + std::string(name) +
                                      ") already exists.");
    }
    int64_t now_ms = core::NowMillis();
    MLFORGE_ASSIGN_OR_RETURN(
        Statement insert,
        connection.Prepare("INSERT INTO registered_models (name, creation_time, "
                           "last_updated_time, description) VALUES (?, ?, ?, ?)"));
    insert.Bind(1, name).Bind(2, now_ms).Bind(3, now_ms).Bind(4, description);
    MLFORGE_RETURN_IF_ERROR(insert.Run());
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindModelId(connection, name));
    for (const auto& [key, value] : unique_tags) {
      MLFORGE_ASSIGN_OR_RETURN(
          Statement tag_insert,
          connection.Prepare(
              "INSERT INTO registered_model_tags (model_id, key, value) VALUES (?, ?, ?)"));
      tag_insert.Bind(1, model_id).Bind(2, key).Bind(3, value);
      MLFORGE_RETURN_IF_ERROR(tag_insert.Run());
    }
    MLFORGE_ASSIGN_OR_RETURN(created, LoadRegisteredModel(connection, model_id));
    return core::Status::Ok();
  }));
  return created;
}

core::Result<RegisteredModel> SqlRegistryStore::GetRegisteredModel(std::string_view name) {
  RegisteredModel model;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindModelId(connection, name));
    MLFORGE_ASSIGN_OR_RETURN(model, LoadRegisteredModel(connection, model_id));
    return core::Status::Ok();
  }));
  return model;
}

core::Result<RegisteredModel> SqlRegistryStore::RenameRegisteredModel(std::string_view name,
                                                                      std::string_view new_name) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(new_name, "new_name"));
  RegisteredModel renamed;
  MLFORGE_RETURN_IF_ERROR(Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindModelId(connection, name));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement exists,
        connection.Prepare("SELECT 1 FROM registered_models WHERE name = ? AND model_id != ?"));
    exists.Bind(1, new_name).Bind(2, model_id);
    MLFORGE_ASSIGN_OR_RETURN(bool taken, exists.Step());
    if (taken) {
      return core::AlreadyExistsError("Registered Model (name=" + std::string(new_name) +
                                      ") already exists.");
    }
    int64_t now_ms = core::NowMillis();
    MLFORGE_ASSIGN_OR_RETURN(
        Statement update,
        connection.Prepare(
            "UPDATE registered_models SET name = ?, last_updated_time = ? WHERE model_id = ?"));
    update.Bind(1, new_name).Bind(2, now_ms).Bind(3, model_id);
    MLFORGE_RETURN_IF_ERROR(update.Run());
    MLFORGE_ASSIGN_OR_RETURN(
        Statement versions,
        connection.Prepare("UPDATE model_versions SET last_updated_time = ? WHERE model_id = ?"));
    versions.Bind(1, now_ms).Bind(2, model_id);
    MLFORGE_RETURN_IF_ERROR(versions.Run());
    MLFORGE_ASSIGN_OR_RETURN(renamed, LoadRegisteredModel(connection, model_id));
    return core::Status::Ok();
  }));
  return renamed;
}

core::Result<RegisteredModel> SqlRegistryStore::UpdateRegisteredModel(
    std::string_view name, std::string_view description) {
  RegisteredModel updated;
  MLFORGE_RETURN_IF_ERROR(Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindModelId(connection, name));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement update,
        connection.Prepare("UPDATE registered_models SET description = ?, last_updated_time = ? "
                           "WHERE model_id = ?"));
    update.Bind(1, description).Bind(2, static_cast<int64_t>(core::NowMillis())).Bind(3, model_id);
    MLFORGE_RETURN_IF_ERROR(update.Run());
    MLFORGE_ASSIGN_OR_RETURN(updated, LoadRegisteredModel(connection, model_id));
    return core::Status::Ok();
  }));
  return updated;
}

core::Status SqlRegistryStore::DeleteRegisteredModel(std::string_view name) {
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindModelId(connection, name));
    // Foreign keys cascade to versions, their tags, model tags and aliases.
    MLFORGE_ASSIGN_OR_RETURN(
        Statement erase, connection.Prepare("DELETE FROM registered_models WHERE model_id = ?"));
    erase.Bind(1, model_id);
    return erase.Run();
  });
}

core::Result<RegisteredModelPage> SqlRegistryStore::SearchRegisteredModels(
    std::string_view filter, int max_results, const std::vector<std::string>& order_by,
    std::string_view page_token) {
  MLFORGE_RETURN_IF_ERROR(ValidateSearchPage(max_results, kSearchRegisteredModelsThreshold));
  MLFORGE_ASSIGN_OR_RETURN(RegistryFilter parsed, ParseRegisteredModelFilter(filter));
  std::vector<RegistryOrderBy> clauses;
  for (const std::string& clause : order_by) {
    MLFORGE_ASSIGN_OR_RETURN(RegistryOrderBy parsed_clause, ParseRegisteredModelOrderBy(clause));
    clauses.push_back(std::move(parsed_clause));
  }
  MLFORGE_ASSIGN_OR_RETURN(int64_t offset, tracking::DecodePageToken(page_token));
  MLFORGE_ASSIGN_OR_RETURN(
      SqlQuery query,
      BuildSearchRegisteredModels(pool_->dialect(), parsed, clauses, max_results + 1, offset));
  RegisteredModelPage page;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> ids, SelectIds(connection, query));
    if (static_cast<int64_t>(ids.size()) > max_results) {
      ids.resize(static_cast<size_t>(max_results));
      page.next_page_token = tracking::EncodePageToken(offset + max_results);
    }
    for (int64_t model_id : ids) {
      MLFORGE_ASSIGN_OR_RETURN(RegisteredModel model, LoadRegisteredModel(connection, model_id));
      page.registered_models.push_back(std::move(model));
    }
    return core::Status::Ok();
  }));
  return page;
}

core::Result<std::vector<ModelVersion>> SqlRegistryStore::GetLatestVersions(
    std::string_view name, const std::vector<std::string>& stages) {
  std::set<std::string> wanted;
  for (const std::string& stage : stages) {
    MLFORGE_ASSIGN_OR_RETURN(std::string canonical, CanonicalStage(stage));
    wanted.insert(std::move(canonical));
  }
  std::vector<std::string> ordered;
  for (std::string_view stage : kAllStages) {
    if (wanted.empty() || wanted.contains(std::string(stage))) ordered.emplace_back(stage);
  }
  std::vector<ModelVersion> latest;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindModelId(connection, name));
    MLFORGE_ASSIGN_OR_RETURN(latest, LoadLatestVersions(connection, model_id, ordered));
    return core::Status::Ok();
  }));
  return latest;
}

core::Status SqlRegistryStore::SetRegisteredModelTag(std::string_view name,
                                                     const RegisteredModelTag& tag) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(name));
  MLFORGE_RETURN_IF_ERROR(ValidateRegistryTag(tag.key, tag.value));
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindModelId(connection, name));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement upsert,
        connection.Prepare("INSERT INTO registered_model_tags (model_id, key, value) VALUES "
                           "(?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = "
                           "excluded.value"));
    upsert.Bind(1, model_id).Bind(2, tag.key).Bind(3, tag.value);
    return upsert.Run();
  });
}

core::Status SqlRegistryStore::DeleteRegisteredModelTag(std::string_view name,
                                                        std::string_view key) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(name));
  MLFORGE_RETURN_IF_ERROR(ValidateRegistryTagKey(key));
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindModelId(connection, name));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement erase,
        connection.Prepare("DELETE FROM registered_model_tags WHERE model_id = ? AND key = ?"));
    erase.Bind(1, model_id).Bind(2, key);
    return erase.Run();
  });
}

// ---- aliases ---------------------------------------------------------------------

core::Status SqlRegistryStore::SetRegisteredModelAlias(std::string_view name,
                                                       std::string_view alias, int64_t version) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(name));
  MLFORGE_RETURN_IF_ERROR(ValidateAliasName(alias));
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindLiveVersion(connection, name, version));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement upsert,
        connection.Prepare("INSERT INTO registered_model_aliases (model_id, alias, version) "
                           "VALUES (?, ?, ?) ON CONFLICT (model_id, alias) DO UPDATE SET "
                           "version = excluded.version"));
    upsert.Bind(1, model_id).Bind(2, alias).Bind(3, version);
    return upsert.Run();
  });
}

core::Status SqlRegistryStore::DeleteRegisteredModelAlias(std::string_view name,
                                                          std::string_view alias) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(name));
  MLFORGE_RETURN_IF_ERROR(ValidateAliasName(alias));
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindModelId(connection, name));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement erase,
        connection.Prepare(
            "DELETE FROM registered_model_aliases WHERE model_id = ? AND alias = ?"));
    erase.Bind(1, model_id).Bind(2, alias);
    return erase.Run();
  });
}

core::Result<ModelVersion> SqlRegistryStore::GetModelVersionByAlias(std::string_view name,
                                                                    std::string_view alias) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(name));
  MLFORGE_RETURN_IF_ERROR(ValidateAliasName(alias));
  ModelVersion found_version;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(
        Statement select,
        connection.Prepare("SELECT a.model_id, a.version FROM registered_model_aliases a JOIN "
                           "registered_models rm ON rm.model_id = a.model_id WHERE rm.name = ? "
                           "AND a.alias = ?"));
    select.Bind(1, name).Bind(2, alias);
    MLFORGE_ASSIGN_OR_RETURN(bool found, select.Step());
    if (!found) {
      return core::InvalidArgumentError("Registered model alias " + std::string(alias) +
                                        " not found.");
    }
    MLFORGE_ASSIGN_OR_RETURN(
        found_version, LoadModelVersion(connection, select.ColumnInt(0), select.ColumnInt(1)));
    return core::Status::Ok();
  }));
  return found_version;
}

// ---- model versions ------------------------------------------------------------

core::Result<ModelVersion> SqlRegistryStore::CreateModelVersion(
    std::string_view name, std::string_view source, std::string_view run_id,
    const std::vector<ModelVersionTag>& tags, std::string_view run_link,
    std::string_view description, std::string_view logged_model_id) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(name));
  std::map<std::string, std::string> unique_tags;
  for (const ModelVersionTag& tag : tags) {
    MLFORGE_RETURN_IF_ERROR(ValidateRegistryTag(tag.key, tag.value));
    unique_tags[tag.key] = tag.value;
  }
  ModelVersion created;
  MLFORGE_RETURN_IF_ERROR(Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindModelId(connection, name));
    // Inside the IMMEDIATE transaction nobody else can insert, so MAX + 1 is
    // ours; deleted versions keep their rows, so numbers are never reused.
    MLFORGE_ASSIGN_OR_RETURN(
        Statement next,
        connection.Prepare(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model_id = ?"));
    next.Bind(1, model_id);
    MLFORGE_ASSIGN_OR_RETURN(bool row, next.Step());
    if (!row) return core::InternalError("MAX(version) returned no row");
    int64_t version = next.ColumnInt(0);
    int64_t now_ms = core::NowMillis();
    MLFORGE_ASSIGN_OR_RETURN(
        Statement insert,
        connection.Prepare(
            "INSERT INTO model_versions (model_id, version, creation_time, last_updated_time, "
            "description, current_stage, source, run_id, run_link, status, logged_model_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    insert.Bind(1, model_id)
        .Bind(2, version)
        .Bind(3, now_ms)
        .Bind(4, now_ms)
        .Bind(5, description)
        .Bind(6, kStageNone)
        .Bind(7, source)
        .Bind(8, run_id)
        .Bind(9, run_link)
        .Bind(10, ModelVersionStatusName(ModelVersionStatus::kReady))
        .Bind(11, logged_model_id);
    MLFORGE_RETURN_IF_ERROR(insert.Run());
    for (const auto& [key, value] : unique_tags) {
      MLFORGE_ASSIGN_OR_RETURN(
          Statement tag_insert,
          connection.Prepare("INSERT INTO model_version_tags (model_id, version, key, value) "
                             "VALUES (?, ?, ?, ?)"));
      tag_insert.Bind(1, model_id).Bind(2, version).Bind(3, key).Bind(4, value);
      MLFORGE_RETURN_IF_ERROR(tag_insert.Run());
    }
    MLFORGE_RETURN_IF_ERROR(TouchModel(connection, model_id, now_ms));
    MLFORGE_ASSIGN_OR_RETURN(created, LoadModelVersion(connection, model_id, version));
    return core::Status::Ok();
  }));
  return created;
}

core::Result<ModelVersion> SqlRegistryStore::GetModelVersion(std::string_view name,
                                                             int64_t version) {
  ModelVersion model_version;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindLiveVersion(connection, name, version));
    MLFORGE_ASSIGN_OR_RETURN(model_version, LoadModelVersion(connection, model_id, version));
    return core::Status::Ok();
  }));
  return model_version;
}

core::Result<ModelVersion> SqlRegistryStore::UpdateModelVersion(std::string_view name,
                                                                int64_t version,
                                                                std::string_view description) {
  ModelVersion updated;
  MLFORGE_RETURN_IF_ERROR(Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindLiveVersion(connection, name, version));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement update,
        connection.Prepare("UPDATE model_versions SET description = ?, last_updated_time = ? "
                           "WHERE model_id = ? AND version = ?"));
    update.Bind(1, description)
        .Bind(2, static_cast<int64_t>(core::NowMillis()))
        .Bind(3, model_id)
        .Bind(4, version);
    MLFORGE_RETURN_IF_ERROR(update.Run());
    MLFORGE_ASSIGN_OR_RETURN(updated, LoadModelVersion(connection, model_id, version));
    return core::Status::Ok();
  }));
  return updated;
}

core::Status SqlRegistryStore::DeleteModelVersion(std::string_view name, int64_t version) {
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindLiveVersion(connection, name, version));
    int64_t now_ms = core::NowMillis();
    // MLflow keeps the row (so the number is never reused) and redacts it.
    MLFORGE_ASSIGN_OR_RETURN(
        Statement redact,
        connection.Prepare(
            "UPDATE model_versions SET current_stage = ?, last_updated_time = ?, description = '', "
            "user_id = '', source = ?, run_id = ?, run_link = ?, status_message = '' "
            "WHERE model_id = ? AND version = ?"));
    redact.Bind(1, kStageDeletedInternal)
        .Bind(2, now_ms)
        .Bind(3, kRedactedSource)
        .Bind(4, kRedactedRunId)
        .Bind(5, kRedactedRunLink)
        .Bind(6, model_id)
        .Bind(7, version);
    MLFORGE_RETURN_IF_ERROR(redact.Run());
    MLFORGE_ASSIGN_OR_RETURN(
        Statement aliases,
        connection.Prepare(
            "DELETE FROM registered_model_aliases WHERE model_id = ? AND version = ?"));
    aliases.Bind(1, model_id).Bind(2, version);
    MLFORGE_RETURN_IF_ERROR(aliases.Run());
    return TouchModel(connection, model_id, now_ms);
  });
}

core::Result<ModelVersion> SqlRegistryStore::TransitionModelVersionStage(
    std::string_view name, int64_t version, std::string_view stage,
    bool archive_existing_versions) {
  MLFORGE_ASSIGN_OR_RETURN(std::string canonical, CanonicalStage(stage));
  if (archive_existing_versions && !IsActiveStage(canonical)) {
    return core::InvalidArgumentError(
        "Model version transition cannot archive existing model versions because '" +
        std::string(stage) +
        "' is not an Active stage. Valid stages are ['Staging', 'Production']");
  }
  ModelVersion transitioned;
  MLFORGE_RETURN_IF_ERROR(Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindLiveVersion(connection, name, version));
    int64_t now_ms = core::NowMillis();
    if (archive_existing_versions) {
      MLFORGE_ASSIGN_OR_RETURN(
          Statement archive,
          connection.Prepare("UPDATE model_versions SET current_stage = ?, last_updated_time = ? "
                             "WHERE model_id = ? AND version != ? AND current_stage = ?"));
      archive.Bind(1, kStageArchived)
          .Bind(2, now_ms)
          .Bind(3, model_id)
          .Bind(4, version)
          .Bind(5, canonical);
      MLFORGE_RETURN_IF_ERROR(archive.Run());
    }
    MLFORGE_ASSIGN_OR_RETURN(
        Statement update,
        connection.Prepare("UPDATE model_versions SET current_stage = ?, last_updated_time = ? "
                           "WHERE model_id = ? AND version = ?"));
    update.Bind(1, canonical).Bind(2, now_ms).Bind(3, model_id).Bind(4, version);
    MLFORGE_RETURN_IF_ERROR(update.Run());
    MLFORGE_RETURN_IF_ERROR(TouchModel(connection, model_id, now_ms));
    MLFORGE_ASSIGN_OR_RETURN(transitioned, LoadModelVersion(connection, model_id, version));
    return core::Status::Ok();
  }));
  return transitioned;
}

core::Result<ModelVersionPage> SqlRegistryStore::SearchModelVersions(
    std::string_view filter, int max_results, const std::vector<std::string>& order_by,
    std::string_view page_token) {
  MLFORGE_RETURN_IF_ERROR(ValidateSearchPage(max_results, kSearchModelVersionsThreshold));
  MLFORGE_ASSIGN_OR_RETURN(RegistryFilter parsed, ParseModelVersionFilter(filter));
  std::vector<RegistryOrderBy> clauses;
  for (const std::string& clause : order_by) {
    MLFORGE_ASSIGN_OR_RETURN(RegistryOrderBy parsed_clause, ParseModelVersionOrderBy(clause));
    clauses.push_back(std::move(parsed_clause));
  }
  MLFORGE_ASSIGN_OR_RETURN(int64_t offset, tracking::DecodePageToken(page_token));
  MLFORGE_ASSIGN_OR_RETURN(
      SqlQuery query,
      BuildSearchModelVersions(pool_->dialect(), parsed, clauses, max_results + 1, offset));
  ModelVersionPage page;
  MLFORGE_RETURN_IF_ERROR(Read([&](Connection& connection) -> core::Status {
    std::vector<std::pair<int64_t, int64_t>> keys;
    {
      MLFORGE_ASSIGN_OR_RETURN(Statement select, connection.Prepare(query.text));
      select.BindAll(query.parameters);
      while (true) {
        MLFORGE_ASSIGN_OR_RETURN(bool row, select.Step());
        if (!row) break;
        keys.emplace_back(select.ColumnInt(0), select.ColumnInt(1));
      }
    }
    if (static_cast<int64_t>(keys.size()) > max_results) {
      keys.resize(static_cast<size_t>(max_results));
      page.next_page_token = tracking::EncodePageToken(offset + max_results);
    }
    for (const auto& [model_id, version] : keys) {
      MLFORGE_ASSIGN_OR_RETURN(ModelVersion model_version,
                               LoadModelVersion(connection, model_id, version));
      page.model_versions.push_back(std::move(model_version));
    }
    return core::Status::Ok();
  }));
  return page;
}

core::Result<std::string> SqlRegistryStore::GetModelVersionDownloadUri(std::string_view name,
                                                                       int64_t version) {
  MLFORGE_ASSIGN_OR_RETURN(ModelVersion model_version, GetModelVersion(name, version));
  return model_version.source;
}

core::Status SqlRegistryStore::SetModelVersionTag(std::string_view name, int64_t version,
                                                  const ModelVersionTag& tag) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(name));
  MLFORGE_RETURN_IF_ERROR(ValidateRegistryTag(tag.key, tag.value));
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindLiveVersion(connection, name, version));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement upsert,
        connection.Prepare("INSERT INTO model_version_tags (model_id, version, key, value) "
                           "VALUES (?, ?, ?, ?) ON CONFLICT (model_id, version, key) DO UPDATE "
                           "SET value = excluded.value"));
    upsert.Bind(1, model_id).Bind(2, version).Bind(3, tag.key).Bind(4, tag.value);
    return upsert.Run();
  });
}

core::Status SqlRegistryStore::DeleteModelVersionTag(std::string_view name, int64_t version,
                                                     std::string_view key) {
  MLFORGE_RETURN_IF_ERROR(ValidateModelName(name));
  MLFORGE_RETURN_IF_ERROR(ValidateRegistryTagKey(key));
  return Write([&](Connection& connection) -> core::Status {
    MLFORGE_ASSIGN_OR_RETURN(int64_t model_id, FindLiveVersion(connection, name, version));
    MLFORGE_ASSIGN_OR_RETURN(
        Statement erase,
        connection.Prepare("DELETE FROM model_version_tags WHERE model_id = ? AND version = ? "
                           "AND key = ?"));
    erase.Bind(1, model_id).Bind(2, version).Bind(3, key);
    return erase.Run();
  });
}

}  // namespace mlforge::registry
