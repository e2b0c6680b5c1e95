#include "server/delivery/rate_limits.h"

#include <algorithm>
#include <cmath>

namespace seg::delivery {

double lineRateLimit(const std::string& endpoint) {
  constexpr double kPerMinute = 1.0 / 60, kPerHour = 1.0 / 3600;
  static const std::map<std::string, double> kLimits = {
      {"POST /v2/bot/message/multicast", 200},
      {"POST /v2/bot/message/narrowcast", 60 * kPerHour},
      {"POST /v2/bot/message/broadcast", 60 * kPerHour},
      {"POST /v2/bot/audienceGroup/upload", 60 * kPerMinute},
      {"PUT /v2/bot/audienceGroup/upload", 60 * kPerMinute},
      {"POST /v2/bot/audienceGroup/upload/byFile", 60 * kPerMinute},
      {"PUT /v2/bot/audienceGroup/upload/byFile", 60 * kPerMinute},
      {"POST /v2/bot/richmenu/batch", 3 * kPerHour},
      {"POST /v2/oauth/accessToken", 370},
  };
  const auto it = kLimits.find(endpoint);
  return it == kLimits.end() ? 2000 : it->second;
}

RateLimiter::RateLimiter(std::map<std::string, double> overrides) : overrides_(std::move(overrides)) {}

double RateLimiter::limit(const std::string& endpoint) const {
  const auto it = overrides_.find(endpoint);
  return it == overrides_.end() ? lineRateLimit(endpoint) : it->second;
}

RateLimiter::Bucket& RateLimiter::bucket(const std::string& endpoint) {
  auto it = buckets_.find(endpoint);
  if (it != buckets_.end()) return it->second;
  const double perSecond = limit(endpoint);
  Bucket b;
  b.interval = std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(1.0 / perSecond));
  b.serial = perSecond <= 10;
  const double size = std::max(1.0, std::floor(perSecond / 10));
  b.burst = b.interval * static_cast<long>(size - 1);
  return buckets_.emplace(endpoint, b).first->second;
}

// A generic cell rate algorithm: a request may go at the theoretical
// arrival time less the tolerance; each one moves that time an interval on.
std::optional<SteadyClock::time_point> RateLimiter::reserve(const std::string& endpoint) {
  std::unique_lock lock(mutex_);
  Bucket& b = bucket(endpoint);
  if (b.serial) {
    free_.wait(lock, [&] { return !b.busy || stopping_; });
    b.busy = true;
  }
  if (stopping_) {
    b.busy = false;
    return std::nullopt;
  }
  const auto now = SteadyClock::now();
  const auto at = std::max(now, b.theoreticalArrival - b.burst);
  b.theoreticalArrival = std::max(b.theoreticalArrival, now) + b.interval;
  return at;
}

void RateLimiter::finished(const std::string& endpoint) {
  {
    std::lock_guard lock(mutex_);
    Bucket& b = bucket(endpoint);
    if (!b.serial) return;
    b.busy = false;
    b.theoreticalArrival = std::max(b.theoreticalArrival, SteadyClock::now() + b.interval);
  }
  free_.notify_all();
}

void RateLimiter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  free_.notify_all();
}

void RateLimiter::pause(const std::string& endpoint, SteadyClock::duration pause) {
  std::lock_guard lock(mutex_);
  Bucket& b = bucket(endpoint);
  // At least an interval, whatever the pause: a short backoff must not
  // send the next request sooner than the pace.
  b.theoreticalArrival = std::max(b.theoreticalArrival, SteadyClock::now() + std::max(pause, b.interval));
}

}  // namespace seg::delivery
