// Executes a plan (compiler/ir/planner.h) against a store: index lookups
// as bitmap algebra over CRoaring bitmaps and range indexes, residual
// predicates only over the candidates that survive, through a
// ResidualEvaluator (the interpreter, or JIT-compiled code).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "compiler/ir/planner.h"
#include "runtime/exec/binding.h"
#include "runtime/exec/interpreter.h"

namespace seg {

class ResidualEvaluator {
 public:
  virtual ~ResidualEvaluator() = default;
  // Appends to `out` the ids (in order) for which `expr` holds. Called from
  // several threads at once, each with its own slice of ids and `out`.
  virtual void filter(ir::NodeId expr, std::span<const std::uint32_t> ids, std::vector<std::uint32_t>& out) const = 0;
};

// Residuals by the reference interpreter.
class InterpretedResiduals : public ResidualEvaluator {
 public:
  explicit InterpretedResiduals(const Interpreter& interpreter) : interpreter_(interpreter) {}
  void filter(ir::NodeId expr, std::span<const std::uint32_t> ids, std::vector<std::uint32_t>& out) const override;

 private:
  const Interpreter& interpreter_;
};

class Executor {
 public:
  // Residuals over many candidates are split across up to `threads` threads.
  Executor(const ir::Plan& plan, const BoundProgram& bound, const ResidualEvaluator& residuals, unsigned threads = 1);

  // The friends the planned expression selects, among those who can receive.
  Bitmap run(bool profile = false);
  // Per plan node: inputs, passed, time (with profile).
  const std::vector<ir::PlanNodeRun>& runs() const { return runs_; }
  // The bitmap an index lookup stands for (no edge checks); range
  // lookups may leave out ids not `within`.
  Bitmap lookup(const ir::IndexLookup& lookup, const Bitmap* within = nullptr) const;

 private:
  Bitmap exec(std::uint32_t node, const Bitmap& candidates);
  Bitmap eventWindow(const ir::PlanNode& node, const Bitmap& candidates);
  Bitmap residual(ir::NodeId expr, const Bitmap& candidates);
  Bitmap days(const ir::IndexLookup& lookup, bool wholeDaysOnly) const;

  const ir::Plan& plan_;
  const BoundProgram& bound_;
  const ResidualEvaluator& residuals_;
  unsigned threads_;
  std::vector<ir::PlanNodeRun> runs_;
  bool profile_ = false;
};

// Index statistics for the planner, from a bound store.
class StoreStatistics : public ir::Statistics {
 public:
  StoreStatistics(const BoundProgram& bound, std::int64_t now) : bound_(bound), now_(now) {}
  std::uint64_t friendCount() const override { return bound_.state().friendCount(); }
  std::optional<std::uint64_t> lookupCount(const ir::IndexLookup& lookup, const ir::Program& program) const override;
  bool stringIndexed(std::uint32_t attribute) const override { return bound_.attribute(attribute).stringsIndexed(); }
  std::optional<std::pair<std::int64_t, std::int64_t>> valueBounds(std::uint32_t attribute) const override {
    return bound_.attribute(attribute).valueBounds();
  }

 private:
  const BoundProgram& bound_;
  std::int64_t now_;
};

}  // namespace seg
