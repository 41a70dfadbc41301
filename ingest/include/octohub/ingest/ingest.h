// Ingest: registered sources, runs, and the worker that harvests a source into PostgreSQL.
//
// Everything here talks to PostgreSQL through a Database; objects hold no connection between
// calls unless noted, and are safe to use from one thread at a time.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/core/metrics.h"
#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"
#include "octohub/ingest/http_fetcher.h"

namespace octohub::ingest {

// Something a run noticed without failing (SPEC §3 "correctness guards").
struct RunWarning {
  std::string code;  // skipped_records, …
  std::string detail;
};

// A run as SPEC §3 returns it; times are RFC 3339 UTC.
struct Run {
  std::int64_t id = 0;
  std::string source;
  std::string status;   // queued | running | succeeded | failed | cancelled
  std::string trigger;  // schedule | manual | parent | push
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  std::int64_t pages = 0;
  std::int64_t records_seen = 0;
  std::int64_t records_new = 0;
  std::int64_t records_updated = 0;
  std::int64_t records_unchanged = 0;
  std::int64_t records_deleted = 0;
  std::int64_t records_skipped = 0;
  std::int64_t bytes = 0;
  std::optional<std::string> error;
  std::vector<RunWarning> warnings;
  std::optional<std::string> waiting_until;  // while a rate limit makes the run wait

  bool finished() const {
    return status == "succeeded" || status == "failed" || status == "cancelled";
  }
};

boost::json::object RunToJson(const Run& run);

struct SourceSummary {
  SourceSpec spec;
  std::string name;
  std::string schedule;
  std::int64_t records = 0;  // stored and not deleted
  std::optional<Run> last_run;
  std::optional<std::string> next_run_at;
};

class SourceRegistry {
 public:
  explicit SourceRegistry(const Database& db) : db_(db) {}

  enum class Applied { kCreated, kUpdated, kUnchanged };
  // Creates or replaces the source with this name.
  Result<Applied> Apply(const SourceSpec& spec);
  // Creates it; kAlreadyExists when the name is taken.
  Status Create(const SourceSpec& spec);
  Result<SourceSpec> Get(const std::string& name);
  Result<SourceSummary> Describe(const std::string& name);  // kNotFound
  Result<std::vector<SourceSummary>> List();
  // Deletes the source with its records and runs; the index drops its documents.
  Status Delete(const std::string& name);

 private:
  const Database& db_;
};

class RunQueue {
 public:
  explicit RunQueue(const Database& db) : db_(db) {}

  // Queues a run; when the source already has a queued or running run, returns that one.
  Result<Run> Enqueue(const std::string& source, const std::string& trigger);
  Result<Run> Get(std::int64_t id);
  // Queues a "schedule" run for every source whose next run is due and moves its next run
  // on; safe to call from several processes at once. Returns how many were queued.
  Result<int> EnqueueDue();
  // Expires at once the leases of running runs whose owner is_dead says has died (a worker
  // on this machine that crashed), so they are taken over without waiting for expiry.
  Result<int> ExpireLeasesOf(const std::function<bool(const std::string& owner)>& is_dead);
  Result<std::vector<Run>> ListForSource(const std::string& source, int limit);

 private:
  const Database& db_;
};

// A record as stored (SPEC §4: GET /api/v1/records/{source}/{id}).
struct StoredRecord {
  std::string source;
  std::string id;
  std::string data;  // the record's JSON as fetched
  std::string content_hash;
  std::string fetched_at;
  std::string updated_at;
  bool deleted = false;
  // A child source's record: the parent record it was fetched for (source, id).
  std::optional<std::pair<std::string, std::string>> parent;
};

// kNotFound when the source has no record with this id.
Result<StoredRecord> ReadRecord(const Database& db, const std::string& source,
                                const std::string& id);

// How a worker retries a page: connection errors, timeouts, 408, 429 and 5xx are retried
// with exponential backoff and full jitter, or after the server's Retry-After.
struct RetryPolicy {
  int max_attempts = 5;                        // per page, the first try included
  std::chrono::milliseconds base_delay{500};   // doubles each attempt
  std::chrono::milliseconds max_delay{30000};  // also caps what Retry-After may ask for
};

// Claims queued runs (with a lease, so several workers never take the same one) and
// executes them: fetch page by page, extract records, upsert each page in one transaction
// together with the run's counters.
class IngestWorker {
 public:
  // metrics, when given, counts records by outcome and runs by status, per source. A run's
  // lease lasts `lease` and is renewed every sixth of it; another worker may take the run
  // over once it has expired.
  IngestWorker(const Database& db, std::unique_ptr<HttpFetcher> fetcher, std::string worker_id,
               RetryPolicy retry = {}, Metrics* metrics = nullptr,
               std::chrono::seconds lease = std::chrono::minutes(2));
  ~IngestWorker();

  // Runs the oldest queued run, if any; returns it finished, or nullopt when none was queued.
  // A stop request ends the run after the page in hand is stored, as "cancelled".
  Result<std::optional<Run>> RunNextQueued(std::stop_token stop = {});
  // Runs this queued run if nobody else has claimed it; nullopt when someone has.
  Result<std::optional<Run>> RunIfQueued(std::int64_t run_id, std::stop_token stop = {});

 private:
  Result<Run> Execute(std::int64_t run_id, std::stop_token stop);

  const Database& db_;
  std::unique_ptr<HttpFetcher> fetcher_;
  std::string worker_id_;
  RetryPolicy retry_;
  Metrics* metrics_;
  std::chrono::seconds lease_;
  std::mt19937_64 random_;  // backoff jitter
};

}  // namespace octohub::ingest
