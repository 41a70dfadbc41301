// SQL shared by the run queue and the worker. Private to ingest/.
#pragma once

#include <chrono>
#include <pqxx/row>

#include "octohub/ingest/ingest.h"

namespace octohub::ingest {

// RFC 3339 UTC text of a timestamptz column, in SQL.
#define OCTOHUB_RFC3339(column) \
  "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

// The columns ReadRun expects, in order.
inline constexpr const char* kRunColumns =
    "id, source, status, trigger, " OCTOHUB_RFC3339("started_at") ", " OCTOHUB_RFC3339(
        "finished_at") ", pages, records_seen, records_new, records_updated, "
                       "records_unchanged, records_deleted, records_skipped, bytes, error, warnings::text, " OCTOHUB_RFC3339("waiting_until");

// [{"code", "detail"}], as stored in runs.warnings and shown.
boost::json::array WarningsToJson(const std::vector<RunWarning>& warnings);

// Reads a run from kRunColumns starting at column `first`.
Run ReadRun(const pqxx::row& row, int first = 0);

// Seconds since the epoch, for to_timestamp($n).
inline double EpochSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace octohub::ingest
