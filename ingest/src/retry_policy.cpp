#include "retry_policy.h"

#include <algorithm>
#include <cmath>

namespace octohub::ingest {

bool IsRetryable(const Result<HttpResponse>& outcome) {
  if (!outcome.ok()) {
    auto code = outcome.status().code();
    return code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
  }
  return IsRetryableStatus(outcome->status);
}

Millis RetryDelay(const RetryPolicy& policy, int attempt, std::optional<Millis> retry_after,
                  std::mt19937_64& random) {
  if (retry_after) return std::min(*retry_after, policy.max_delay);
  std::uniform_real_distribution<double> jitter(0, 1);
  return BackoffDelay(attempt, policy.base_delay, policy.max_delay, jitter(random));
}

RateLimiter::RateLimiter(double requests_per_second) {
  if (requests_per_second > 0) {
    interval_ = std::chrono::nanoseconds(static_cast<long long>(1e9 / requests_per_second));
  }
}

Millis RateLimiter::Reserve(Clock::time_point now) {
  if (interval_.count() == 0) return Millis(0);
  const auto slot = std::max(now, next_);
  next_ = slot + interval_;
  return std::chrono::ceil<Millis>(slot - now);
}

}  // namespace octohub::ingest
