#include "runtime/exec/segment_evaluator.h"

#include "base/spelling.h"

#include <chrono>
#include <set>

#include <fmt/format.h>

#include <fmt/format.h>

namespace seg {
namespace {

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

SegmentEvaluator::SegmentEvaluator(const ir::Program& program, const StoreState& state, ResidualCompiler* compiler,
                                   unsigned threads)
    : program_(program), bound_(program, state), compiler_(compiler), threads_(threads),
      zone_(TimeZone::find(program.timezone).value_or(*TimeZone::find("UTC"))) {}

const ir::SegmentIr& SegmentEvaluator::find(const std::string& segment) const {
  const ir::SegmentIr* s = program_.segment(segment);
  if (s == nullptr) {
    std::vector<std::string> names;
    for (const ir::SegmentIr& candidate : program_.segments) names.push_back(candidate.name);
    const auto near = closestMatch(segment, names);
    throw SegmentError(fmt::format("no segment `{}` in the program{}", segment,
                                   near ? fmt::format("; did you mean `{}`?", *near) : ""));
  }
  if (!s->lineAttribute.empty() || s->lineSide) {
    throw SegmentError(fmt::format("segment `{}` depends on `{}`, which only LINE can evaluate (in a campaign's narrowcast)",
                                   segment, s->lineAttribute.empty() ? "line.*" : s->lineAttribute));
  }
  return *s;
}

EvaluationResult SegmentEvaluator::evaluate(const std::string& segment, std::int64_t now, Engine engine, bool profile) {
  const ir::SegmentIr& s = find(segment);
  const EvalTime time = EvalTime::at(now, zone_);
  EvaluationResult result;
  auto start = std::chrono::steady_clock::now();
  const StoreStatistics statistics(bound_, now);
  ir::PlanOptions options;
  options.now = now;
  options.statistics = &statistics;
  options.residualOnly = engine == Engine::Interpreter;
  result.plan = ir::plan(program_, s.root, options);
  result.planSeconds = since(start);

  // Residual expressions are nodes of the plan's own program.
  const BoundProgram planBound(result.plan.program, bound_.state());
  const Interpreter interpreter(planBound, time);
  InterpretedResiduals interpreted(interpreter);
  ResidualEvaluator* residuals = &interpreted;
  std::unique_ptr<ResidualEvaluator> compiled;
  result.engineUsed = engine == Engine::Interpreter ? Engine::Interpreter : Engine::Bitmap;
  if (engine == Engine::Jit || engine == Engine::Auto) {
    std::string why;
    if (compiler_ == nullptr) {
      why = "this build has no JIT";
    } else {
      compiled = compiler_->compile(result.plan, planBound, time, why);
      result.compileSeconds = compiler_->lastCompileSeconds();
    }
    if (compiled) {
      residuals = compiled.get();
      result.engineUsed = Engine::Jit;
    } else {
      result.warning = "the JIT is not available (" + why + "); residuals run in the interpreter";
    }
  }
  for (std::string& note : emptyAudiences(s.root, now)) {
    result.warning += (result.warning.empty() ? "" : "; ") + note;
  }
  start = std::chrono::steady_clock::now();
  Executor executor(result.plan, planBound, *residuals, threads_);
  result.friends = executor.run(profile);
  result.runSeconds = since(start);
  if (profile) result.runs = executor.runs();
  return result;
}

std::vector<std::string> SegmentEvaluator::emptyAudiences(ir::NodeId root, std::int64_t now) const {
  std::vector<std::string> notes;
  std::set<std::uint32_t> seen;
  std::vector<ir::NodeId> pending{root};
  std::set<ir::NodeId> visited;
  while (!pending.empty()) {
    const ir::NodeId id = pending.back();
    pending.pop_back();
    if (!visited.insert(id).second) continue;
    const ir::Node& n = program_.node(id);
    pending.insert(pending.end(), n.args.begin(), n.args.end());
    if (n.op == ir::Op::SegmentRef) pending.push_back(program_.segments[n.a].root);
    if (n.op != ir::Op::Audience || !seen.insert(n.a).second) continue;
    const std::string& name = program_.strings[n.a];
    const auto it = bound_.state().audiences().find(name);
    if (it == bound_.state().audiences().end()) {
      notes.push_back(fmt::format("audience `{}` is not in the store: it is empty", name));
    } else if (it->second.expiredAt(now)) {
      notes.push_back(fmt::format("audience `{}` was deleted by LINE at {}, 180 days after it was uploaded ({}): it is empty",
                                  name, zone_.formatInstant(it->second.expiresAt()), zone_.formatInstant(it->second.createdAt)));
    }
  }
  return notes;
}

bool SegmentEvaluator::contains(const std::string& segment, std::uint32_t friendId, std::int64_t now) {
  const ir::SegmentIr& s = find(segment);
  if (friendId >= bound_.state().friendCount() || bound_.state().blocked().contains(friendId)) return false;
  const Interpreter interpreter(bound_, EvalTime::at(now, zone_));
  return interpreter.test(s.root, friendId);
}

const char* engineName(Engine engine) {
  switch (engine) {
    case Engine::Auto: return "auto";
    case Engine::Interpreter: return "interp";
    case Engine::Bitmap: return "bitmap";
    case Engine::Jit: return "jit";
  }
  return "?";
}

}  // namespace seg
