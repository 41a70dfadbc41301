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

}  // namespace octohub
