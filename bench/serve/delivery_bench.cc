// Delivery's figures for docs/benchmarks.md: segd --deliver on a store,
// against LINE's stand-in (tests/tools/line_stand_in.h, LINE's published
// rate limits): pushes per second and segd's CPU per request; then a
// campaign to every friend, from its time to every request accepted.
//   seg_delivery_bench PROGRAM STORE SEGD [PUSHES]
#include <algorithm>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/tools/http_client.h"
#include "tests/tools/line_stand_in.h"
#include "tests/tools/service_process.h"
#include "tests/tools/webhook_load.h"

namespace {

using namespace seg::testing;
using Clock = std::chrono::steady_clock;

// User and system CPU seconds of a process so far.
double cpuSeconds(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::size_t acceptedAt(const LineStandIn& line, const std::string& path) {
  std::size_t n = 0;
  for (const AcceptedRequest& a : line.accepted()) n += a.path == path;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    fmt::print(stderr, "usage: seg_delivery_bench PROGRAM STORE SEGD [PUSHES]\n");
    return 2;
  }
  const std::string program = argv[1], store = argv[2];
  const int pushes = argc > 4 ? std::atoi(argv[4]) : 20000;
  ::setenv("SEGD_UNDER_TEST", argv[3], 1);
  LineStandIn line("bench-token");
  const std::string config = store + ".delivery.toml";
  std::ofstream(config) << fmt::format("[delivery]\nenabled = true\napi_base = \"{0}\"\ndata_api_base = \"{0}\"\nconcurrency = 16\n", line.baseUrl());
  // A step that pushes at once to each friend who carts something, and a
  // campaign to everyone a little after the start.
  const std::time_t at = std::time(nullptr) + 40;
  const std::time_t jst = at + 9 * 3600;
  std::tm local{};
  gmtime_r(&jst, &local);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &local);
  const std::string run = std::to_string(std::time(nullptr));
  std::stringstream text;
  text << std::ifstream(program).rdbuf()
       << fmt::format("\nscenario bench_push on cart_add {{\n  day 0: send intro\n}}\n"
                      "segment bench_all = friend_for >= 0d\ncampaign bench_all_{} {{\n  to bench_all\n  at {}\n  send intro\n}}\n",
                      run, when);
  const std::string timed = store + ".delivery.seg";
  std::ofstream(timed) << text.str();

  ServiceOptions options;
  options.program = timed;
  options.store = store;
  options.secret = "bench-secret";
  options.accessToken = "bench-token";
  options.config = config;
  ServiceProcess service(options);
  if (!service.start(600)) {
    fmt::print(stderr, "segd did not start:\n{}\n", service.log());
    return 1;
  }
  HttpClient http;
  // Whatever the store had due at the start (menus, steps) goes first.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const std::size_t pushedBefore = acceptedAt(line, "/v2/bot/message/push");

  fmt::print("== pushes: {} friends cart something, each gets a push at once\n", pushes);
  std::string events;
  for (int i = 0; i < pushes; ++i) {
    events += fmt::format(R"({{"user_id":"{}","event":"cart_add","time":"2026-12-04T10:00:00+09:00","product":"bench","price":100}})",
                          loadUserId(800000000 + i)) + "\n";
  }
  const double cpu0 = cpuSeconds(service.pid());
  const auto start = Clock::now();
  const auto fed = http.post(service.adminUrl() + "/v1/events?again=true", events, "application/x-ndjson");
  if (fed.status != 200) fmt::print("  the feed answered {}: {}\n", fed.status, fed.body.substr(0, 300));
  while (acceptedAt(line, "/v2/bot/message/push") < pushedBefore + pushes && Clock::now() - start < std::chrono::seconds(300)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = cpuSeconds(service.pid()) - cpu0;
  const std::size_t pushed = acceptedAt(line, "/v2/bot/message/push") - pushedBefore;
  fmt::print("  {} pushes accepted in {:.2f} s: {:.0f} a second (LINE's limit 2,000); segd CPU {:.2f} s, {:.0f} µs a request (acting on the events included)\n",
             pushed, seconds, pushed / seconds, cpu, cpu / static_cast<double>(pushed) * 1e6);

  fmt::print("== a campaign to every friend, from its time to every request accepted\n");
  const std::size_t requestsBefore = line.accepted().size();
  while (std::time(nullptr) < at) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto campaignStart = Clock::now();
  std::size_t narrowcasts = acceptedAt(line, "/v2/bot/message/narrowcast"), multicasts = acceptedAt(line, "/v2/bot/message/multicast");
  // Done when the outbox holds nothing due or waiting for the campaign:
  // every request made.
  while (Clock::now() - campaignStart < std::chrono::seconds(600)) {
    const auto r = http.get(service.adminUrl() + "/v1/outbox?limit=1");
    const bool planned = line.accepted().size() > requestsBefore;
    if (planned && r.status == 200 && nlohmann::json::parse(r.body)["in_outbox"] == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double campaignSeconds = std::chrono::duration<double>(Clock::now() - campaignStart).count();
  narrowcasts = acceptedAt(line, "/v2/bot/message/narrowcast") - narrowcasts;
  multicasts = acceptedAt(line, "/v2/bot/message/multicast") - multicasts;
  std::size_t byJson = 0, byFile = 0, ids = 0;
  for (const AcceptedRequest& a : line.accepted()) {
    if (a.path == "/v2/bot/audienceGroup/upload") {
      ++byJson;
      ids += a.body["audiences"].size();
    } else if (a.path == "/v2/bot/audienceGroup/upload/byFile") {
      ++byFile;
      const std::string& file = a.body["file"].get_ref<const std::string&>();
      ids += static_cast<std::size_t>(std::count(file.begin(), file.end(), '\n'));
    }
  }
  fmt::print("  every request accepted {:.1f} s after its time: audience uploads {} by file and {} by JSON ({} IDs; "
             "LINE allows 60 uploads a minute), {} narrowcast(s), {} multicasts\n",
             campaignSeconds, byFile, byJson, ids, narrowcasts, multicasts);
  fmt::print("  the stand-in saw {} requests, {} over LINE's rate limits\n", line.requestsSeen(), line.rateLimitExceeded());
  std::map<std::string, int> refused;
  std::istringstream journal(line.journal());
  for (std::string entry; std::getline(journal, entry);) {
    if (entry.rfind("429 ", 0) == 0) ++refused[entry.substr(4)];
  }
  for (const auto& [endpoint, n] : refused) fmt::print("    429 {} × {}\n", endpoint, n);
  service.stop();
  std::remove(timed.c_str());
  std::remove(config.c_str());
  return 0;
}
