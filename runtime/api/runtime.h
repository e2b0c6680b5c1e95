// The embedding API: compile a .seg program, bind it to a friend store and
// ask who is in a segment (batch) or whether one friend is (point, for
// scenarios and menus deciding one friend at a time).
//
//   auto program = seg::CompiledProgram::fromFile("shop.seg");
//   auto store = seg::Store::open("data/store", &program->ir().schema);
//   seg::Runtime runtime(program, store->state());
//   seg::Bitmap vip = runtime.members("vip", now);
//   bool in = runtime.isMember("cart_left", userId, now);
//
// A Runtime reads the store's state without locking: the caller holds
// Store::readLock() while writers may run.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "compiler/ir/expr.h"
#include "compiler/sema/sema.h"
#include "compiler/source/source.h"
#include "runtime/exec/segment_evaluator.h"
#include "runtime/store/store_state.h"

namespace seg {

// A program that failed to compile; what() holds the rendered diagnostics.
struct ProgramError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CompiledProgram {
 public:
  // Parses, checks and lowers; throws ProgramError on any error.
  static std::shared_ptr<const CompiledProgram> fromFile(const std::string& path);
  static std::shared_ptr<const CompiledProgram> fromText(const std::string& name, const std::string& text);

  const ir::Program& ir() const { return ir_; }
  const sema::TypedProgram& typed() const { return typed_; }
  const SourceManager& sources() const { return sources_; }

 private:
  static std::shared_ptr<const CompiledProgram> compile(std::unique_ptr<CompiledProgram> program, FileId file);

  SourceManager sources_;
  sema::TypedProgram typed_;
  ir::Program ir_;
};

struct RuntimeOptions {
  // Compile residual predicates with LLVM; off, or when LLVM cannot target
  // the machine, residuals run in the interpreter (same answers, slower).
  bool jit = true;
  // Threads for one batch evaluation's residual work; 0: one per core.
  unsigned threads = 0;
};

class Runtime {
 public:
  // Throws BindError when the store lacks what the program reads.
  Runtime(std::shared_ptr<const CompiledProgram> program, const StoreState& state, RuntimeOptions options = {});
  ~Runtime();

  // The friends (dense store ids) in `segment` at `now` (unix seconds).
  // Throws SegmentError for an unknown segment or one only LINE can evaluate.
  Bitmap members(const std::string& segment, std::int64_t now);
  // The whole evaluation: plan, timings, engine used, warnings.
  EvaluationResult evaluate(const std::string& segment, std::int64_t now, Engine engine = Engine::Auto,
                            bool profile = false);

  // Point evaluation: is this friend in `segment` at `now`? An unknown or
  // blocked friend is in no segment.
  bool isMember(const std::string& segment, std::uint32_t friendId, std::int64_t now);
  bool isMember(const std::string& segment, const UserId& user, std::int64_t now);

  const CompiledProgram& program() const { return *program_; }
  const StoreState& state() const { return state_; }
  // Why residuals are interpreted, when the JIT was asked for but is off.
  const std::string& jitUnavailable() const { return jitUnavailable_; }
  // What starting LLVM took, paid once when the Runtime was built.
  double jitStartupSeconds() const { return jit_ ? jit_->startupSeconds() : 0; }

 private:
  std::shared_ptr<const CompiledProgram> program_;
  const StoreState& state_;
  std::unique_ptr<ResidualCompiler> jit_;
  std::string jitUnavailable_;
  SegmentEvaluator evaluator_;
};

}  // namespace seg
