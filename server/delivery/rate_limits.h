// LINE's rate limits, kept by seg itself so that its own pace never causes
// a 429: one bucket per endpoint (method and path without ids, as LINE
// counts them), per channel. LINE does not publish its buckets' sizes, so
// seg's are small: a tenth of a second's worth, and at least one request.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
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
  // made (now or later); nullopt once stopped. A slot taken is spent, and
  // `finished` must follow the request. Endpoints limited to 10 a second or
  // fewer go one at a time, the next an interval after the last one's
  // answer: how early a request reaches LINE varies with its size and the
  // load, and LINE counts arrivals.
  std::optional<SteadyClock::time_point> reserve(const std::string& endpoint);
  void finished(const std::string& endpoint);
  void stop();
  // LINE answered 429: nothing more for `endpoint` for `pause`.
  void pause(const std::string& endpoint, SteadyClock::duration pause);
  double limit(const std::string& endpoint) const;

 private:
  struct Bucket {
    SteadyClock::duration interval{};
    SteadyClock::duration burst{};  // tolerance: (size - 1) intervals
    SteadyClock::time_point theoreticalArrival{};
    bool serial = false;  // one at a time, spaced from the last answer
    bool busy = false;
  };
  Bucket& bucket(const std::string& endpoint);

  std::map<std::string, double> overrides_;
  std::map<std::string, Bucket> buckets_;
  mutable std::mutex mutex_;
  std::condition_variable free_;
  bool stopping_ = false;
};

}  // namespace seg::delivery
