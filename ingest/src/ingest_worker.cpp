#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <pqxx/pqxx>
#include <thread>

#include "octohub/core/log.h"
#include "octohub/core/secrets.h"
#include "octohub/ingest/ingest.h"
#include "page_extractor.h"
#include "page_planner.h"
#include "record_writer.h"
#include "retry_policy.h"
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
                  warnings = '[]'
  WHERE id = (SELECT id FROM runs
              WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < now())
              ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
  RETURNING id)";

constexpr const char* kClaimOne = R"(
  UPDATE runs SET status = 'running', started_at = now(), lease_owner = $2,
                  lease_expires_at = now() + make_interval(secs => $3)
  WHERE id = $1 AND status = 'queued'
  RETURNING id)";

constexpr const char* kRecordPage = R"(
  UPDATE runs SET pages = pages + 1, records_seen = records_seen + $3,
                  records_new = records_new + $4, records_updated = records_updated + $5,
                  records_unchanged = records_unchanged + $6,
                  records_skipped = records_skipped + $7, bytes = bytes + $8,
                  lease_expires_at = now() + make_interval(secs => $9)
  WHERE id = $1 AND lease_owner = $2 AND status = 'running')";

constexpr const char* kFinish = R"(
  UPDATE runs SET status = $3, error = $4, warnings = $5::jsonb, finished_at = now(),
                  lease_owner = NULL, lease_expires_at = NULL
  WHERE id = $1 AND lease_owner = $2)";

constexpr const char* kRenewLease =
    "UPDATE runs SET lease_expires_at = now() + make_interval(secs => $3) "
    "WHERE id = $1 AND lease_owner = $2 AND status = 'running'";

constexpr const char* kRecordDeleted = "UPDATE runs SET records_deleted = $2 WHERE id = $1";

constexpr const char* kAdvanceCursor = "UPDATE sources SET cursor = $2 WHERE name = $1";

// Why a run's row no longer answers to this worker: deleted with its source, or taken over.
Status RunLost(pqxx::transaction_base& tx, std::int64_t run_id) {
  if (tx.exec_params("SELECT 1 FROM runs WHERE id = $1", run_id).empty()) {
    return Status(StatusCode::kCancelled, "the source was deleted during the run");
  }
  return FailedPrecondition("the run's lease was lost to another worker");
}

// The request every page of the source shares, with secrets read now, not at save time.
// Every secret revealed is handed to `scrubber`, which hides it in what the run reports.
// Credentials (headers, basic auth, `credential_query`) go only to the source's own origin.
Status PrepareRequest(const SourceSpec& spec, HttpRequest& request, NamedValues& query,
                      NamedValues& credential_query, SecretScrubber& scrubber) {
  request.method = spec.method;
  request.timeout_s = spec.timeout_s;
  request.headers = spec.headers;
  if (spec.body) {
    request.body = *spec.body;
    request.headers.emplace_back("Content-Type", "application/json");
  }
  query = spec.query;
  request.credentials_origin = UrlOrigin(spec.url);
  auto credentials = RevealCredentials(spec.auth);
  if (!credentials.ok()) return credentials.status();
  for (const auto& secret : credentials->secrets) scrubber.AddValue(secret);
  if (spec.auth.type == AuthSpec::Type::kQuery) scrubber.AddQueryParam(spec.auth.name);
  request.credential_headers = std::move(credentials->headers);
  request.basic_auth = std::move(credentials->basic);
  credential_query = std::move(credentials->query);
  return Status::Ok();
}

// Sleeps in short slices so that a stop request is honoured promptly; false if stopped.
bool SleepUnlessStopped(Millis wait, const std::stop_token& stop) {
  const auto until = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < until) {
    if (stop.stop_requested()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        Millis(100), until - std::chrono::steady_clock::now()));
  }
  return !stop.stop_requested();
}

Status Stopped(std::int64_t pages_stored) {
  return Status(StatusCode::kCancelled, "stopped by shutdown after " +
                                            std::to_string(pages_stored) +
                                            " pages; the next run starts over");
}

}  // namespace

// One run in progress on its own connection.
struct IngestWorker::Execution {
  IngestWorker& worker;
  pqxx::connection& c;
  std::int64_t run_id;
  std::string source;
  std::optional<std::string> cursor;      // stored before the run
  std::optional<std::string> max_cursor;  // largest seen in this run
  std::stop_token stop;

  // Fetching renews the lease on a connection of its own: the next page is fetched while
  // the current one is being stored on `c`.
  std::unique_ptr<pqxx::connection> lease_connection;
  std::chrono::steady_clock::time_point lease_renewed{};
  // Hides the source's secrets in the run's error and log lines.
  SecretScrubber scrubber;
  // Records of stored pages that were skipped, by reason.
  std::map<std::string, std::int64_t> skipped_because;

  std::vector<RunWarning> Warnings() const {
    std::vector<RunWarning> out;
    if (skipped_because.empty()) return out;
    std::int64_t total = 0;
    std::string reasons;
    for (const auto& [reason, count] : skipped_because) {
      total += count;
      reasons += (reasons.empty() ? "" : ", ") + reason + " (" + std::to_string(count) + ")";
    }
    out.push_back(
        {"skipped_records",
         std::to_string(total) + (total == 1 ? " record" : " records") + " skipped: " + reasons});
    return out;
  }

  // Every stored page renews the lease too; this covers long waits between pages (retries,
  // rate limits, slow upstreams) without a round trip for every request.
  Status RenewLease() {
    const auto now = std::chrono::steady_clock::now();
    if (now - lease_renewed < std::chrono::duration<double>(worker.lease_) / 6) {
      return Status::Ok();
    }
    lease_renewed = now;
    if (!lease_connection) {
      auto opened = worker.db_.Connect();
      if (!opened.ok()) return opened.status();
      lease_connection = std::move(*opened);
    }
    pqxx::work tx(*lease_connection);
    auto renewed = tx.exec_params(kRenewLease, run_id, worker.worker_id_, worker.lease_.count());
    if (renewed.affected_rows() == 0) return RunLost(tx, run_id);
    tx.commit();
    return Status::Ok();
  }

  // Fetches one page, retrying what is worth retrying, within the source's rate limit.
  Result<HttpResponse> Fetch(const HttpRequest& request, RateLimiter& limiter, std::int64_t page) {
    const RetryPolicy& policy = worker.retry_;
    for (int attempt = 1;; ++attempt) {
      if (Status s = RenewLease(); !s.ok()) return s;
      if (!SleepUnlessStopped(limiter.Reserve(RateLimiter::Clock::now()), stop)) {
        return Stopped(page - 1);
      }
      auto outcome = worker.fetcher_->Fetch(request);
      if (!outcome.ok() && outcome.status().code() == StatusCode::kCancelled) {
        return Stopped(page - 1);
      }
      if (outcome.ok() && outcome->status >= 200 && outcome->status <= 299) return outcome;
      const std::string where = "page " + std::to_string(page) + " (" + request.url + ")";
      const std::string tries =
          attempt == 1 ? "" : " (after " + std::to_string(attempt) + " attempts)";
      if (!IsRetryable(outcome) || attempt >= policy.max_attempts) {
        if (!outcome.ok()) return outcome.status().WithContext(where + tries);
        return Unavailable(where + ": the upstream answered HTTP " +
                           std::to_string(outcome->status) + tries + ": " +
                           BodyExcerpt(outcome->body));
      }
      std::optional<Millis> retry_after;
      if (outcome.ok()) {
        if (auto header = outcome->Header("retry-after")) {
          retry_after = ParseRetryAfter(*header, std::chrono::system_clock::now());
        }
      }
      const Millis delay = RetryDelay(policy, attempt, retry_after, worker.random_);
      log::Warn("fetch.retry",
                {{"run", run_id},
                 {"source", source},
                 {"page", page},
                 {"attempt", attempt},
                 {"delay_ms", delay.count()},
                 {"reason", outcome.ok() ? "HTTP " + std::to_string(outcome->status)
                                         : scrubber.Scrub(outcome.status().message())}});
      if (!SleepUnlessStopped(delay, stop)) return Stopped(page - 1);
    }
  }

  // Every page, each stored with the run's counters in one transaction.
  Status Harvest() {
    auto spec = SourceRegistry(worker.db_).Get(source);
    if (!spec.ok()) return spec.status();
    HttpRequest request;
    NamedValues query, credential_query;
    if (Status s = PrepareRequest(*spec, request, query, credential_query, scrubber); !s.ok())
      return s;
    auto extractor = PageExtractor::ForSpec(*spec);
    if (!extractor.ok()) return extractor.status();
    const bool full_refresh = spec->mode == SourceSpec::Mode::kFullRefresh;
    PagePlanner planner(*spec, query, full_refresh ? std::nullopt : cursor, credential_query);
    RateLimiter limiter(spec->requests_per_second);
    auto first = planner.First();
    if (!first.ok()) return first.status();
    request.url = first->url;
    if (first->body) request.body = *first->body;
    request.stop = stop;  // shutdown does not wait for a slow upstream
    if (full_refresh) {
      pqxx::work tx(c);
      ForgetSeen(tx);
      tx.commit();
    }
    // A page is fetched and parsed in the background while the one before it is stored.
    struct Loaded {
      HttpResponse response;
      ExtractedPage page;
    };
    auto load = [this, &limiter, &extractor](const HttpRequest& page_request,
                                             std::int64_t number) -> Result<Loaded> {
      auto response = Fetch(page_request, limiter, number);
      if (!response.ok()) return response.status();
      auto page = extractor->Extract(response->body);
      if (!page.ok()) {
        return page.status().WithContext("page " + std::to_string(number) + " (" +
                                         page_request.url + ")");
      }
      return Loaded{std::move(*response), std::move(*page)};
    };
    Result<Loaded> loaded = load(request, planner.pages_planned());
    std::future<Result<Loaded>> prefetch;
    while (true) {
      const std::int64_t page_number = planner.pages_planned();
      if (!loaded.ok()) return loaded.status();
      const ExtractedPage& page = loaded->page;
      if (page.max_incremental &&
          (!max_cursor || CursorGreater(*page.max_incremental, *max_cursor))) {
        max_cursor = page.max_incremental;
      }
      auto next = planner.Next(page, loaded->response);
      HttpRequest next_request = request;
      if (next.ok() && *next && !stop.stop_requested()) {
        next_request.url = (*next)->url;
        if ((*next)->body) next_request.body = *(*next)->body;
        prefetch = std::async(std::launch::async, load, next_request, planner.pages_planned());
      }
      pqxx::work tx(c);
      WriteCounts counts = WriteRecords(tx, source, page.records);
      if (full_refresh) RememberSeen(tx, page.records);
      auto updated = tx.exec_params(
          kRecordPage, run_id, worker.worker_id_, page.array_size - page.skipped, counts.inserted,
          counts.updated, counts.unchanged, page.skipped,
          static_cast<std::int64_t>(loaded->response.body.size()), worker.lease_.count());
      // Not ours any more: the page is rolled back, never written to a source re-created
      // under the same name meanwhile.
      if (updated.affected_rows() == 0) return RunLost(tx, run_id);
      tx.commit();
      for (const auto& [reason, count] : page.skipped_because) skipped_because[reason] += count;
      if (!next.ok()) return next.status();
      if (!*next) break;
      if (stop.stop_requested()) return Stopped(page_number);
      request = next_request;
      loaded = prefetch.get();
    }
    // Only a complete pass knows which records the upstream no longer has.
    if (full_refresh && !planner.truncated()) {
      pqxx::work tx(c);
      // Checked in the same transaction: a source deleted and re-created since must not see
      // its records marked deleted by what this run did not see.
      auto renewed = tx.exec_params(kRenewLease, run_id, worker.worker_id_, worker.lease_.count());
      if (renewed.affected_rows() == 0) return RunLost(tx, run_id);
      tx.exec_params(kRecordDeleted, run_id, MarkUnseenDeleted(tx, source));
      tx.commit();
    }
    return Status::Ok();
  }
};

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
  auto run = Execute(*claimed, stop);
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
  auto run = Execute(run_id, stop);
  if (!run.ok()) return run.status();
  return std::optional<Run>(*run);
}

Result<Run> IngestWorker::Execute(std::int64_t run_id, std::stop_token stop) {
  const auto started = std::chrono::steady_clock::now();
  auto connection = db_.Connect();
  if (!connection.ok()) return connection.status();
  pqxx::connection& c = **connection;

  std::string source;
  std::optional<std::string> cursor;
  std::optional<std::string> max_cursor;
  std::optional<Execution> execution;
  Status outcome;
  try {
    {
      pqxx::read_transaction tx(c);
      auto row = tx.exec_params1(
          "SELECT r.source, s.cursor FROM runs r JOIN sources s ON s.name = r.source "
          "WHERE r.id = $1",
          run_id);
      source = row[0].as<std::string>();
      if (!row[1].is_null()) cursor = row[1].as<std::string>();
    }
    log::Info("run.started", {{"run", run_id}, {"source", source}, {"worker", worker_id_}});
    execution.emplace(Execution{*this, c, run_id, source, cursor, std::nullopt, stop});
    outcome = execution->Harvest();
    max_cursor = execution->max_cursor;
  } catch (...) {
    outcome = StatusFromCurrentException("run " + std::to_string(run_id));
  }
  // What the run reports is shown and logged: no secret of the source goes with it.
  if (!outcome.ok()) {
    const SecretScrubber& scrubber = execution ? execution->scrubber : SecretScrubber();
    outcome = Status(outcome.code(), scrubber.Scrub(outcome.message()), outcome.field_errors());
  }

  // Finish on a fresh connection: the one above may be the reason the run failed.
  auto finished = WithConnection(db_, "finishing a run", [&](pqxx::connection& fc) -> Result<Run> {
    pqxx::work tx(fc);
    const char* status = outcome.ok()                               ? "succeeded"
                         : outcome.code() == StatusCode::kCancelled ? "cancelled"
                                                                    : "failed";
    const std::vector<RunWarning> warnings =
        execution ? execution->Warnings() : std::vector<RunWarning>();
    auto marked = tx.exec_params(kFinish, run_id, worker_id_, status,
                                 outcome.ok() ? std::optional<std::string>() : outcome.message(),
                                 boost::json::serialize(WarningsToJson(warnings)));
    if (marked.affected_rows() == 0) {
      if (Status lost = RunLost(tx, run_id); lost.code() == StatusCode::kCancelled) return lost;
    }
    // The incremental cursor only moves when every page of the run was stored.
    if (outcome.ok() && max_cursor && (!cursor || CursorGreater(*max_cursor, *cursor))) {
      tx.exec_params(kAdvanceCursor, source, *max_cursor);
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
