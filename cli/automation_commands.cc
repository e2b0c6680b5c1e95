// segc test, plan and outbox: a program's tests, a campaign's send plan, and
// the LINE requests waiting to be made.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/civil_time.h"
#include "base/timezone.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/program_loader.h"
#include "compiler/ir/lower.h"
#include "runtime/automation/engine.h"
#include "runtime/automation/program_tests.h"
#include "runtime/automation/simulation.h"
#include "runtime/jit/jit.h"
#include "runtime/ingest/importer.h"
#include "runtime/store/store.h"
#include "runtime/synth/generator.h"

namespace seg::cli {
namespace {

// ------------------------------------------------------------------- test

struct TestCommand {
  std::string program;
};

int runTest(const TestCommand& c) {
  const auto loaded = loadProgram(c.program);
  if (!loaded) return kExitErrors;
  const ir::Program program = ir::lowerProgram(loaded->program, &loaded->sources);
  const std::vector<ProgramTestResult> results = runProgramTests(program);
  std::size_t passed = 0;
  for (const ProgramTestResult& r : results) {
    fmt::print("test \"{}\" ... {}\n", r.title, r.passed() ? "ok" : "FAILED");
    for (const std::string& failure : r.failures) fmt::print("  {}\n", failure);
    passed += r.passed() ? 1 : 0;
  }
  fmt::print("{} passed, {} failed\n", passed, results.size() - passed);
  return passed == results.size() ? kExitOk : kExitErrors;
}

// ------------------------------------------------------------------- plan

struct PlanCommand {
  std::string program, store, campaign, at;
  bool record = false, json = false;
};

// Long arrays (recipients, audience IDs) cut to their first two, for reading.
void abbreviate(nlohmann::ordered_json& j) {
  if (j.is_array() && j.size() > 3) {
    const std::size_t n = j.size();
    j = nlohmann::ordered_json::array({j[0], j[1], fmt::format("... {} more", n - 2)});
    return;
  }
  if (j.is_structured()) {
    for (auto& child : j) abbreviate(child);
  }
}

int runPlan(const PlanCommand& c) {
  auto session = openSession(c.program, c.store, c.record);
  if (!session) return kExitUsage;
  const ir::CampaignIr* campaign = session->program.automation.campaign(c.campaign);
  if (campaign == nullptr) {
    std::vector<std::string> names;
    for (const ir::CampaignIr& k : session->program.automation.campaigns) names.push_back(k.name);
    printToolError(fmt::format("no campaign `{}` in {}{}", c.campaign, c.program,
                               names.empty() ? "" : fmt::format(" (campaigns: {})", fmt::join(names, ", "))));
    return kExitUsage;
  }
  const TimeZone zone = *TimeZone::find(session->program.timezone);
  // Default: the campaign's `at`, or now (instantOption's empty default).
  std::optional<std::int64_t> at = c.at.empty() && campaign->at ? campaign->at : instantOption("--at", c.at, session->program.timezone);
  if (!at) return kExitUsage;
  if (c.record && session->store->state().automation().campaignRan(c.campaign)) {
    printToolError(fmt::format("campaign `{}` was already sent (at {}); it is sent once",
                               c.campaign, zone.formatInstant(*session->store->state().automation().campaignRan(c.campaign))));
    return kExitErrors;
  }
  const CampaignReport r = session->engine->runCampaign(c.campaign, *at, c.record);
  if (c.json) {
    const nlohmann::ordered_json out = campaignReportJson(r, zone, c.record);
    fmt::print("{}\n", out.dump(2));
    return r.refused.empty() ? kExitOk : kExitErrors;
  }
  fmt::print("campaign {} at {}\n", r.name, zone.formatInstant(r.at));
  fmt::print("  audience (seg's part)   {:>10}\n", r.audience);
  if (!r.demographic.empty()) fmt::print("  LINE's filter           {}\n", r.demographic);
  if (r.limited) fmt::print("  left out by limit       {:>10}\n", r.limited);
  for (std::size_t a = 0; a < r.perArm.size(); ++a) {
    const ir::SplitArmIr& arm = campaign->arms[a];
    std::string what = arm.holdout ? "holdout (receives nothing, recorded)" : "";
    for (const ir::MessageCall& m : arm.messages) what += (what.empty() ? "" : ", ") + session->program.automation.messages[m.message].name;
    fmt::print("  arm {} ({:>4}) {:>10}  {}\n", a + 1, civil::formatPercent(arm.basisPoints), r.perArm[a], what);
  }
  if (r.capped) fmt::print("  skipped by the cap      {:>10}\n", r.capped);
  if (r.unsendable) fmt::print("  messages left out       {:>10}  (LINE would refuse them for those friends: an empty text...)\n", r.unsendable);
  if (!r.refused.empty()) {
    printToolError(r.refused);
    return kExitErrors;
  }
  fmt::print("  recipients              {:>10}{}\n", r.recipients, r.narrowcast ? "  (LINE's filter narrows them further)" : "");
  if (r.heldUntil) fmt::print("  held by quiet hours until {}\n", zone.formatInstant(r.heldUntil));
  std::map<std::string, std::size_t> byPath;
  for (const send::LineRequest& request : r.requests) ++byPath[request.method + " " + request.path];
  for (const auto& [path, n] : byPath) fmt::print("  {:>5} × {}\n", n, path);
  if (!r.requests.empty()) {
    // The first request that sends messages shows what friends receive.
    const auto sends = std::find_if(r.requests.begin(), r.requests.end(), [](const send::LineRequest& request) {
      return request.path.rfind("/v2/bot/message/", 0) == 0;
    });
    nlohmann::ordered_json shown = nlohmann::ordered_json::parse((sends != r.requests.end() ? *sends : r.requests.front()).toJson());
    abbreviate(shown);
    fmt::print("for example:\n{}\n", shown.dump(2));
  }
  fmt::print("{}\n", c.record ? "recorded: the requests are in the store's outbox (`segc outbox`)"
                              : "a preview: nothing was recorded (add --record to plan it for sending)");
  return kExitOk;
}

// ----------------------------------------------------------------- outbox

struct OutboxCommand {
  std::string program, store, at, confirm, response;
  bool json = false, failed = false;
};

// Requests LINE refused for good, with its answer (a sender's record).
int listFailed(const AutomationState& automation, const TimeZone& zone, bool json) {
  const auto& failed = automation.failed();
  if (!json) fmt::print("{} requests LINE refused\n", failed.size());
  for (const auto& [key, f] : failed) {
    const send::LineRequest request = send::LineRequest::fromJson(f.entry.request);
    if (json) {
      fmt::print("{}\n", nlohmann::json{{"key", key}, {"method", request.method}, {"path", request.path},
                                        {"failed_at", zone.formatInstant(f.failedAt)},
                                        {"line", nlohmann::json::parse(f.failure, nullptr, false)}}
                             .dump());
    } else {
      fmt::print("  {:<6} {:<32} {}  {}\n    LINE: {}\n", request.method, request.path, zone.formatInstant(f.failedAt), key, f.failure);
    }
  }
  return kExitOk;
}

int runOutbox(const OutboxCommand& c) {
  auto session = openSession(c.program, c.store, !c.confirm.empty());
  if (!session) return kExitUsage;
  const auto now = instantOption("--at", c.at, session->program.timezone);
  if (!now) return kExitUsage;
  if (!c.confirm.empty()) {
    session->engine->confirm(c.confirm, *now, c.response);
    fmt::print("confirmed {}\n", c.confirm);
    return kExitOk;
  }
  const TimeZone zone = *TimeZone::find(session->program.timezone);
  if (c.failed) return listFailed(session->store->state().automation(), zone, c.json);
  const std::vector<HandOut> due = session->engine->due(*now);
  const std::size_t waiting = session->store->state().automation().outbox().size();
  if (c.json) {
    for (const HandOut& h : due) fmt::print("{}\n", h.request.toJson());
    return kExitOk;
  }
  fmt::print("{} requests due at {} ({} in the outbox{})\n", due.size(), zone.formatInstant(*now), waiting,
             session->store->state().automation().failed().empty()
                 ? ""
                 : fmt::format("; {} refused by LINE: `segc outbox --failed`", session->store->state().automation().failed().size()));
  for (const HandOut& h : due) {
    std::size_t recipients = 1;
    if (h.request.body.is_object() && h.request.body.contains("to") && h.request.body["to"].is_array()) {
      recipients = h.request.body["to"].size();
    }
    fmt::print("  {:<6} {:<32} {:>4}  {}\n", h.request.method, h.request.path, recipients, h.key);
  }
  for (const auto& [name, n] : session->store->state().automation().skipped()) {
    fmt::print("  skipped by the frequency cap: {} × {}\n", n, name);
  }
  return kExitOk;
}

// --------------------------------------------------------------- simulate

struct SimulateCommand {
  std::string program, store, from, to, timeline;
  std::uint64_t friends = 100000, historyEvents = 1000000, eventsPerDay = 0, seed = 1;
};

int runSimulate(const SimulateCommand& c) {
  const auto loaded = loadProgram(c.program);
  if (!loaded) return kExitErrors;
  const ir::Program program = ir::lowerProgram(loaded->program, &loaded->sources);
  const TimeZone zone = *TimeZone::find(program.timezone);
  const auto from = instantOption("--from", c.from, program.timezone);
  const auto to = instantOption("--to", c.to, program.timezone);
  if (!from || !to) return kExitUsage;
  if (*to <= *from) {
    printToolError("--to must be after --from");
    return kExitUsage;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  std::optional<StoreState> state;
  if (!c.store.empty()) {
    try {
      auto store = openStore(c.store, &program.schema, false);
      if (!store) return kExitUsage;
      state.emplace(store->state());  // a copy: the store is not changed
    } catch (const std::exception& e) {
      printToolError(e.what());
      return kExitUsage;
    }
  } else {
    state.emplace(program.schema);
    GenerateOptions g;
    g.friends = c.friends;
    g.events = c.historyEvents;
    g.seed = c.seed;
    g.now = *from;
    generateInto(*state, g);
  }
  ActivityOptions activity;
  activity.from = *from;
  activity.to = *to;
  activity.seed = c.seed;
  std::uint64_t history = 0;  // events of the past year, for the pace of the coming days
  for (std::size_t e = 0; e < state->schema().events.size(); ++e) history += state->events(e).size();
  activity.eventsPerDay = c.eventsPerDay != 0 ? c.eventsPerDay : std::max<std::uint64_t>(1, history / 365);
  activity.utcOffset = zone.offsetAt(*from);
  const std::vector<Mutation> changes = generateActivity(*state, activity);
  fmt::print("simulating {} to {}: {} friends, {} changes coming in ({:.1f} s to set up)\n", zone.formatInstant(*from),
             zone.formatInstant(*to), state->friendCount(), changes.size(), seconds());

  MemoryWriter writer(std::move(*state));
  const std::unique_ptr<ResidualCompiler> jit = makeJit();
  EngineOptions options;
  options.keepTimeline = !c.timeline.empty();
  options.compiler = jit.get();
  options.threads = std::max(1u, std::thread::hardware_concurrency());
  AutomationEngine engine(program, writer, options);
  const double setUp = seconds();
  LineStandIn line;
  playActivity(engine, changes, *from, *to, line);
  const std::size_t made = line.made();
  const double ran = seconds() - setUp;

  const EngineCounters& k = engine.counters();
  const AutomationState& a = engine.state().automation();
  fmt::print("ran in {:.1f} s ({:.0f} inbound events a second)\n", ran, static_cast<double>(k.events) / std::max(ran, 1e-9));
  fmt::print("  inbound events          {:>10}\n", k.events);
  fmt::print("  scenario enrolments     {:>10}   exits {}   steps run {}   steps skipped by `when` {}\n", k.enrolments, k.exits,
             k.stepsRun, k.stepsSkipped);
  fmt::print("  still enrolled          {:>10}   next steps waiting {}\n", a.enrolmentCount(), a.timers().size());
  fmt::print("  messages sent           {:>10}   held by quiet hours {}   skipped by the cap {}\n", k.messagesSent,
             k.heldByQuietHours, k.skippedByCap);
  fmt::print("  rich menu changes       {:>10}\n", k.menuChanges);
  fmt::print("  LINE requests made      {:>10}\n", made);
  for (const auto& [path, n] : k.requestsByPath) fmt::print("    {:>8} × {}\n", n, path);
  for (const ir::CampaignIr& campaign : program.automation.campaigns) {
    if (campaign.every) {
      // A recurring campaign: how many of its occurrences ran, and the last.
      std::size_t ran = 0, notSent = 0;
      const CampaignRecord* last = nullptr;
      const std::string prefix = campaign.name + "@";
      for (auto it = a.campaignRecords().lower_bound(prefix); it != a.campaignRecords().end() && it->first.starts_with(prefix); ++it) {
        ++(it->second.refused.empty() ? ran : notSent);
        if (last == nullptr || it->second.time > last->time) last = &it->second;
      }
      fmt::print("  campaign {:<16} {}: ran {} time{}, not sent {}{}\n", campaign.name, campaign.every->describe(), ran, ran == 1 ? "" : "s", notSent,
                 last == nullptr ? "" : ", last at " + zone.formatInstant(last->time));
      continue;
    }
    const CampaignRecord* record = a.campaignRecord(campaign.name);
    std::string outcome = "not due in this window";
    if (record != nullptr && record->refused.empty()) outcome = "ran at " + zone.formatInstant(record->time);
    if (record != nullptr && !record->refused.empty()) {
      outcome = fmt::format("not sent ({}): {}", zone.formatInstant(record->time), record->refused);
    }
    fmt::print("  campaign {:<16} {}\n", campaign.name, outcome);
  }
  if (!c.timeline.empty()) {
    std::FILE* out = std::fopen(c.timeline.c_str(), "w");
    if (out == nullptr) {
      printToolError(fmt::format("cannot write {}", c.timeline));
      return kExitUsage;
    }
    for (const TimelineEntry& e : engine.timeline()) {
      nlohmann::ordered_json line = {{"time", zone.formatInstant(e.time)}, {"what", timelineKindName(e.kind)}, {"name", e.name}};
      if (e.friendId != ~0u) line["user"] = engine.state().friends().user(e.friendId).toString();
      line["by"] = e.source;
      if (!e.detail.empty()) line["detail"] = e.detail;
      fmt::print(out, "{}\n", line.dump());
    }
    std::fclose(out);
    fmt::print("timeline: {} entries in {}\n", engine.timeline().size(), c.timeline);
  }
  return kExitOk;
}

// ---------------------------------------------------------------- webhook

struct WebhookCommand {
  std::string program, store, channelSecret, signature, at;
  std::vector<std::string> bodies;
};

int runWebhook(const WebhookCommand& c) {
  auto session = openSession(c.program, c.store, true);
  if (!session) return kExitUsage;
  // When seg takes the bodies: actions happen then, and a reply token is
  // good for a minute from then. Each event's own time orders the state it sets.
  const auto now = instantOption("--at", c.at, session->program.timezone);
  if (!now) return kExitUsage;
  AutomationEngine& engine = *session->engine;
  const std::size_t queuedBefore = session->store->state().automation().outbox().size();
  int exit = kExitOk;
  for (const std::string& body : c.bodies) {
    ImportOptions options;
    options.channelSecret = channelSecret(c.channelSecret);
    options.signature = c.signature;
    options.now = *now;
    options.onRecord = [&](InboundRecord record) {
      InboundEvent event;
      event.replyToken = std::move(record.replyToken);
      event.standby = record.standby;
      for (Mutation& m : record.changes) {
        if (m.kind == Mutation::Kind::WebhookSeen) {
          event.webhookEventId = m.name;
        } else {
          event.changes.push_back(std::move(m));
        }
      }
      engine.handle(event, *now);
    };
    const ImportReport report = importFile(*session->store, ImportKind::Webhook, body, options);
    if (!report.fatal.empty()) {
      printToolError(fmt::format("{}: {}", body, report.fatal));
      exit = kExitErrors;
      continue;
    }
    for (const RecordError& e : report.errors) {
      fmt::print(stderr, "{}: {}{}{}\n", body, e.field, e.field.empty() ? "" : ": ", e.message);
    }
    if (report.errorCount > 0) exit = kExitErrors;
    fmt::print("{}: {} events acted on, {} already seen (redelivered), {} ignored, {} bad\n", body, report.applied,
               report.duplicates, report.ignored, report.skipped);
  }
  const std::size_t queued = session->store->state().automation().outbox().size();
  fmt::print("{} LINE requests waiting in the outbox ({} new)\n", queued, queued - std::min(queued, queuedBefore));
  return exit;
}

// -------------------------------------------------------------------- run

struct RunCommand {
  std::string program, store, until;
};

int runRun(const RunCommand& c) {
  auto session = openSession(c.program, c.store, true);
  if (!session) return kExitUsage;
  const auto until = instantOption("--until", c.until, session->program.timezone);
  if (!until) return kExitUsage;
  const std::size_t before = session->store->state().automation().outbox().size();
  session->engine->advanceTo(*until);
  const EngineCounters& k = session->engine->counters();
  const std::size_t queued = session->store->state().automation().outbox().size();
  fmt::print("ran to {}: {} steps run, {} skipped by `when`, {} friends left scenarios, {} menu changes\n",
             TimeZone::find(session->program.timezone)->formatInstant(*until), k.stepsRun, k.stepsSkipped, k.exits,
             k.menuChanges);
  fmt::print("{} LINE requests waiting in the outbox ({} new)\n", queued, queued - std::min(queued, before));
  return kExitOk;
}

}  // namespace

Command addRunCommand(CLI::App& app) {
  auto c = std::make_shared<RunCommand>();
  CLI::App* run = app.add_subcommand("run", "Run what is due: scenario steps, campaigns, rich-menu changes (call it every minute)");
  run->add_option("program", c->program, "The .seg program")->required();
  run->add_option("--store", c->store, "The friend store directory")->required();
  run->add_option("--until", c->until, "Run what is due up to this time (default: now)");
  return {run, [c] { return runRun(*c); }};
}

Command addWebhookCommand(CLI::App& app) {
  auto c = std::make_shared<WebhookCommand>();
  CLI::App* webhook = app.add_subcommand("webhook", "Take LINE webhook bodies into a store and act on them (rules, scenarios, menus)");
  webhook->add_option("program", c->program, "The .seg program")->required();
  webhook->add_option("--store", c->store, "The friend store directory")->required();
  webhook->add_option("bodies", c->bodies, "Webhook request bodies (JSON files)")->required();
  webhook->add_option("--channel-secret", c->channelSecret, "Verify `x-line-signature` with this channel secret (or LINE_CHANNEL_SECRET)");
  webhook->add_option("--signature", c->signature, "The request's `x-line-signature` header");
  webhook->add_option("--at", c->at, "When seg takes the bodies (default: now)");
  return {webhook, [c] { return runWebhook(*c); }};
}

Command addTestCommand(CLI::App& app) {
  auto c = std::make_shared<TestCommand>();
  CLI::App* test = app.add_subcommand("test", "Run a program's `test` blocks; ends with `N passed, N failed`");
  test->add_option("program", c->program, "The .seg program")->required();
  return {test, [c] { return runTest(*c); }};
}

Command addPlanCommand(CLI::App& app) {
  auto c = std::make_shared<PlanCommand>();
  CLI::App* plan = app.add_subcommand("plan", "Plan a campaign: who receives what, as LINE API requests");
  plan->add_option("program", c->program, "The .seg program")->required();
  plan->add_option("--store", c->store, "The friend store directory")->required();
  plan->add_option("--campaign", c->campaign, "The campaign to plan")->required();
  plan->add_option("--at", c->at, "When it is sent (default: the campaign's `at`, or now)");
  plan->add_flag("--record", c->record, "Put the requests in the store's outbox (sends once)");
  plan->add_flag("--json", c->json, "Print the plan and every request as JSON");
  return {plan, [c] { return runPlan(*c); }};
}

Command addSimulateCommand(CLI::App& app) {
  auto c = std::make_shared<SimulateCommand>();
  CLI::App* sim = app.add_subcommand("simulate", "Run a program's automation over a stretch of time, in memory");
  sim->add_option("program", c->program, "The .seg program")->required();
  sim->add_option("--from", c->from, "Start (date or date-time, in the program's time zone)")->required();
  sim->add_option("--to", c->to, "End")->required();
  sim->add_option("--store", c->store, "Start from (a copy of) this store instead of generating one");
  sim->add_option("--friends", c->friends, "Friends to generate (default 100000)");
  sim->add_option("--history-events", c->historyEvents, "Events of the year before --from to generate (default 1000000)");
  sim->add_option("--events-per-day", c->eventsPerDay, "Events coming in each day (default: the history's pace)");
  sim->add_option("--seed", c->seed, "Seed of the generated data (default 1)");
  sim->add_option("--timeline", c->timeline, "Write everything done, one JSON object a line, to this file");
  return {sim, [c] { return runSimulate(*c); }};
}

Command addOutboxCommand(CLI::App& app) {
  auto c = std::make_shared<OutboxCommand>();
  CLI::App* outbox = app.add_subcommand("outbox", "List the LINE requests due, or confirm one as made");
  outbox->add_option("program", c->program, "The .seg program")->required();
  outbox->add_option("--store", c->store, "The friend store directory")->required();
  outbox->add_option("--at", c->at, "List what is due at this time (default: now)");
  outbox->add_flag("--json", c->json, "One request a line, as JSON, for a sender");
  outbox->add_option("--confirm", c->confirm, "Mark the request with this key as made");
  outbox->add_option("--response", c->response, "LINE's response body (audience uploads need it)");
  outbox->add_flag("--failed", c->failed, "List the requests LINE refused for good, with its answer");
  return {outbox, [c] { return runOutbox(*c); }};
}

}  // namespace seg::cli
