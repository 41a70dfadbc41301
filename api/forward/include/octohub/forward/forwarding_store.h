// Targets, rules and the deliveries outbox in PostgreSQL, for the API routes, the CLI and the
// forwarder. Each object is cheap, holds no connection, and is thread-safe (each call opens
// its own connection, or uses the one it is given).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/forward/forwarding.h"
#include "octohub/indexer/searcher.h"

namespace octohub::forward {

using RecordKey = std::pair<std::string, std::string>;  // source, id

enum class Saved { kCreated, kUpdated, kUnchanged };

class TargetStore {
 public:
  explicit TargetStore(const Database& db) : db_(db) {}
  Result<Saved> Save(const TargetSpec& spec, bool create_only);
  Result<TargetSpec> Get(const std::string& name);
  Result<std::vector<TargetSpec>> List();
  Status Delete(const std::string& name);  // kFailedPrecondition while a rule uses it

 private:
  const Database& db_;
};

struct StoredRule {
  RuleSpec spec;
  std::int64_t from_seq = 0;
};

class RuleStore {
 public:
  explicit RuleStore(const Database& db) : db_(db) {}
  // A changed rule starts over from now: it forwards what changes after this save.
  Result<Saved> Save(const RuleSpec& spec, bool create_only);
  Result<StoredRule> Get(const std::string& name);
  Result<std::vector<StoredRule>> List();
  Status Delete(const std::string& name);

 private:
  const Database& db_;
};

struct RuleSaved {
  Saved saved = Saved::kUnchanged;
  std::optional<std::int64_t> forward_id;  // a backfill's forward, when it forwarded anything
  std::int64_t deliveries = 0;
  std::int64_t records = 0;
};
// Validates a rule against the index (its query must parse as a search's would: 422 at
// /query/q) and the targets (/target), saves it, and with backfill forwards every record that
// matches now (at most 100,000).
Result<RuleSaved> SaveRule(const Database& db, indexer::Searcher& searcher, const RuleSpec& spec,
                           bool create_only);

struct Enqueued {
  std::int64_t forward_id = 0;
  std::int64_t deliveries = 0;  // dead ones included
  std::int64_t records = 0;
  std::int64_t dead = 0;  // deliveries dead at once: their record could not be rendered
};

// Writes the deliveries for these records (in order, `batch` per delivery) to the outbox in
// tx and notifies forwarders on commit. A record the target's template cannot render gets a
// dead delivery of its own with the reason. Missing or deleted records are reported as
// kInvalidArgument with pointers "/records/N" into keys unless skip_missing.
Result<Enqueued> EnqueueRecords(pqxx::work& tx, const TargetSpec& target,
                                const std::vector<RecordKey>& keys,
                                const std::optional<std::string>& rule, bool skip_missing);

// Remembers these matches of a rule at the records' current versions and enqueues those the
// rule has not forwarded before (a backfill).
Result<Enqueued> EnqueueRuleMatches(pqxx::work& tx, const std::string& rule,
                                    const TargetSpec& target, const std::vector<RecordKey>& keys);

// Every (source, id) matching q/sources in the index, best first, at most limit.
Result<std::vector<RecordKey>> MatchingRecords(indexer::Searcher& searcher, const std::string& q,
                                               const std::vector<std::string>& sources,
                                               std::int64_t limit,
                                               std::vector<RecordKey> among = {});

struct ClaimedDelivery {
  std::int64_t id = 0;
  std::string target;
  std::string body;
  int attempts = 0;  // before this one
};

struct DeliveryOutcome {
  std::int64_t id = 0;
  std::string target;
  int attempts = 0;     // including this one
  int http_status = 0;  // 0 = no response
  bool sent = false;    // 2xx
  bool dead = false;    // no more attempts
  std::int64_t retry_in_ms = 0;
  std::string error;    // for failures
  std::string excerpt;  // the start of the response body
};

// Every call answers with a Status, PostgreSQL's failures included: none throws.
class DeliveryOutbox {
 public:
  explicit DeliveryOutbox(const Database& db) : db_(db) {}

  // Takes up to limit due deliveries for owner until the lease expires.
  Result<std::vector<ClaimedDelivery>> Claim(pqxx::connection& c, const std::string& owner,
                                             int limit, int lease_s);
  // Records outcomes; ignores deliveries whose lease owner is no longer `owner`.
  Status Record(pqxx::connection& c, const std::string& owner,
                const std::vector<DeliveryOutcome>& outcomes);
  Status RenewLeases(pqxx::connection& c, const std::string& owner, int lease_s);
  Status ReleaseLeases(pqxx::connection& c, const std::string& owner);
  // Hands the given deliveries back unsent, for any forwarder to claim again.
  Status ReleaseLeases(pqxx::connection& c, const std::string& owner,
                       const std::vector<std::int64_t>& ids);
  // Ends the leases of owners that is_dead says are gone (a killed local process).
  Result<int> ExpireLeasesOf(const std::function<bool(const std::string& owner)>& is_dead);
  // Pending and failed deliveries by target (every target, zeros included).
  Result<std::map<std::string, std::int64_t>> QueueDepth(pqxx::connection& c);

  struct ListRequest {
    std::string status;  // empty = any
    std::string target;  // empty = any
    int page = 1;
    int per_page = 50;
  };
  Result<boost::json::object> List(const ListRequest& request);
  Result<boost::json::object> Get(std::int64_t id);
  // A failed or dead delivery becomes pending with a fresh set of attempts.
  Result<boost::json::object> Retry(std::int64_t id);

 private:
  const Database& db_;
};

}  // namespace octohub::forward
