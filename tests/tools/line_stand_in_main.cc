// line_stand_in: LINE's Messaging API stand-in as a process, for the demo
// and the benchmarks. Prints its base URL, then one line per request it
// accepted, until SIGTERM or SIGINT.
//   line_stand_in [--token TOKEN] [--quiet]
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "tests/tools/line_stand_in.h"

namespace {

std::string describe(const seg::testing::AcceptedRequest& a) {
  std::string line = fmt::format("LINE accepted {} {}", a.method, a.path);
  if (a.body.is_object()) {
    if (a.body.contains("to")) line += fmt::format(" to {}", a.body["to"].is_array() ? fmt::format("{} friends", a.body["to"].size()) : a.body["to"].get<std::string>());
    if (a.body.contains("messages")) {
      for (const auto& m : a.body["messages"]) line += fmt::format(" [{}: {}]", m.value("type", "?"), m.value("text", m.value("altText", "")));
    }
  }
  return line + fmt::format(" ({})", a.requestId);
}

}  // namespace

int main(int argc, char** argv) {
  std::string token = "stand-in-token";
  bool quiet = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--token") == 0 && i + 1 < argc) token = argv[++i];
    else if (std::strcmp(argv[i], "--quiet") == 0) quiet = true;
    else {
      std::fprintf(stderr, "usage: line_stand_in [--token TOKEN] [--quiet]\n");
      return 2;
    }
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  seg::testing::LineStandIn line(token);
  std::printf("%s\n", line.baseUrl().c_str());
  std::fflush(stdout);
  std::size_t shown = 0;
  timespec tick{0, 200 * 1000 * 1000};
  while (sigtimedwait(&stop, nullptr, &tick) < 0) {
    if (quiet) continue;
    const auto accepted = line.accepted();
    for (; shown < accepted.size(); ++shown) std::printf("%s\n", describe(accepted[shown]).c_str());
    std::fflush(stdout);
  }
  std::printf("stand-in: %zu requests seen, %zu accepted, %zu over LINE's rate limits\n", line.requestsSeen(),
              line.accepted().size(), line.rateLimitExceeded());
  return 0;
}
