#include "runtime/exec/executor.h"

#include <algorithm>
#include <thread>

#include <chrono>

#include "base/civil_time.h"

namespace seg {
namespace {

using ir::IndexLookup;
using ir::PlanNode;
constexpr std::int64_t kDay = civil::kSecondsPerDay;

Compare compareOf(ir::Op op) {
  switch (op) {
    case ir::Op::Lt: return Compare::Lt;
    case ir::Op::Le: return Compare::Le;
    case ir::Op::Gt: return Compare::Gt;
    case ir::Op::Ge: return Compare::Ge;
    case ir::Op::Ne: return Compare::Ne;
    default: return Compare::Eq;
  }
}

}  // namespace

void InterpretedResiduals::filter(ir::NodeId expr, std::span<const std::uint32_t> ids, std::vector<std::uint32_t>& out) const {
  for (std::uint32_t id : ids) {
    if (interpreter_.test(expr, id)) out.push_back(id);
  }
}

Executor::Executor(const ir::Plan& plan, const BoundProgram& bound, const ResidualEvaluator& residuals, unsigned threads)
    : plan_(plan), bound_(bound), residuals_(residuals), threads_(std::max(1u, threads)) {}

Bitmap Executor::run(bool profile) {
  profile_ = profile;
  runs_.assign(plan_.nodes.size(), {});
  return exec(plan_.root, bound_.universe());
}

Bitmap Executor::days(const IndexLookup& l, bool wholeDaysOnly) const {
  const EventLog& log = bound_.events(l.event);
  std::vector<const Bitmap*> parts;
  for (const auto& [day, bitmap] : log.days()) {
    const std::int64_t start = static_cast<std::int64_t>(day) * kDay, end = start + kDay - 1;
    if (end < l.k1 || start > l.k2) continue;
    if (wholeDaysOnly && (start < l.k1 || end > l.k2)) continue;
    parts.push_back(&bitmap);
  }
  return Bitmap::unionOf(parts);
}

Bitmap Executor::lookup(const IndexLookup& l, const Bitmap* within) const {
  switch (l.kind) {
    case IndexLookup::Kind::Values: {
      const AttributeColumn& column = bound_.attribute(l.attribute);
      Bitmap out;
      for (std::int64_t v : l.values) {
        std::size_t key = static_cast<std::size_t>(v);
        if (column.spec().type == ir::ValueType::String) {
          key = column.dict().find(plan_.program.strings[static_cast<std::size_t>(v)]);
          if (key == 0) continue;
        }
        if (const Bitmap* b = column.valueBitmap(key)) out |= *b;
      }
      return out;
    }
    case IndexLookup::Kind::Compare:
      return bound_.attribute(l.attribute).compare(compareOf(l.op), l.k1, within);
    case IndexLookup::Kind::Range: return bound_.attribute(l.attribute).between(l.values, within);
    case IndexLookup::Kind::Present: return bound_.attribute(l.attribute).present();
    case IndexLookup::Kind::Tag: return bound_.tag(l.name);
    case IndexLookup::Kind::Audience: return bound_.audience(l.name, plan_.now);
    case IndexLookup::Kind::Status: return bound_.status(l.name, static_cast<std::uint32_t>(l.k1));
    case IndexLookup::Kind::EventWindow:
    case IndexLookup::Kind::EventDays: return days(l, false);
  }
  return Bitmap();
}

Bitmap Executor::residual(ir::NodeId expr, const Bitmap& candidates) {
  const std::vector<std::uint32_t> ids = candidates.toVector();
  // Below this, starting threads costs more than it saves.
  constexpr std::size_t kPerThread = 32768;
  const std::size_t parts = std::min<std::size_t>(threads_, ids.size() / kPerThread);
  if (parts <= 1) {
    std::vector<std::uint32_t> passed;
    residuals_.filter(expr, ids, passed);
    return Bitmap::fromSorted(passed);
  }
  // Contiguous slices keep each part's output sorted; concatenated in
  // order, so is the whole.
  std::vector<std::vector<std::uint32_t>> passed(parts);
  {
    std::vector<std::jthread> workers;
    const std::size_t step = (ids.size() + parts - 1) / parts;
    for (std::size_t p = 1; p < parts; ++p) {
      const std::span<const std::uint32_t> slice(ids.data() + p * step, std::min(step, ids.size() - p * step));
      workers.emplace_back([this, expr, slice, &out = passed[p]] { residuals_.filter(expr, slice, out); });
    }
    residuals_.filter(expr, std::span<const std::uint32_t>(ids.data(), step), passed[0]);
  }
  std::vector<std::uint32_t> all;
  std::size_t total = 0;
  for (const auto& part : passed) total += part.size();
  all.reserve(total);
  for (const auto& part : passed) all.insert(all.end(), part.begin(), part.end());
  return Bitmap::fromSorted(all);
}

// Friends with an event in [k1, k2]: days wholly inside are answered by
// their bitmaps; friends seen only on the edge days are checked one by one.
Bitmap Executor::eventWindow(const PlanNode& node, const Bitmap& candidates) {
  Bitmap exact = days(node.lookup, true);
  exact &= candidates;
  Bitmap edge = days(node.lookup, false);
  edge &= candidates;
  edge -= exact;
  if (!edge.empty()) exact |= residual(node.expr, edge);
  return exact;
}

Bitmap Executor::exec(std::uint32_t index, const Bitmap& candidates) {
  const PlanNode& node = plan_.nodes[index];
  const auto start = std::chrono::steady_clock::now();
  Bitmap out;
  switch (node.kind) {
    case PlanNode::Kind::All: out = candidates; break;
    case PlanNode::Kind::Nothing: break;
    case PlanNode::Kind::And:
      out = candidates;
      for (std::uint32_t child : node.children) {
        if (out.empty()) break;
        out = exec(child, out);
      }
      break;
    case PlanNode::Kind::Or: {
      Bitmap remaining = candidates;
      for (std::uint32_t child : node.children) {
        if (remaining.empty()) break;
        Bitmap passed = exec(child, remaining);
        remaining -= passed;
        out |= passed;
      }
      break;
    }
    case PlanNode::Kind::Not:
      out = candidates;
      out -= exec(node.children[0], candidates);
      break;
    case PlanNode::Kind::Index:
      if (node.lookup.kind == IndexLookup::Kind::EventWindow) {
        out = eventWindow(node, candidates);
      } else {
        out = lookup(node.lookup, &candidates);
        out &= candidates;
      }
      break;
    case PlanNode::Kind::Residual: out = residual(node.expr, candidates); break;
  }
  if (profile_) {
    ir::PlanNodeRun& run = runs_[index];
    run.inputs += candidates.cardinality();
    run.passed += out.cardinality();
    run.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return out;
}

std::optional<std::uint64_t> StoreStatistics::lookupCount(const IndexLookup& l, const ir::Program& program) const {
  switch (l.kind) {
    case IndexLookup::Kind::Values: {
      const AttributeColumn& column = bound_.attribute(l.attribute);
      std::uint64_t total = 0;
      for (std::int64_t v : l.values) {
        std::size_t key = static_cast<std::size_t>(v);
        if (column.spec().type == ir::ValueType::String) key = column.dict().find(program.strings[key]);
        if (const Bitmap* b = column.valueBitmap(key); b && key != 0) total += b->cardinality();
      }
      return total;
    }
    case IndexLookup::Kind::Present: return bound_.attribute(l.attribute).present().cardinality();
    case IndexLookup::Kind::Tag: return bound_.tag(l.name).cardinality();
    case IndexLookup::Kind::Audience: return bound_.audience(l.name, now_).cardinality();
    case IndexLookup::Kind::Status: return bound_.status(l.name, static_cast<std::uint32_t>(l.k1)).cardinality();
    case IndexLookup::Kind::Compare:
      return bound_.attribute(l.attribute).rangeIndex().estimate(ValueBins::rangesOf(compareOf(l.op), l.k1));
    case IndexLookup::Kind::Range: return bound_.attribute(l.attribute).rangeIndex().estimate(l.values);
    case IndexLookup::Kind::EventWindow:
    case IndexLookup::Kind::EventDays: {
      std::uint64_t total = 0;
      for (const auto& [day, bitmap] : bound_.events(l.event).days()) {
        const std::int64_t start = static_cast<std::int64_t>(day) * kDay;
        if (start + kDay - 1 >= l.k1 && start <= l.k2) total += bitmap.cardinality();
      }
      return std::min<std::uint64_t>(total, bound_.state().friendCount());
    }
  }
  return std::nullopt;
}

}  // namespace seg
