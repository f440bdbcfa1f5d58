#pragma once

// Compiles parsed searches (tracking/search_filter.h) into SELECTs for the
// SQL stores, in the given backend's dialect (sql_connection.h); this is
// the one translation both SQLite and PostgreSQL use.
// Every value and every key from the user is a bound parameter; the SQL
// text is built only from fixed fragments chosen by the AST's enums and the
// fixed attribute names it holds, so no user string reaches SQL text.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "tracking/entities.h"
#include "tracking/search_filter.h"
#include "tracking/sql/sql_connection.h"
#include "tracking/store.h"

namespace mlforge::tracking::sql {

// SELECT r.run_uuid of one page of runs: in `experiment_ids`, in the
// lifecycle stages of `view_type`, matching `filter`, ordered by `order_by`
// then start_time DESC, run_uuid ASC; LIMIT `limit` OFFSET `offset`.
core::Result<SqlQuery> BuildSearchRunsQuery(Dialect dialect,
                                            const std::vector<int64_t>& experiment_ids,
                                            const RunFilter& filter, ViewType view_type,
                                            const std::vector<OrderBy>& order_by, int64_t limit,
                                            int64_t offset);

// SELECT e.experiment_id of one page of experiments, ordered by `order_by`
// (default creation_time DESC) then experiment_id ASC.
core::Result<SqlQuery> BuildSearchExperimentsQuery(Dialect dialect, const RunFilter& filter,
                                                   ViewType view_type,
                                                   const std::vector<OrderBy>& order_by,
                                                   int64_t limit, int64_t offset);

// A parsed order_by entry of a logged-model search (ParseLoggedModelOrderBy)
// with the dataset a metric entry is restricted to (empty: any).
struct LoggedModelOrder {
  OrderBy order_by;
  std::string dataset_name;
  std::string dataset_digest;
};

// SELECT m.model_id of one page of live logged models in `experiment_ids`
// matching `filter` (restricted to metrics on `datasets` when given), ordered
// by `order_by`, then creation_timestamp_ms DESC, model_id ASC; LIMIT
// `limit` OFFSET `offset`. Semantics: Store::SearchLoggedModels.
core::Result<SqlQuery> BuildSearchLoggedModelsQuery(
    Dialect dialect, const std::vector<int64_t>& experiment_ids, const RunFilter& filter,
    const std::vector<LoggedModelDatasetFilter>& datasets,
    const std::vector<LoggedModelOrder>& order_by, int64_t limit, int64_t offset);

}  // namespace mlforge::tracking::sql
