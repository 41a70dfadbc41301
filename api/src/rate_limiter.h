// Token buckets by name (an API key, or a client address): on average `rate` requests a
// second, in bursts of up to `burst`. Thread-safe. Private to api/.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace octohub::api {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // rate <= 0: no limit. burst < 1 means max(1, rate).
  RateLimiter(double rate, double burst);

  bool enabled() const { return rate_ > 0; }
  // 0 when the request may go ahead (it takes a token); otherwise the seconds until a token
  // is back, and nothing is taken.
  double Take(const std::string& bucket, Clock::time_point now = Clock::now());
  // The seconds until the bucket has a token again (0: it has one now); takes nothing.
  double Wait(const std::string& bucket, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  // The bucket refilled up to now; the caller holds mutex_.
  Bucket& Refilled(const std::string& bucket, Clock::time_point now);
  const double rate_;
  const double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace octohub::api
