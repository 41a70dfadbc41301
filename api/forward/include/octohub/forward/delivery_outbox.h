// The deliveries outbox in PostgreSQL: claimed under leases by forwarders, listed and
// retried by the API. Thread-safe; holds no connection.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/core/status.h"

namespace octohub::forward {

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
  // Not tried: the target is failing and another delivery probes it; due again with the
  // probe's next attempt, its own attempts unspent.
  bool deferred = false;
  bool target_failed = false;  // the target failed (no answer, 5xx, 429), not just this record
  std::int64_t retry_in_ms = 0;
  std::string error;    // for failures
  std::string excerpt;  // the start of the response body
};

// Every call answers with a Status, PostgreSQL's failures included: none throws.
class DeliveryOutbox {
 public:
  explicit DeliveryOutbox(const Database& db) : db_(db) {}

  // Takes up to limit due deliveries for owner until the lease expires: none of a paused
  // target, and none while an older delivery to the same target with one of its records is
  // unfinished (a record's versions reach a target in order).
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

  // Which deliveries a replay makes pending again; at least one filter must be given.
  struct ReplayRequest {
    std::string target;               // empty = any
    std::vector<std::string> status;  // of dead, failed, sent; empty = dead and failed
    std::string since, until;         // RFC 3339 bounds on when a delivery was created
    std::string rule;                 // empty = any
  };
  // Makes every matching delivery pending with a fresh set of attempts, under its own id
  // (receivers still drop what they had); answers how many.
  Result<std::int64_t> Replay(const ReplayRequest& request);

 private:
  const Database& db_;
};

}  // namespace octohub::forward
