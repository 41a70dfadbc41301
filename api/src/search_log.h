// Search analytics (SPEC §4): searches are noted in memory by the request that ran them and
// written to PostgreSQL in batches by a thread of their own, once a second, so a search never
// waits on the database for it; rows older than the days kept are removed at start and with
// each batch. Private to api/.
#pragma once

#include <boost/json/object.hpp>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/core/status.h"

namespace octohub::api {

class SearchLog {
 public:
  // At most this many searches wait in memory; more are dropped (and counted in a log line).
  static constexpr std::size_t kMaxPending = 10000;

  SearchLog(const Database& db, int keep_days);
  ~SearchLog();  // writes what is pending
  SearchLog(const SearchLog&) = delete;
  SearchLog& operator=(const SearchLog&) = delete;

  void Record(std::string query, std::int64_t hits, double took_ms);
  int keep_days() const { return keep_days_; }

  // {"since", "kept_days", "queries": [{"query", "searches"}], "zero_hit_queries": [...],
  // "days": [{"day", "searches", "median_ms", "p99_ms"}]}: the `limit` most frequent queries
  // since `since` (RFC 3339 or a day; by default all that is kept), days in UTC.
  static Result<boost::json::object> Report(const Database& db,
                                            const std::optional<std::string>& since, int keep_days,
                                            int limit);

 private:
  struct Entry {
    std::string query;
    std::int64_t hits;
    double took_ms;
  };
  void Run(const std::stop_token& stop);
  void Write(const std::vector<Entry>& entries);
  void Prune();

  const Database& db_;
  const int keep_days_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::vector<Entry> pending_;
  std::size_t dropped_ = 0;
  std::jthread writer_;  // last: stopped before the rest goes
};

}  // namespace octohub::api
