#include "octohub/core/schedule.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <regex>
#include <sstream>
#include <vector>

namespace octohub {
namespace {

using namespace std::chrono;

struct FieldRange {
  const char* name;
  int min;
  int max;
  std::array<const char*, 13> names;  // index = value; empty where none
};

constexpr FieldRange kMinute{"minute", 0, 59, {}};
constexpr FieldRange kHour{"hour", 0, 23, {}};
constexpr FieldRange kDay{"day of month", 1, 31, {}};
constexpr FieldRange kMonth{
    "month",
    1,
    12,
    {nullptr, "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}};
constexpr FieldRange kWeekday{
    "day of week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"}};

Result<int> Value(std::string text, const FieldRange& range) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (int v = 0; v < static_cast<int>(range.names.size()); ++v) {
    if (range.names[v] != nullptr && text == range.names[v]) return v;
  }
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < range.min ||
      value > range.max) {
    return InvalidArgument(std::string("the ") + range.name + " field must be " +
                           std::to_string(range.min) + "-" + std::to_string(range.max) +
                           ", not \"" + text + "\"");
  }
  return value;
}

// Parses "*", "5", "1-5", "*/15", "1-30/2" and comma lists into the set of values.
template <size_t N>
Status ParseField(const std::string& field, const FieldRange& range, std::bitset<N>& out,
                  bool& any) {
  any = field == "*";
  std::stringstream parts(field);
  for (std::string part; std::getline(parts, part, ',');) {
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string::npos) {
      auto parsed = Value(part.substr(slash + 1), {range.name, 1, range.max, {}});
      if (!parsed.ok()) return parsed.status();
      step = *parsed;
      part.resize(slash);
    }
    int low = range.min, high = range.max;
    if (part != "*") {
      auto dash = part.find('-');
      auto first = Value(part.substr(0, dash), range);
      if (!first.ok()) return first.status();
      low = high = *first;
      if (dash != std::string::npos) {
        auto last = Value(part.substr(dash + 1), range);
        if (!last.ok()) return last.status();
        high = *last;
      } else if (step > 1) {
        high = range.max;  // "5/15" means from 5 on, every 15
      }
      if (low > high)
        return InvalidArgument(std::string("the ") + range.name + " range is reversed");
    }
    // Day of week 7 is Sunday, like 0.
    for (int v = low; v <= high; v += step) out.set(N == 7 ? v % 7 : v);
  }
  return Status::Ok();
}

}  // namespace

Result<Schedule> Schedule::Parse(std::string_view text) {
  static const std::regex kEvery("every\\s+([1-9][0-9]{0,6})\\s*(s|m|h|d)");
  Schedule schedule;
  std::string input(text);
  std::smatch match;
  if (std::regex_match(input, match, kEvery)) {
    const long n = std::stol(match[1]);
    const char unit = match[2].str()[0];
    const long factor = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
    schedule.interval_ = seconds(n * factor);
    return schedule;
  }
  std::vector<std::string> fields;
  std::stringstream in(input);
  for (std::string field; in >> field;) fields.push_back(field);
  if (fields.size() != 5) {
    return InvalidArgument("must be \"every N[s|m|h|d]\" or a 5-field cron expression");
  }
  bool unused = false;
  for (Status s : {ParseField(fields[0], kMinute, schedule.minutes_, unused),
                   ParseField(fields[1], kHour, schedule.hours_, unused),
                   ParseField(fields[2], kDay, schedule.days_, schedule.any_day_),
                   ParseField(fields[3], kMonth, schedule.months_, unused),
                   ParseField(fields[4], kWeekday, schedule.weekdays_, schedule.any_weekday_)}) {
    if (!s.ok()) return s;
  }
  return schedule;
}

bool Schedule::MatchesDay(sys_days day) const {
  year_month_day date(day);
  if (!months_.test(static_cast<unsigned>(date.month()))) return false;
  bool day_ok = days_.test(static_cast<unsigned>(date.day()));
  bool weekday_ok = weekdays_.test(weekday(day).c_encoding());
  // Cron's rule: when both day fields are restricted, either one matching is enough.
  if (!any_day_ && !any_weekday_) return day_ok || weekday_ok;
  return day_ok && weekday_ok;
}

Schedule::TimePoint Schedule::FirstRun(TimePoint now) const { return interval_ ? now : Next(now); }

Schedule::TimePoint Schedule::Next(TimePoint after) const {
  if (interval_) return after + *interval_;
  auto minute = floor<minutes>(after) + minutes(1);
  const auto limit = minute + days(366 * 5);  // "30 2 31 2 *" never comes: give up after 5 years
  while (minute < limit) {
    auto day = floor<days>(minute);
    if (!MatchesDay(day)) {
      minute = day + days(1);
      continue;
    }
    hh_mm_ss time(minute - day);
    if (!hours_.test(time.hours().count())) {
      minute = day + time.hours() + hours(1);
      continue;
    }
    if (minutes_.test(time.minutes().count())) return minute;
    minute += minutes(1);
  }
  return TimePoint::max();
}

}  // namespace octohub
