// Targets and rules as documents (SPEC §5): validation with JSON Pointers, canonical JSON.
// Pure and thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"

namespace octohub::forward {

struct TargetSpec {
  std::string name;
  std::string url;
  std::string method = "POST";  // POST, PUT or PATCH
  NamedValues headers;
  AuthSpec auth;
  std::optional<std::string> template_text;
  int batch = 1;  // records per request; > 1 sends a JSON array
  int max_attempts = 8;
  Secret secret;                   // empty value and env: no signature
  double timeout_s = 30;           // per request
  double requests_per_second = 0;  // 0 = unlimited
  double backoff_s = 1;            // first retry delay; doubles per attempt, capped at 300 s
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
  bool operator==(const RuleSpec&) const = default;
};

Result<RuleSpec> ParseRuleSpec(const boost::json::value& document);
boost::json::object RuleSpecToJson(const RuleSpec& spec);
// "a,b" -> {"a", "b"}, empty parts dropped.
std::vector<std::string> SplitSources(const std::string& list);

}  // namespace octohub::forward
