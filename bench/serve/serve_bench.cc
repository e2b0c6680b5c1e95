// The service's figures for docs/benchmarks.md (bench/serve_bench.sh runs
// it on a generated store): start time and memory, sustained durable
// webhook ingest with latency to the 200, webhook-to-reply latency, a
// campaign's delay after its time, and the one-process-per-body CLI on the
// same store for comparison.
//
//   seg_serve_bench PROGRAM STORE SEGD SEGC [SECONDS]
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/tools/http_client.h"
#include "tests/tools/service_process.h"
#include "tests/tools/webhook_load.h"

namespace {

using namespace seg::testing;
using Clock = std::chrono::steady_clock;
const std::string kSecret = "bench-channel-secret";

std::string status(pid_t pid, const std::string& field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
  }
  return "?";
}

// From a Prometheus histogram in `metrics`: count, mean, and the bucket
// bound under which 50% and 99% fall.
struct Histogram {
  std::map<double, double> buckets;  // cumulative, by upper bound (+Inf as 1e9)
  double sum = 0, count = 0;
};

Histogram parseHistogram(const std::string& metrics, const std::string& name) {
  Histogram h;
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + "_bucket{le=\"", 0) == 0) {
      const std::string le = line.substr(name.size() + 12, line.find('"', name.size() + 12) - name.size() - 12);
      h.buckets[le == "+Inf" ? 1e9 : std::stod(le)] = std::stod(line.substr(line.rfind(' ') + 1));
    } else if (line.rfind(name + "_sum ", 0) == 0) {
      h.sum = std::stod(line.substr(line.rfind(' ') + 1));
    } else if (line.rfind(name + "_count ", 0) == 0) {
      h.count = std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return h;
}

void printHistogram(const std::string& name, const Histogram& h) {
  const auto under = [&](double share) {
    for (const auto& [bound, n] : h.buckets) {
      if (n >= share * h.count) return bound;
    }
    return 1e9;
  };
  fmt::print("  {}: {} events, mean {:.1f} ms, p50 <= {} ms, p99 <= {} ms (histogram buckets)\n", name, h.count,
             h.count > 0 ? h.sum / h.count * 1000 : 0, under(0.5) * 1000, under(0.99) * 1000);
}

void histogram(const std::string& metrics, const std::string& name) { printHistogram(name, parseHistogram(metrics, name)); }

// What was observed between two readings of /metrics.
void histogramSince(const std::string& before, const std::string& after, const std::string& name) {
  const Histogram b = parseHistogram(before, name);
  Histogram h = parseHistogram(after, name);
  h.sum -= b.sum;
  h.count -= b.count;
  for (auto& [bound, n] : h.buckets) {
    if (const auto it = b.buckets.find(bound); it != b.buckets.end()) n -= it->second;
  }
  printHistogram(name, h);
}

void ingest(const ServiceProcess& service, unsigned threads, std::size_t eventsPerBody, double seconds, const std::string& prefix,
            std::uint64_t firstBody) {
  LoadOptions o;
  o.url = service.webhookUrl();
  o.secret = kSecret;
  o.threads = threads;
  o.eventsPerBody = eventsPerBody;
  o.idPrefix = prefix;
  o.firstBody = firstBody;
  o.maxSeconds = seconds;
  const LoadResult r = runWebhookLoad(o);
  fmt::print("  {} connections, {} event(s) a body: {} bodies in {:.1f} s, {:.0f} events/s acknowledged durably, "
             "{} failed; latency to the 200: p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms\n",
             threads, eventsPerBody, r.bodies, r.seconds, static_cast<double>(r.acknowledged.size()) / r.seconds, r.failures,
             r.percentile(50) * 1000, r.percentile(99) * 1000, r.percentile(100) * 1000);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    fmt::print(stderr, "usage: seg_serve_bench PROGRAM STORE SEGD SEGC [SECONDS]\n");
    return 2;
  }
  const std::string program = argv[1], store = argv[2], segd = argv[3], segc = argv[4];
  const double seconds = argc > 5 ? std::stod(argv[5]) : 20;
  ::setenv("SEGD_UNDER_TEST", segd.c_str(), 1);

  fmt::print("== start: open the store, bind the program, listen\n");
  ServiceOptions options;
  options.program = program;
  options.store = store;
  options.secret = kSecret;
  ServiceProcess service(options);
  const auto started = Clock::now();
  if (!service.start(600)) {
    fmt::print(stderr, "segd did not start:\n{}\n", service.log());
    return 1;
  }
  fmt::print("  ready in {:.2f} s; resident {}\n", std::chrono::duration<double>(Clock::now() - started).count(),
             status(service.pid(), "VmRSS"));

  // Event ids of this run only: a store benched before has seen others.
  const std::string run = std::to_string(std::time(nullptr));
  fmt::print("== durable webhook ingest ({} s each)\n", seconds);
  ingest(service, 16, 1, seconds, "one" + run, 0);
  ingest(service, 16, 10, seconds, "ten" + run, 100000000);
  fmt::print("  resident after ingest {}, peak {}\n", status(service.pid(), "VmRSS"), status(service.pid(), "VmHWM"));

  // Wait for the loop to act on everything taken, then measure replies at
  // a steady rate: a `message` that a rule answers.
  HttpClient http;
  const auto inbox = [&] { return nlohmann::json::parse(http.get(service.adminUrl() + "/v1/stats").body)["inbox"].get<std::size_t>(); };
  const auto drainStart = Clock::now();
  while (inbox() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  fmt::print("  the loop caught up with the inbox {:.1f} s after the load stopped\n",
             std::chrono::duration<double>(Clock::now() - drainStart).count());
  histogram(http.get(service.adminUrl() + "/metrics").body, "seg_webhook_to_action_seconds");

  // Replies at steady rates, then as fast as answered: a `message` that a
  // rule answers, from its 200 to its reply durable in the outbox.
  std::uint64_t firstBody = 200000000;
  for (const double rate : {200.0, 1000.0, 0.0}) {
    const std::string before = http.get(service.adminUrl() + "/metrics").body;
    LoadOptions o;
    o.url = service.webhookUrl();
    o.secret = kSecret;
    o.threads = rate == 0 ? 4 : 8;
    o.idPrefix = "reply" + run;
    o.firstBody = firstBody;
    o.maxSeconds = seconds / 2;
    o.bodiesPerSecond = rate;
    o.text = "スキンケアの相談";
    const LoadResult r = runWebhookLoad(o);
    firstBody += r.bodies + 1;
    fmt::print("== webhook to reply, {}: {} messages in {:.1f} s\n", rate == 0 ? std::string("as fast as answered (4 connections)") : fmt::format("{:.0f} a second", rate),
               r.acknowledged.size(), r.seconds);
    while (inbox() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    histogramSince(before, http.get(service.adminUrl() + "/metrics").body, "seg_webhook_to_reply_seconds");
  }
  fmt::print("== stop (SIGTERM: finish, checkpoint)\n");
  const auto stopping = Clock::now();
  fmt::print("  exit {} in {:.2f} s\n", service.stop(), std::chrono::duration<double>(Clock::now() - stopping).count());

  // A campaign to 1% of the friends, 15 s after the service is started
  // again: how long after its time its requests are in the outbox.
  fmt::print("== a campaign's requests after its time (to 1% of the friends)\n");
  const std::time_t at = std::time(nullptr) + 15;
  const std::time_t jst = at + 9 * 3600;
  std::tm local{};
  gmtime_r(&jst, &local);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &local);
  std::stringstream text;
  text << std::ifstream(program).rdbuf()
       << fmt::format("\nsegment bench_few = bucket(\"bench\") < 1%\ncampaign bench_flash_{} {{\n  to bench_few\n  at {}\n  send intro\n}}\n"
                      "scenario bench_steps on cart_add {{\n  after 5s: send intro\n}}\n",
                      run, when);
  const std::string timed = store + ".bench.seg";
  std::ofstream(timed) << text.str();
  options.program = timed;
  ServiceProcess again(options);
  if (!again.start(600)) {
    fmt::print(stderr, "segd did not start:\n{}\n", again.log());
    return 1;
  }
  // Multicasts already there (a store benched before) do not count.
  const auto multicasts = [&] {
    const auto r = http.get(again.adminUrl() + "/v1/outbox?path=/v2/bot/message/multicast&limit=10000&ids=false");
    return r.status == 200 ? nlohmann::json::parse(r.body)["requests"].size() : 0;
  };
  const std::size_t already = multicasts();
  while (true) {
    if (multicasts() > already) break;
    if (std::time(nullptr) > at + 120) {
      fmt::print("  not in the outbox 120 s after its time\n");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double late = std::chrono::duration<double>(std::chrono::system_clock::now() - std::chrono::system_clock::from_time_t(at)).count();
  const auto n = multicasts() - already;
  fmt::print("  {} multicast requests in the outbox {:.2f} s after the campaign's time\n", n, late);

  // Scenario steps: 200 friends put something in their carts; each one's
  // step is due 5 s after its enrolment.
  fmt::print("== scenario steps after their due time (200 friends, `after 5s`)\n");
  // Pushes to the bench's 200 friends (other pushes come due meanwhile).
  std::set<std::string> benchFriends;
  for (int i = 0; i < 200; ++i) benchFriends.insert(loadUserId(900000000 + i));
  const auto pushes = [&] {
    std::size_t n = 0;
    std::string after;
    while (true) {
      const auto r = http.get(again.adminUrl() + "/v1/outbox?path=/v2/bot/message/push&full=true&limit=10000" + (after.empty() ? "" : "&after=" + after));
      if (r.status != 200) return n;
      const nlohmann::json page = nlohmann::json::parse(r.body);
      for (const auto& request : page["requests"]) n += benchFriends.contains(request["request"]["body"].value("to", ""));
      if (page["next"].is_null()) return n;
      after = page["next"].get<std::string>();
    }
  };
  std::string events;
  for (int i = 0; i < 200; ++i) {
    events += fmt::format(R"({{"user_id":"{}","event":"cart_add","time":"{}","product":"bench","price":100}})",
                          loadUserId(900000000 + i), "2026-12-04T10:00:00+09:00") + "\n";
  }
  const auto posted = Clock::now();
  const auto fed = http.post(again.adminUrl() + "/v1/events?again=true", events, "application/x-ndjson");
  const auto acceptedAt = Clock::now();
  if (fed.status != 200) fmt::print("  the feed answered {}: {}\n", fed.status, fed.body);
  while (pushes() < 200 && Clock::now() - posted < std::chrono::seconds(60)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Enrolled between the post and its answer: due between 5 s after each.
  fmt::print("  {} step requests in the outbox at most {:.2f} s after they were due (the feed's answer + 5 s; {:.2f} s after its post + 5 s)\n", pushes(),
             std::chrono::duration<double>(Clock::now() - acceptedAt).count() - 5,
             std::chrono::duration<double>(Clock::now() - posted).count() - 5);
  again.stop();
  std::remove(timed.c_str());
  return 0;
}
