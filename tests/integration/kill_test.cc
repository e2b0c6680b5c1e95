// kill -9 at random moments of segc import, webhook, run and outbox
// --confirm, again and again, each time re-running the same work as an
// operator would: after each kill the store opens, and at the end every
// record, event, step and confirmation is there exactly once. The number of
// kills per command is SEG_KILLS (a few here; bench/crash_bench.sh runs
// thousands).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/integration/cli.h"

namespace fs = std::filesystem;

namespace seg {
namespace {

using Json = nlohmann::json;
using testing::quote;
using testing::segc;

struct Outcome {
  std::string out;
  bool finished = false;  // exited by itself (not killed)
  int exit = -1;
};

// Runs segc with `args`; kills it after `delay` unless it ended before.
Outcome runAndMaybeKill(const std::vector<std::string>& args, std::chrono::microseconds delay) {
  int out[2];
  if (pipe(out) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    const std::string path = testing::segcPath();
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  const auto deadline = std::chrono::steady_clock::now() + delay;
  int status = 0;
  bool ended = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      ended = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (!ended) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  Outcome o;
  char buffer[4096];
  ssize_t n;
  while ((n = read(out[0], buffer, sizeof buffer)) > 0) o.out.append(buffer, static_cast<std::size_t>(n));
  close(out[0]);
  o.finished = WIFEXITED(status);
  o.exit = o.finished ? WEXITSTATUS(status) : -1;
  return o;
}

int kills() { return std::getenv("SEG_KILLS") ? std::atoi(std::getenv("SEG_KILLS")) : 6; }

// How long `args` take when nothing stops them (on a copy of the store,
// when there is one), so kills can land anywhere in that time.
std::chrono::microseconds timeOf(std::vector<std::string> args, const std::string& store, const std::string& scratch) {
  fs::remove_all(scratch);
  if (fs::exists(store)) fs::copy(store, scratch, fs::copy_options::recursive);
  for (std::string& a : args) {
    if (a == store) a = scratch;
  }
  const auto start = std::chrono::steady_clock::now();
  const Outcome o = runAndMaybeKill(args, std::chrono::seconds(120));
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  fs::remove_all(scratch);
  EXPECT_TRUE(o.finished && o.exit == 0) << o.out;
  return took;
}

std::string user(int n) { return fmt::format("U{:032x}", n); }

class KillNine : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / fmt::format("seg-kill-{}-{}", getpid(), counter_++)).string();
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
  }
  // The store opens after a kill, as a reader would open it.
  void opens() const {
    const auto stats = segc(fmt::format("stats --store {}", quote(path("store"))));
    // Killed before the store was created: there is nothing to open yet.
    if (stats.out.find("no store at") != std::string::npos || stats.out.find("is not a seg store") != std::string::npos) return;
    ASSERT_EQ(stats.exit, 0) << stats.out;
  }
  std::vector<Json> exported(const std::string& what) const {
    const auto run = segc(fmt::format("export --store {} --{} {}", quote(path("store")), what, quote(path("out.jsonl"))));
    EXPECT_EQ(run.exit, 0) << run.out;
    std::vector<Json> out;
    std::ifstream in(path("out.jsonl"));
    for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
    return out;
  }

  // A moment to kill at: anywhere in a run of `took`, or never once the
  // kills are done.
  std::chrono::microseconds killAfter(std::chrono::microseconds took, int killed) {
    if (killed >= kills()) return std::chrono::seconds(120);
    return std::chrono::microseconds(static_cast<std::int64_t>(random_() % static_cast<std::uint64_t>(took.count() + 1)));
  }

  // Rounds of: `setUp()` a fresh store, then run `args`, killing it at a
  // random moment and running it again after each kill (as an operator or
  // LINE's redelivery would) until a run finishes, then `verify()`. Rounds
  // go on until `kills()` kills have landed. Returns the kills.
  int killLoop(const std::vector<std::string>& args, const std::function<void()>& setUp, const std::function<void()>& verify) {
    setUp();
    const auto took = timeOf(args, path("store"), path("timing"));
    int killed = 0;
    for (int round = 0; killed < kills() && round < 4 * kills() + 4; ++round) {
      if (round > 0) setUp();
      for (int attempt = 0;; ++attempt) {
        EXPECT_LT(attempt, 1000) << "never finished";
        if (attempt >= 1000) return killed;
        const Outcome o = runAndMaybeKill(args, killAfter(took, killed));
        if (!o.finished) {
          ++killed;
          opens();
          continue;
        }
        EXPECT_EQ(o.exit, 0) << o.out;
        break;
      }
      verify();
      if (::testing::Test::HasFailure()) break;
    }
    return killed;
  }

  std::string dir_;
  std::mt19937_64 random_{20261204};
  static inline int counter_ = 0;
};

// An import killed anywhere and run again ends with each record once.
TEST_F(KillNine, ImportsEndWithEachRecordOnce) {
  const std::string program = write("p.seg", "schema { event purchase(product: string, price: int) }\n");
  std::string events;
  constexpr int kEvents = 40000;
  for (int n = 0; n < kEvents; ++n) {
    events += fmt::format("{{\"event\":\"purchase\",\"user_id\":\"{}\",\"time\":{},\"product\":\"p{}\",\"price\":{}}}\n",
                          user(n % 500), 1700000000000LL + n * 1000, n, n);
  }
  const std::string file = write("events.jsonl", events);
  for (const bool strict : {false, true}) {
    std::vector<std::string> args = {"import", program, "--store", path("store"), "--events", file, "--batch", "1500"};
    if (strict) args.push_back("--strict");
    const int killed = killLoop(
        args, [&] { fs::remove_all(path("store")); },
        [&] {
          std::map<std::string, int> held;
          for (const Json& e : exported("events")) ++held[e["product"].get<std::string>()];
          ASSERT_EQ(held.size(), static_cast<std::size_t>(kEvents)) << (strict ? "strict" : "");
          for (const auto& [product, times] : held) ASSERT_EQ(times, 1) << product << (strict ? " strict" : "");
        });
    std::cout << (strict ? "strict" : "batched") << " import: " << killed << " kills, each record once\n";
  }
}

// Webhook bodies redelivered after a kill act once.
TEST_F(KillNine, WebhookEventsActOnce) {
  const std::string program = write("p.seg", "message ack = text \"ok\"\non message { reply ack }\n");
  constexpr int kBodies = 120;
  std::vector<std::string> bodies;
  for (int n = 0; n < kBodies; ++n) {
    const Json event = {{"type", "message"},
                        {"mode", "active"},
                        {"timestamp", 1796086800000LL + n},
                        {"source", {{"type", "user"}, {"userId", user(n % 30)}}},
                        {"webhookEventId", fmt::format("01JKILL{:019}", n)},
                        {"deliveryContext", {{"isRedelivery", false}}},
                        {"replyToken", fmt::format("{:032x}", n)},
                        {"message", {{"type", "text"}, {"id", std::to_string(n)}, {"quoteToken", "q"}, {"text", fmt::format("m{}", n)}}}};
    bodies.push_back(write(fmt::format("b{}.json", n), Json{{"destination", user(0)}, {"events", {event}}}.dump()));
  }
  std::vector<std::string> args = {"webhook", program, "--store", path("store"), "--at", "2026-12-01T10:00:30"};
  args.insert(args.end(), bodies.begin(), bodies.end());
  const int killed = killLoop(
      args, [&] { fs::remove_all(path("store")); },
      [&] {
        std::map<std::string, int> texts;
        for (const Json& e : exported("events")) {
          if (e["event"] == "message") ++texts[e["text"].get<std::string>()];
        }
        ASSERT_EQ(texts.size(), static_cast<std::size_t>(kBodies));
        for (const auto& [text, times] : texts) ASSERT_EQ(times, 1) << text;
        // (a note that the store was recovered may come first, on stderr)
        const auto due = segc(fmt::format("outbox {} --store {} --at 2026-12-01T10:00:40 --json", quote(program), quote(path("store"))));
        std::istringstream lines(due.out);
        int replies = 0;
        for (std::string line; std::getline(lines, line);) replies += line.rfind("{", 0) == 0 ? 1 : 0;
        ASSERT_EQ(replies, kBodies) << "one reply per event";
      });
  std::cout << "webhook: " << killed << " kills, each event once\n";
}

// Scenario steps run by `segc run` killed anywhere run once each.
TEST_F(KillNine, StepsRunOnce) {
  const std::string program = write("p.seg", R"(
message m = text "hello"
scenario steps on follow {
  day 0: score += 1
  day 1: score += 1
  day 2: score += 1; send m
}
)");
  Json events = Json::array();
  constexpr int kFriends = 400;
  for (int n = 0; n < kFriends; ++n) {
    events.push_back({{"type", "follow"},
                      {"mode", "active"},
                      {"timestamp", 1796086800000LL},
                      {"source", {{"type", "user"}, {"userId", user(n)}}},
                      {"webhookEventId", fmt::format("01JFOLLOW{:017}", n)},
                      {"deliveryContext", {{"isRedelivery", false}}},
                      {"replyToken", fmt::format("{:032x}", n)},
                      {"follow", {{"isUnblocked", false}}}});
  }
  const std::string body = write("follows.json", Json{{"destination", user(0)}, {"events", events}}.dump());
  const auto enrol = [&] {
    fs::remove_all(path("store"));
    const auto followed = segc(fmt::format("webhook {} --store {} {} --at 2026-12-01T10:00:30", quote(program), quote(path("store")), quote(body)));
    ASSERT_EQ(followed.exit, 0) << followed.out;
  };
  const std::vector<std::string> args = {"run", program, "--store", path("store"), "--until", "2026-12-05T00:00"};
  const int killed = killLoop(args, enrol, [&] {
    int friends = 0;
    for (const Json& f : exported("friends")) {
      ++friends;
      ASSERT_EQ(f.value("score", -1), 3) << f.dump();
    }
    ASSERT_EQ(friends, kFriends);
  });
  std::cout << "run: " << killed << " kills, each step once\n";
}

// Confirmations killed anywhere: each acknowledged one is done, none is
// lost, and confirming again is refused rather than applied twice.
TEST_F(KillNine, ConfirmationsHoldOnce) {
  const std::string program = write("p.seg", "message m = text \"hi\"\non follow { send m }\nsegment got = received(\"m\")\n");
  Json events = Json::array();
  const int friends = std::max(12, kills() / 2);
  for (int n = 0; n < friends; ++n) {
    events.push_back({{"type", "follow"},
                      {"mode", "active"},
                      {"timestamp", 1796086800000LL},
                      {"source", {{"type", "user"}, {"userId", user(n)}}},
                      {"webhookEventId", fmt::format("01JCONF{:019}", n)},
                      {"deliveryContext", {{"isRedelivery", false}}},
                      {"replyToken", fmt::format("{:032x}", n)},
                      {"follow", {{"isUnblocked", false}}}});
  }
  const std::string body = write("follows.json", Json{{"destination", user(0)}, {"events", events}}.dump());
  ASSERT_EQ(segc(fmt::format("webhook {} --store {} {} --at 2026-12-01T10:00:30", quote(program), quote(path("store")), quote(body))).exit, 0);
  const auto due = segc(fmt::format("outbox {} --store {} --at 2026-12-01T10:01 --json", quote(program), quote(path("store"))));
  std::vector<std::string> keys;
  std::istringstream lines(due.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("{", 0) == 0) keys.push_back(Json::parse(line)["key"].get<std::string>());
  }
  ASSERT_EQ(static_cast<int>(keys.size()), friends);
  const auto took = timeOf({"outbox", program, "--store", path("store"), "--at", "2026-12-01T10:01", "--confirm", keys[0]},
                           path("store"), path("timing"));
  int killed = 0;
  std::set<std::string> acknowledged;
  for (const std::string& key : keys) {
    for (bool done = false; !done;) {
      const Outcome o = runAndMaybeKill({"outbox", program, "--store", path("store"), "--at", "2026-12-01T10:01", "--confirm", key},
                                        killAfter(took, killed));
      if (!o.finished) {
        ++killed;
        opens();
        continue;
      }
      // Confirmed now, or by the run that was killed after its commit.
      ASSERT_TRUE(o.exit == 0 || o.out.find("already confirmed") != std::string::npos) << o.out;
      acknowledged.insert(key);
      done = true;
    }
  }
  const auto rest = segc(fmt::format("outbox {} --store {} --at 2026-12-01T10:01 --json", quote(program), quote(path("store"))));
  EXPECT_EQ(rest.out, "");
  const auto got = segc(fmt::format("eval {} --store {} --segment got --count --at 2026-12-01T10:02", quote(program), quote(path("store"))));
  EXPECT_EQ(got.out, fmt::format("{}\n", friends));
  std::cout << "outbox --confirm: " << killed << " kills over " << friends << " confirmations\n";
}

}  // namespace
}  // namespace seg
