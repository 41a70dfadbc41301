// The delivery outbox: claims with leases, outcomes, listings and retries.
#include "octohub/forward/delivery_outbox.h"

#include <boost/json.hpp>
#include <set>

#include "octohub/core/change_feed.h"
#include "octohub/core/pg_array.h"

namespace octohub::forward {
namespace json = boost::json;
namespace {

// Due deliveries, oldest first, but none of the paused targets ($4, read just before: as a
// value the planner sees that it excludes few and walks deliveries_due in order) and none
// whose earlier deliveries of the same records to the same target are unfinished (a primary
// key probe, only for the few that have any).
constexpr const char* kClaim = R"(
  WITH due AS (
    SELECT d.id FROM deliveries d
    WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= now()
      AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now())
      AND d.target <> ALL ($4::text[])
      AND (d.after_ids = '{}' OR NOT EXISTS (
        SELECT 1 FROM deliveries o
        WHERE o.id = ANY (d.after_ids) AND o.status IN ('pending', 'failed')))
    ORDER BY d.next_attempt_at, d.id LIMIT $2 FOR UPDATE OF d SKIP LOCKED)
  UPDATE deliveries d SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $3)
  FROM due WHERE d.id = due.id
  RETURNING d.id, d.target, d.body, d.attempts)";

// Deliveries that waited for a probe: due with its next attempt, attempts untouched.
constexpr const char* kRecordDeferred = R"(
  UPDATE deliveries d SET next_attempt_at = now() + make_interval(secs => u.wait_s),
    lease_owner = NULL, lease_expires_at = NULL
  FROM unnest($2::bigint[], $3::float8[]) AS u(id, wait_s)
  WHERE d.id = u.id AND d.lease_owner = $1)";

constexpr const char* kRecordSent = R"(
  UPDATE deliveries d SET status = 'sent', attempts = u.attempts, last_status = u.code,
    last_error = NULL, response_excerpt = NULL, sent_at = clock_timestamp(), updated_at = now(),
    lease_owner = NULL, lease_expires_at = NULL
  FROM unnest($2::bigint[], $3::int[], $4::int[]) AS u(id, attempts, code)
  WHERE d.id = u.id AND d.lease_owner = $1)";

constexpr const char* kRecordFailed = R"(
  UPDATE deliveries SET status = $3, attempts = $4, last_status = $5, last_error = $6,
    response_excerpt = $7, next_attempt_at = now() + make_interval(secs => $8),
    updated_at = now(), lease_owner = NULL, lease_expires_at = NULL
  WHERE id = $2 AND lease_owner = $1)";

constexpr const char* kDeliveryColumns = R"(
  d.id, d.forward_id, d.target, f.rule, d.status, d.attempts, d.last_status, d.last_error,
  d.response_excerpt, d.records::text,
  to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  to_char(d.next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  to_char(d.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))";

json::value Nullable(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return json::value(f.as<std::string>());
}

json::object DeliveryToJson(const pqxx::row& row) {
  return {{"id", row[0].as<std::int64_t>()},
          {"forward_id", row[1].as<std::int64_t>()},
          {"target", row[2].as<std::string>()},
          {"rule", Nullable(row[3])},
          {"status", row[4].as<std::string>()},
          {"attempts", row[5].as<int>()},
          {"last_status", row[6].is_null() ? json::value(nullptr) : json::value(row[6].as<int>())},
          {"last_error", Nullable(row[7])},
          {"response_excerpt", Nullable(row[8])},
          {"records", json::parse(row[9].as<std::string>())},
          {"created_at", row[10].as<std::string>()},
          {"next_attempt_at",
           row[4].as<std::string>() == "pending" || row[4].as<std::string>() == "failed"
               ? Nullable(row[11])
               : json::value(nullptr)},
          {"sent_at", Nullable(row[12])}};
}

}  // namespace

Result<std::vector<ClaimedDelivery>> DeliveryOutbox::Claim(pqxx::connection& c,
                                                           const std::string& owner, int limit,
                                                           int lease_s) {
  return OnConnection(
      c, "claiming deliveries", [&](pqxx::connection&) -> Result<std::vector<ClaimedDelivery>> {
        pqxx::work tx(c);
        std::vector<ClaimedDelivery> out;
        const auto paused = tx.exec1(
                                  "SELECT coalesce(array_agg(target), '{}')::text FROM "
                                  "target_states WHERE paused_at IS NOT NULL")[0]
                                .as<std::string>();
        for (const auto& row : tx.exec_params(kClaim, owner, limit, lease_s, paused)) {
          out.push_back({row[0].as<std::int64_t>(), row[1].as<std::string>(),
                         row[2].as<std::string>(), row[3].as<int>()});
        }
        tx.commit();
        return out;
      });
}

Status DeliveryOutbox::Record(pqxx::connection& c, const std::string& owner,
                              const std::vector<DeliveryOutcome>& outcomes) {
  return OnConnection(c, "recording delivery outcomes", [&](pqxx::connection&) -> Status {
    pqxx::work tx(c);
    std::vector<std::int64_t> ids, attempts, codes, deferred;
    std::vector<double> waits;
    for (const auto& o : outcomes) {
      if (o.deferred) {
        deferred.push_back(o.id);
        waits.push_back(static_cast<double>(o.retry_in_ms) / 1000.0);
        continue;
      }
      if (o.sent) {
        ids.push_back(o.id);
        attempts.push_back(o.attempts);
        codes.push_back(o.http_status);
        continue;
      }
      tx.exec_params(kRecordFailed, owner, o.id, o.dead ? "dead" : "failed", o.attempts,
                     o.http_status > 0 ? std::optional<int>(o.http_status) : std::nullopt, o.error,
                     o.excerpt, static_cast<double>(o.retry_in_ms) / 1000.0);
    }
    if (!ids.empty()) {
      tx.exec_params(kRecordSent, owner, PgIntArray(ids), PgIntArray(attempts), PgIntArray(codes));
    }
    if (!deferred.empty()) {
      std::string wait_list = "{";
      for (size_t i = 0; i < waits.size(); ++i) {
        wait_list += (i > 0 ? "," : "") + std::to_string(waits[i]);
      }
      tx.exec_params(kRecordDeferred, owner, PgIntArray(deferred), wait_list + "}");
    }
    tx.commit();
    return Status::Ok();
  });
}

Status DeliveryOutbox::RenewLeases(pqxx::connection& c, const std::string& owner, int lease_s) {
  return OnConnection(c, "renewing delivery leases", [&](pqxx::connection&) -> Status {
    pqxx::work tx(c);
    tx.exec_params(
        "UPDATE deliveries SET lease_expires_at = now() + make_interval(secs => $2) "
        "WHERE lease_owner = $1 AND status IN ('pending', 'failed')",
        owner, lease_s);
    tx.commit();
    return Status::Ok();
  });
}

Status DeliveryOutbox::ReleaseLeases(pqxx::connection& c, const std::string& owner) {
  return OnConnection(c, "releasing delivery leases", [&](pqxx::connection&) -> Status {
    pqxx::work tx(c);
    tx.exec_params(
        "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1",
        owner);
    tx.commit();
    return Status::Ok();
  });
}

Status DeliveryOutbox::ReleaseLeases(pqxx::connection& c, const std::string& owner,
                                     const std::vector<std::int64_t>& ids) {
  return OnConnection(c, "releasing delivery leases", [&](pqxx::connection&) -> Status {
    pqxx::work tx(c);
    tx.exec_params(
        "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL "
        "WHERE lease_owner = $1 AND id = ANY($2::bigint[])",
        owner, PgIntArray(ids));
    tx.commit();
    return Status::Ok();
  });
}

Result<int> DeliveryOutbox::ExpireLeasesOf(
    const std::function<bool(const std::string& owner)>& is_dead) {
  return WithConnection(
      db_, "expiring dead forwarders' leases", [&](pqxx::connection& c) -> Result<int> {
        pqxx::work tx(c);
        int expired = 0;
        for (const auto& row : tx.exec(
                 "SELECT DISTINCT lease_owner FROM deliveries WHERE lease_owner IS NOT NULL AND "
                 "status IN ('pending', 'failed')")) {
          const std::string owner = row[0].as<std::string>();
          if (!is_dead(owner)) continue;
          expired += static_cast<int>(
              tx.exec_params("UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL "
                             "WHERE lease_owner = $1",
                             owner)
                  .affected_rows());
        }
        tx.commit();
        return expired;
      });
}

Result<std::map<std::string, std::int64_t>> DeliveryOutbox::QueueDepth(pqxx::connection& c) {
  return OnConnection(
      c, "measuring the delivery queue",
      [&](pqxx::connection&) -> Result<std::map<std::string, std::int64_t>> {
        pqxx::read_transaction tx(c);
        std::map<std::string, std::int64_t> out;
        for (const auto& row : tx.exec("SELECT name FROM targets"))
          out[row[0].as<std::string>()] = 0;
        // Through the partial index of due deliveries: the cost follows the queue, not the table.
        for (const auto& row : tx.exec("SELECT target, count(*) FROM deliveries "
                                       "WHERE status IN ('pending', 'failed') GROUP BY target")) {
          out[row[0].as<std::string>()] = row[1].as<std::int64_t>();
        }
        return out;
      });
}

Result<json::object> DeliveryOutbox::List(const ListRequest& request) {
  return WithConnection(
      db_, "listing deliveries", [&](pqxx::connection& c) -> Result<json::object> {
        pqxx::read_transaction tx(c);
        const std::string where =
            " WHERE ($1 = '' OR d.status = $1) AND ($2 = '' OR d.target = $2)";
        auto rows = tx.exec_params(std::string("SELECT ") + kDeliveryColumns +
                                       " FROM deliveries d JOIN forwards f ON f.id = d.forward_id" +
                                       where + " ORDER BY d.id DESC LIMIT $3 OFFSET $4",
                                   request.status, request.target, request.per_page,
                                   static_cast<std::int64_t>(request.page - 1) * request.per_page);
        const auto total = tx.exec_params1("SELECT count(*) FROM deliveries d" + where,
                                           request.status, request.target)[0]
                               .as<std::int64_t>();
        json::array list;
        for (const auto& row : rows) list.push_back(DeliveryToJson(row));
        return json::object{{"deliveries", std::move(list)},
                            {"total", total},
                            {"page", request.page},
                            {"per_page", request.per_page}};
      });
}

Result<json::object> DeliveryOutbox::Get(std::int64_t id) {
  return WithConnection(
      db_, "reading the delivery", [&](pqxx::connection& c) -> Result<json::object> {
        pqxx::read_transaction tx(c);
        auto rows = tx.exec_params(std::string("SELECT ") + kDeliveryColumns +
                                       ", d.body FROM deliveries d JOIN forwards f ON f.id = "
                                       "d.forward_id WHERE d.id = $1",
                                   id);
        if (rows.empty()) return NotFound("no delivery " + std::to_string(id));
        json::object out = DeliveryToJson(rows[0]);
        out["body"] = rows[0][13].as<std::string>();
        return out;
      });
}

Result<json::object> DeliveryOutbox::Retry(std::int64_t id) {
  auto retried = WithConnection(db_, "retrying the delivery", [&](pqxx::connection& c) -> Status {
    pqxx::work tx(c);
    auto rows = tx.exec_params(
        "SELECT status, target, attempts, last_error FROM deliveries WHERE id = $1 FOR UPDATE", id);
    if (rows.empty()) return NotFound("no delivery " + std::to_string(id));
    const std::string status = rows[0][0].as<std::string>();
    if (status == "dead" && rows[0][2].as<int>() == 0) {
      return FailedPrecondition("delivery " + std::to_string(id) +
                                " has nothing to send: " + rows[0][3].as<std::string>("") +
                                ". Fix the target's template and forward the record again");
    }
    if (status != "dead" && status != "failed") {
      return FailedPrecondition("delivery " + std::to_string(id) + " is " + status +
                                "; only failed and dead deliveries can be retried");
    }
    tx.exec_params(
        "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), "
        "lease_owner = NULL, lease_expires_at = NULL, updated_at = now() WHERE id = $1",
        id);
    tx.exec_params("SELECT pg_notify($1, $2)", kDeliveriesChannel, rows[0][1].as<std::string>());
    tx.commit();
    return Status::Ok();
  });
  if (!retried.ok()) return retried;
  return Get(id);
}

Result<std::int64_t> DeliveryOutbox::Replay(const ReplayRequest& request) {
  if (request.target.empty() && request.status.empty() && request.since.empty() &&
      request.until.empty() && request.rule.empty()) {
    return InvalidArgument(
        "say which deliveries to replay: give at least one of target, status, since, until or "
        "rule");
  }
  std::vector<std::string> statuses = request.status;
  if (statuses.empty()) statuses = {"dead", "failed"};
  return WithConnection(
      db_, "replaying deliveries", [&](pqxx::connection& c) -> Result<std::int64_t> {
        pqxx::work tx(c);
        // A delivery dead at once (its record could not be rendered) has nothing to send.
        auto replayed = tx.exec_params(
            "UPDATE deliveries d SET status = 'pending', attempts = 0, next_attempt_at = now(), "
            "  lease_owner = NULL, lease_expires_at = NULL, sent_at = NULL, updated_at = now() "
            "FROM forwards f WHERE f.id = d.forward_id "
            "  AND d.status = ANY($1::text[]) AND NOT (d.status = 'dead' AND d.attempts = 0) "
            "  AND ($2 = '' OR d.target = $2) AND ($3 = '' OR f.rule = $3) "
            "  AND ($4 = '' OR d.created_at >= $4::timestamptz) "
            "  AND ($5 = '' OR d.created_at < $5::timestamptz) "
            "RETURNING d.target",
            PgTextArray(statuses), request.target, request.rule, request.since, request.until);
        std::set<std::string> targets;
        for (const auto& row : replayed) targets.insert(row[0].as<std::string>());
        for (const auto& target : targets) {
          tx.exec_params("SELECT pg_notify($1, $2)", kDeliveriesChannel, target);
        }
        tx.commit();
        return static_cast<std::int64_t>(replayed.size());
      });
}

}  // namespace octohub::forward
