// segc eval and segc explain: who is in a segment, and how seg finds them.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/timezone.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/program_loader.h"
#include "compiler/ir/lower.h"
#include "runtime/exec/segment_evaluator.h"
#include "runtime/ingest/values.h"
#include "runtime/jit/jit.h"
#include "runtime/store/store.h"

namespace seg::cli {
namespace {

struct EvalCommand {
  std::string program;
  std::string store;
  std::string segment;
  std::string at;
  std::string engine = "auto";
  bool count = false, ids = false, json = false, all = false;
};

std::optional<Engine> engineNamed(const std::string& name) {
  if (name == "auto") return Engine::Auto;
  if (name == "interp") return Engine::Interpreter;
  if (name == "bitmap") return Engine::Bitmap;
  if (name == "jit") return Engine::Jit;
  return std::nullopt;
}

struct Session {
  std::unique_ptr<LoadedProgram> loaded;
  ir::Program program;
  std::unique_ptr<Store> store;
  std::unique_ptr<ResidualCompiler> jit;
  std::unique_ptr<SegmentEvaluator> evaluator;
};

std::unique_ptr<Session> open(const std::string& programPath, const std::string& storeDir) {
  auto session = std::make_unique<Session>();
  session->loaded = loadProgram(programPath);
  if (!session->loaded) return nullptr;
  session->program = ir::lowerProgram(session->loaded->program, &session->loaded->sources);
  if (storeDir.empty()) return session;
  session->store = openStore(storeDir, &session->program.schema, false);
  if (!session->store) return nullptr;
  try {
    session->jit = makeJit();
    session->evaluator = std::make_unique<SegmentEvaluator>(session->program, session->store->state(), session->jit.get(),
                                                            std::max(1u, std::thread::hardware_concurrency()));
  } catch (const std::exception& e) {
    printToolError(e.what());
    return nullptr;
  }
  return session;
}

// Every segment of the program, one line each: reach and time. Segments
// only LINE can evaluate (`line.*`) are listed as such.
int runEvalAll(const EvalCommand& c, Session& session, std::int64_t now, Engine engine) {
  const StoreState& state = session.store->state();
  const double total = static_cast<double>(std::max<std::uint32_t>(1, state.friendCount()));
  fmt::print("{} friends at {}\n", state.friendCount(), TimeZone::find(session.program.timezone)->formatInstant(now));
  std::size_t width = 7;
  for (const ir::SegmentIr& s : session.program.segments) {
    if (!s.internal) width = std::max(width, s.name.size());
  }
  fmt::print("  {:<{}}  {:>10}  {:>6}  {:>9}  {}\n", "segment", width, "friends", "share", "time", "engine");
  nlohmann::ordered_json json = nlohmann::json::array();
  for (const ir::SegmentIr& s : session.program.segments) {
    if (s.internal) continue;
    if (s.lineSide || !s.lineAttribute.empty()) {
      if (c.json) {
        json.push_back({{"segment", s.name}, {"line_side", true}});
      } else {
        fmt::print("  {:<{}}  {:>10}  {:>6}  {:>9}  only LINE can evaluate `{}`\n", s.name, width, "-", "-", "-",
                   s.lineAttribute.empty() ? "line.*" : s.lineAttribute);
      }
      continue;
    }
    const EvaluationResult r = session.evaluator->evaluate(s.name, now, engine);
    const std::uint64_t count = r.friends.cardinality();
    const double ms = (r.planSeconds + r.compileSeconds + r.runSeconds) * 1000;
    if (c.json) {
      json.push_back({{"segment", s.name}, {"count", count}, {"milliseconds", ms}, {"engine", engineName(r.engineUsed)}});
    } else {
      fmt::print("  {:<{}}  {:>10}  {:>5.1f}%  {:>6.2f} ms  {}{}\n", s.name, width, count, 100.0 * static_cast<double>(count) / total,
                 ms, engineName(r.engineUsed), r.compileSeconds > 0 ? fmt::format(" (compiled in {:.1f} ms)", r.compileSeconds * 1000) : "");
    }
  }
  if (c.json) fmt::print("{}\n", json.dump());
  return kExitOk;
}

int runEval(const EvalCommand& c) {
  const auto engine = engineNamed(c.engine);
  if (c.all == !c.segment.empty()) {
    printToolError("give either --segment NAME or --all");
    return kExitUsage;
  }
  auto session = open(c.program, c.store);
  if (!session) return kExitUsage;
  const auto now = instantOption("--at", c.at, session->program.timezone);
  if (!now) return kExitUsage;
  if (c.all) return runEvalAll(c, *session, *now, *engine);
  EvaluationResult result;
  try {
    result = session->evaluator->evaluate(c.segment, *now, *engine);
  } catch (const SegmentError& e) {
    printToolError(e.what());
    return kExitErrors;
  }
  if (!result.warning.empty()) fmt::print(stderr, "segc: warning: {}\n", result.warning);
  const StoreState& state = session->store->state();
  const std::uint64_t count = result.friends.cardinality();
  if (c.count) {
    fmt::print("{}\n", count);
  } else if (c.ids) {
    result.friends.forEach([&](std::uint32_t id) {
      fmt::print("{}\n", state.friends().user(id).toString());
      return true;
    });
  } else if (c.json) {
    nlohmann::ordered_json out = {{"segment", c.segment},
                                  {"at", TimeZone::find(session->program.timezone)->formatInstant(*now)},
                                  {"engine", engineName(result.engineUsed)},
                                  {"count", count},
                                  {"milliseconds", (result.planSeconds + result.compileSeconds + result.runSeconds) * 1000},
                                  {"user_ids", nlohmann::json::array()}};
    result.friends.forEach([&](std::uint32_t id) {
      out["user_ids"].push_back(state.friends().user(id).toString());
      return true;
    });
    fmt::print("{}\n", out.dump());
  } else {
    const double total = static_cast<double>(std::max<std::uint32_t>(1, state.friendCount()));
    fmt::print("segment {}: {} friends ({:.1f}% of {}) at {}\n", c.segment, count, 100.0 * static_cast<double>(count) / total,
               state.friendCount(), TimeZone::find(session->program.timezone)->formatInstant(*now));
    fmt::print("  engine {}: plan {:.2f} ms, compile {:.2f} ms, run {:.2f} ms\n", engineName(result.engineUsed),
               result.planSeconds * 1000, result.compileSeconds * 1000, result.runSeconds * 1000);
    int shown = 0;
    result.friends.forEach([&](std::uint32_t id) {
      fmt::print("  {}\n", state.friends().user(id).toString());
      return ++shown < 5;
    });
    if (count > 5) fmt::print("  ... (--ids lists them all)\n");
  }
  return kExitOk;
}

struct ExplainCommand {
  std::string program;
  std::string store;
  std::string segment;
  std::string at;
  std::string engine = "auto";
};

int runExplain(const ExplainCommand& c) {
  const auto engine = engineNamed(c.engine);
  auto session = open(c.program, c.store);
  if (!session) return kExitUsage;
  const auto now = instantOption("--at", c.at, session->program.timezone);
  if (!now) return kExitUsage;
  const ir::SegmentIr* segment = session->program.segment(c.segment);
  if (segment == nullptr) {
    printToolError(fmt::format("no segment `{}` in `{}`", c.segment, c.program));
    return kExitErrors;
  }
  fmt::print("segment {} at {}\n", c.segment, TimeZone::find(session->program.timezone)->formatInstant(*now));
  if (!segment->lineAttribute.empty()) {
    fmt::print("  depends on `{}`: only LINE can apply it, as a narrowcast filter in a campaign\n", segment->lineAttribute);
    return kExitOk;
  }
  if (!session->store) {
    ir::PlanOptions options;
    options.now = *now;
    const ir::Plan plan = ir::plan(session->program, segment->root, options);
    fmt::print("{}", ir::explainPlan(plan, 0, nullptr));
    fmt::print("(estimates need a store: --store DIR)\n");
    return kExitOk;
  }
  try {
    const EvaluationResult result = session->evaluator->evaluate(c.segment, *now, *engine, true);
    if (!result.warning.empty()) fmt::print(stderr, "segc: warning: {}\n", result.warning);
    fmt::print("{}", ir::explainPlan(result.plan, session->store->state().friendCount(), &result.runs));
    fmt::print("reach {} of {} friends; engine {}: plan {:.2f} ms, compile {:.2f} ms, run {:.2f} ms\n",
               result.friends.cardinality(), session->store->state().friendCount(), engineName(result.engineUsed),
               result.planSeconds * 1000, result.compileSeconds * 1000, result.runSeconds * 1000);
  } catch (const SegmentError& e) {
    printToolError(e.what());
    return kExitErrors;
  }
  return kExitOk;
}

}  // namespace

Command addEvalCommand(CLI::App& app) {
  auto c = std::make_shared<EvalCommand>();
  CLI::App* cmd = app.add_subcommand("eval", "List the friends in a segment, or size every segment");
  cmd->add_option("program", c->program, "Program (.seg)")->required();
  cmd->add_option("--store", c->store, "Store directory")->required();
  auto* segment = cmd->add_option("--segment", c->segment, "Segment name");
  auto* all = cmd->add_flag("--all", c->all, "Every segment: reach and time");
  cmd->add_option("--at", c->at, "Evaluation instant (default: now), e.g. 2026-12-01T10:00:00+09:00");
  cmd->add_option("--engine", c->engine, "auto, interp, bitmap or jit")->check(CLI::IsMember({"auto", "interp", "bitmap", "jit"}));
  auto* count = cmd->add_flag("--count", c->count, "Print only the number of friends");
  auto* ids = cmd->add_flag("--ids", c->ids, "Print every user ID, one a line");
  auto* json = cmd->add_flag("--json", c->json, "Print JSON");
  count->excludes(ids)->excludes(json);
  ids->excludes(json);
  all->excludes(segment)->excludes(count)->excludes(ids);
  return {cmd, [c] { return runEval(*c); }};
}

Command addExplainCommand(CLI::App& app) {
  auto c = std::make_shared<ExplainCommand>();
  CLI::App* cmd = app.add_subcommand("explain", "Show how a segment is evaluated: index lookups, residuals, reach, time");
  cmd->add_option("program", c->program, "Program (.seg)")->required();
  cmd->add_option("--segment", c->segment, "Segment name")->required();
  cmd->add_option("--store", c->store, "Store directory (for estimates and actual counts)");
  cmd->add_option("--at", c->at, "Evaluation instant (default: now)");
  cmd->add_option("--engine", c->engine, "auto, interp, bitmap or jit")->check(CLI::IsMember({"auto", "interp", "bitmap", "jit"}));
  return {cmd, [c] { return runExplain(*c); }};
}

}  // namespace seg::cli
