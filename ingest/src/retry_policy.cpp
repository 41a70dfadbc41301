#include "retry_policy.h"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

namespace octohub::ingest {

bool IsRetryable(const Result<HttpResponse>& outcome) {
  if (!outcome.ok()) {
    auto code = outcome.status().code();
    return code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
  }
  long status = outcome->status;
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

std::optional<Millis> ParseRetryAfter(std::string_view value,
                                      std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  long long seconds = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (error == std::errc() && end == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return Millis(seconds * 1000);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm parts{};
  std::string text(value);
  const char* rest = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (rest == nullptr || *rest != '\0') return std::nullopt;
  auto when = std::chrono::system_clock::from_time_t(timegm(&parts));
  auto wait = std::chrono::duration_cast<Millis>(when - now);
  return std::max(wait, Millis(0));
}

Millis RetryDelay(const RetryPolicy& policy, int attempt, std::optional<Millis> retry_after,
                  std::mt19937_64& random) {
  if (retry_after) return std::min(*retry_after, policy.max_delay);
  const double ceiling = std::min(static_cast<double>(policy.max_delay.count()),
                                  policy.base_delay.count() * std::pow(2.0, attempt - 1));
  std::uniform_real_distribution<double> jitter(0, ceiling);
  return Millis(static_cast<long long>(jitter(random)));
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
