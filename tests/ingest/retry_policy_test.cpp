#include "retry_policy.h"

#include <catch2/catch.hpp>

using namespace std::chrono;
using octohub::Result;
using octohub::Status;
using octohub::StatusCode;
using octohub::ingest::HttpResponse;
using octohub::ingest::IsRetryable;
using octohub::ingest::Millis;
using octohub::ingest::RateLimiter;
using octohub::ingest::RetryDelay;
using octohub::ingest::RetryPolicy;

namespace {
Result<HttpResponse> Answer(long status) {
  HttpResponse response;
  response.status = status;
  return response;
}
}  // namespace

TEST_CASE("connection errors, timeouts, 408, 425, 429 and 5xx are retried, the rest are not",
          "[unit]") {
  for (long status : {408L, 425L, 429L, 500L, 502L, 503L, 504L, 599L})
    CHECK(IsRetryable(Answer(status)));
  for (long status : {200L, 301L, 400L, 401L, 403L, 404L, 422L})
    CHECK_FALSE(IsRetryable(Answer(status)));
  CHECK(IsRetryable(Result<HttpResponse>(Status(StatusCode::kUnavailable, "refused"))));
  CHECK(IsRetryable(Result<HttpResponse>(Status(StatusCode::kDeadlineExceeded, "slow"))));
  CHECK_FALSE(IsRetryable(Result<HttpResponse>(Status(StatusCode::kResourceExhausted, "huge"))));
}

TEST_CASE("backoff grows with the attempt, stays under its cap and follows Retry-After", "[unit]") {
  RetryPolicy policy{5, Millis(100), Millis(1000)};
  std::mt19937_64 random(42);
  for (int attempt = 1; attempt <= 6; ++attempt) {
    Millis ceiling = std::min(Millis(100 << (attempt - 1)), Millis(1000));
    for (int i = 0; i < 50; ++i) {
      Millis delay = RetryDelay(policy, attempt, std::nullopt, random);
      CHECK(delay >= ceiling / 2);  // equal jitter: never an immediate retry
      CHECK(delay <= ceiling);
    }
  }
  CHECK(RetryDelay(policy, 1, Millis(700), random) == Millis(700));
  CHECK(RetryDelay(policy, 1, Millis(60000), random) == Millis(1000));  // capped
}

TEST_CASE("the rate limiter spaces requests evenly and lets idle time pass", "[unit]") {
  RateLimiter limiter(4);  // one request every 250 ms
  const auto t0 = RateLimiter::Clock::now();
  CHECK(limiter.Reserve(t0) == Millis(0));
  CHECK(limiter.Reserve(t0) == Millis(250));
  CHECK(limiter.Reserve(t0) == Millis(500));
  CHECK(limiter.Reserve(t0 + seconds(10)) == Millis(0));
  RateLimiter unlimited(0);
  CHECK(unlimited.Reserve(t0) == Millis(0));
  CHECK(unlimited.Reserve(t0) == Millis(0));
}
