// What one delivery sends besides its body, its signature and when it is tried again. Pure
// but for reading secrets from the environment.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "octohub/core/status.h"
#include "octohub/forward/specs.h"

namespace octohub::forward {

// What one delivery sends besides its body.
struct DeliveryRequest {
  std::string url;                   // the target's, with an auth query parameter
  std::vector<std::string> headers;  // "Name: value"
  std::optional<std::pair<std::string, std::string>> basic;  // user name, password
};

// The request for delivery `delivery_id` of `body` to `spec`: Content-Type (application/json
// unless the target sets its own), the target's headers, Idempotency-Key, the signature when
// the target has a secret (X-Octohub-Signature and the Standard Webhooks headers, signed at
// `now`), and its auth. Secrets are read now; one that cannot be read is the error. Pure but
// for the environment.
Result<DeliveryRequest> BuildDeliveryRequest(
    const TargetSpec& spec, std::int64_t delivery_id, std::string_view body,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// The Standard Webhooks (standardwebhooks.com) webhook-signature value: "v1," and the base64
// HMAC-SHA256 of "{id}.{timestamp}.{body}", keyed with the secret's bytes, or for a secret
// written "whsec_<base64>" with the bytes it encodes (kInvalidArgument if it is not base64).
Result<std::string> StandardWebhookSignature(std::string_view secret, std::string_view id,
                                             std::int64_t timestamp, std::string_view body);

// "sha256=" + lowercase hex HMAC-SHA256(secret, body): the X-Octohub-Signature value.
std::string SignatureHeader(std::string_view secret, std::string_view body);

// Delay before attempt `attempts + 1` after `attempts` failures: the schedule's entry for it
// (its last once the schedule is used up), less up to a fifth by jitter (jitter01 in [0, 1]
// picks where): deliveries that failed together drift apart, and none waits longer than the
// schedule says.
std::chrono::milliseconds RetryDelay(int attempts, const RetrySchedule& schedule, double jitter01);

}  // namespace octohub::forward
