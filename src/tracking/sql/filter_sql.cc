#include "tracking/sql/filter_sql.h"

#include <string>
#include <utility>

namespace mlforge::tracking::sql {

namespace {

// Appends "<column> <op> ?" (or the LIKE function, or an IN list) for a
// comparison whose value is a string, number or list.
core::Status AppendValueCondition(Dialect dialect, std::string_view column,
                                  const Comparison& comparison, std::string* text,
                                  std::vector<SqlValue>* parameters) {
  auto bind_scalar = [&]() -> core::Status {
    if (const auto* number = std::get_if<double>(&comparison.value)) {
      parameters->push_back(*number);
    } else if (const auto* integer = std::get_if<int64_t>(&comparison.value)) {
      parameters->push_back(*integer);
    } else if (const auto* string = std::get_if<std::string>(&comparison.value)) {
      parameters->push_back(*string);
    } else {
      return core::InternalError("search compiler: comparison '" +
                                 std::string(ComparatorName(comparison.comparator)) +
                                 "' without a scalar value");
    }
    return core::Status::Ok();
  };
  switch (comparison.comparator) {
    case Comparator::kEqual:
    case Comparator::kNotEqual:
    case Comparator::kGreater:
    case Comparator::kGreaterEqual:
    case Comparator::kLess:
    case Comparator::kLessEqual:
      *text +=
          std::string(column) + " " + std::string(ComparatorName(comparison.comparator)) + " ?";
      return bind_scalar();
    case Comparator::kLike:
      *text += LikeCondition(dialect, column, /*ignore_case=*/false);
      return bind_scalar();
    case Comparator::kILike:
      *text += LikeCondition(dialect, column, /*ignore_case=*/true);
      return bind_scalar();
    case Comparator::kIn:
    case Comparator::kNotIn: {
      const auto* values = std::get_if<std::vector<std::string>>(&comparison.value);
      if (values == nullptr || values->empty()) {
        return core::InternalError("search compiler: IN without a list");
      }
      *text +=
          std::string(column) + (comparison.comparator == Comparator::kIn ? " IN (" : " NOT IN (");
      for (size_t index = 0; index < values->size(); ++index) {
        *text += index == 0 ? "?" : ", ?";
        parameters->push_back((*values)[index]);
      }
      *text += ")";
      return core::Status::Ok();
    }
    case Comparator::kIsNull:
    case Comparator::kIsNotNull:
      break;
  }
  return core::InternalError("search compiler: unexpected comparator");
}

// The runs column of a canonical attribute name; empty if unknown.
std::string_view RunColumn(std::string_view attribute) {
  if (attribute == "run_id") return "r.run_uuid";
  if (attribute == "run_name") return "r.name";
  if (attribute == "user_id") return "r.user_id";
  if (attribute == "status") return "r.status";
  if (attribute == "start_time") return "r.start_time";
  if (attribute == "end_time") return "r.end_time";
  if (attribute == "artifact_uri") return "r.artifact_uri";
  if (attribute == "lifecycle_stage") return "r.lifecycle_stage";
  return "";
}

std::string_view ExperimentColumn(std::string_view attribute) {
  if (attribute == "name") return "e.name";
  if (attribute == "experiment_id") return "e.experiment_id";
  if (attribute == "creation_time") return "e.creation_time";
  if (attribute == "last_update_time") return "e.last_update_time";
  return "";
}

// "EXISTS (SELECT 1 FROM <table> x WHERE x.<owner> = <owner column> AND
// x.key = ? [AND <condition on x.value>])" and the NOT EXISTS form for IS NULL.
core::Status AppendKeyedCondition(Dialect dialect, std::string_view table,
                                  std::string_view owner_column, std::string_view outer_column,
                                  const Comparison& comparison, std::string* text,
                                  std::vector<SqlValue>* parameters) {
  bool is_null = comparison.comparator == Comparator::kIsNull;
  *text += is_null ? "NOT EXISTS (SELECT 1 FROM " : "EXISTS (SELECT 1 FROM ";
  *text += std::string(table) + " x WHERE x." + std::string(owner_column) + " = " +
           std::string(outer_column) + " AND x.key = ?";
  parameters->push_back(comparison.key);
  if (!is_null && comparison.comparator != Comparator::kIsNotNull) {
    *text += " AND ";
    MLFORGE_RETURN_IF_ERROR(AppendValueCondition(dialect, "x.value", comparison, text, parameters));
  }
  *text += ")";
  return core::Status::Ok();
}

core::Status AppendMetricCondition(Dialect dialect, const Comparison& comparison, std::string* text,
                                   std::vector<SqlValue>* parameters) {
  if (comparison.comparator == Comparator::kIsNull ||
      comparison.comparator == Comparator::kIsNotNull) {
    return AppendKeyedCondition(dialect, "latest_metrics", "run_uuid", "r.run_uuid", comparison,
                                text, parameters);
  }
  *text += "EXISTS (SELECT 1 FROM latest_metrics x WHERE x.run_uuid = r.run_uuid AND x.key = ?";
  parameters->push_back(comparison.key);
  // A NaN latest value differs from every number and is ordered against none.
  if (comparison.comparator == Comparator::kNotEqual) {
    *text += " AND (x.is_nan = 1 OR ";
    MLFORGE_RETURN_IF_ERROR(AppendValueCondition(dialect, "x.value", comparison, text, parameters));
    *text += "))";
  } else {
    *text += " AND x.is_nan = 0 AND ";
    MLFORGE_RETURN_IF_ERROR(AppendValueCondition(dialect, "x.value", comparison, text, parameters));
    *text += ")";
  }
  return core::Status::Ok();
}

core::Status AppendDatasetCondition(Dialect dialect, const Comparison& comparison,
                                    std::string* text, std::vector<SqlValue>* parameters) {
  if (comparison.key == "context") {
    *text +=
        "EXISTS (SELECT 1 FROM inputs i JOIN input_tags t ON t.input_uuid = i.input_uuid "
        "WHERE i.run_uuid = r.run_uuid AND t.key = ? AND ";
    parameters->push_back(std::string(kDatasetContextTag));
    MLFORGE_RETURN_IF_ERROR(AppendValueCondition(dialect, "t.value", comparison, text, parameters));
  } else {
    std::string_view column = comparison.key == "name" ? "d.name" : "d.digest";
    *text +=
        "EXISTS (SELECT 1 FROM inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid "
        "WHERE i.run_uuid = r.run_uuid AND ";
    MLFORGE_RETURN_IF_ERROR(AppendValueCondition(dialect, column, comparison, text, parameters));
  }
  *text += ")";
  return core::Status::Ok();
}

std::string_view StagesClause(ViewType view_type) {
  switch (view_type) {
    case ViewType::kActiveOnly:
      return "lifecycle_stage = 'active'";
    case ViewType::kDeletedOnly:
      return "lifecycle_stage = 'deleted'";
    case ViewType::kAll:
      return "lifecycle_stage IN ('active', 'deleted')";
  }
  return "lifecycle_stage = 'active'";
}

std::string_view LoggedModelColumn(std::string_view attribute) {
  if (attribute == "name") return "m.name";
  if (attribute == "model_id") return "m.model_id";
  if (attribute == "model_type") return "m.model_type";
  if (attribute == "status") return "m.status";
  if (attribute == "source_run_id") return "m.source_run_id";
  if (attribute == "creation_timestamp") return "m.creation_timestamp_ms";
  if (attribute == "last_updated_timestamp") return "m.last_updated_timestamp_ms";
  return "";
}

// " AND ((x.dataset_name = ? AND x.dataset_digest = ?) OR (x.dataset_name =
// ?) ...)" for the datasets of a logged-model search; nothing when none.
void AppendDatasetsCondition(const std::vector<LoggedModelDatasetFilter>& datasets,
                             std::string* text, std::vector<SqlValue>* parameters) {
  if (datasets.empty()) return;
  *text += " AND (";
  for (size_t index = 0; index < datasets.size(); ++index) {
    if (index > 0) *text += " OR ";
    *text += "(x.dataset_name = ?";
    parameters->push_back(datasets[index].dataset_name);
    if (!datasets[index].dataset_digest.empty()) {
      *text += " AND x.dataset_digest = ?";
      parameters->push_back(datasets[index].dataset_digest);
    }
    *text += ")";
  }
  *text += ")";
}

// A metrics comparison on a logged model: any linked value of the metric
// (on `datasets`, when given) satisfies it; IS [NOT] NULL asks whether one
// exists.
core::Status AppendLoggedModelMetricCondition(Dialect dialect, const Comparison& comparison,
                                              const std::vector<LoggedModelDatasetFilter>& datasets,
                                              std::string* text,
                                              std::vector<SqlValue>* parameters) {
  bool is_null = comparison.comparator == Comparator::kIsNull;
  *text += is_null ? "NOT EXISTS (" : "EXISTS (";
  *text += "SELECT 1 FROM logged_model_metrics x WHERE x.model_id = m.model_id AND x.key = ?";
  parameters->push_back(comparison.key);
  AppendDatasetsCondition(datasets, text, parameters);
  if (is_null || comparison.comparator == Comparator::kIsNotNull) {
    *text += ")";
    return core::Status::Ok();
  }
  if (comparison.comparator == Comparator::kNotEqual) {
    *text += " AND (x.is_nan = 1 OR ";
    MLFORGE_RETURN_IF_ERROR(AppendValueCondition(dialect, "x.value", comparison, text, parameters));
    *text += "))";
  } else {
    *text += " AND x.is_nan = 0 AND ";
    MLFORGE_RETURN_IF_ERROR(AppendValueCondition(dialect, "x.value", comparison, text, parameters));
    *text += ")";
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<SqlQuery> BuildSearchRunsQuery(Dialect dialect,
                                            const std::vector<int64_t>& experiment_ids,
                                            const RunFilter& filter, ViewType view_type,
                                            const std::vector<OrderBy>& order_by, int64_t limit,
                                            int64_t offset) {
  std::string joins;
  std::vector<SqlValue> join_parameters;
  std::string order;
  bool orders_start_time = false;
  bool orders_run_id = false;
  for (size_t index = 0; index < order_by.size(); ++index) {
    const OrderBy& clause = order_by[index];
    std::string direction = clause.ascending ? " ASC" : " DESC";
    std::string alias = "o" + std::to_string(index);
    if (!order.empty()) order += ", ";
    switch (clause.entity) {
      case FilterEntity::kMetric:
        joins += " LEFT JOIN latest_metrics " + alias + " ON " + alias +
                 ".run_uuid = r.run_uuid AND " + alias + ".key = ?";
        join_parameters.push_back(clause.key);
        // Numbers first, then NaN, then runs without the metric.
        order += "CASE WHEN " + alias + ".run_uuid IS NULL THEN 2 WHEN " + alias +
                 ".is_nan = 1 THEN 1 ELSE 0 END, " + alias + ".value" + direction;
        break;
      case FilterEntity::kParam:
      case FilterEntity::kTag: {
        std::string table = clause.entity == FilterEntity::kParam ? "params" : "tags";
        joins += " LEFT JOIN " + table + " " + alias + " ON " + alias +
                 ".run_uuid = r.run_uuid AND " + alias + ".key = ?";
        join_parameters.push_back(clause.key);
        order += alias + ".value IS NULL, " + alias + ".value" + direction;
        break;
      }
      case FilterEntity::kAttribute: {
        std::string_view column = RunColumn(clause.key);
        if (column.empty()) {
          return core::InternalError("search compiler: unknown run attribute " + clause.key);
        }
        orders_start_time |= clause.key == "start_time";
        orders_run_id |= clause.key == "run_id";
        order += std::string(column) + " IS NULL, " + std::string(column) + direction;
        break;
      }
      case FilterEntity::kDataset:
        return core::InvalidArgumentError("Invalid order_by entity type 'dataset'");
    }
  }
  if (!orders_start_time) order += std::string(order.empty() ? "" : ", ") + "r.start_time DESC";
  if (!orders_run_id) order += ", r.run_uuid ASC";

  std::string where = "r." + std::string(StagesClause(view_type)) + " AND r.experiment_id IN (";
  std::vector<SqlValue> where_parameters;
  if (experiment_ids.empty()) {
    where += "NULL";
  }
  for (size_t index = 0; index < experiment_ids.size(); ++index) {
    where += index == 0 ? "?" : ", ?";
    where_parameters.push_back(experiment_ids[index]);
  }
  where += ")";
  for (const Comparison& comparison : filter.comparisons) {
    where += " AND ";
    switch (comparison.entity) {
      case FilterEntity::kMetric:
        MLFORGE_RETURN_IF_ERROR(
            AppendMetricCondition(dialect, comparison, &where, &where_parameters));
        break;
      case FilterEntity::kParam:
        MLFORGE_RETURN_IF_ERROR(AppendKeyedCondition(dialect, "params", "run_uuid", "r.run_uuid",
                                                     comparison, &where, &where_parameters));
        break;
      case FilterEntity::kTag:
        MLFORGE_RETURN_IF_ERROR(AppendKeyedCondition(dialect, "tags", "run_uuid", "r.run_uuid",
                                                     comparison, &where, &where_parameters));
        break;
      case FilterEntity::kAttribute: {
        std::string_view column = RunColumn(comparison.key);
        if (column.empty()) {
          return core::InternalError("search compiler: unknown run attribute " + comparison.key);
        }
        MLFORGE_RETURN_IF_ERROR(
            AppendValueCondition(dialect, column, comparison, &where, &where_parameters));
        break;
      }
      case FilterEntity::kDataset:
        MLFORGE_RETURN_IF_ERROR(
            AppendDatasetCondition(dialect, comparison, &where, &where_parameters));
        break;
    }
  }

  SqlQuery query;
  query.text = "SELECT r.run_uuid FROM runs r" + joins + " WHERE " + where + " ORDER BY " + order +
               " LIMIT ? OFFSET ?";
  query.parameters = std::move(join_parameters);
  for (SqlValue& value : where_parameters) query.parameters.push_back(std::move(value));
  query.parameters.push_back(limit);
  query.parameters.push_back(offset);
  return query;
}

core::Result<SqlQuery> BuildSearchExperimentsQuery(Dialect dialect, const RunFilter& filter,
                                                   ViewType view_type,
                                                   const std::vector<OrderBy>& order_by,
                                                   int64_t limit, int64_t offset) {
  std::string where = "e." + std::string(StagesClause(view_type));
  std::vector<SqlValue> parameters;
  for (const Comparison& comparison : filter.comparisons) {
    where += " AND ";
    if (comparison.entity == FilterEntity::kTag) {
      MLFORGE_RETURN_IF_ERROR(AppendKeyedCondition(dialect, "experiment_tags", "experiment_id",
                                                   "e.experiment_id", comparison, &where,
                                                   &parameters));
      continue;
    }
    std::string_view column = ExperimentColumn(comparison.key);
    if (comparison.entity != FilterEntity::kAttribute || column.empty()) {
      return core::InternalError("search compiler: unexpected experiment key " + comparison.key);
    }
    MLFORGE_RETURN_IF_ERROR(AppendValueCondition(dialect, column, comparison, &where, &parameters));
  }
  std::string order;
  bool orders_id = false;
  for (const OrderBy& clause : order_by) {
    std::string_view column = ExperimentColumn(clause.key);
    if (clause.entity != FilterEntity::kAttribute || column.empty()) {
      return core::InvalidArgumentError("Invalid order_by entity for experiments: " + clause.key);
    }
    orders_id |= clause.key == "experiment_id";
    if (!order.empty()) order += ", ";
    order += std::string(column) + (clause.ascending ? " ASC" : " DESC");
  }
  if (order.empty()) order = "e.creation_time DESC";
  if (!orders_id) order += ", e.experiment_id ASC";

  SqlQuery query;
  query.text = "SELECT e.experiment_id FROM experiments e WHERE " + where + " ORDER BY " + order +
               " LIMIT ? OFFSET ?";
  query.parameters = std::move(parameters);
  query.parameters.push_back(limit);
  query.parameters.push_back(offset);
  return query;
}

core::Result<SqlQuery> BuildSearchLoggedModelsQuery(
    Dialect dialect, const std::vector<int64_t>& experiment_ids, const RunFilter& filter,
    const std::vector<LoggedModelDatasetFilter>& datasets,
    const std::vector<LoggedModelOrder>& order_by, int64_t limit, int64_t offset) {
  std::string joins;
  std::vector<SqlValue> join_parameters;
  std::string order;
  bool orders_creation = false;
  bool orders_id = false;
  for (size_t index = 0; index < order_by.size(); ++index) {
    const OrderBy& clause = order_by[index].order_by;
    std::string direction = clause.ascending ? " ASC" : " DESC";
    if (!order.empty()) order += ", ";
    if (clause.entity == FilterEntity::kMetric) {
      // The latest value (by timestamp, then step) of the metric per model.
      std::string alias = "o" + std::to_string(index);
      joins +=
          " LEFT JOIN (SELECT model_id, value, is_nan FROM (SELECT model_id, value, is_nan, "
          "ROW_NUMBER() OVER (PARTITION BY model_id ORDER BY timestamp DESC, step DESC) "
          "AS recency FROM logged_model_metrics WHERE key = ?";
      join_parameters.push_back(clause.key);
      if (!order_by[index].dataset_name.empty()) {
        joins += " AND dataset_name = ?";
        join_parameters.push_back(order_by[index].dataset_name);
      }
      if (!order_by[index].dataset_digest.empty()) {
        joins += " AND dataset_digest = ?";
        join_parameters.push_back(order_by[index].dataset_digest);
      }
      joins += ") ranked WHERE recency = 1) " + alias + " ON " + alias + ".model_id = m.model_id";
      order += "CASE WHEN " + alias + ".model_id IS NULL THEN 2 WHEN " + alias +
               ".is_nan = 1 THEN 1 ELSE 0 END, " + alias + ".value" + direction;
      continue;
    }
    std::string_view column = LoggedModelColumn(clause.key);
    if (clause.entity != FilterEntity::kAttribute || column.empty()) {
      return core::InvalidArgumentError("Invalid order by field name: " + clause.key);
    }
    orders_creation |= clause.key == "creation_timestamp";
    orders_id |= clause.key == "model_id";
    order += std::string(column) + " IS NULL, " + std::string(column) + direction;
  }
  if (!orders_creation) {
    order += std::string(order.empty() ? "" : ", ") + "m.creation_timestamp_ms DESC";
  }
  if (!orders_id) order += ", m.model_id ASC";

  std::string where = "m.lifecycle_stage = 'active' AND m.experiment_id IN (";
  std::vector<SqlValue> where_parameters;
  if (experiment_ids.empty()) where += "NULL";
  for (size_t index = 0; index < experiment_ids.size(); ++index) {
    where += index == 0 ? "?" : ", ?";
    where_parameters.emplace_back(std::in_place_type<int64_t>, experiment_ids[index]);
  }
  where += ")";
  bool has_metric_comparison = false;
  for (const Comparison& comparison : filter.comparisons) {
    where += " AND ";
    switch (comparison.entity) {
      case FilterEntity::kMetric:
        has_metric_comparison = true;
        MLFORGE_RETURN_IF_ERROR(AppendLoggedModelMetricCondition(dialect, comparison, datasets,
                                                                 &where, &where_parameters));
        break;
      case FilterEntity::kParam:
        MLFORGE_RETURN_IF_ERROR(AppendKeyedCondition(dialect, "logged_model_params", "model_id",
                                                     "m.model_id", comparison, &where,
                                                     &where_parameters));
        break;
      case FilterEntity::kTag:
        MLFORGE_RETURN_IF_ERROR(AppendKeyedCondition(dialect, "logged_model_tags", "model_id",
                                                     "m.model_id", comparison, &where,
                                                     &where_parameters));
        break;
      case FilterEntity::kAttribute: {
        std::string_view column = LoggedModelColumn(comparison.key);
        if (column.empty()) {
          return core::InternalError("search compiler: unknown logged model attribute " +
                                     comparison.key);
        }
        MLFORGE_RETURN_IF_ERROR(
            AppendValueCondition(dialect, column, comparison, &where, &where_parameters));
        break;
      }
      case FilterEntity::kDataset:
        return core::InternalError("search compiler: dataset comparison on logged models");
    }
  }
  if (!datasets.empty() && !has_metric_comparison) {
    where += " AND EXISTS (SELECT 1 FROM logged_model_metrics x WHERE x.model_id = m.model_id";
    AppendDatasetsCondition(datasets, &where, &where_parameters);
    where += ")";
  }

  SqlQuery query;
  query.text = "SELECT m.model_id FROM logged_models m" + joins + " WHERE " + where + " ORDER BY " +
               order + " LIMIT ? OFFSET ?";
  query.parameters = std::move(join_parameters);
  for (SqlValue& value : where_parameters) query.parameters.push_back(std::move(value));
  query.parameters.emplace_back(std::in_place_type<int64_t>, limit);
  query.parameters.emplace_back(std::in_place_type<int64_t>, offset);
  return query;
}

}  // namespace mlforge::tracking::sql
