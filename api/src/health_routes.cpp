// /healthz (the process answers), /readyz (PostgreSQL, the index and the indexer are fine)
// and /metrics (Prometheus text).
#include <map>
#include <pqxx/pqxx>

#include "octohub/core/change_feed.h"
#include "octohub/indexer/indexer.h"
#include "routes.h"

namespace octohub::api {
namespace {

Reply Ready(const ServerDependencies& deps) {
  Status database =
      WithConnection(deps.db, "checking PostgreSQL", [](pqxx::connection& c) -> Status {
        pqxx::nontransaction(c).exec1("SELECT 1");
        return Status::Ok();
      });
  const bool index = deps.searcher.Ready();
  const int index_failures = deps.follower ? deps.follower->consecutive_failures() : 0;
  const bool indexing = index_failures < indexer::kIndexFailuresUntilUnready;
  if (database.ok() && index && indexing) {
    return JsonReply(200, {{"status", "ready"}, {"postgres", "ok"}, {"index", "ok"}});
  }
  std::vector<std::string> problems;
  if (!database.ok()) problems.push_back(database.message());
  if (!index) problems.emplace_back("the search index is not open");
  if (!indexing) {
    problems.push_back("the indexer failed to take in new records " +
                       std::to_string(index_failures) +
                       " times in a row (see the index.catch_up_failed log lines)");
  }
  std::string detail;
  for (const auto& problem : problems) detail += (detail.empty() ? "" : "; ") + problem;
  return ProblemReply(503, detail);
}

// Gauges that describe the index are read when scraped; counters accumulate as things happen.
Reply MetricsText(const ServerDependencies& deps) {
  Metrics& metrics = deps.metrics;
  metrics.Declare("octohub_index_documents", Metrics::Type::kGauge,
                  "documents in the search index");
  metrics.Declare("octohub_index_lag_records", Metrics::Type::kGauge,
                  "records changed in PostgreSQL that the index has not taken in yet");
  metrics.Declare("octohub_deliveries_total", Metrics::Type::kCounter,
                  "deliveries to targets, by target and status");
  metrics.Declare("octohub_delivery_queue_depth", Metrics::Type::kGauge,
                  "deliveries waiting to be sent, by target");
  metrics.Declare("octohub_index_shard_documents", Metrics::Type::kGauge,
                  "documents in each shard of the search index");
  metrics.Declare("octohub_index_shard_lag_records", Metrics::Type::kGauge,
                  "records changed in PostgreSQL that a shard has not taken in yet");
  if (auto stats = deps.searcher.ReadStats(); stats.ok()) {
    metrics.Set("octohub_index_documents", {}, static_cast<double>(stats->documents));
    auto measured =
        WithConnection(deps.db, "measuring index lag", [&](pqxx::connection& c) -> Result<bool> {
          pqxx::read_transaction tx(c);
          // Shards mostly share a checkpoint: count the changes past each one once.
          std::map<std::int64_t, std::int64_t> lag_at{
              {stats->checkpoint, ChangesAfter(tx, stats->checkpoint)}};
          for (size_t i = 0; i < stats->shards.size(); ++i) {
            const MetricLabels shard{{"shard", std::to_string(i)}};
            const std::int64_t at = stats->shards[i].checkpoint;
            auto lag = lag_at.find(at);
            if (lag == lag_at.end()) lag = lag_at.emplace(at, ChangesAfter(tx, at)).first;
            metrics.Set("octohub_index_shard_documents", shard,
                        static_cast<double>(stats->shards[i].documents));
            metrics.Set("octohub_index_shard_lag_records", shard, static_cast<double>(lag->second));
          }
          metrics.Set("octohub_index_lag_records", {},
                      static_cast<double>(lag_at.at(stats->checkpoint)));
          return true;
        });
    (void)measured;  // a database that cannot be reached leaves the last values
  }
  return Reply{200, "text/plain; version=0.0.4; charset=utf-8", metrics.Render(), {}};
}

}  // namespace

void AddHealthRoutes(RouteTable& table) {
  table.AddInline("GET", "/healthz", [](const RequestView&) {
    return JsonReply(200, {{"status", "ok"}});
  });
  table.Add("GET", "/readyz", Role::kPublic,
            [](const ServerDependencies& deps, const RequestView&) { return Ready(deps); });
  table.Add("GET", "/metrics", Role::kPublic,
            [](const ServerDependencies& deps, const RequestView&) { return MetricsText(deps); });
}

}  // namespace octohub::api
