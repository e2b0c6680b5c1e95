// What the service's parts share (service.cc: lifecycle and the automation
// loop; intake.cc: webhooks and feeds; admin_api.cc: the admin API). Not
// included outside server/service.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/timezone.h"
#include "runtime/automation/engine.h"
#include "runtime/automation/inbox.h"
#include "runtime/automation/state_writer.h"
#include "runtime/exec/segment_evaluator.h"
#include "runtime/ingest/importer.h"
#include "runtime/store/store.h"
#include "server/delivery/profiles.h"
#include "server/delivery/quota.h"
#include "server/delivery/sender.h"
#include "server/http/http_server.h"
#include "server/service/metrics.h"
#include "server/service/program.h"
#include "server/service/service.h"

namespace seg::service {

using SteadyClock = std::chrono::steady_clock;

// The program in force, with what is bound to it: replaced whole on reload.
struct Running {
  std::unique_ptr<ServiceProgram> program;
  std::optional<TimeZone> zone;
  std::unique_ptr<ResidualCompiler> engineJit;
  std::unique_ptr<AutomationEngine> engine;   // the loop's only
  std::unique_ptr<ResidualCompiler> queryJit;
  std::unique_ptr<SegmentEvaluator> queries;  // admin requests', under queryMutex
};

// A feed or shutdown cut short: what was committed stays, and resumes.
struct Cancelled : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Service::Core {
  ServiceConfig config;
  Logger& log;
  std::function<void(const std::string&)> onFatal;
  Metrics metrics;
  SteadyClock::time_point started = SteadyClock::now();

  std::unique_ptr<http::Server> publicServer, adminServer;
  std::unique_ptr<Store> store;
  std::unique_ptr<BatchWriter> writer;
  std::shared_ptr<Running> running;  // swapped under queryMutex, used by the loop
  std::mutex queryMutex;             // admin queries, and the swap
  std::string timezoneName = "Asia/Tokyo";  // the program's, for feeds and `at`
  // Delivery (none unless enabled): the loop offers what is due and records
  // what LINE answered.
  std::unique_ptr<delivery::AccessToken> accessToken;
  std::unique_ptr<delivery::Sender> sender;
  // When each narrowcast under way is next asked about (the loop's only).
  std::map<std::string, SteadyClock::time_point> nextProgressPoll;
  // Follows wait for their friends' profiles (the loop's only; none
  // without delivery or with profile_wait_seconds = 0).
  std::unique_ptr<delivery::ProfileFetches> profiles;
  std::unique_ptr<delivery::MonthlyQuota> quota;  // read when delivering
  bool heldForProfile = false;  // the last inbox pass stopped at a follow

  std::atomic<bool> ready{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> failed{false};

  // The loop: woken by new inbox items and tasks, at least 4 times a second.
  std::thread loopThread;
  std::mutex loopMutex;
  std::condition_variable loopWake;   // items or tasks for the loop
  std::condition_variable inboxRoom;  // the loop made room in the inbox
  std::deque<std::function<void()>> tasks;
  bool loopExit = false;
  bool wokenForInbox = false;  // set with loopWake when items were taken
  // When each webhook event was taken (for the reply latency), by event id.
  std::map<std::string, SteadyClock::time_point> takenAt;

  Core(ServiceConfig c, Logger& l, std::function<void(const std::string&)> fatal)
      : config(std::move(c)), log(l), onFatal(std::move(fatal)) {}

  // ---- service.cc
  void openStore();
  std::shared_ptr<Running> bind(std::unique_ptr<ServiceProgram> program);
  ReloadOutcome reload(CompileOutcome compiled);
  void loop();
  void actOnInbox(Running& run, std::size_t limit);
  void afterBatch(Running& run);
  void deliver(Running& run);
  void recordProgress(Running& run, const delivery::Completion& c, std::int64_t t);
  std::vector<HandOut> progressPolls(Running& run);
  bool withProfile(InboundEvent& event);
  std::string quotaHold(const CampaignReport& report, bool paidAllowed);
  void askProfilesAhead(std::size_t items);
  void fail(const std::string& why);
  void wakeLoop();
  // Runs `work` on the loop between batches and waits for its result.
  template <typename T>
  T onLoop(std::function<T(Running&)> work) {
    auto task = std::make_shared<std::packaged_task<T()>>([this, work = std::move(work)] { return work(*running); });
    auto result = task->get_future();
    {
      std::lock_guard lock(loopMutex);
      if (loopExit) throw Cancelled("the service is stopping");
      tasks.push_back([task] { (*task)(); });
    }
    loopWake.notify_all();
    return result.get();
  }
  std::size_t inboxSize();
  std::int64_t now() const;
  void describeMetrics();

  // ---- intake.cc
  std::vector<http::Route> publicRoutes();
  std::vector<http::Route> feedRoutes();
  http::Response webhook(http::Request& request);
  http::Response feed(http::Request& request, ImportKind kind);
  InboxEntry toInbox(InboundRecord record, std::int64_t at);
  void waitForInboxRoom();

  // ---- admin_api.cc
  std::vector<http::Route> adminRoutes();
  std::optional<http::Response> refuseUnauthorized(const http::Request& request) const;
  http::Response failedRequests(const http::Request& request, std::size_t limit, bool full);
  std::optional<std::int64_t> instantParam(const http::Request& request, std::string& error) const;
};

// The Content-Type's media type, lower case, without parameters.
std::string mediaType(const http::Request& request);
http::Response jsonResponse(int status, const nlohmann::json& body);

}  // namespace seg::service
