// Answers "who is in segment S at time T?" (batch) and "is friend X in S at
// T?" (point) for a program bound to a store, with a choice of engine:
//
//   interp  the reference interpreter over every friend
//   bitmap  the plan's index lookups, residuals by the interpreter
//   jit     the plan's index lookups, residuals by JIT-compiled code
//   auto    jit when the JIT is available, else bitmap (with a warning)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "compiler/ir/planner.h"
#include "runtime/exec/executor.h"

namespace seg {

enum class Engine : std::uint8_t { Auto, Interpreter, Bitmap, Jit };
// "auto", "interp", "bitmap", "jit": as the commands and the admin API name them.
const char* engineName(Engine engine);


// Supplies JIT-compiled residuals; set by runtime/jit (one module owns LLVM).
class ResidualCompiler {
 public:
  virtual ~ResidualCompiler() = default;
  // A residual evaluator for `plan`'s residual expressions, or null (with
  // `why`) when compilation is not possible.
  virtual std::unique_ptr<ResidualEvaluator> compile(const ir::Plan& plan, const BoundProgram& bound,
                                                     const EvalTime& time, std::string& why) = 0;
  // Compile time of the last compile() (0 when served from the cache).
  virtual double lastCompileSeconds() const = 0;
  // What starting the compiler took (once per process or compiler).
  virtual double startupSeconds() const = 0;
};

struct EvaluationResult {
  Bitmap friends;
  ir::Plan plan;
  std::vector<ir::PlanNodeRun> runs;  // when profiled
  Engine engineUsed = Engine::Interpreter;
  double planSeconds = 0;
  double compileSeconds = 0;
  double runSeconds = 0;
  std::string warning;  // e.g. the JIT fell back, an audience LINE deleted
};

struct SegmentError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class SegmentEvaluator {
 public:
  // Batch evaluation splits large residual work across `threads` threads.
  SegmentEvaluator(const ir::Program& program, const StoreState& state, ResidualCompiler* compiler = nullptr,
                   unsigned threads = 1);

  EvaluationResult evaluate(const std::string& segment, std::int64_t now, Engine engine, bool profile = false);
  // Point evaluation for one friend, by the interpreter (microseconds).
  bool contains(const std::string& segment, std::uint32_t friendId, std::int64_t now);

  const BoundProgram& bound() const { return bound_; }

 private:
  // Why audiences the expression reads are empty at `now`: deleted by LINE
  // (180 days after upload), or never uploaded.
  std::vector<std::string> emptyAudiences(ir::NodeId root, std::int64_t now) const;

  const ir::SegmentIr& find(const std::string& segment) const;

  const ir::Program& program_;
  BoundProgram bound_;
  ResidualCompiler* compiler_;
  unsigned threads_;
  TimeZone zone_;
};

}  // namespace seg
