// When a source runs by itself: "every N[s|m|h|d]" or a 5-field cron expression
// (minute hour day-of-month month day-of-week, UTC; names like MON or JAN allowed).
// Pure; thread-safe.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "octohub/core/status.h"

namespace octohub {

class Schedule {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // kInvalidArgument with the reason for anything else.
  static Result<Schedule> Parse(std::string_view text);

  // "every" schedules are due at once after being saved; cron ones at their next match.
  TimePoint FirstRun(TimePoint now) const;
  // The first due time strictly after `after`.
  TimePoint Next(TimePoint after) const;

  bool is_interval() const { return interval_.has_value(); }

 private:
  bool MatchesDay(std::chrono::sys_days day) const;

  std::optional<std::chrono::seconds> interval_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool any_day_ = true;      // day-of-month was "*"
  bool any_weekday_ = true;  // day-of-week was "*"
};

}  // namespace octohub
