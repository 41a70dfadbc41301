#include <chrono>
#include <cstdlib>
#include <pqxx/pqxx>

#include "octohub/core/log.h"
#include "octohub/ingest/ingest.h"
#include "page_extractor.h"
#include "page_planner.h"
#include "record_writer.h"
#include "runs.h"

namespace octohub::ingest {
namespace {

// A running run's lease; each committed page extends it. A worker that dies stops
// extending it, and the run can be taken over once it has expired.
constexpr const char* kLease = "interval '2 minutes'";

const std::string kClaimNext = std::string(R"(
  UPDATE runs SET status = 'running', started_at = now(), lease_owner = $1,
                  lease_expires_at = now() + )") +
                               kLease + R"(
  WHERE id = (SELECT id FROM runs WHERE status = 'queued' ORDER BY id
              FOR UPDATE SKIP LOCKED LIMIT 1)
  RETURNING id)";

const std::string kClaimOne = std::string(R"(
  UPDATE runs SET status = 'running', started_at = now(), lease_owner = $2,
                  lease_expires_at = now() + )") +
                              kLease + R"(
  WHERE id = $1 AND status = 'queued'
  RETURNING id)";

const std::string kRecordPage = std::string(R"(
  UPDATE runs SET pages = pages + 1, records_seen = records_seen + $3,
                  records_new = records_new + $4, records_updated = records_updated + $5,
                  records_unchanged = records_unchanged + $6,
                  records_skipped = records_skipped + $7, bytes = bytes + $8,
                  lease_expires_at = now() + )") +
                                kLease + R"(
  WHERE id = $1 AND lease_owner = $2 AND status = 'running')";

constexpr const char* kFinish = R"(
  UPDATE runs SET status = $3, error = $4, finished_at = now(),
                  lease_owner = NULL, lease_expires_at = NULL
  WHERE id = $1 AND lease_owner = $2)";

constexpr const char* kAdvanceCursor = "UPDATE sources SET cursor = $2 WHERE name = $1";

Result<std::string> Reveal(const Secret& secret, const std::string& where) {
  if (secret.env.empty()) return secret.value;
  const char* value = std::getenv(secret.env.c_str());
  if (value == nullptr) {
    return FailedPrecondition("the environment variable " + secret.env + " (for " + where +
                              ") is not set");
  }
  return std::string(value);
}

// The request every page of the source shares, with secrets read now, not at save time.
Status PrepareRequest(const SourceSpec& spec, HttpRequest& request, NamedValues& query) {
  request.method = spec.method;
  request.timeout_s = spec.timeout_s;
  request.headers = spec.headers;
  if (spec.body) {
    request.body = *spec.body;
    request.headers.emplace_back("Content-Type", "application/json");
  }
  query = spec.query;
  const auto& auth = spec.auth;
  switch (auth.type) {
    case AuthSpec::Type::kNone:
      break;
    case AuthSpec::Type::kBearer: {
      auto token = Reveal(auth.token, "/auth/token");
      if (!token.ok()) return token.status();
      request.headers.emplace_back("Authorization", "Bearer " + *token);
      break;
    }
    case AuthSpec::Type::kBasic: {
      auto user = Reveal(auth.username, "/auth/username");
      auto password = Reveal(auth.password, "/auth/password");
      if (!user.ok()) return user.status();
      if (!password.ok()) return password.status();
      request.basic_auth = {*user, *password};
      break;
    }
    case AuthSpec::Type::kHeader:
    case AuthSpec::Type::kQuery: {
      auto value = Reveal(auth.value, "/auth/value");
      if (!value.ok()) return value.status();
      if (auth.type == AuthSpec::Type::kHeader)
        request.headers.emplace_back(auth.name, *value);
      else
        query.emplace_back(auth.name, *value);
      break;
    }
  }
  return Status::Ok();
}

}  // namespace

IngestWorker::IngestWorker(const Database& db, std::unique_ptr<HttpFetcher> fetcher,
                           std::string worker_id)
    : db_(db), fetcher_(std::move(fetcher)), worker_id_(std::move(worker_id)) {}

IngestWorker::~IngestWorker() = default;

Result<std::optional<Run>> IngestWorker::RunNextQueued(std::stop_token stop) {
  auto claimed =
      WithConnection(db_, "claiming a run", [&](pqxx::connection& c) -> Result<std::int64_t> {
        pqxx::work tx(c);
        auto rows = tx.exec_params(kClaimNext, worker_id_);
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
    auto rows = tx.exec_params(kClaimOne, run_id, worker_id_);
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
    outcome = [&]() -> Status {
      auto spec = SourceRegistry(db_).Get(source);
      if (!spec.ok()) return spec.status();
      HttpRequest request;
      NamedValues query;
      if (Status s = PrepareRequest(*spec, request, query); !s.ok()) return s;
      auto extractor = PageExtractor::ForSpec(*spec);
      if (!extractor.ok()) return extractor.status();
      PagePlanner planner(*spec, query, cursor);
      auto url = planner.FirstUrl();
      if (!url.ok()) return url.status();
      request.url = *url;
      while (true) {
        auto response = fetcher_->Fetch(request);
        if (!response.ok()) return response.status();
        const std::string where =
            "page " + std::to_string(planner.pages_planned()) + " (" + request.url + ")";
        if (response->status < 200 || response->status > 299) {
          return Unavailable(where + ": the upstream answered HTTP " +
                             std::to_string(response->status) + ": " + BodyExcerpt(response->body));
        }
        auto page = extractor->Extract(response->body);
        if (!page.ok()) return page.status().WithContext(where);
        if (page->max_incremental &&
            (!max_cursor || CursorGreater(*page->max_incremental, *max_cursor))) {
          max_cursor = page->max_incremental;
        }
        pqxx::work tx(c);
        WriteCounts counts = WriteRecords(tx, source, page->records);
        auto updated =
            tx.exec_params(kRecordPage, run_id, worker_id_, page->array_size - page->skipped,
                           counts.inserted, counts.updated, counts.unchanged, page->skipped,
                           static_cast<std::int64_t>(response->body.size()));
        if (updated.affected_rows() == 0) {
          return FailedPrecondition("the run's lease was lost to another worker");
        }
        tx.commit();
        auto next = planner.NextUrl(*page, *response);
        if (!next.ok()) return next.status();
        if (!*next) return Status::Ok();
        if (stop.stop_requested()) {
          return Status(StatusCode::kCancelled, "stopped by shutdown after page " +
                                                    std::to_string(planner.pages_planned() - 1) +
                                                    "; the next run starts over");
        }
        request.url = **next;
      }
    }();
  } catch (...) {
    outcome = StatusFromCurrentException("run " + std::to_string(run_id));
  }

  // Finish on a fresh connection: the one above may be the reason the run failed.
  auto finished = WithConnection(db_, "finishing a run", [&](pqxx::connection& fc) -> Result<Run> {
    pqxx::work tx(fc);
    const char* status = outcome.ok()                               ? "succeeded"
                         : outcome.code() == StatusCode::kCancelled ? "cancelled"
                                                                    : "failed";
    tx.exec_params(kFinish, run_id, worker_id_, status,
                   outcome.ok() ? std::optional<std::string>() : outcome.message());
    // The incremental cursor only moves when every page of the run was stored.
    if (outcome.ok() && max_cursor && (!cursor || CursorGreater(*max_cursor, *cursor))) {
      tx.exec_params(kAdvanceCursor, source, *max_cursor);
    }
    Run run = ReadRun(
        tx.exec_params1(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = $1", run_id));
    tx.commit();
    return run;
  });
  if (!finished.ok()) return finished.status();
  const Run& run = *finished;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  boost::json::object fields = RunToJson(run);
  fields["duration_s"] = seconds;
  log::Write(run.status == "succeeded" ? log::Level::kInfo : log::Level::kWarn, "run.finished",
             std::move(fields));
  return run;
}

}  // namespace octohub::ingest
