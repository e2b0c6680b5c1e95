// The sender: makes the outbox's due requests to LINE on a few threads of
// its own, within LINE's rate limits, retrying what may be retried, and
// hands each outcome back to the automation loop, which records it in the
// store (a request is done only once that is committed: a crash before
// sends it again, with the same retry key).
#pragma once

#include <condition_variable>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/automation/engine.h"
#include "server/delivery/line_api.h"
#include "server/delivery/rate_limits.h"
#include "server/service/config.h"
#include "server/service/log.h"
#include "server/service/metrics.h"

namespace seg::delivery {

struct Completion {
  enum class Kind { Delivered, Failed, ReplyRefused };
  Kind kind = Kind::Delivered;
  std::string key;
  std::string response;   // LINE's body (an upload's audienceGroupId)
  std::string requestId;  // LINE's x-line-request-id (of the accepted request, for a 409)
  std::string failure;    // JSON, for Failed
  std::string why;        // for ReplyRefused
};

class Sender {
 public:
  // `wake` is called when outcomes are waiting for the loop.
  // `clock`: seg's time in seconds (the outbox's times are in it).
  Sender(const service::DeliveryConfig& config, AccessToken& token, service::Metrics& metrics, service::Logger& log,
         std::function<void()> wake, std::function<std::int64_t()> clock);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Requests due now (engine.due); those the sender has already are left.
  void offer(const std::vector<HandOut>& due, std::int64_t now);
  std::vector<Completion> takeCompletions();
  std::size_t pending() const;  // offered, not yet taken back
  // Stops making requests: those in flight finish (their outcomes can
  // still be taken), the rest stay in the outbox for the next start.
  void stop();

 private:
  struct Job {
    HandOut handOut;
    std::string endpoint;
    unsigned attempts = 0;
    std::int64_t firstTried = 0;  // by this process
    bool mayHaveActed = false;  // an earlier attempt may have reached LINE
    std::string lastError;
  };
  void work();
  void finish(Job& job, const CallResult& result);
  void again(Job job, SteadyClock::duration delay);
  void complete(Completion completion);
  bool pastHorizon(const Job& job) const;

  service::DeliveryConfig config_;
  AccessToken& token_;
  service::Metrics& metrics_;
  service::Logger& log_;
  std::function<void()> wake_;
  std::function<std::int64_t()> clock_;
  RateLimiter limiter_;

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::multimap<SteadyClock::time_point, Job> queue_;
  std::map<std::string, std::string> known_;  // offered and not yet taken back: key -> lane
  // Per friend, the keys offered and not yet completed, in order: only the
  // first may be made (a reply planned after a push never overtakes it).
  std::map<std::string, std::deque<std::string>> lanes_;
  std::multimap<SteadyClock::time_point, Job>::iterator nextJob(SteadyClock::time_point now);
  std::vector<Completion> completions_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace seg::delivery
