// LINE's rate limits, kept by seg itself so that its own pace never causes
// a 429: one bucket per endpoint (method and path without ids, as LINE
// counts them), per channel. LINE does not publish its buckets' sizes, so
// seg's are small: a tenth of a second's worth, and at least one request.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace seg::delivery {

using SteadyClock = std::chrono::steady_clock;

// Requests per second LINE allows for `endpoint` ("POST /v2/bot/message/push"),
// from the Messaging API reference's "Rate limits" (2,000/s where it gives
// no other figure).
double lineRateLimit(const std::string& endpoint);

class RateLimiter {
 public:
  // `overrides`: requests per second by endpoint, over LINE's figures.
  explicit RateLimiter(std::map<std::string, double> overrides = {});

  // Takes the next slot for `endpoint`: returns when the request may be
  // made (now or later). A slot taken is spent.
  SteadyClock::time_point reserve(const std::string& endpoint);
  // LINE answered 429: nothing more for `endpoint` for `pause`.
  void pause(const std::string& endpoint, SteadyClock::duration pause);
  double limit(const std::string& endpoint) const;

 private:
  struct Bucket {
    SteadyClock::duration interval{};
    SteadyClock::duration burst{};  // tolerance: (size - 1) intervals
    SteadyClock::time_point theoreticalArrival{};
  };
  Bucket& bucket(const std::string& endpoint);

  std::map<std::string, double> overrides_;
  std::map<std::string, Bucket> buckets_;
  mutable std::mutex mutex_;
};

}  // namespace seg::delivery
