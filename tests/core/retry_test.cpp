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
