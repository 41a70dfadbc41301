#include "rate_limiter.h"

#include <algorithm>

namespace octohub::api {
namespace {
// Buckets that have refilled carry no state worth keeping; past this many, they are dropped.
constexpr std::size_t kMaxBuckets = 100'000;
}  // namespace

RateLimiter::RateLimiter(double rate, double burst)
    : rate_(rate), burst_(burst >= 1 ? burst : std::max(1.0, rate)) {}

RateLimiter::Bucket& RateLimiter::Refilled(const std::string& bucket, Clock::time_point now) {
  if (buckets_.size() > kMaxBuckets) {
    std::erase_if(buckets_, [&](const auto& entry) {
      const Bucket& b = entry.second;
      return b.tokens + std::chrono::duration<double>(now - b.updated).count() * rate_ >= burst_;
    });
  }
  auto [it, inserted] = buckets_.try_emplace(bucket, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!inserted && now > b.updated) {
    b.tokens =
        std::min(burst_, b.tokens + std::chrono::duration<double>(now - b.updated).count() * rate_);
    b.updated = now;
  }
  return b;
}

double RateLimiter::Wait(const std::string& bucket, Clock::time_point now) {
  if (rate_ <= 0) return 0;
  std::lock_guard lock(mutex_);
  const Bucket& b = Refilled(bucket, now);
  return b.tokens >= 1 ? 0 : (1 - b.tokens) / rate_;
}

double RateLimiter::Take(const std::string& bucket, Clock::time_point now) {
  if (rate_ <= 0) return 0;
  std::lock_guard lock(mutex_);
  Bucket& b = Refilled(bucket, now);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / rate_;
}

}  // namespace octohub::api
