// segc test, plan and outbox: a program's tests, a campaign's send plan, and
// the LINE requests waiting to be made.
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/base/civil_time.h"
#include "compiler/base/timezone.h"
#include "compiler/driver/commands.h"
#include "compiler/driver/output.h"
#include "compiler/driver/program_loader.h"
#include "compiler/ir/lower.h"
#include "runtime/automation/engine.h"
#include "runtime/automation/program_tests.h"
#include "runtime/jit/jit.h"
#include "runtime/store/store.h"

namespace seg::driver {
namespace {

// A program and a store, opened for the automation engine.
struct AutomationSession {
  std::unique_ptr<LoadedProgram> loaded;
  ir::Program program;
  std::unique_ptr<Store> store;
  std::unique_ptr<ResidualCompiler> jit;
  std::unique_ptr<StoreWriter> writer;
  std::unique_ptr<AutomationEngine> engine;
};

std::unique_ptr<AutomationSession> openSession(const std::string& programPath, const std::string& storeDir, bool write) {
  auto session = std::make_unique<AutomationSession>();
  session->loaded = loadProgram(programPath);
  if (!session->loaded) return nullptr;
  session->program = ir::lowerProgram(session->loaded->program, &session->loaded->sources);
  try {
    OpenOptions options;
    options.readOnly = !write;
    session->store = Store::open(storeDir, nullptr, options);
    session->jit = makeJit();
    session->writer = std::make_unique<StoreWriter>(*session->store);
    EngineOptions engineOptions;
    engineOptions.compiler = session->jit.get();
    engineOptions.threads = std::max(1u, std::thread::hardware_concurrency());
    session->engine = std::make_unique<AutomationEngine>(session->program, *session->writer, engineOptions);
  } catch (const std::exception& e) {
    printToolError(e.what());
    return nullptr;
  }
  return session;
}

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
  std::optional<std::int64_t> at = c.at.empty() ? std::optional<std::int64_t>(campaign->at)
                                                : instantOption("--at", c.at, session->program.timezone);
  if (!at) return kExitUsage;
  if (c.record && session->store->state().automation().campaignRan(c.campaign)) {
    printToolError(fmt::format("campaign `{}` was already sent (at {}); it is sent once",
                               c.campaign, zone.formatInstant(*session->store->state().automation().campaignRan(c.campaign))));
    return kExitErrors;
  }
  const CampaignReport r = session->engine->runCampaign(c.campaign, *at, c.record);
  if (c.json) {
    nlohmann::ordered_json out = {{"campaign", r.name},        {"at", zone.formatInstant(r.at)},
                                  {"audience", r.audience},    {"limited", r.limited},
                                  {"holdout", r.holdout},      {"capped", r.capped},
                                  {"recipients", r.recipients}, {"narrowcast", r.narrowcast},
                                  {"recorded", c.record && r.refused.empty()}};
    if (!r.refused.empty()) out["refused"] = r.refused;
    nlohmann::ordered_json requests = nlohmann::ordered_json::array();
    for (const send::LineRequest& request : r.requests) requests.push_back(nlohmann::ordered_json::parse(request.toJson()));
    out["requests"] = requests;
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
    nlohmann::ordered_json first = nlohmann::ordered_json::parse(r.requests.front().toJson());
    if (first.contains("body") && first["body"].contains("to") && first["body"]["to"].size() > 3) {
      const std::size_t n = first["body"]["to"].size();
      first["body"]["to"] = {first["body"]["to"][0], first["body"]["to"][1], fmt::format("... {} more", n - 2)};
    }
    fmt::print("first request:\n{}\n", first.dump(2));
  }
  fmt::print("{}\n", c.record ? "recorded: the requests are in the store's outbox (`segc outbox`)"
                              : "a preview: nothing was recorded (add --record to plan it for sending)");
  return kExitOk;
}

// ----------------------------------------------------------------- outbox

struct OutboxCommand {
  std::string program, store, at, confirm, response;
  bool json = false;
};

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
  const std::vector<HandOut> due = session->engine->due(*now);
  const std::size_t waiting = session->store->state().automation().outbox().size();
  if (c.json) {
    for (const HandOut& h : due) fmt::print("{}\n", h.request.toJson());
    return kExitOk;
  }
  fmt::print("{} requests due at {} ({} in the outbox)\n", due.size(), zone.formatInstant(*now), waiting);
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

}  // namespace

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
  plan->add_option("--at", c->at, "When it is sent (default: the campaign's `at`)");
  plan->add_flag("--record", c->record, "Put the requests in the store's outbox (sends once)");
  plan->add_flag("--json", c->json, "Print the plan and every request as JSON");
  return {plan, [c] { return runPlan(*c); }};
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
  return {outbox, [c] { return runOutbox(*c); }};
}

}  // namespace seg::driver
