// Forwarding at run time (SPEC §5): the forwarder that empties the deliveries outbox, and the
// rule evaluator that fills it after the indexer commits.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "octohub/core/database.h"
#include "octohub/core/metrics.h"
#include "octohub/core/status.h"
#include "octohub/indexer/searcher.h"

namespace octohub::forward {

struct ForwarderOptions {
  std::string owner;       // lease owner: unique per process and loop (see hub's WorkerId)
  int lease_s = 60;        // claims not renewed for this long are taken over by others
  int max_claimed = 1024;  // deliveries held (queued or in flight) at once
  std::chrono::milliseconds poll_interval{1000};  // fallback when no notification comes
  // Leases of owners this says are gone (a killed local process) are ended at start.
  std::function<bool(const std::string& owner)> is_dead_owner;
};

// Claims due deliveries with leases in PostgreSQL and sends them: over libcurl handles kept
// per target (keep-alive connections are reused), in parallel across targets and at most a
// target's `concurrency` at once to each, within its rate limit. Each request carries
// Idempotency-Key: <delivery id> and, with a secret, X-Octohub-Signature and the Standard
// Webhooks headers. Failures wait as the target's retry schedule says (Retry-After wins);
// after max_attempts (or a status that retrying cannot fix, such as 400) a delivery is dead.
// A failing target is probed by one delivery at a time while the rest of its queue waits,
// then ramped back up to its concurrency; one failing for its pause_after is paused (see
// TargetHealthStore). A record's deliveries to a target go in the order they were made.
// Woken by NOTIFY on new deliveries, else polls. Records octohub_deliveries_total,
// octohub_delivery_queue_depth and octohub_target_state.
// One thread calls Run; several forwarders (threads or processes) may share a database.
class Forwarder {
 public:
  Forwarder(const Database& db, Metrics* metrics, ForwarderOptions options);
  ~Forwarder();

  // Until stop: then finishes what is in flight (a few seconds at most), records it, and
  // releases the leases of everything else it holds. Errors are logged and retried.
  void Run(const std::stop_token& stop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Forwards, for every enabled rule, the records indexed up to a checkpoint that are new or
// changed since the rule was saved and match its query in the index, each record version at
// most once. Progress is kept in PostgreSQL, so records committed to the index before a crash
// are evaluated after it. Not thread-safe: the index follower's thread calls it after each
// commit. Errors leave the progress where it was, to be retried on the next commit.
class RuleEvaluator {
 public:
  RuleEvaluator(const Database& db, indexer::Searcher& searcher);
  Result<std::int64_t> Evaluate(std::int64_t checkpoint);  // deliveries created

 private:
  const Database& db_;
  indexer::Searcher& searcher_;
};

}  // namespace octohub::forward
