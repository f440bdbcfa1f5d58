#pragma once

// The model registry's search grammar (mlflow/utils/search_utils.py,
// SearchModelUtils and SearchModelVersionUtils), parsed by hand into a small
// AST that each RegistryStore compiles to its own parameterised SQL.
//
//   filter     := <empty> | comparison ( AND comparison )*
//   comparison := identifier comparator value
//   identifier := [entity "."] key        entity: attribute | tag | tags
//   key        := word | `back quoted` | "double quoted"
//   value      := 'single quoted' | "double quoted" | integer | ( 'a', 'b', ... )
//
// Keywords (AND, LIKE, ILIKE, IN, ASC, DESC) are case-insensitive; there is
// no OR, as in MLflow. What each search accepts, as in MLflow:
//
//   registered models   name                 = != LIKE ILIKE      quoted string
//                       tags.<key>           = != LIKE ILIKE      quoted string
//   model versions      name, source_path    = != LIKE ILIKE      quoted string
//                       run_id               = != LIKE ILIKE IN   string or list
//                       version_number       = != > >= < <=       integer
//                       tags.<key>           = != LIKE ILIKE      quoted string
//
// order_by clauses are "<key> [ASC|DESC]" (an "attribute." prefix is
// allowed): registered models by name, creation_timestamp,
// last_updated_timestamp (also spelled timestamp); model versions by name,
// version_number, creation_timestamp, last_updated_timestamp.
//
// Errors are InvalidArgument in MLflow's words, naming the offending token.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace mlforge::registry {

enum class FilterEntity { kAttribute, kTag };

enum class FilterComparator {
  kEqual,
  kNotEqual,
  kGreater,
  kGreaterEqual,
  kLess,
  kLessEqual,
  kLike,
  kILike,
  kIn
};

// "=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN".
std::string_view FilterComparatorName(FilterComparator comparator);

// A quoted string, an integer (version_number), or a list (run_id IN).
using FilterValue = std::variant<std::string, int64_t, std::vector<std::string>>;

struct FilterComparison {
  FilterEntity entity = FilterEntity::kAttribute;
  // Attributes: "name", "version_number", "run_id" or "source_path". Tags:
  // the key verbatim (quotes and backquotes removed).
  std::string key;
  FilterComparator comparator = FilterComparator::kEqual;
  FilterValue value;
};

// The comparisons, all of which must hold (AND).
struct RegistryFilter {
  std::vector<FilterComparison> comparisons;
};

core::Result<RegistryFilter> ParseRegisteredModelFilter(std::string_view filter);
core::Result<RegistryFilter> ParseModelVersionFilter(std::string_view filter);

struct RegistryOrderBy {
  // The canonical key: "name", "version_number", "creation_timestamp" or
  // "last_updated_timestamp".
  std::string key;
  bool ascending = true;
};

core::Result<RegistryOrderBy> ParseRegisteredModelOrderBy(std::string_view clause);
core::Result<RegistryOrderBy> ParseModelVersionOrderBy(std::string_view clause);

}  // namespace mlforge::registry
