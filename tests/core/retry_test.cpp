#include "octohub/core/retry.h"

#include <catch2/catch.hpp>

using namespace std::chrono;
using octohub::IsRetryableStatus;
using octohub::ParseRetryAfter;

TEST_CASE("408, 425, 429 and 5xx are worth another try, other statuses are not", "[unit]") {
  for (long status : {408L, 425L, 429L, 500L, 502L, 503L, 504L, 599L}) {
    CHECK(IsRetryableStatus(status));
  }
  for (long status : {200L, 301L, 307L, 400L, 401L, 403L, 404L, 409L, 422L, 600L}) {
    CHECK_FALSE(IsRetryableStatus(status));
  }
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date, and at most a day", "[unit]") {
  const auto now = sys_days(year(2015) / 10 / 21) + hours(7) + minutes(28);
  CHECK(ParseRetryAfter("120", now) == milliseconds(120000));
  CHECK(ParseRetryAfter(" 0\t", now) == milliseconds(0));
  CHECK(ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now) == milliseconds(30000));
  CHECK(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now) == milliseconds(0));  // past
  CHECK(ParseRetryAfter("Wed, 21 Oct 2099 07:00:00 GMT", now) == hours(24));
  // A number too large for any clock waits a day rather than overflowing.
  CHECK(ParseRetryAfter("99999999999999999999999", now) == hours(24));
  CHECK(ParseRetryAfter("9999999999999999", now) == hours(24));
  CHECK_FALSE(ParseRetryAfter("soon", now));
  CHECK_FALSE(ParseRetryAfter("-5", now));
  CHECK_FALSE(ParseRetryAfter("", now));
}

TEST_CASE("durations are a whole number and a unit, and are written back the same way", "[unit]") {
  using std::chrono::milliseconds;
  CHECK(octohub::ParseDuration("250ms") == milliseconds(250));
  CHECK(octohub::ParseDuration("5s") == milliseconds(5000));
  CHECK(octohub::ParseDuration("10m") == milliseconds(600000));
  CHECK(octohub::ParseDuration("2h") == milliseconds(7200000));
  CHECK(octohub::ParseDuration("1d") == milliseconds(86400000));
  for (const char* bad : {"", "0s", "-5s", "5", "s", "1.5s", "5 s", " 5s", "5S", "5sec",
                          "9999999999999d", "999999999999d", "5ms5"}) {
    INFO(bad);
    CHECK_FALSE(octohub::ParseDuration(bad).has_value());
  }
  CHECK(octohub::FormatDuration(milliseconds(90000)) == "90s");
  CHECK(octohub::FormatDuration(milliseconds(7200000)) == "2h");
  CHECK(octohub::FormatDuration(milliseconds(86400000 * 2)) == "2d");
  CHECK(octohub::FormatDuration(milliseconds(1500)) == "1500ms");
  for (const char* text : {"250ms", "5s", "30m", "8h", "3d"}) {
    CHECK(octohub::FormatDuration(*octohub::ParseDuration(text)) == text);
  }
}
