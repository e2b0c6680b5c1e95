#include "tests/tools/webhook_load.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "tests/tools/http_client.h"

namespace seg::testing {

double LoadResult::percentile(double p) const {
  if (latencies.empty()) return 0;
  std::vector<double> sorted = latencies;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t i = std::min(sorted.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[i];
}

std::string loadUserId(std::uint64_t n) { return fmt::format("U{:032x}", n + 1); }

std::string messageEventJson(const std::string& eventId, const std::string& userId, const std::string& text,
                             std::int64_t millis, const std::string& replyToken) {
  return fmt::format(
      R"({{"type":"message","message":{{"type":"text","id":"{}","quoteToken":"q{}","text":"{}"}},"webhookEventId":"{}",)"
      R"("deliveryContext":{{"isRedelivery":false}},"timestamp":{},"source":{{"type":"user","userId":"{}"}},)"
      R"("replyToken":"{}","mode":"active"}})",
      millis, millis, text, eventId, millis, userId, replyToken);
}

LoadResult runWebhookLoad(const LoadOptions& options) {
  std::atomic<std::uint64_t> next{0};
  std::mutex mutex;
  LoadResult result;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration<double>(options.maxSeconds);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < options.threads; ++t) {
    threads.emplace_back([&] {
      HttpClient client(10);
      std::vector<std::string> acknowledged;
      std::vector<double> latencies;
      std::uint64_t bodies = 0, failures = 0;
      while (!(options.stop && options.stop->load()) && std::chrono::steady_clock::now() < deadline) {
        const std::uint64_t count = next++;
        if (count >= options.maxBodies) break;
        if (options.bodiesPerSecond > 0) {
          // Body `count` is due at count / rate after the start.
          std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                    std::chrono::duration<double>(static_cast<double>(count) / options.bodiesPerSecond)));
        }
        const std::uint64_t n = options.firstBody + count;
        const std::int64_t millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch()).count();
        std::string events;
        std::vector<std::string> ids;
        for (std::size_t k = 0; k < options.eventsPerBody; ++k) {
          const std::string id = fmt::format("{}-{}-{}", options.idPrefix, n, k);
          if (!events.empty()) events += ",";
          events += messageEventJson(id, loadUserId(n * options.eventsPerBody + k), options.text, millis, "rt-" + id);
          ids.push_back(id);
        }
        const std::string body = R"({"destination":"U00000000000000000000000000000000","events":[)" + events + "]}";
        const HttpResult r = client.post(options.url, body, "application/json; charset=utf-8",
                                         {{"x-line-signature", lineSignature(options.secret, body)}});
        ++bodies;
        if (r.status == 200) {
          for (std::string& id : ids) acknowledged.push_back(std::move(id));
          latencies.push_back(r.seconds);
        } else {
          ++failures;
          if (r.status == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the server is down
        }
      }
      std::lock_guard lock(mutex);
      result.acknowledged.insert(result.acknowledged.end(), acknowledged.begin(), acknowledged.end());
      result.latencies.insert(result.latencies.end(), latencies.begin(), latencies.end());
      result.bodies += bodies;
      result.failures += failures;
    });
  }
  for (std::thread& t : threads) t.join();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace seg::testing
