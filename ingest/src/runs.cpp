#include "runs.h"

#include <pqxx/pqxx>

#include "octohub/core/change_feed.h"
#include "octohub/core/json_limits.h"
#include "octohub/core/schedule.h"

namespace octohub::ingest {
namespace json = boost::json;

Run ReadRun(const pqxx::row& full_row, int first) {
  auto row = [&](int i) { return full_row[first + i]; };
  Run run;
  run.id = row(0).as<std::int64_t>();
  run.source = row(1).as<std::string>();
  run.status = row(2).as<std::string>();
  run.trigger = row(3).as<std::string>();
  if (!row(4).is_null()) run.started_at = row(4).as<std::string>();
  if (!row(5).is_null()) run.finished_at = row(5).as<std::string>();
  run.pages = row(6).as<std::int64_t>();
  run.records_seen = row(7).as<std::int64_t>();
  run.records_new = row(8).as<std::int64_t>();
  run.records_updated = row(9).as<std::int64_t>();
  run.records_unchanged = row(10).as<std::int64_t>();
  run.records_deleted = row(11).as<std::int64_t>();
  run.records_skipped = row(12).as<std::int64_t>();
  run.bytes = row(13).as<std::int64_t>();
  if (!row(14).is_null()) run.error = row(14).as<std::string>();
  const json::value warnings = ParseStoredJson(row(15).as<std::string>());
  for (const auto& warning : warnings.as_array()) {
    run.warnings.push_back({std::string(warning.at("code").as_string()),
                            std::string(warning.at("detail").as_string())});
  }
  if (!row(16).is_null()) run.waiting_until = row(16).as<std::string>();
  return run;
}

json::object RunToJson(const Run& run) {
  auto optional = [](const std::optional<std::string>& v) -> json::value {
    return v ? json::value(*v) : json::value(nullptr);
  };
  return {{"id", run.id},
          {"source", run.source},
          {"status", run.status},
          {"trigger", run.trigger},
          {"started_at", optional(run.started_at)},
          {"finished_at", optional(run.finished_at)},
          {"pages", run.pages},
          {"records_seen", run.records_seen},
          {"records_new", run.records_new},
          {"records_updated", run.records_updated},
          {"records_unchanged", run.records_unchanged},
          {"records_deleted", run.records_deleted},
          {"records_skipped", run.records_skipped},
          {"bytes", run.bytes},
          {"error", optional(run.error)},
          {"warnings", WarningsToJson(run.warnings)},
          {"waiting_until", optional(run.waiting_until)}};
}

json::array WarningsToJson(const std::vector<RunWarning>& warnings) {
  json::array out;
  for (const auto& warning : warnings) {
    out.push_back({{"code", warning.code}, {"detail", warning.detail}});
  }
  return out;
}

Result<Run> RunQueue::Enqueue(const std::string& source, const std::string& trigger) {
  return WithConnection(db_, "queueing a run", [&](pqxx::connection& c) -> Result<Run> {
    pqxx::work tx(c);
    // Lock the source first, as the scheduler does (EnqueueDue): taking the run's unique
    // slot first and the source's row second would deadlock with it.
    auto found = tx.exec_params(
        "SELECT coalesce(spec->>'url', '') FROM sources WHERE name = $1 FOR NO KEY UPDATE", source);
    if (found.empty()) return NotFound("no source named \"" + source + "\"");
    if (found[0][0].as<std::string>().empty()) {
      return FailedPrecondition("source \"" + source +
                                "\" only receives pushes: it has no \"url\" to poll");
    }
    // The partial unique index allows one queued-or-running run per source; join it if any.
    auto inserted = tx.exec_params(
        std::string("INSERT INTO runs (source, trigger) VALUES ($1, $2) "
                    "ON CONFLICT (source) WHERE status IN ('queued', 'running') DO NOTHING "
                    "RETURNING ") +
            kRunColumns,
        source, trigger);
    auto row = inserted.empty() ? tx.exec_params1(std::string("SELECT ") + kRunColumns +
                                                      " FROM runs WHERE source = $1 AND status IN "
                                                      "('queued', 'running')",
                                                  source)
                                : inserted[0];
    Run run = ReadRun(row);
    tx.exec_params("SELECT pg_notify($1, $2)", kRunsChannel, source);
    tx.commit();
    return run;
  });
}

Result<Run> RunQueue::Get(std::int64_t id) {
  return WithConnection(db_, "reading a run", [&](pqxx::connection& c) -> Result<Run> {
    pqxx::read_transaction tx(c);
    auto rows =
        tx.exec_params(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = $1", id);
    if (rows.empty()) return NotFound("no run " + std::to_string(id));
    return ReadRun(rows[0]);
  });
}

Result<std::vector<Run>> RunQueue::ListForSource(const std::string& source, int limit) {
  return WithConnection(db_, "listing runs", [&](pqxx::connection& c) -> Result<std::vector<Run>> {
    pqxx::read_transaction tx(c);
    std::vector<Run> runs;
    for (const auto& row :
         tx.exec_params(std::string("SELECT ") + kRunColumns +
                            " FROM runs WHERE source = $1 ORDER BY id DESC LIMIT $2",
                        source, limit)) {
      runs.push_back(ReadRun(row));
    }
    return runs;
  });
}

}  // namespace octohub::ingest

namespace octohub::ingest {

Result<int> RunQueue::EnqueueDue() {
  return WithConnection(db_, "queueing scheduled runs", [&](pqxx::connection& c) -> Result<int> {
    pqxx::work tx(c);
    // SKIP LOCKED: several schedulers (one per process) never queue the same run twice.
    auto due = tx.exec(
        "SELECT name, spec->>'schedule' FROM sources WHERE next_run_at <= now() "
        "ORDER BY next_run_at FOR UPDATE SKIP LOCKED LIMIT 100");
    int queued = 0;
    for (const auto& row : due) {
      const std::string source = row[0].as<std::string>();
      auto schedule = Schedule::Parse(row[1].is_null() ? "" : row[1].as<std::string>());
      std::optional<double> next;
      if (schedule.ok()) next = EpochSeconds(schedule->Next(std::chrono::system_clock::now()));
      tx.exec_params("UPDATE sources SET next_run_at = to_timestamp($2) WHERE name = $1", source,
                     next);
      if (!schedule.ok()) continue;
      auto inserted = tx.exec_params(
          "INSERT INTO runs (source, trigger) VALUES ($1, 'schedule') "
          "ON CONFLICT (source) WHERE status IN ('queued', 'running') DO NOTHING RETURNING id",
          source);
      queued += static_cast<int>(inserted.size());
    }
    if (queued > 0) tx.exec_params("SELECT pg_notify($1, '')", kRunsChannel);
    tx.commit();
    return queued;
  });
}

}  // namespace octohub::ingest

namespace octohub::ingest {

Result<int> RunQueue::ExpireLeasesOf(const std::function<bool(const std::string& owner)>& is_dead) {
  return WithConnection(
      db_, "expiring dead workers' leases", [&](pqxx::connection& c) -> Result<int> {
        pqxx::work tx(c);
        int expired = 0;
        for (const auto& row : tx.exec("SELECT id, lease_owner FROM runs WHERE status = 'running' "
                                       "AND lease_owner IS NOT NULL "
                                       "FOR UPDATE SKIP LOCKED")) {
          if (!is_dead(row[1].as<std::string>())) continue;
          tx.exec_params(
              "UPDATE runs SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
              row[0].as<std::int64_t>());
          ++expired;
        }
        if (expired > 0) tx.exec_params("SELECT pg_notify($1, '')", kRunsChannel);
        tx.commit();
        return expired;
      });
}

}  // namespace octohub::ingest
