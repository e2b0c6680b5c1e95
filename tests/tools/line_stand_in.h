// A stand-in for LINE's Messaging API on loopback, for the delivery tests,
// the demo and the benchmarks (on seg's HTTP server library, written from
// LINE's reference, not from seg's sender). It accepts what LINE accepts,
// remembers every retry key and reply token it accepted (a key again is a
// 409, a token again a 400), keeps LINE's rate limits as a token bucket
// (a request over the limit is a 429 and counted), and answers with
// scripted faults: 500s before or after accepting, 429s, answers that
// never come (after accepting), 401s.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace seg::http {
class Server;
}

namespace seg::testing {

struct StandInFaults {
  double error500Before = 0;   // a 500 without accepting
  double error500After = 0;    // accepted, then a 500
  double error429 = 0;         // a 429 without accepting
  double silentAfter = 0;      // accepted, then no answer for `silence`
  std::chrono::milliseconds silence{3000};
  std::string refuseUser;      // a push to this user is refused (400), for good
  std::string unknownUser;     // this user's profile is not found (404: not a friend)
  std::int64_t monthlyLimit = 0;  // the account's target limit (0: none); beyond it a 429
  std::uint64_t seed = 1;
};

struct AcceptedRequest {
  std::string method, path, retryKey, requestId;
  nlohmann::json body;
};

class LineStandIn {
 public:
  // `limits`: requests per second by "METHOD /path" (ids left out), over
  // LINE's published figures.
  explicit LineStandIn(std::string token = "stand-in-token", StandInFaults faults = {},
                       std::map<std::string, double> limits = {});
  ~LineStandIn();
  LineStandIn(const LineStandIn&) = delete;
  LineStandIn& operator=(const LineStandIn&) = delete;

  std::string baseUrl() const;  // http://127.0.0.1:PORT
  void setFaults(StandInFaults faults);

  std::vector<AcceptedRequest> accepted() const;
  std::size_t requestsSeen() const { return seen_; }
  std::size_t rateLimitExceeded() const { return overLimit_; }
  std::size_t conflicts() const { return conflicts_; }  // 409s for keys accepted before
  std::size_t faultsAnswered() const { return faulted_; }
  // Every request, as "STATUS METHOD PATH" lines (for a test's message).
  std::string journal() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::size_t> seen_{0}, overLimit_{0}, conflicts_{0}, faulted_{0};
};

}  // namespace seg::testing
