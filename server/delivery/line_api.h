// One call to LINE's Messaging API for a planned request, and what its
// answer means for the outbox (LINE's "Retrying an API request" guide and
// the reference's status codes).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/send/line_requests.h"
#include "server/http/http_client.h"
#include "server/service/config.h"

namespace seg::delivery {

// The channel access token: the configured one, or a short-lived one
// issued from the channel ID and secret and issued again before it
// expires (or when LINE says it is not valid). Never logged.
class AccessToken {
 public:
  AccessToken(const service::DeliveryConfig& config, std::string channelSecret);
  // Throws std::runtime_error when none can be had (with LINE's answer).
  std::string current();
  // LINE answered 401 with `token`: an issued one is issued again.
  void refused(const std::string& token);
  bool issued() const { return !channelId_.empty() && fixed_.empty(); }

 private:
  std::string fixed_, channelId_, channelSecret_, base_;
  double timeout_;
  std::mutex mutex_;
  std::string token_;
  std::chrono::system_clock::time_point renewAt_{};
};

enum class Outcome {
  Delivered,      // 2xx, or 409: LINE accepted this retry key before
  Retry,          // a network error, a timeout or a 5xx: the same request again
  RateLimited,    // 429: again, later, slower
  Unauthorized,   // 401: the token; again once it is renewed
  ReplyRefused,   // a reply's token was used or expired
  Refused,        // any other 4xx: for good
};
const char* outcomeName(Outcome outcome);

struct CallResult {
  Outcome outcome = Outcome::Retry;
  int status = 0;
  std::string body;
  std::string requestId;          // x-line-request-id
  std::string acceptedRequestId;  // x-line-accepted-request-id (a 409)
  std::string error;              // the network's, when no answer
  bool nothingSent = false;       // the connection was never made
  double seconds = 0;
  std::chrono::seconds retryAfter{0};  // a 429's Retry-After

  // For the failed list: status, LINE's body, request id.
  std::string failureJson() const;
};

// Whether the same request may be made again after an answer that leaves
// unknown whether LINE acted on it: requests with a retry key (LINE
// deduplicates them), and those that only set state (rich menu links,
// adding IDs to an audience, lookups). A reply may be made again too: its
// token can be used once, so LINE refuses a second use.
bool safeToRepeat(const send::LineRequest& request);

CallResult call(http::Client& client, const service::DeliveryConfig& config, const std::string& token,
                const send::LineRequest& request);

}  // namespace seg::delivery
