#include <boost/json.hpp>
#include <chrono>
#include <pqxx/pqxx>

#include "harvest.h"
#include "octohub/core/change_feed.h"
#include "octohub/core/log.h"
#include "octohub/core/secrets.h"
#include "octohub/ingest/ingest.h"
#include "runs.h"

namespace octohub::ingest {
namespace {

// A running run's lease (its length, in seconds, is the last parameter of each query that
// sets it); each committed page extends it. A worker that dies stops extending it, and the
// run can be taken over once it has expired.

// Claims the oldest queued run, or a running one whose worker stopped renewing its lease;
// a run taken over starts again from its first page (stored pages come back unchanged).
constexpr const char* kClaimNext = R"(
  UPDATE runs SET status = 'running', started_at = now(), lease_owner = $1,
                  lease_expires_at = now() + make_interval(secs => $2),
                  pages = 0, records_seen = 0, records_new = 0, records_updated = 0,
                  records_unchanged = 0, records_deleted = 0, records_skipped = 0, bytes = 0,
                  warnings = '[]', waiting_until = NULL
  WHERE id = (SELECT id FROM runs
              WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < now())
              ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
  RETURNING id)";

constexpr const char* kClaimOne = R"(
  UPDATE runs SET status = 'running', started_at = now(), lease_owner = $2,
                  lease_expires_at = now() + make_interval(secs => $3)
  WHERE id = $1 AND status = 'queued'
  RETURNING id)";

constexpr const char* kFinish = R"(
  UPDATE runs SET status = $3, error = $4, warnings = $5::jsonb, finished_at = now(),
                  lease_owner = NULL, lease_expires_at = NULL, waiting_until = NULL
  WHERE id = $1 AND lease_owner = $2)";

// Children scheduled "after_parent" are queued when their parent's run succeeds.
constexpr const char* kQueueChildren = R"(
  INSERT INTO runs (source, trigger)
  SELECT name, 'parent' FROM sources
  WHERE spec->'for_each'->>'source' = $1 AND spec->>'schedule' = 'after_parent'
  ON CONFLICT (source) WHERE status IN ('queued', 'running') DO NOTHING
  RETURNING id)";

// Why a run's row no longer answers to this worker: deleted with its source, or taken over.
Status RunLost(pqxx::transaction_base& tx, std::int64_t run_id) {
  if (tx.exec_params("SELECT 1 FROM runs WHERE id = $1", run_id).empty()) {
    return Status(StatusCode::kCancelled, "the source was deleted during the run");
  }
  return FailedPrecondition("the run's lease was lost to another worker");
}

}  // namespace

IngestWorker::IngestWorker(const Database& db, std::unique_ptr<HttpFetcher> fetcher,
                           std::string worker_id, RetryPolicy retry, Metrics* metrics,
                           std::chrono::seconds lease)
    : db_(db),
      fetcher_(std::move(fetcher)),
      worker_id_(std::move(worker_id)),
      retry_(retry),
      metrics_(metrics),
      lease_(lease),
      random_(std::random_device{}()) {
  if (metrics_ != nullptr) {
    metrics_->Declare("octohub_ingest_records_total", Metrics::Type::kCounter,
                      "records seen by ingest runs, by source and outcome");
    metrics_->Declare("octohub_ingest_runs_total", Metrics::Type::kCounter,
                      "finished ingest runs, by source and status");
  }
}

IngestWorker::~IngestWorker() = default;

Result<std::optional<Run>> IngestWorker::RunNextQueued(std::stop_token stop) {
  auto claimed =
      WithConnection(db_, "claiming a run", [&](pqxx::connection& c) -> Result<std::int64_t> {
        pqxx::work tx(c);
        auto rows = tx.exec_params(kClaimNext, worker_id_, lease_.count());
        tx.commit();
        return rows.empty() ? std::int64_t{0} : rows[0][0].as<std::int64_t>();
      });
  if (!claimed.ok()) return claimed.status();
  if (*claimed == 0) return std::optional<Run>();
  auto run = Execute(*claimed, std::move(stop));
  if (!run.ok()) return run.status();
  return std::optional<Run>(*run);
}

Result<std::optional<Run>> IngestWorker::RunIfQueued(std::int64_t run_id, std::stop_token stop) {
  auto claimed = WithConnection(db_, "claiming a run", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::work tx(c);
    auto rows = tx.exec_params(kClaimOne, run_id, worker_id_, lease_.count());
    tx.commit();
    return !rows.empty();
  });
  if (!claimed.ok()) return claimed.status();
  if (!*claimed) return std::optional<Run>();
  auto run = Execute(run_id, std::move(stop));
  if (!run.ok()) return run.status();
  return std::optional<Run>(*run);
}

Result<Run> IngestWorker::Execute(std::int64_t run_id, std::stop_token stop) {
  const auto started = std::chrono::steady_clock::now();
  auto connection = db_.Connect();
  if (!connection.ok()) return connection.status();
  pqxx::connection& c = **connection;

  std::string source;
  std::unique_ptr<Harvest> harvest;
  Status outcome;
  try {
    {
      pqxx::read_transaction tx(c);
      source =
          tx.exec_params1("SELECT source FROM runs WHERE id = $1", run_id)[0].as<std::string>();
    }
    log::Info("run.started", {{"run", run_id}, {"source", source}, {"worker", worker_id_}});
    harvest = std::make_unique<Harvest>(
        HarvestContext{db_, *fetcher_, worker_id_, retry_, lease_, random_}, c, run_id, source,
        std::move(stop));
    outcome = harvest->Run();
  } catch (...) {
    outcome = StatusFromCurrentException("run " + std::to_string(run_id));
  }
  // What the run reports is shown and logged: no secret of the source goes with it.
  if (!outcome.ok()) {
    const SecretScrubber& scrubber = harvest ? harvest->scrubber() : SecretScrubber();
    outcome = Status(outcome.code(), scrubber.Scrub(outcome.message()), outcome.field_errors());
  }

  // Finish on a fresh connection: the one above may be the reason the run failed.
  auto finished = WithConnection(db_, "finishing a run", [&](pqxx::connection& fc) -> Result<Run> {
    pqxx::work tx(fc);
    const char* status = outcome.ok()                               ? "succeeded"
                         : outcome.code() == StatusCode::kCancelled ? "cancelled"
                                                                    : "failed";
    const std::vector<RunWarning> warnings =
        harvest ? harvest->Warnings() : std::vector<RunWarning>();
    auto marked = tx.exec_params(kFinish, run_id, worker_id_, status,
                                 outcome.ok() ? std::optional<std::string>() : outcome.message(),
                                 boost::json::serialize(WarningsToJson(warnings)));
    if (marked.affected_rows() == 0) {
      if (Status lost = RunLost(tx, run_id); lost.code() == StatusCode::kCancelled) return lost;
    }
    // The incremental cursors only move when every page of the run was stored.
    if (outcome.ok() && harvest) {
      harvest->AdvanceCursors(tx);
      if (!tx.exec_params(kQueueChildren, source).empty()) {
        tx.exec_params("SELECT pg_notify($1, $2)", kRunsChannel, source);
      }
    }
    Run run = ReadRun(
        tx.exec_params1(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = $1", run_id));
    tx.commit();
    return run;
  });
  if (!finished.ok()) {
    if (finished.status().code() == StatusCode::kCancelled) {
      log::Info("run.dropped",
                {{"run", run_id}, {"source", source}, {"reason", finished.status().message()}});
    }
    return finished.status();
  }
  const Run& run = *finished;
  if (metrics_ != nullptr) {
    metrics_->Add("octohub_ingest_runs_total", {{"source", run.source}, {"status", run.status}});
    for (const auto& [outcome, count] : {std::pair{"new", run.records_new},
                                         {"updated", run.records_updated},
                                         {"unchanged", run.records_unchanged},
                                         {"deleted", run.records_deleted},
                                         {"skipped", run.records_skipped}}) {
      metrics_->Add("octohub_ingest_records_total", {{"source", run.source}, {"outcome", outcome}},
                    static_cast<double>(count));
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  boost::json::object fields = RunToJson(run);
  fields["duration_s"] = seconds;
  log::Write(run.status == "succeeded" ? log::Level::kInfo : log::Level::kWarn, "run.finished",
             std::move(fields));
  return run;
}

}  // namespace octohub::ingest
