// Targets and rules as documents (SPEC §5): validation with JSON Pointers, canonical JSON.
// Pure and thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"

namespace octohub::forward {

// The waits before each retry of a failed delivery, in order.
using RetrySchedule = std::vector<std::chrono::milliseconds>;
// 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h: the last retry comes about a
// day after the first failure, as receivers know from webhook services.
const RetrySchedule& DefaultRetrySchedule();
inline constexpr size_t kMaxRetryScheduleEntries = 50;
inline constexpr std::chrono::hours kMaxRetrySpan{24 * 30};
inline constexpr size_t kMaxChangedPointers = 50;

struct TargetSpec {
  std::string name;
  std::string url;
  std::string method = "POST";  // POST, PUT or PATCH
  NamedValues headers;
  AuthSpec auth;
  std::optional<std::string> template_text;
  int batch = 1;  // records per request; > 1 sends a JSON array
  RetrySchedule retry_schedule = DefaultRetrySchedule();
  // The first try and every retry of the schedule, unless set lower (or higher, which
  // repeats the schedule's last wait).
  int max_attempts = static_cast<int>(DefaultRetrySchedule().size()) + 1;
  // A target whose deliveries have all failed for this long is paused.
  std::chrono::milliseconds pause_after = std::chrono::hours(24);
  Secret secret;                   // empty value and env: no signature
  double timeout_s = 30;           // per request
  double requests_per_second = 0;  // 0 = unlimited
  int concurrency = 4;             // requests in flight to this target at once
  bool operator==(const TargetSpec&) const = default;
};

// Validates a target document, every problem at once with a JSON Pointer (kInvalidArgument);
// a template that does not compile is reported at "/template" with the reason.
Result<TargetSpec> ParseTargetSpec(const boost::json::value& document);
// Canonical JSON; with redact_secrets, literal secrets (auth, secret) become "***".
boost::json::object TargetSpecToJson(const TargetSpec& spec, bool redact_secrets);

struct RuleSpec {
  std::string name;
  std::string q;       // Xapian query syntax, as for search; empty = every record
  std::string source;  // comma list, empty = every source
  std::string target;
  bool enabled = true;
  bool backfill = false;
  // When given, a record is forwarded only if the value at one of these JSON Pointers differs
  // from its previous version (a new record counts as changed).
  std::vector<std::string> changed;
  bool operator==(const RuleSpec&) const = default;
};

Result<RuleSpec> ParseRuleSpec(const boost::json::value& document);
boost::json::object RuleSpecToJson(const RuleSpec& spec);
// "a,b" -> {"a", "b"}, empty parts dropped.
std::vector<std::string> SplitSources(const std::string& list);

}  // namespace octohub::forward
