// Forwarding (SPEC §5), the pure part: targets and rules as documents, request bodies from
// records, signatures, retry timing. No I/O; every function is thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "octohub/core/retry.h"
#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"

namespace octohub::forward {

// A Mustache template whose names are JSON Pointers into the record ({{/title}}), or
// `source`, `id`, or `record` (the whole record as JSON). `{{/x}}` that does not close an open
// section is a value; close a section opened by `{{#/x}}` with `{{//x}}`. Double-brace
// values are escaped for a JSON string, triple-brace ones are inserted as they are; objects
// and arrays become their JSON text, a missing value or null renders nothing.
class PayloadTemplate {
 public:
  // kInvalidArgument naming the problem (unclosed section, bad pointer, unknown name).
  static Result<PayloadTemplate> Compile(const std::string& text);

  // record: the record's JSON text. Fails only on a record that is not JSON.
  Result<std::string> Render(std::string_view source, std::string_view id,
                             std::string_view record) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;       // as the user wrote it
  std::string rewritten_;  // pointer values renamed so that Mustache does not read them as ends
};

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

// One record to forward: its JSON text as stored.
struct ForwardRecord {
  std::string source;
  std::string id;
  std::string data;
};

// Whether the target's Content-Type (application/json when it sets none) is JSON.
bool SendsJson(const TargetSpec& spec);

// One record's part of a body: its JSON, or the template rendered for it, which must be JSON
// when the target sends JSON or batches (kInvalidArgument with the reason otherwise).
Result<std::string> RenderRecord(const TargetSpec& spec, const PayloadTemplate* compiled,
                                 const ForwardRecord& record);

// The body for rendered parts: the part itself for a batch of 1, else a JSON array.
std::string JoinBatch(const TargetSpec& spec, std::vector<std::string> parts);

// The request body for up to spec.batch records: without a template the record's JSON (batch
// 1) or a JSON array of them; with one the rendered template (batch 1) or a JSON array of the
// renderings (each must then be JSON: kInvalidArgument otherwise).
Result<std::string> BuildBody(const TargetSpec& spec, const PayloadTemplate* compiled,
                              const std::vector<ForwardRecord>& records);

// What one delivery sends besides its body.
struct DeliveryRequest {
  std::string url;                   // the target's, with an auth query parameter
  std::vector<std::string> headers;  // "Name: value"
  std::optional<std::pair<std::string, std::string>> basic;  // user name, password
};

// The request for delivery `delivery_id` of `body` to `spec`: Content-Type (application/json
// unless the target sets its own), the target's headers, Idempotency-Key, the signature when
// the target has a secret, and its auth. Secrets are read now; one that cannot be read is the
// error. Pure but for the environment.
Result<DeliveryRequest> BuildDeliveryRequest(const TargetSpec& spec, std::int64_t delivery_id,
                                             std::string_view body);

// "sha256=" + lowercase hex HMAC-SHA256(secret, body): the X-Octohub-Signature value.
std::string SignatureHeader(std::string_view secret, std::string_view body);

// Delay before attempt `attempts + 1` after `attempts` failures: backoff_s * 2^(attempts-1),
// capped at 300 s, scaled by jitter in [0.5, 1] (jitter01 in [0, 1] picks where).
std::chrono::milliseconds RetryDelay(int attempts, double backoff_s, double jitter01);

}  // namespace octohub::forward
