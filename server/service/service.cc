// The service's life: start, the automation loop, reload, stop.
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <fstream>

#include <fmt/format.h>

#include "runtime/automation/inbox.h"
#include "runtime/jit/jit.h"
#include "server/service/core.h"

namespace seg::service {
namespace {

// Inbox events acted on in one transaction: one sync for all of them, yet
// short enough that a reply goes out while its token is fresh.
constexpr std::size_t kBatchEvents = 512;
constexpr auto kBatchTime = std::chrono::milliseconds(50);
// The loop looks at the clock at least this often (due work within a second).
constexpr auto kTick = std::chrono::milliseconds(250);
// How often LINE is asked about a narrowcast under way; the sender's keys
// for those questions start with this.
constexpr auto kProgressEvery = std::chrono::seconds(10);
constexpr const char* kProgressPrefix = "progress/";
// LINE's monthly quota is read this often (and at start).
constexpr auto kQuotaEvery = std::chrono::minutes(5);
// After SIGTERM, what is left in the inbox is acted on for this long at most;
// the rest waits in the store for the next start.
constexpr auto kDrainTime = std::chrono::seconds(5);
// The log this long is folded into a snapshot (by the loop, between batches).
constexpr std::uint64_t kCheckpointBytes = 128ull << 20;

std::size_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

std::int64_t Service::Core::now() const {
  if (config.clock.start == 0) return static_cast<std::int64_t>(std::time(nullptr));
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - started).count();
  return config.clock.start + static_cast<std::int64_t>(elapsed * config.clock.speed);
}

void Service::Core::wakeLoop() {
  {
    std::lock_guard lock(loopMutex);
    wokenForInbox = true;
  }
  loopWake.notify_all();
}

std::size_t Service::Core::inboxSize() {
  auto lock = store->readLock();
  return store->state().inbox().size();
}

void Service::Core::fail(const std::string& why) {
  if (failed.exchange(true)) return;
  ready = false;
  log.error("the service cannot go on", {{"reason", why}});
  if (onFatal) onFatal(why);
}

// ------------------------------------------------------------------ start

void Service::Core::openStore() {
  OpenOptions options;
  options.holder = fmt::format("seg's service segd (pid {}; admin API and feeds at http://{}:{}, webhooks at http://{}:{}{})",
                               ::getpid(), config.adminListen.address, adminServer->port(), config.publicListen.address,
                               publicServer->port(), config.webhookPath);
  // Only the loop checkpoints, between batches: a checkpoint rewrites
  // indexes the loop reads without a lock.
  options.checkpointBytes = UINT64_MAX;
  store = Store::open(config.store, &running->program->program.schema, options);
  const RecoveryReport& r = store->recovery();
  log.info("store open", {{"store", config.store},
                          {"friends", store->state().friendCount()},
                          {"inbox", store->state().inbox().size()},
                          {"outbox", store->state().automation().outbox().size()},
                          {"seconds", r.seconds},
                          {"replayed_transactions", r.replayedTransactions},
                          {"unfinished_transactions_left_out", r.discardedTransactions},
                          {"torn_tail_cut", r.tornTailCut}});
  writer = std::make_unique<BatchWriter>(*store);
}

std::shared_ptr<Running> Service::Core::bind(std::unique_ptr<ServiceProgram> program) {
  auto run = std::make_shared<Running>();
  run->program = std::move(program);
  const ir::Program& p = run->program->program;
  run->zone = TimeZone::find(p.timezone);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  run->engineJit = makeJit();
  EngineOptions options;
  options.compiler = run->engineJit.get();
  options.threads = threads;
  options.keepTimeline = true;  // drained after each batch into the action metrics
  if (config.delivery.enabled && config.delivery.holdBeyondQuota) {
    options.quotaHold = [this](const CampaignReport& r, bool paidAllowed) { return quotaHold(r, paidAllowed); };
  }
  run->engine = std::make_unique<AutomationEngine>(p, *writer, options);
  run->queryJit = makeJit();
  run->queries = std::make_unique<SegmentEvaluator>(p, store->state(), run->queryJit.get(), threads);
  return run;
}

void Service::start() {
  Core& c = *core_;
  const ServiceConfig& config = c.config;
  if (config.program.empty()) throw ServiceError("no program: segd PROGRAM --store DIR (or `program` in the config file)");
  if (config.store.empty()) throw ServiceError("no store: segd PROGRAM --store DIR (or `store` in the config file)");
  if (config.channelSecret.empty() && !config.allowUnsigned) {
    throw ServiceError(
        "no channel secret to check LINE's signatures with: set LINE_CHANNEL_SECRET (or webhook.channel_secret_env or "
        "channel_secret_file in the config); --allow-unsigned accepts unsigned webhooks, for local trials only");
  }
  if (!isLoopback(config.adminListen.address) && config.adminToken.empty()) {
    throw ServiceError(fmt::format(
        "the admin API would listen on {}, beyond this machine, without a token: set SEG_ADMIN_TOKEN (or admin.token_env "
        "or token_file in the config)",
        config.adminListen.address));
  }
  CompileOutcome compiled = compileProgramFile(config.program);
  if (!compiled.program) throw ServiceError(fmt::format("`{}` has errors:\n{}", config.program, compiled.text));
  c.describeMetrics();

  http::ServerOptions common;
  common.maxConnections = config.maxConnections;
  common.headerTimeout = std::chrono::milliseconds(config.headerTimeoutMs);
  common.bodyTimeout = std::chrono::milliseconds(config.bodyTimeoutMs);
  common.handlerThreads = config.handlerThreads;
  common.spoolDirectory = config.spoolDirectory;
  const auto observer = [&c](const char* listener) {
    return [&c, listener](const http::Request& r, int status, double seconds) {
      c.metrics.add("seg_http_requests_total", {{"listener", listener}, {"path", r.path}, {"code", std::to_string(status)}});
      c.metrics.observe("seg_http_request_seconds", {{"listener", listener}, {"path", r.path}}, seconds);
    };
  };
  http::ServerOptions publicOptions = common;
  publicOptions.address = config.publicListen.address;
  publicOptions.port = config.publicListen.port;
  publicOptions.observe = observer("public");
  http::ServerOptions adminOptions = common;
  adminOptions.address = config.adminListen.address;
  adminOptions.port = config.adminListen.port;
  adminOptions.observe = observer("admin");
  std::vector<http::Route> adminRoutes = c.adminRoutes();
  for (http::Route& r : c.feedRoutes()) adminRoutes.push_back(std::move(r));
  c.publicServer = std::make_unique<http::Server>(publicOptions, c.publicRoutes());
  c.adminServer = std::make_unique<http::Server>(adminOptions, std::move(adminRoutes));
  try {
    c.publicServer->start();
    c.adminServer->start();
  } catch (const std::exception& e) {
    throw ServiceError(e.what());
  }
  c.log.info("listening", {{"webhooks", fmt::format("http://{}:{}{}", config.publicListen.address, c.publicServer->port(), config.webhookPath)},
                           {"admin", fmt::format("http://{}:{}", config.adminListen.address, c.adminServer->port())},
                           {"signatures", config.channelSecret.empty() ? "not checked (--allow-unsigned)" : "checked"}});

  // The program's schema binds the store as it opens (extended by what the
  // program adds; refused when they disagree).
  c.running = std::make_shared<Running>();
  c.running->program = std::move(compiled.program);
  try {
    c.openStore();
    c.running = c.bind(std::move(c.running->program));
  } catch (const std::exception& e) {
    throw ServiceError(e.what());
  }
  c.timezoneName = c.running->program->program.timezone;
  if (config.delivery.enabled) {
    try {
      c.accessToken = std::make_unique<delivery::AccessToken>(config.delivery, config.channelSecret);
      (void)c.accessToken->current();  // an issued token: refused now rather than at the first send
    } catch (const std::exception& e) {
      throw ServiceError(e.what());
    }
    c.sender = std::make_unique<delivery::Sender>(config.delivery, *c.accessToken, c.metrics, c.log, [&c] { c.wakeLoop(); },
                                                  [&c] { return c.now(); });
    if (config.clock.start != 0) {
      c.log.warning("the clock is simulated: seg's time runs faster than real time (clock.speed); for trials, never against LINE",
                    {{"start", config.clock.start}, {"speed", config.clock.speed}});
    }
    c.quota = std::make_unique<delivery::MonthlyQuota>(kQuotaEvery);
    try {
      c.quota->readNow(config.delivery, *c.accessToken);
    } catch (const std::exception& e) {
      c.log.warning("LINE's monthly quota could not be read; asked again later", {{"reason", e.what()}});
    }
    c.log.info("LINE's monthly quota", {{"quota", c.quota->json()}});
    if (config.delivery.profileWaitSeconds > 0) {
      c.profiles = std::make_unique<delivery::ProfileFetches>(
          std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(config.delivery.profileWaitSeconds)));
    }
    c.log.info("delivering", {{"api", config.delivery.apiBase}, {"concurrency", config.delivery.concurrency}});
  }
  c.loopThread = std::thread([&c] { c.loop(); });
  c.ready = true;
  c.log.info("ready", {{"program", config.program}, {"warnings", compiled.warnings}});
}

// ------------------------------------------------------------------- loop

void Service::Core::loop() {
  const auto drainUntil = std::make_shared<std::optional<SteadyClock::time_point>>();
  while (!failed) {
    std::deque<std::function<void()>> todo;
    bool exiting = false;
    {
      std::lock_guard lock(loopMutex);
      todo.swap(tasks);
      exiting = loopExit;
    }
    for (auto& task : todo) task();
    if (exiting && !*drainUntil) *drainUntil = SteadyClock::now() + kDrainTime;
    const std::shared_ptr<Running> run = running;
    std::size_t waiting = 0;
    try {
      actOnInbox(*run, kBatchEvents);
      run->engine->advanceTo(now());
      deliver(*run);
      writer->flush();
      afterBatch(*run);
      if (store->walBytes() > kCheckpointBytes) store->checkpoint();
      waiting = inboxSize();
    } catch (const std::exception& e) {
      fail(e.what());
      break;
    }
    if (exiting && (waiting == 0 || SteadyClock::now() >= **drainUntil)) break;
    if (waiting > 0 && !heldForProfile) continue;  // held: woken when a profile comes
    // Until the next due work (times are whole seconds: due at T, it runs
    // once the clock reaches T), a tick at most.
    auto wake = SteadyClock::now() + kTick;
    if (const auto due = run->engine->nextDue()) {
      const auto untilDue = std::chrono::duration<double>(static_cast<double>(*due - now()) / config.clock.speed);
      // Never a spin: work due already (what advanceTo could not do) waits 10 ms.
      const auto soonest = SteadyClock::now() + std::chrono::milliseconds(10);
      wake = std::clamp(SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(untilDue), soonest, wake);
    }
    std::unique_lock lock(loopMutex);
    loopWake.wait_until(lock, wake, [&] { return !tasks.empty() || loopExit != exiting || wokenForInbox; });
    wokenForInbox = false;
  }
  // Tasks that came too late are refused, not left waiting.
  std::deque<std::function<void()>> left;
  {
    std::lock_guard lock(loopMutex);
    loopExit = true;
    left.swap(tasks);
  }
  for (auto& task : left) task();
  inboxRoom.notify_all();
}

void Service::Core::actOnInbox(Running& run, std::size_t limit) {
  InboxReady ready;
  if (profiles) ready = [this](InboundEvent& event) { return withProfile(event); };
  const InboxPass pass = seg::actOnInbox(*run.engine, *store, *writer, limit, now(), kBatchTime, ready);
  heldForProfile = pass.held;
  if (pass.held) askProfilesAhead(kBatchEvents);
  for (const auto& [item, why] : pass.setAside) {
    log.error("an inbox event cannot be acted on and was set aside", {{"item", item}, {"reason", why}});
    metrics.add("seg_inbox_set_aside_total", {});
  }
  for (const auto& [item, why] : pass.failed) {
    log.error("acting on an event failed part way", {{"item", item}, {"reason", why}});
    metrics.add("seg_inbox_failed_total", {});
  }
  if (pass.webhooks.empty()) return;
  writer->flush();  // durable before the latencies count it as done
  const auto done = SteadyClock::now();
  std::lock_guard lock(loopMutex);
  for (const auto& [id, replied] : pass.webhooks) {
    const auto it = takenAt.find(id);
    if (it == takenAt.end()) continue;
    const double seconds = std::chrono::duration<double>(done - it->second).count();
    metrics.observe("seg_webhook_to_action_seconds", {}, seconds);
    if (replied) metrics.observe("seg_webhook_to_reply_seconds", {}, seconds);
    takenAt.erase(it);
  }
}

// What LINE answered is recorded (durably, before anything else is offered:
// a crash before sends again with the same retry key); then what is due is
// offered to the sender.
void Service::Core::deliver(Running& run) {
  if (!sender) return;
  const std::int64_t t = now();
  for (const delivery::Completion& c : sender->takeCompletions()) {
    if (c.key.rfind(kProgressPrefix, 0) == 0) {
      recordProgress(run, c, t);
      continue;
    }
    if (delivery::ProfileFetches::isFetch(c.key)) {
      if (profiles) profiles->record(c);
      continue;
    }
    if (delivery::MonthlyQuota::isRead(c.key)) {
      if (quota) quota->record(c);
      continue;
    }
    try {
      switch (c.kind) {
        case delivery::Completion::Kind::Delivered: run.engine->confirm(c.key, t, c.response, c.requestId); break;
        case delivery::Completion::Kind::Failed: run.engine->fail(c.key, t, c.failure); break;
        case delivery::Completion::Kind::ReplyRefused: run.engine->retireReply(c.key, t, c.why); break;
      }
    } catch (const EngineError& e) {
      // Confirmed meanwhile by an operator, or gone with a reload.
      log.warning("LINE's answer could not be recorded", {{"key", c.key}, {"reason", e.what()}});
    }
  }
  std::vector<HandOut> due = run.engine->due(t);
  run.engine->markTried(due, t);
  writer->flush();  // tried, durably, before LINE can have it
  for (HandOut& poll : progressPolls(run)) due.push_back(std::move(poll));
  if (profiles) {
    for (HandOut& fetch : profiles->takeRequests(t)) due.push_back(std::move(fetch));
  }
  if (quota) {
    for (HandOut& read : quota->takeReads(t, SteadyClock::now())) due.push_back(std::move(read));
  }
  sender->offer(due, t);
}

namespace {

// The friend a follow is for; none for other events and for a channel in
// standby (nothing answers those).
const Mutation* followIn(const InboundEvent& event) {
  if (event.standby) return nullptr;
  for (const Mutation& m : event.changes) {
    if (m.kind == Mutation::Kind::Follow) return &m;
  }
  return nullptr;
}

}  // namespace

namespace {

// Messages planned and not yet accepted by LINE, as LINE counts them (one
// a recipient; replies are free, uploads carry none).
std::uint64_t outstandingMessages(const AutomationState& automation) {
  std::uint64_t n = 0;
  for (const auto& [key, entry] : automation.outbox()) {
    if (!entry.carries.empty() && entry.expiresAt == 0) n += entry.users.size();
  }
  return n;
}

}  // namespace

std::string Service::Core::quotaHold(const CampaignReport& report, bool paidAllowed) {
  if (!quota) return "";  // delivery not started (yet)
  std::string why = quota->wouldExceed(report.recipients, outstandingMessages(store->state().automation()),
                                       config.delivery.freeMessages, paidAllowed);
  if (why.empty()) return why;
  if (why.find("not been read") != std::string::npos) quota->readSoon();
  log.warning("a campaign is held", {{"campaign", report.name}, {"why", why}});
  metrics.add("seg_campaigns_held_total", {{"campaign", report.name}});
  return why;
}

// A follow is acted on once its friend's profile is known (or the wait is
// over), with the display name set as part of the follow, so that its
// welcome can say `{{name}}`.
bool Service::Core::withProfile(InboundEvent& event) {
  const Mutation* follow = followIn(event);
  if (follow == nullptr) return true;
  const std::string user = follow->user.toString();
  const delivery::ProfileFetches::Lookup found = profiles->lookup(user, SteadyClock::now());
  if (!found.ready) return false;
  profiles->forget(user);
  metrics.add("seg_profiles_total", {{"outcome", found.displayName.empty() ? "none" : "named"}});
  if (found.displayName.empty()) return true;
  const auto index = store->state().schema().attribute("name");
  if (!index) return true;
  Mutation name = Mutation::of(Mutation::Kind::SetAttribute, follow->user);
  name.index = static_cast<std::uint32_t>(*index);
  name.time = follow->time;
  name.value = Value::ofString(found.displayName);
  event.changes.push_back(std::move(name));
  return true;
}

// Follows further down the inbox are asked for now, so that their
// profiles come in together rather than one after another.
void Service::Core::askProfilesAhead(std::size_t items) {
  std::vector<std::string> encoded;
  {
    auto lock = store->readLock();
    for (const auto& [sequence, item] : store->state().inbox()) {
      encoded.push_back(item.event);
      if (encoded.size() == items) break;
    }
  }
  const auto steadyNow = SteadyClock::now();
  for (const std::string& bytes : encoded) {
    try {
      const InboundEvent event = decodeInbound(bytes);
      if (const Mutation* follow = followIn(event)) (void)profiles->lookup(follow->user.toString(), steadyNow);
    } catch (const std::exception&) {
      // Damaged: the pass sets it aside when it comes to it.
    }
  }
}

// Narrowcasts go out asynchronously: LINE is asked how each is doing every
// kProgressEvery until it succeeded or failed (LINE keeps the progress 14
// days), and the outcome is recorded.
std::vector<HandOut> Service::Core::progressPolls(Running&) {
  std::vector<HandOut> polls;
  const auto steadyNow = SteadyClock::now();
  for (const auto& [key, watch] : store->state().automation().narrowcasts()) {
    if (!watch.outcome.empty()) continue;
    auto [it, first] = nextProgressPoll.try_emplace(key, steadyNow);
    if (it->second > steadyNow) continue;
    it->second = steadyNow + kProgressEvery;
    HandOut poll;
    poll.key = std::string(kProgressPrefix) + key;
    poll.notBefore = now();
    poll.request.key = poll.key;
    poll.request.method = "GET";
    poll.request.path = "/v2/bot/message/progress/narrowcast?requestId=" + watch.requestId;
    polls.push_back(std::move(poll));
  }
  return polls;
}

void Service::Core::recordProgress(Running& run, const delivery::Completion& c, std::int64_t t) {
  const std::string key = c.key.substr(std::string_view(kProgressPrefix).size());
  std::string outcome;
  if (c.kind == delivery::Completion::Kind::Delivered) {
    const nlohmann::json progress = nlohmann::json::parse(c.response, nullptr, false);
    const std::string phase = progress.is_object() ? progress.value("phase", "") : "";
    if (phase != "succeeded" && phase != "failed") return;  // waiting or sending: asked again later
    outcome = c.response;
    metrics.add("seg_narrowcasts_completed_total", {{"phase", phase}});
  } else {
    // LINE no longer knows it (14 days), or refused the question.
    outcome = nlohmann::json{{"phase", "unknown"}, {"line", nlohmann::json::parse(c.failure, nullptr, false)}}.dump();
    metrics.add("seg_narrowcasts_completed_total", {{"phase", "unknown"}});
  }
  try {
    run.engine->recordNarrowcastOutcome(key, t, outcome);
    nextProgressPoll.erase(key);
    log.info("a narrowcast completed", {{"key", key}, {"progress", nlohmann::json::parse(outcome, nullptr, false)}});
  } catch (const EngineError& e) {
    log.warning("a narrowcast's progress could not be recorded", {{"key", key}, {"reason", e.what()}});
  }
}

void Service::Core::afterBatch(Running& run) {
  for (const TimelineEntry& e : run.engine->takeTimeline()) {
    metrics.add("seg_actions_total", {{"action", timelineKindName(e.kind)}, {"name", e.name}});
  }
  inboxRoom.notify_all();
}

// ----------------------------------------------------------------- reload

ReloadOutcome Service::Core::reload(CompileOutcome compiled) {
  ReloadOutcome out;
  out.diagnostics = compiled.text;
  if (!compiled.program) {
    out.error = fmt::format("the program has {} error(s); the running program goes on", compiled.errors);
    return out;
  }
  return onLoop<ReloadOutcome>([&](Running&) {
    ReloadOutcome r = out;
    try {
      mergeSchemas(store->state().schema(), compiled.program->program.schema);  // refuses before anything changes
    } catch (const StoreError& e) {
      r.error = std::string(e.what()) + "; the running program goes on";
      return r;
    }
    std::shared_ptr<Running> next;
    try {
      writer->flush();
      const bool extended = store->extendSchema(compiled.program->program.schema);
      try {
        next = bind(std::move(compiled.program));
      } catch (const std::exception& e) {
        r.error = std::string(e.what()) + "; the running program goes on";
        // Columns the old program bound to may have moved: bind it again.
        if (extended) next = bind(std::move(running->program));
        else return r;
      }
    } catch (const StoreError& e) {
      fail(e.what());
      r.error = e.what();
      return r;
    }
    {
      std::lock_guard lock(queryMutex);
      running = next;
      timezoneName = next->program->program.timezone;
    }
    r.reloaded = r.error.empty();
    if (r.reloaded) log.info("program reloaded", {{"program", next->program->name}});
    return r;
  });
}

ReloadOutcome Service::reloadFromFile() {
  Core& c = *core_;
  ReloadOutcome r = c.reload(compileProgramFile(c.config.program));
  if (!r.reloaded) c.log.warning("program not reloaded", {{"reason", r.error}, {"diagnostics", r.diagnostics}});
  return r;
}

// ------------------------------------------------------------------- stop

void Service::stop() {
  Core& c = *core_;
  if (c.stopping.exchange(true)) return;
  c.ready = false;
  c.inboxRoom.notify_all();  // feeds waiting for room give up (what they committed resumes)
  // Requests in flight finish (a webhook's commit, a reload); no new ones.
  if (c.publicServer) c.publicServer->stop();
  if (c.adminServer) c.adminServer->stop();
  if (c.loopThread.joinable()) {
    {
      std::lock_guard lock(c.loopMutex);
      c.loopExit = true;
    }
    c.loopWake.notify_all();
    c.loopThread.join();
  }
  // Requests in flight finish; what LINE answered is recorded below.
  if (c.sender) c.sender->stop();
  if (c.sender && c.store && !c.failed && c.running) {
    try {
      c.deliver(*c.running);
    } catch (const std::exception& e) {
      c.log.error("stopping: LINE's last answers were not recorded (they are sent again, with the same keys)", {{"reason", e.what()}});
    }
  }
  if (c.store && !c.failed) {
    try {
      c.writer->flush();
      c.store->checkpoint();
      c.log.info("stopped", {{"inbox_left", c.store->state().inbox().size()}});
    } catch (const std::exception& e) {
      c.log.error("stopping: the checkpoint failed; the log keeps everything", {{"reason", e.what()}});
    }
  }
  c.running.reset();
  c.writer.reset();
  c.store.reset();
}

Service::Service(ServiceConfig config, Logger& log, std::function<void(const std::string&)> onFatal)
    : core_(std::make_unique<Core>(std::move(config), log, std::move(onFatal))) {}

Service::~Service() { stop(); }

unsigned short Service::publicPort() const { return core_->publicServer ? core_->publicServer->port() : 0; }
unsigned short Service::adminPort() const { return core_->adminServer ? core_->adminServer->port() : 0; }

// ---------------------------------------------------------------- metrics

void Service::Core::describeMetrics() {
  metrics.describe("seg_webhook_events_total", "counter", "Webhook events by type and outcome (accepted, redelivered, ignored, rejected)");
  metrics.describe("seg_webhook_requests_total", "counter", "Webhook requests by outcome");
  metrics.describe("seg_feed_records_total", "counter", "Feed records by feed and outcome");
  metrics.describe("seg_http_requests_total", "counter", "HTTP requests by listener, path and status code");
  metrics.describe("seg_http_request_seconds", "histogram", "Time from a request's header to its response");
  metrics.describe("seg_webhook_to_action_seconds", "histogram", "From a webhook event taken to it acted on, durably");
  metrics.describe("seg_webhook_to_reply_seconds", "histogram", "From a webhook event taken to its reply in the outbox, durably");
  metrics.describe("seg_actions_total", "counter", "What the automation did, by action and rule, scenario, message, menu or campaign name");
  metrics.describe("seg_segment_evaluation_seconds", "histogram", "Segment evaluations asked of the admin API");
  metrics.describe("seg_inbox_set_aside_total", "counter", "Inbox events that could not be acted on (logged)");
  metrics.describe("seg_campaigns_held_total", "counter", "Times a campaign was held for LINE's monthly quota (logged, retried a minute later)");
  metrics.gauge("seg_line_quota_messages", "LINE's monthly quota as last read: the target limit and the messages used", [this] {
    std::vector<std::pair<Labels, double>> out;
    if (!quota) return out;
    const delivery::MonthlyQuota::Reading r = quota->reading();
    if (r.limited && *r.limited) out.push_back({{{"kind", "limit"}}, static_cast<double>(r.limit)});
    if (r.used) out.push_back({{{"kind", "used"}}, static_cast<double>(*r.used)});
    return out;
  });
  metrics.describe("seg_profiles_total", "counter", "Follows acted on with the friend's LINE profile (named) or without it (none)");
  metrics.describe("seg_inbox_failed_total", "counter", "Inbox events whose action failed part way (logged)");
  metrics.describe("seg_delivery_requests_total", "counter", "Requests made to LINE, by endpoint and outcome (delivered, retry, rate_limited, unauthorized, reply_refused, refused)");
  metrics.describe("seg_delivery_request_seconds", "histogram", "LINE's answer time, by endpoint");
  metrics.describe("seg_narrowcasts_completed_total", "counter", "Narrowcasts LINE reported done, by phase (succeeded, failed; unknown when LINE no longer knew)");
  metrics.describe("seg_delivery_retries_total", "counter", "Requests to be made again after no answer, a timeout or a 5xx, by endpoint");
  metrics.gauge("seg_delivery_pending", "Requests with the sender (queued, in flight or waiting to retry)", [this] {
    std::vector<std::pair<Labels, double>> out;
    if (sender) out.push_back({{}, static_cast<double>(sender->pending())});
    return out;
  });
  metrics.gauge("seg_ready", "1 when the store is open and the program bound", [this] {
    return std::vector<std::pair<Labels, double>>{{{}, ready ? 1.0 : 0.0}};
  });
  metrics.gauge("seg_friends", "Friends in the store", [this] {
    std::vector<std::pair<Labels, double>> out;
    if (!ready) return out;
    auto lock = store->readLock();
    out.push_back({{}, static_cast<double>(store->state().friendCount())});
    return out;
  });
  metrics.gauge("seg_inbox_events", "Events taken and not yet acted on", [this] {
    std::vector<std::pair<Labels, double>> out;
    if (ready) out.push_back({{}, static_cast<double>(inboxSize())});
    return out;
  });
  metrics.gauge("seg_outbox_requests", "LINE requests in the outbox, by standing (failed: refused by LINE for good)", [this] {
    std::vector<std::pair<Labels, double>> out;
    if (!ready) return out;
    std::map<std::string, double> counts = {{"due", 0}, {"held", 0}, {"waiting", 0}, {"expired", 0}};
    const std::int64_t t = now();
    auto lock = store->readLock();
    const auto& outbox = store->state().automation().outbox();
    for (const auto& [key, entry] : outbox) {
      // Only a request that depends on others needs reading whole.
      send::LineRequest request;
      if (entry.request.find("\"after\"") != std::string::npos) request = send::LineRequest::fromJson(entry.request);
      ++counts[standingName(standingOf(entry, request, outbox, t))];
    }
    counts["failed"] = static_cast<double>(store->state().automation().failed().size());
    for (const auto& [standing, n] : counts) out.push_back({{{"standing", standing}}, n});
    return out;
  });
  metrics.gauge("seg_events_stored", "Events in the store, by event", [this] {
    std::vector<std::pair<Labels, double>> out;
    if (!ready) return out;
    auto lock = store->readLock();
    const StoreState& state = store->state();
    for (std::size_t i = 0; i < state.schema().events.size(); ++i) {
      out.push_back({{{"event", state.schema().events[i].name}}, static_cast<double>(state.events(i).size())});
    }
    return out;
  });
  metrics.gauge("seg_store_log_bytes", "The store's write-ahead log since its snapshot", [this] {
    std::vector<std::pair<Labels, double>> out;
    if (ready) out.push_back({{}, static_cast<double>(store->walBytes())});
    return out;
  });
  metrics.gauge("process_resident_memory_bytes", "Resident memory", [] {
    return std::vector<std::pair<Labels, double>>{{{}, static_cast<double>(residentBytes())}};
  });
}

}  // namespace seg::service
