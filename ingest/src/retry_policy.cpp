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

namespace {

std::optional<std::int64_t> Digits(const std::optional<std::string>& value) {
  if (!value || value->empty() || value->size() > 15 ||
      value->find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoll(*value);
}

}  // namespace

std::optional<Millis> RateLimitWait(const HttpResponse& response,
                                    std::chrono::system_clock::time_point now) {
  if (response.status != 403 && response.status != 429) return std::nullopt;
  if (auto retry_after = response.Header("retry-after")) {
    if (auto wait = ParseRetryAfter(*retry_after, now)) return wait;
  }
  auto remaining = Digits(response.Header("x-ratelimit-remaining"));
  if (!remaining) remaining = Digits(response.Header("ratelimit-remaining"));
  if (remaining != 0) return std::nullopt;
  // The reset is given in whole seconds: wait a little past it, so that the server, whose
  // clock reads the same second, has really reset.
  constexpr Millis kPastReset{250};
  if (auto reset_at = Digits(response.Header("x-ratelimit-reset"))) {
    const auto reset = std::chrono::system_clock::time_point(std::chrono::seconds(*reset_at));
    return std::max(Millis(0), std::chrono::ceil<Millis>(reset - now)) + kPastReset;
  }
  if (auto reset_in = Digits(response.Header("ratelimit-reset"))) {
    return std::chrono::seconds(*reset_in) + kPastReset;
  }
  return std::nullopt;
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
