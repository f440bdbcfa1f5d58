#pragma once

// Compiles parsed searches (tracking/search_filter.h) into SQLite SELECTs.
// Every value and every key from the user is a bound parameter; the SQL
// text is built only from fixed fragments chosen by the AST's enums and the
// fixed attribute names it holds, so no user string reaches SQL text.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "tracking/entities.h"
#include "tracking/search_filter.h"
#include "tracking/sqlite/sqlite_connection.h"

namespace mlforge::tracking::sqlite_internal {

// SELECT r.run_uuid of one page of runs: in `experiment_ids`, in the
// lifecycle stages of `view_type`, matching `filter`, ordered by `order_by`
// then start_time DESC, run_uuid ASC; LIMIT `limit` OFFSET `offset`.
core::Result<SqlQuery> BuildSearchRunsQuery(const std::vector<int64_t>& experiment_ids,
                                            const RunFilter& filter, ViewType view_type,
                                            const std::vector<OrderBy>& order_by, int64_t limit,
                                            int64_t offset);

// SELECT e.experiment_id of one page of experiments, ordered by `order_by`
// (default creation_time DESC) then experiment_id ASC.
core::Result<SqlQuery> BuildSearchExperimentsQuery(const RunFilter& filter, ViewType view_type,
                                                   const std::vector<OrderBy>& order_by,
                                                   int64_t limit, int64_t offset);

}  // namespace mlforge::tracking::sqlite_internal
