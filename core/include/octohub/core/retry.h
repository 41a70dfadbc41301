// When an HTTP answer is worth another try and how long the server asked us to wait: one rule
// for harvesting sources and for delivering to targets.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace octohub {

// 408, 425 (Too Early: a replay is what it asks for), 429 and 5xx. Connection failures and
// timeouts, which have no status, are retried too; everything else would fail again.
bool IsRetryableStatus(long status);

// Retry-After as delay-seconds or an HTTP-date (IMF-fixdate), from `now`; capped at one day;
// nullopt when unreadable.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

// The wait before attempt `attempt + 1` (attempt counts from 1) when the server did not say:
// base × 2^(attempt−1), capped, of which half is fixed and half chosen by jitter01 in [0, 1]
// ("equal jitter": never a hammering immediate retry, and clients that failed together drift
// apart). Sources and targets back off the same way.
std::chrono::milliseconds BackoffDelay(int attempt, std::chrono::milliseconds base,
                                       std::chrono::milliseconds cap, double jitter01);

}  // namespace octohub
