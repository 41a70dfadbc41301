// One run's harvest: every page of a source (of every parent record, for a child source),
// fetched with retries, rate-limit waits and OAuth2 tokens, each page stored with the run's
// counters in one transaction; then what a complete pass allows (deletions) and what it
// warns about. Private to ingest/.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <random>
#include <stop_token>
#include <string>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/core/secrets.h"
#include "octohub/ingest/http_fetcher.h"
#include "octohub/ingest/ingest.h"
#include "page_planner.h"
#include "record_writer.h"
#include "retry_policy.h"
#include "run_guards.h"
#include "source_client.h"

namespace octohub::ingest {

// What a harvest borrows from the worker that runs it.
struct HarvestContext {
  const Database& db;
  HttpFetcher& fetcher;
  const std::string& worker_id;
  const RetryPolicy& retry;
  std::chrono::seconds lease;
  std::mt19937_64& random;
};

class Harvest {
 public:
  Harvest(HarvestContext context, pqxx::connection& c, std::int64_t run_id, std::string source,
          std::stop_token stop);
  ~Harvest();

  // Fetches and stores every page. A stop request ends it after the page in hand is stored
  // (kCancelled).
  Status Run();
  // After a successful run, in the transaction that finishes it: the incremental cursors
  // move on (the source's, or one per parent record).
  void AdvanceCursors(pqxx::work& tx) const;

  std::vector<RunWarning> Warnings() const { return warnings_.List(); }
  // Hides the source's secrets in errors and log lines.
  const SecretScrubber& scrubber() const {
    static const SecretScrubber kNone;
    return client_ ? client_->scrubber() : kNone;
  }

 private:
  struct Pass;  // the pages of one request chain: the source's, or one parent's

  Status Prepare();
  Status HarvestParents();
  Status HarvestPass(const SourceSpec& spec, const std::optional<ParentRef>& parent,
                     const std::optional<std::string>& cursor);
  Status FinishFullPass();
  Status RenewLease();
  void ShowWaiting(std::optional<std::chrono::milliseconds> wait);
  Status Stopped() const;

  HarvestContext context_;
  pqxx::connection& c_;
  std::int64_t run_id_;
  std::string source_;
  std::stop_token stop_;

  SourceSpec spec_;
  std::unique_ptr<SourceClient> client_;
  // Fetching renews the lease on a connection of its own: the next page is fetched while the
  // current one is being stored on c_.
  std::unique_ptr<pqxx::connection> lease_connection_;
  std::chrono::steady_clock::time_point lease_renewed_{};

  std::optional<std::string> stored_cursor_;           // the source's, before the run
  std::optional<std::string> max_cursor_;              // the largest seen in this run
  std::map<std::string, std::string> parent_cursors_;  // child sources: per parent record
  std::atomic<std::int64_t> pages_stored_ = 0;         // read by the prefetching thread
  std::int64_t records_seen_ = 0;
  std::int64_t records_changed_ = 0;  // new or updated
  std::int64_t last_pass_changed_ = 0;
  bool complete_ = true;  // no pass stopped at max_pages
  std::map<std::string, std::int64_t> skipped_because_;
  WarningSet warnings_;
};

}  // namespace octohub::ingest
