// When and how long to wait before fetching a page again, and how fast a source may be
// asked. Pure; thread-compatible.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string_view>

#include "octohub/core/retry.h"
#include "octohub/core/status.h"
#include "octohub/ingest/http_fetcher.h"
#include "octohub/ingest/ingest.h"

namespace octohub::ingest {

using Millis = std::chrono::milliseconds;

// Connection errors, timeouts and the statuses of IsRetryableStatus are worth another try.
bool IsRetryable(const Result<HttpResponse>& outcome);

// The wait before attempt `attempt + 1` (attempt counts from 1): what the server asked for,
// if it asked, else BackoffDelay from base_delay; never over max_delay.
Millis RetryDelay(const RetryPolicy& policy, int attempt, std::optional<Millis> retry_after,
                  std::mt19937_64& random);

// A rate-limit answer (SPEC §3): 403 or 429 carrying Retry-After, or a remaining count of 0
// (X-RateLimit-Remaining / RateLimit-Remaining) with X-RateLimit-Reset (epoch seconds) or
// RateLimit-Reset (seconds from now). How long it asks to wait, or nullopt when the response
// is not one (a bare 429 is retried as a failure instead).
std::optional<Millis> RateLimitWait(const HttpResponse& response,
                                    std::chrono::system_clock::time_point now);

// Spaces requests evenly at requests_per_second (0 = unlimited).
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(double requests_per_second);
  // How long to wait, from now, before the next request may go; reserves that slot.
  Millis Reserve(Clock::time_point now);

 private:
  std::chrono::nanoseconds interval_{0};
  Clock::time_point next_{};
};

}  // namespace octohub::ingest
