// A webhook load generator: threads that post LINE-signed bodies of
// distinct `message` events as fast as the server answers, each from its
// own friend, recording which events were acknowledged (200). Used by the
// service's crash test and by bench/serve_bench.sh.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace seg::testing {

struct LoadOptions {
  std::string url;
  std::string secret;
  unsigned threads = 4;
  std::size_t eventsPerBody = 1;
  std::string idPrefix = "ev";         // webhookEventIds are PREFIX-N-K, from friend N*eventsPerBody+K
  std::uint64_t firstBody = 0;         // N counts from here (runs that must not reuse friends)
  std::uint64_t maxBodies = UINT64_MAX;  // stops after this many bodies (all threads)
  double maxSeconds = 1e9;
  const std::atomic<bool>* stop = nullptr;  // stops when set
  std::string text = "hi";             // the message text
  double bodiesPerSecond = 0;          // all threads together; 0: as fast as answered
};

struct LoadResult {
  std::vector<std::string> acknowledged;  // event ids of bodies answered 200
  std::vector<double> latencies;          // seconds, of bodies answered 200
  std::uint64_t bodies = 0, failures = 0;  // failures: no answer, or not 200
  double seconds = 0;
  double percentile(double p) const;  // of latencies
};

// The user id of the N-th friend the generator makes up: "U" and 32 hex digits.
std::string loadUserId(std::uint64_t n);
// One `message` event as LINE sends it.
std::string messageEventJson(const std::string& eventId, const std::string& userId, const std::string& text,
                             std::int64_t millis, const std::string& replyToken);

LoadResult runWebhookLoad(const LoadOptions& options);

}  // namespace seg::testing
