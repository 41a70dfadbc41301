// How each target is doing, kept in PostgreSQL so that every forwarder and the API agree: a
// target is failing from its first failure after its last success, and paused (nothing is
// sent to it) once it has failed for its pause_after, until resumed. Thread-safe; holds no
// connection.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "octohub/core/database.h"
#include "octohub/core/status.h"
#include "octohub/forward/delivery_outbox.h"

namespace octohub::forward {

struct TargetHealth {
  std::optional<std::string> failing_since;  // RFC 3339, UTC
  std::optional<std::string> paused_since;
  std::string last_error;
  std::string paused_reason;
  const char* state() const {
    return paused_since ? "paused" : failing_since ? "failing" : "active";
  }
};

// {"state", "failing_since", "paused_since", "paused_reason", "last_error"}, for a target's JSON.
void AddTargetHealth(const TargetHealth& health, boost::json::object& target);

struct PausedTarget {
  std::string target;
  std::string reason;
};

class TargetHealthStore {
 public:
  explicit TargetHealthStore(const Database& db) : db_(db) {}

  // Every target's health (targets never failed are active and absent).
  Result<std::map<std::string, TargetHealth>> All();
  Result<std::map<std::string, TargetHealth>> All(pqxx::connection& c);
  Result<TargetHealth> Get(const std::string& target);

  // Takes in finished attempts: a success (or an answer that only refuses one record) ends a
  // target's failing, a failure of the target starts it; a target failing for longer than
  // its pause_after is paused. Answers the targets paused now.
  Result<std::vector<PausedTarget>> Observe(
      pqxx::connection& c, const std::vector<DeliveryOutcome>& outcomes,
      const std::map<std::string, std::chrono::milliseconds>& pause_after);

  // Resumes a target: no longer paused or failing, and whatever of it waits is due now.
  // kNotFound for an unknown target.
  Result<TargetHealth> Resume(const std::string& target);

 private:
  const Database& db_;
};

}  // namespace octohub::forward
