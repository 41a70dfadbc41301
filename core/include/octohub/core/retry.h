// When an HTTP answer is worth another try and how long the server asked us to wait: one rule
// for harvesting sources and for delivering to targets.
#pragma once

#include <chrono>
#include <optional>
#include <string>
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
// apart). Sources back off this way; targets follow their retry schedule.
std::chrono::milliseconds BackoffDelay(int attempt, std::chrono::milliseconds base,
                                       std::chrono::milliseconds cap, double jitter01);

// A duration written as a positive whole number and a unit: "250ms", "5s", "10m", "2h", "1d".
// nullopt for anything else (zero, a sign, a fraction, no unit).
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);
// The shortest exact form in those units: 90000 ms -> "90s", 7200000 ms -> "2h".
std::string FormatDuration(std::chrono::milliseconds duration);

}  // namespace octohub
