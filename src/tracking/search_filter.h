#pragma once

// MLflow's search filter and order_by grammar, parsed by hand into a small
// AST that each Store compiles to its own parameterised SQL.
//
//   MLFORGE_ASSIGN_OR_RETURN(RunFilter filter,
//       ParseRunFilter("metrics.acc > 0.9 and params.lr = '0.01'"));
//
// The run filter language (mlflow/utils/search_utils.py, SearchUtils):
//
//   filter     := <empty> | comparison ( AND comparison )*
//   comparison := identifier comparator value
//   identifier := [entity "."] key
//   entity     := metric(s) | param(s) | parameter(s) | tag(s)
//               | attribute(s) | attr | run | dataset(s)      (no entity: attribute)
//   key        := word ( "." word )* | `back quoted` | "double quoted"
//   value      := number | 'single quoted' | "double quoted" | ( 'a', 'b', ... )
//
// Keywords (AND, LIKE, ILIKE, IN, NOT, IS, NULL, ASC, DESC) are
// case-insensitive. There is no OR and no grouping, as in MLflow.
// Comparators allowed per kind, as in MLflow:
//
//   metrics                 = != > >= < <=           value: number
//   params, tags            = != LIKE ILIKE          value: quoted string
//   string attributes       = != LIKE ILIKE IN NOT IN (IN only for run_id)
//     (run_id, run_name, user_id, status, artifact_uri, lifecycle_stage)
//   start_time, end_time    = != > >= < <=           value: integer
//   datasets.name / digest / context   = != LIKE ILIKE IN NOT IN
//
// plus IS NULL / IS NOT NULL for metrics, params and tags (the key is absent
// / present), which newer MLflow versions accept. Aliases as in MLflow:
// `created`/`Created` mean start_time, `"run name"` means run_name.
//
// Quoted strings end at the matching quote; a doubled quote or a
// backslash-escaped quote inside stays in the value verbatim, exactly as
// MLflow (which strips only the outer quotes) does.
//
// Errors are InvalidArgument, in MLflow's words where MLflow has them, and
// name the offending token and its 0-based character position.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace mlforge::tracking {

enum class FilterEntity { kMetric, kParam, kTag, kAttribute, kDataset };

enum class Comparator {
  kEqual,
  kNotEqual,
  kGreater,
  kGreaterEqual,
  kLess,
  kLessEqual,
  kLike,
  kILike,
  kIn,
  kNotIn,
  kIsNull,
  kIsNotNull,
};

// "=", "!=", ">", ..., "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL".
std::string_view ComparatorName(Comparator comparator);

// The right-hand side: nothing (IS [NOT] NULL), a number (metrics: double;
// time attributes: int64), a string, or a list of strings (IN / NOT IN).
using FilterValue =
    std::variant<std::monostate, double, int64_t, std::string, std::vector<std::string>>;

struct Comparison {
  FilterEntity entity = FilterEntity::kAttribute;
  // For attributes, the canonical name after aliases: "run_id", "run_name",
  // "user_id", "status", "artifact_uri", "lifecycle_stage", "start_time",
  // "end_time"; for experiments "name", "creation_time", "last_update_time";
  // for logged models those of CanonicalLoggedModelAttribute(). For datasets "name", "digest" or
  // "context". Otherwise the key verbatim.
  std::string key;
  Comparator comparator = Comparator::kEqual;
  FilterValue value;
  size_t position = 0;  // of the identifier in the filter string
};

// The comparisons, all of which must hold (AND).
struct RunFilter {
  std::vector<Comparison> comparisons;
};

// Parses a run filter. An empty or all-blank string gives no comparisons.
core::Result<RunFilter> ParseRunFilter(std::string_view filter);

// One order_by clause: "metrics.acc DESC", "attributes.start_time ASC",
// "params.lr" (ascending), "metrics.`my metric` desc". Valid attribute keys
// are those a filter accepts (run_id, run_name, user_id, status,
// artifact_uri, start_time, end_time, created).
struct OrderBy {
  FilterEntity entity = FilterEntity::kAttribute;  // never kDataset
  std::string key;
  bool ascending = true;
};

core::Result<OrderBy> ParseRunOrderBy(std::string_view clause);

// The experiment filter language (SearchExperimentsUtils): the entity is
// `attribute(s)` (or none) with keys name (= != LIKE ILIKE), creation_time
// and last_update_time (= != > >= < <=, integer), or `tag(s)` (= != LIKE
// ILIKE IS NULL IS NOT NULL).
core::Result<RunFilter> ParseExperimentFilter(std::string_view filter);

// An experiment order_by clause: attributes name, experiment_id,
// creation_time, last_update_time, optionally ASC/DESC.
core::Result<OrderBy> ParseExperimentOrderBy(std::string_view clause);

// The logged-model filter language (MLflow 3's SearchLoggedModelsUtils):
// the run grammar's metrics, params and tags, and the attributes name,
// model_id, model_type, status, source_run_id (= != LIKE ILIKE IN NOT IN)
// and creation_timestamp, last_updated_timestamp (= != > >= < <=, integer;
// aliases creation_time and last_updated_time). No dataset entity: logged
// model searches name datasets separately. Comparison keys are canonical.
core::Result<RunFilter> ParseLoggedModelFilter(std::string_view filter);

// One of a logged-model search's structured order_by entries: `field_name`
// is "metrics.<name>" (the key is everything after the first dot, verbatim)
// or an attribute above (creation_time means creation_timestamp).
// InvalidArgument otherwise, in MLflow's words.
core::Result<OrderBy> ParseLoggedModelOrderBy(std::string_view field_name, bool ascending);

// The canonical logged-model attribute for `key` ("creation_time" ->
// "creation_timestamp"); empty if `key` is none.
std::string CanonicalLoggedModelAttribute(std::string_view key);

// For fuzzing: parses `filter` as a run filter, an order_by clause, an
// experiment filter and the logged-model forms, and reports whether the run
// filter parsed. Never
// crashes, throws or reads out of bounds on any input.
bool ParseRunFilterForFuzzing(std::string_view filter);

}  // namespace mlforge::tracking
