#include "octohub/core/retry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <limits>
#include <string>

namespace octohub {

namespace {
constexpr std::chrono::milliseconds kLongestWait = std::chrono::hours(24);
}  // namespace

bool IsRetryableStatus(long status) {
  return status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599);
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    long long seconds = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (error != std::errc() || seconds > kLongestWait.count() / 1000) return kLongestWait;
    return std::chrono::milliseconds(seconds * 1000);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm parts{};
  const std::string text(value);
  const char* rest = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (rest == nullptr || *rest != '\0') return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(timegm(&parts));
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
  return std::clamp(wait, std::chrono::milliseconds(0), kLongestWait);
}

std::chrono::milliseconds BackoffDelay(int attempt, std::chrono::milliseconds base,
                                       std::chrono::milliseconds cap, double jitter01) {
  const double doubled =
      static_cast<double>(base.count()) * std::pow(2.0, std::clamp(attempt - 1, 0, 40));
  const double ceiling = std::min(doubled, static_cast<double>(cap.count()));
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(ceiling * (0.5 + 0.5 * std::clamp(jitter01, 0.0, 1.0))));
}

namespace {
struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};
// Longest first, so that "ms" is not read as "m" followed by junk.
constexpr Unit kUnits[] = {
    {"ms", 1}, {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}};
}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  std::int64_t count = 0;
  std::from_chars(text.data(), text.data() + digits, count);
  const std::string_view suffix = text.substr(digits);
  for (const Unit& unit : kUnits) {
    if (suffix == unit.suffix) {
      if (count <= 0 || count > std::numeric_limits<std::int64_t>::max() / unit.ms) {
        return std::nullopt;
      }
      return std::chrono::milliseconds(count * unit.ms);
    }
  }
  return std::nullopt;
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  for (const Unit& unit : {kUnits[1], kUnits[2], kUnits[3], kUnits[4]}) {
    if (ms > 0 && ms % unit.ms == 0) return std::to_string(ms / unit.ms) + std::string(unit.suffix);
  }
  return std::to_string(ms) + "ms";
}

}  // namespace octohub
