#include "octohub/core/schedule.h"

#include <catch2/catch.hpp>

using namespace std::chrono;
using octohub::Schedule;

namespace {

Schedule::TimePoint At(int y, unsigned mo, unsigned d, int h, int mi) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi);
}

Schedule Parse(const char* text) {
  auto schedule = Schedule::Parse(text);
  INFO(text << ": " << schedule.status().ToString());
  REQUIRE(schedule.ok());
  return *schedule;
}

}  // namespace

TEST_CASE("an interval schedule is due at once and then every interval", "[unit]") {
  Schedule every = Parse("every 15m");
  auto now = At(2024, 5, 1, 10, 7);
  CHECK(every.FirstRun(now) == now);
  CHECK(every.Next(now) == now + minutes(15));
  CHECK(Parse("every 2h").Next(now) == now + hours(2));
  CHECK(Parse("every 30s").Next(now) == now + seconds(30));
  CHECK(Parse("every 1d").Next(now) == now + days(1));
}

TEST_CASE("cron schedules find their next matching minute", "[unit]") {
  struct Case {
    const char* cron;
    Schedule::TimePoint after;
    Schedule::TimePoint next;
  };
  // 2024-05-01 is a Wednesday.
  for (const Case& c : std::vector<Case>{
           {"*/15 * * * *", At(2024, 5, 1, 10, 7), At(2024, 5, 1, 10, 15)},
           {"0 * * * *", At(2024, 5, 1, 10, 0), At(2024, 5, 1, 11, 0)},
           {"30 2 * * *", At(2024, 5, 1, 10, 0), At(2024, 5, 2, 2, 30)},
           {"0 9 * * mon-fri", At(2024, 5, 3, 10, 0), At(2024, 5, 6, 9, 0)},
           {"0 0 1 jan *", At(2024, 5, 1, 0, 0), At(2025, 1, 1, 0, 0)},
           {"0 0 29 2 *", At(2024, 3, 1, 0, 0), At(2028, 2, 29, 0, 0)},
           {"0 12 * * 7", At(2024, 5, 1, 0, 0), At(2024, 5, 5, 12, 0)},  // 7 is Sunday
           {"5,35 8-9 * * *", At(2024, 5, 1, 8, 5), At(2024, 5, 1, 8, 35)},
       }) {
    INFO(c.cron);
    CHECK(Parse(c.cron).Next(c.after) == c.next);
  }
}

TEST_CASE("cron matches either day field when both are restricted", "[unit]") {
  // The 13th, or any Friday: after Wed 2024-05-01 the first is Friday the 3rd.
  CHECK(Parse("0 0 13 * fri").Next(At(2024, 5, 1, 0, 0)) == At(2024, 5, 3, 0, 0));
}

TEST_CASE("a cron date that never comes yields no next run", "[unit]") {
  CHECK(Parse("0 0 31 2 *").Next(At(2024, 1, 1, 0, 0)) == Schedule::TimePoint::max());
}

TEST_CASE("malformed schedules are rejected with the reason", "[unit]") {
  for (const char* bad :
       {"every 0m", "every 5 weeks", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
        "* * * 13 *", "* * * * 8", "5-1 * * * *", "*/0 * * * *", "nonsense", ""}) {
    INFO(bad);
    CHECK_FALSE(Schedule::Parse(bad).ok());
  }
}
