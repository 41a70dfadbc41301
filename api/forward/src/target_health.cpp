// Targets' health in PostgreSQL: failing, paused, resumed.
#include "octohub/forward/target_health.h"

#include <boost/json.hpp>
#include <pqxx/pqxx>
#include <set>

#include "octohub/core/change_feed.h"
#include "octohub/core/pg_array.h"
#include "octohub/core/retry.h"

namespace octohub::forward {
namespace json = boost::json;
namespace {

constexpr const char* kHealthColumns = R"(
  target,
  to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  to_char(paused_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  coalesce(last_error, ''), coalesce(paused_reason, ''))";

TargetHealth FromRow(const pqxx::row& row) {
  TargetHealth health;
  if (!row[1].is_null()) health.failing_since = row[1].as<std::string>();
  if (!row[2].is_null()) health.paused_since = row[2].as<std::string>();
  health.last_error = row[3].as<std::string>();
  health.paused_reason = row[4].as<std::string>();
  return health;
}

// Failing from now unless failing already (the first failure counts).
constexpr const char* kFailing = R"(
  INSERT INTO target_states AS s (target, failing_since, last_error)
  SELECT t, now(), e FROM unnest($1::text[], $2::text[]) AS u(t, e)
  WHERE EXISTS (SELECT 1 FROM targets WHERE name = u.t)
  ON CONFLICT (target) DO UPDATE SET
    failing_since = coalesce(s.failing_since, excluded.failing_since),
    last_error = excluded.last_error)";

// Answering again; a failure later in the same round starts a new failing.
constexpr const char* kAnswering = R"(
  UPDATE target_states SET failing_since = NULL, last_error = NULL
  WHERE target = ANY($1::text[]) AND failing_since IS NOT NULL)";

constexpr const char* kPauseDue = R"(
  UPDATE target_states SET paused_at = now(),
    paused_reason = 'every delivery failed for ' || $2 || ' (since ' ||
      to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') ||
      '); the last error: ' || coalesce(last_error, 'unknown')
  WHERE target = $1 AND paused_at IS NULL AND failing_since IS NOT NULL
    AND failing_since <= now() - make_interval(secs => $3)
  RETURNING paused_reason)";

}  // namespace

void AddTargetHealth(const TargetHealth& health, json::object& target) {
  auto nullable = [](const std::optional<std::string>& text) {
    return text ? json::value(*text) : json::value(nullptr);
  };
  target["state"] = health.state();
  target["failing_since"] = nullable(health.failing_since);
  target["paused_since"] = nullable(health.paused_since);
  target["paused_reason"] =
      health.paused_since ? json::value(health.paused_reason) : json::value(nullptr);
  target["last_error"] =
      health.failing_since ? json::value(health.last_error) : json::value(nullptr);
}

Result<std::map<std::string, TargetHealth>> TargetHealthStore::All() {
  return WithConnection(db_, "reading the targets' state",
                        [&](pqxx::connection& c) { return All(c); });
}

Result<std::map<std::string, TargetHealth>> TargetHealthStore::All(pqxx::connection& c) {
  return OnConnection(c, "reading the targets' state",
                      [&](pqxx::connection&) -> Result<std::map<std::string, TargetHealth>> {
                        pqxx::read_transaction tx(c);
                        std::map<std::string, TargetHealth> out;
                        for (const auto& row : tx.exec(std::string("SELECT ") + kHealthColumns +
                                                       " FROM target_states")) {
                          out[row[0].as<std::string>()] = FromRow(row);
                        }
                        return out;
                      });
}

Result<TargetHealth> TargetHealthStore::Get(const std::string& target) {
  return WithConnection(
      db_, "reading the target's state", [&](pqxx::connection& c) -> Result<TargetHealth> {
        pqxx::read_transaction tx(c);
        auto rows = tx.exec_params(
            std::string("SELECT ") + kHealthColumns + " FROM target_states WHERE target = $1",
            target);
        return rows.empty() ? TargetHealth{} : FromRow(rows[0]);
      });
}

Result<std::vector<PausedTarget>> TargetHealthStore::Observe(
    pqxx::connection& c, const std::vector<DeliveryOutcome>& outcomes,
    const std::map<std::string, std::chrono::milliseconds>& pause_after) {
  // Per target, in the order the attempts finished: answered at all, and the failure since.
  struct Seen {
    bool answered = false;
    std::optional<std::string> failure;  // a failure after the last answer
  };
  std::map<std::string, Seen> seen;
  for (const auto& o : outcomes) {
    if (o.deferred) continue;
    Seen& target = seen[o.target];
    if (o.target_failed) {
      target.failure = o.error;
    } else {
      target.answered = true;
      target.failure.reset();
    }
  }
  if (seen.empty()) return std::vector<PausedTarget>{};
  return OnConnection(
      c, "recording the targets' state",
      [&](pqxx::connection&) -> Result<std::vector<PausedTarget>> {
        pqxx::work tx(c);
        std::vector<std::string> answered, failing, errors;
        for (const auto& [target, what] : seen) {
          if (what.answered) answered.push_back(target);
          if (what.failure) {
            failing.push_back(target);
            errors.push_back(*what.failure);
          }
        }
        if (!answered.empty()) tx.exec_params0(kAnswering, PgTextArray(answered));
        std::vector<PausedTarget> paused;
        if (!failing.empty()) {
          tx.exec_params0(kFailing, PgTextArray(failing), PgTextArray(errors));
          for (const auto& target : failing) {
            auto after = pause_after.find(target);
            if (after == pause_after.end()) continue;
            const double seconds = static_cast<double>(after->second.count()) / 1000.0;
            auto rows = tx.exec_params(kPauseDue, target, FormatDuration(after->second), seconds);
            if (!rows.empty()) paused.push_back({target, rows[0][0].as<std::string>()});
          }
        }
        tx.commit();
        return paused;
      });
}

Result<TargetHealth> TargetHealthStore::Resume(const std::string& target) {
  auto resumed = WithConnection(db_, "resuming the target", [&](pqxx::connection& c) -> Status {
    pqxx::work tx(c);
    if (tx.exec_params("SELECT 1 FROM targets WHERE name = $1", target).empty()) {
      return NotFound("no target named \"" + target + "\"");
    }
    tx.exec_params0("DELETE FROM target_states WHERE target = $1", target);
    tx.exec_params0(
        "UPDATE deliveries SET next_attempt_at = now() "
        "WHERE target = $1 AND status IN ('pending', 'failed') AND next_attempt_at > now()",
        target);
    tx.exec_params("SELECT pg_notify($1, $2)", kDeliveriesChannel, target);
    tx.commit();
    return Status::Ok();
  });
  if (!resumed.ok()) return resumed;
  return TargetHealth{};
}

}  // namespace octohub::forward
