// The planner: turns a segment's IR into a plan of index lookups (bitmap
// algebra the store answers) and residual predicates (evaluated, per
// candidate friend, by the interpreter or JIT-compiled code).
//
// Steps: inline referenced segments, fold constants, push `not` inward,
// flatten and/or, resolve `now`/`today` for index lookups, recognise what
// an index answers, add index prefilters implied by aggregates, and order
// conjuncts by estimated selectivity. The plan is pointer-free: the runtime
// binds it to a store (runtime/exec).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/expr.h"

namespace seg::ir {

// What an index lookup asks the store.
struct IndexLookup {
  enum class Kind : std::uint8_t {
    Values,       // attribute (enum, bool, indexed string) has one of `values`
    Compare,      // numeric attribute OP k1 (range index); op in `op`
    Range,        // numeric attribute in one of the ranges [values[2i], values[2i+1]], in order
    Present,      // attribute has a value
    Tag,          // `name`
    Audience,     // `name`
    Status,       // `name`, status kind in k1
    EventWindow,  // had `event` in [k1, k2]: days inside exactly, edge days checked per friend
    EventDays,    // had `event` on a day touching [k1, k2]: a superset, used as a prefilter
  };
  Kind kind = Kind::Present;
  std::uint32_t attribute = 0;
  std::uint32_t event = 0;
  Op op = Op::Eq;
  std::int64_t k1 = 0, k2 = 0;
  std::vector<std::int64_t> values;  // enum ranks, bools, string ids (program strings), or Range bounds
  std::string name;
};

struct PlanNode {
  enum class Kind : std::uint8_t { All, Nothing, And, Or, Not, Index, Residual };
  Kind kind = Kind::All;
  IndexLookup lookup;           // Index
  NodeId expr = kNoNode;        // Residual: the predicate; Index: what it stands for (explain)
  std::vector<std::uint32_t> children;
  double estimate = 1.0;        // estimated fraction of friends that pass
  double cost = 0;              // estimated work per candidate (residual)
};

// Facts the planner may ask the store for; all optional.
class Statistics {
 public:
  virtual ~Statistics() = default;
  virtual std::uint64_t friendCount() const = 0;
  // Exact or estimated number of friends an index lookup returns.
  virtual std::optional<std::uint64_t> lookupCount(const IndexLookup& lookup, const Program& program) const = 0;
  // Whether a string attribute keeps a bitmap per value.
  virtual bool stringIndexed(std::uint32_t attribute) const = 0;
  // The smallest and largest value of a numeric attribute; none if empty.
  virtual std::optional<std::pair<std::int64_t, std::int64_t>> valueBounds(std::uint32_t attribute) const = 0;
};

struct Plan {
  Program program;  // the rewritten IR (segments inlined); residuals point into it
  std::vector<PlanNode> nodes;
  std::uint32_t root = 0;
  std::int64_t now = 0;    // evaluation instant
  std::int32_t today = 0;  // its date in the program's time zone
};

struct PlanOptions {
  std::int64_t now = 0;
  const Statistics* statistics = nullptr;
  // Keep everything residual: the plan of the interpreter-only engine.
  bool residualOnly = false;
};

// Plans `root` of `program` (usually a segment's root).
Plan plan(const Program& program, NodeId root, const PlanOptions& options);

// The expression of `root` with segments inlined (and nothing else), for
// evaluators that take the IR as it is.
NodeId inlineSegments(Program& program, NodeId root);

// A readable tree of the plan, with estimates; `actual` adds measured
// counts and times per node when given (by node index).
struct PlanNodeRun {
  std::uint64_t passed = 0;
  std::uint64_t inputs = 0;
  double seconds = 0;
};
std::string explainPlan(const Plan& plan, std::uint64_t friendCount, const std::vector<PlanNodeRun>* actual);

}  // namespace seg::ir
