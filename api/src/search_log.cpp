#include "search_log.h"

#include <boost/json.hpp>
#include <chrono>
#include <pqxx/pqxx>

#include "octohub/core/log.h"
#include "octohub/core/pg_array.h"

namespace octohub::api {
namespace json = boost::json;
namespace {

constexpr auto kWriteEvery = std::chrono::seconds(1);

constexpr const char* kInsert = R"(
  INSERT INTO search_log (query, hits, took_ms)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[]))";

// The start of the report: the one asked for, or as far back as searches are kept.
constexpr const char* kSince = R"(
  SELECT to_char(coalesce($1::timestamptz, now() - make_interval(days => $2)) AT TIME ZONE 'UTC',
                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))";

constexpr const char* kTopQueries = R"(
  SELECT query, count(*) FROM search_log WHERE at >= $1::timestamptz AND ($3 OR hits = 0)
  GROUP BY query ORDER BY count(*) DESC, query LIMIT $2)";

constexpr const char* kDays = R"(
  SELECT to_char(date_trunc('day', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD'), count(*),
         percentile_cont(0.5) WITHIN GROUP (ORDER BY took_ms),
         percentile_cont(0.99) WITHIN GROUP (ORDER BY took_ms)
  FROM search_log WHERE at >= $1::timestamptz GROUP BY 1 ORDER BY 1)";

}  // namespace

SearchLog::SearchLog(const Database& db, int keep_days)
    : db_(db), keep_days_(keep_days), writer_([this](const std::stop_token& stop) { Run(stop); }) {}

SearchLog::~SearchLog() {
  writer_.request_stop();
  wake_.notify_all();
}

void SearchLog::Record(std::string query, std::int64_t hits, double took_ms) {
  std::lock_guard lock(mutex_);
  if (pending_.size() >= kMaxPending) {
    ++dropped_;
    return;
  }
  pending_.push_back({std::move(query), hits, took_ms});
}

void SearchLog::Run(const std::stop_token& stop) {
  Prune();
  while (true) {
    std::vector<Entry> entries;
    std::size_t dropped = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, kWriteEvery, [] { return false; });
      entries.swap(pending_);
      std::swap(dropped, dropped_);
    }
    if (dropped > 0) {
      log::Warn("analytics.searches_dropped",
                {{"searches", static_cast<std::int64_t>(dropped)},
                 {"reason", "more searches waited than the log keeps in memory"}});
    }
    // Pruning goes with each batch (an index range over rows that are mostly not there), and
    // before it, so that what a report shows after the batch is pruned already.
    if (!entries.empty()) {
      Prune();
      Write(entries);
    }
    if (stop.stop_requested()) return;  // what was pending is written above
  }
}

void SearchLog::Write(const std::vector<Entry>& entries) {
  std::vector<std::string> hits, took;
  hits.reserve(entries.size());
  took.reserve(entries.size());
  for (const auto& entry : entries) {
    hits.push_back(std::to_string(entry.hits));
    took.push_back(std::to_string(entry.took_ms));
  }
  const std::string queries =
      PgTextArray(entries, [](const Entry& entry) -> const std::string& { return entry.query; });
  Status written = WithConnection(db_, "writing the search log", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params0(kInsert, queries, PgTextArray(hits), PgTextArray(took));
    tx.commit();
    return Status::Ok();
  });
  if (!written.ok()) {
    log::Warn("analytics.write_failed", {{"searches", static_cast<std::int64_t>(entries.size())},
                                         {"reason", written.message()}});
  }
}

void SearchLog::Prune() {
  Status pruned = WithConnection(db_, "pruning the search log", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params0("DELETE FROM search_log WHERE at < now() - make_interval(days => $1)",
                    keep_days_);
    tx.commit();
    return Status::Ok();
  });
  if (!pruned.ok()) log::Warn("analytics.prune_failed", {{"reason", pruned.message()}});
}

Result<json::object> SearchLog::Report(const Database& db, const std::optional<std::string>& since,
                                       int keep_days, int limit) {
  return WithConnection(
      db, "reading the search log", [&](pqxx::connection& c) -> Result<json::object> {
        pqxx::read_transaction tx(c);
        const auto from = tx.exec_params1(kSince, since, keep_days)[0].as<std::string>();
        auto queries = [&](bool all) {
          json::array out;
          for (const auto& row : tx.exec_params(kTopQueries, from, limit, all)) {
            out.push_back(
                {{"query", row[0].as<std::string>()}, {"searches", row[1].as<std::int64_t>()}});
          }
          return out;
        };
        json::object report{{"since", from}, {"kept_days", keep_days}};
        report["queries"] = queries(true);
        report["zero_hit_queries"] = queries(false);
        json::array days;
        for (const auto& row : tx.exec_params(kDays, from)) {
          days.push_back({{"day", row[0].as<std::string>()},
                          {"searches", row[1].as<std::int64_t>()},
                          {"median_ms", row[2].as<double>()},
                          {"p99_ms", row[3].as<double>()}});
        }
        report["days"] = std::move(days);
        return report;
      });
}

}  // namespace octohub::api
