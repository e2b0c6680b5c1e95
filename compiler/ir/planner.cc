#include "compiler/ir/planner.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "base/civil_time.h"
#include "base/timezone.h"

namespace seg::ir {
namespace {

constexpr std::int64_t kDay = civil::kSecondsPerDay;

bool isCompare(Op op) { return op == Op::Eq || op == Op::Ne || op == Op::Lt || op == Op::Le || op == Op::Gt || op == Op::Ge; }
bool isAggregate(Op op) {
  return op == Op::Exists || op == Op::Count || op == Op::Sum || op == Op::Min || op == Op::Max || op == Op::Last;
}

// a OP b  <=>  b flipped(OP) a
Op mirror(Op op) {
  switch (op) {
    case Op::Lt: return Op::Gt;
    case Op::Le: return Op::Ge;
    case Op::Gt: return Op::Lt;
    case Op::Ge: return Op::Le;
    default: return op;
  }
}

bool holds(Op op, std::int64_t a, std::int64_t b) {
  switch (op) {
    case Op::Eq: return a == b;
    case Op::Ne: return a != b;
    case Op::Lt: return a < b;
    case Op::Le: return a <= b;
    case Op::Gt: return a > b;
    case Op::Ge: return a >= b;
    default: return false;
  }
}

}  // namespace

NodeId inlineSegments(Program& program, NodeId root) {
  std::map<NodeId, NodeId> done;
  std::function<NodeId(NodeId)> visit = [&](NodeId id) -> NodeId {
    if (auto it = done.find(id); it != done.end()) return it->second;
    const Node& node = program.nodes[id];
    if (node.op == Op::SegmentRef) return done[id] = visit(program.segments[node.a].root);
    std::vector<NodeId> args;
    bool changed = false;
    for (NodeId child : node.args) {
      args.push_back(visit(child));
      changed = changed || args.back() != child;
    }
    if (!changed) return done[id] = id;
    Node copy = program.nodes[id];
    copy.args = std::move(args);
    return done[id] = program.add(std::move(copy));
  };
  return visit(root);
}

namespace {

class Planner {
 public:
  Planner(const Program& program, const PlanOptions& options) : options_(options) {
    plan_.program = program;
    plan_.now = options.now;
    zone_ = TimeZone::find(program.timezone);
    if (!zone_) zone_ = TimeZone::find("Asia/Tokyo");
    plan_.today = zone_->localDay(options.now);
  }

  Plan run(NodeId root) {
    root = inlineSegments(plan_.program, root);
    root = normalize(root, false);
    plan_.root = build(root);
    return std::move(plan_);
  }

 private:
  Program& p() { return plan_.program; }
  const Node& node(NodeId id) const { return plan_.program.nodes[id]; }

  NodeId add(Node n) { return p().add(std::move(n)); }
  NodeId boolConst(bool value) {
    Node n;
    n.op = Op::Const;
    n.type = ValueType::Bool;
    n.imm = value ? 1 : 0;
    return add(n);
  }
  bool isBoolConst(NodeId id, bool value) const {
    const Node& n = node(id);
    return n.op == Op::Const && n.type == ValueType::Bool && !(n.flags & kMissing) && (n.imm != 0) == value;
  }

  // ------------------------------------------------------------ rewrites

  // `negate ? not e : e`, with `not` pushed to the leaves (De Morgan),
  // and/or flattened and constant operands folded.
  NodeId normalize(NodeId id, bool negate) {
    const Node n = node(id);
    if (n.op == Op::Not) return normalize(n.args[0], !negate);
    if (n.op == Op::And || n.op == Op::Or) {
      const Op op = (n.op == Op::And) != negate ? Op::And : Op::Or;
      const bool identity = op == Op::And;  // true for and, false for or
      Node out;
      out.op = op;
      for (NodeId child : n.args) {
        const NodeId c = normalize(child, negate);
        if (isBoolConst(c, identity)) continue;
        if (isBoolConst(c, !identity)) return boolConst(!identity);
        if (node(c).op == op) {
          for (NodeId grand : node(c).args) out.args.push_back(grand);
        } else {
          out.args.push_back(c);
        }
      }
      if (out.args.empty()) return boolConst(identity);
      if (out.args.size() == 1) return out.args[0];
      return add(out);
    }
    NodeId folded = fold(id);
    if (node(folded).op == Op::Const && node(folded).type == ValueType::Bool) {
      // A missing boolean constant (a LINE attribute) is false.
      const bool value = !(node(folded).flags & kMissing) && node(folded).imm != 0;
      return boolConst(value != negate);
    }
    if (!negate) return folded;
    Node out;
    out.op = Op::Not;
    out.args.push_back(folded);
    return add(out);
  }

  // Folds operators whose operands are all literal constants.
  NodeId fold(NodeId id) {
    const Node& n = node(id);
    if (n.args.empty()) return id;
    std::vector<std::int64_t> values;
    for (NodeId child : n.args) {
      const Node& c = node(child);
      if (c.op != Op::Const || (c.flags & kMissing) || c.type == ValueType::String) return id;
      values.push_back(c.imm);
    }
    Node out;
    out.op = Op::Const;
    out.type = n.type;
    switch (n.op) {
      case Op::Add:
      case Op::Sub: {
        std::int64_t a = values[0], b = values[1];
        // Dates move by whole days.
        if (node(n.args[0]).type == ValueType::Date && node(n.args[1]).type == ValueType::Duration) b = civil::floorDiv(b, kDay);
        if (node(n.args[0]).type == ValueType::Duration && node(n.args[1]).type == ValueType::Date) a = civil::floorDiv(a, kDay);
        if (node(n.args[0]).type == ValueType::Date && node(n.args[1]).type == ValueType::Date) {
          out.imm = (a - b) * kDay;
        } else {
          out.imm = n.op == Op::Add ? a + b : a - b;
        }
        return add(out);
      }
      case Op::Neg: out.imm = -values[0]; return add(out);
      case Op::Eq:
      case Op::Ne:
      case Op::Lt:
      case Op::Le:
      case Op::Gt:
      case Op::Ge: out.imm = holds(n.op, values[0], values[1]) ? 1 : 0; return add(out);
      default: return id;
    }
  }

  // ---------------------------------------------- plan-time constants

  // The value of an expression of constants, `now` and `today`.
  std::optional<std::int64_t> planConst(NodeId id) const {
    const Node& n = node(id);
    switch (n.op) {
      case Op::Const:
        if ((n.flags & kMissing) || n.type == ValueType::String) return std::nullopt;
        return n.imm;
      case Op::Now: return plan_.now;
      case Op::Today: return plan_.today;
      case Op::Neg: {
        auto v = planConst(n.args[0]);
        return v ? std::optional(-*v) : std::nullopt;
      }
      case Op::Add:
      case Op::Sub: {
        auto a = planConst(n.args[0]);
        auto b = planConst(n.args[1]);
        if (!a || !b) return std::nullopt;
        const ValueType ta = node(n.args[0]).type, tb = node(n.args[1]).type;
        if (ta == ValueType::Date && tb == ValueType::Duration) *b = civil::floorDiv(*b, kDay);
        if (ta == ValueType::Duration && tb == ValueType::Date) *a = civil::floorDiv(*a, kDay);
        if (ta == ValueType::Date && tb == ValueType::Date) return (*a - *b) * kDay;
        return n.op == Op::Add ? *a + *b : *a - *b;
      }
      case Op::Month:
      case Op::Day:
      case Op::Year: {
        // Of a constant date (`month(today)`); a time would need the zone.
        const auto day = planConst(n.args[0]);
        if (!day || node(n.args[0]).type != ValueType::Date || *day < INT32_MIN || *day > INT32_MAX) return std::nullopt;
        const civil::YearMonthDay ymd = civil::civilFromDays(static_cast<std::int32_t>(*day));
        return n.op == Op::Month ? ymd.month : n.op == Op::Day ? ymd.day : ymd.year;
      }
      default: return std::nullopt;
    }
  }

  // The instant a `since` operand starts (a date means its first second).
  std::optional<std::int64_t> sinceInstant(NodeId id) const {
    auto value = planConst(id);
    if (!value) return std::nullopt;
    if (node(id).type == ValueType::Date) return zone_->toInstant(static_cast<std::int32_t>(*value), 0);
    return value;
  }

  // The time range [from, to] an aggregate reads.
  std::optional<std::pair<std::int64_t, std::int64_t>> window(const Node& agg) const {
    std::int64_t from = INT64_MIN;
    if (agg.imm > 0) from = plan_.now - agg.imm + 1;
    if (agg.flags & kHasSince) {
      const NodeId since = agg.args[(agg.flags & kHasWhere) ? 1 : 0];
      auto start = sinceInstant(since);
      if (!start) return std::nullopt;
      from = std::max(from, *start);
    }
    return std::pair{from, plan_.now};
  }

  // ------------------------------------------------------------ building

  std::uint32_t emit(PlanNode n) {
    plan_.nodes.push_back(std::move(n));
    return static_cast<std::uint32_t>(plan_.nodes.size() - 1);
  }

  std::uint32_t indexNode(IndexLookup lookup, NodeId expr) {
    PlanNode n;
    n.kind = PlanNode::Kind::Index;
    n.lookup = std::move(lookup);
    n.expr = expr;
    n.estimate = estimate(n.lookup);
    return emit(std::move(n));
  }

  std::uint32_t residualNode(NodeId expr) {
    PlanNode n;
    n.kind = PlanNode::Kind::Residual;
    n.expr = expr;
    n.cost = cost(expr);
    n.estimate = 0.25;
    return emit(std::move(n));
  }

  double estimate(const IndexLookup& lookup) const {
    if (options_.statistics == nullptr) return 0.1;
    const std::uint64_t friends = std::max<std::uint64_t>(1, options_.statistics->friendCount());
    const auto count = options_.statistics->lookupCount(lookup, plan_.program);
    return count ? std::min(1.0, static_cast<double>(*count) / static_cast<double>(friends)) : 0.1;
  }

  double cost(NodeId id) const {
    const Node& n = node(id);
    double total = isAggregate(n.op) ? 20 : 1;
    for (NodeId child : n.args) total += cost(child);
    return total;
  }

  std::uint32_t build(NodeId id) {
    const Node& n = node(id);
    if (n.op == Op::Const && n.type == ValueType::Bool) {
      PlanNode out;
      out.kind = n.imm ? PlanNode::Kind::All : PlanNode::Kind::Nothing;
      out.estimate = n.imm ? 1 : 0;
      out.expr = id;
      return emit(out);
    }
    if (n.op == Op::And || n.op == Op::Or) return junction(id);
    if (n.op == Op::Not) {
      const std::uint32_t child = build(n.args[0]);
      if (plan_.nodes[child].kind == PlanNode::Kind::Residual) {
        plan_.nodes[child].expr = id;  // one residual `not x`, not two nodes
        return child;
      }
      PlanNode out;
      out.kind = PlanNode::Kind::Not;
      out.expr = id;
      out.children = {child};
      out.estimate = 1 - plan_.nodes[child].estimate;
      return emit(out);
    }
    if (!options_.residualOnly) {
      if (auto plan = leaf(id)) return *plan;
    }
    return residualWithPrefilter(id);
  }

  std::uint32_t junction(NodeId id) {
    const Node n = node(id);
    std::vector<std::uint32_t> children;
    for (NodeId child : n.args) children.push_back(build(child));
    const bool isAnd = n.op == Op::And;
    // Index lookups first (cheapest, most selective first for `and`),
    // then residuals by cost per friend they remove.
    std::stable_sort(children.begin(), children.end(), [&](std::uint32_t a, std::uint32_t b) {
      const PlanNode& x = plan_.nodes[a];
      const PlanNode& y = plan_.nodes[b];
      const bool xr = x.cost > 0, yr = y.cost > 0;
      if (xr != yr) return !xr;
      if (!xr) return isAnd ? x.estimate < y.estimate : x.estimate > y.estimate;
      const double xs = isAnd ? 1 - x.estimate : x.estimate;
      const double ys = isAnd ? 1 - y.estimate : y.estimate;
      return x.cost / std::max(1e-6, xs) < y.cost / std::max(1e-6, ys);
    });
    PlanNode out;
    out.kind = isAnd ? PlanNode::Kind::And : PlanNode::Kind::Or;
    out.expr = id;
    out.children = children;
    double estimate = isAnd ? 1 : 0;
    for (std::uint32_t c : children) {
      const double e = plan_.nodes[c].estimate;
      estimate = isAnd ? estimate * e : 1 - (1 - estimate) * (1 - e);
      out.cost += plan_.nodes[c].cost;
    }
    out.estimate = estimate;
    return emit(out);
  }

  // An aggregate whose condition implies the friend had the event in the
  // window gets the event's day bitmaps as a prefilter.
  std::uint32_t residualWithPrefilter(NodeId id) {
    const std::uint32_t residual = residualNode(id);
    if (options_.residualOnly) return residual;
    const Node* agg = impliedEvent(id);
    if (agg == nullptr) return residual;
    const auto range = window(*agg);
    if (!range) return residual;
    IndexLookup lookup;
    lookup.kind = IndexLookup::Kind::EventDays;
    lookup.event = agg->a;
    lookup.k1 = range->first;
    lookup.k2 = range->second;
    const std::uint32_t prefilter = indexNode(lookup, id);
    PlanNode out;
    out.kind = PlanNode::Kind::And;
    out.expr = id;
    out.children = {prefilter, residual};
    out.estimate = std::min(plan_.nodes[prefilter].estimate, plan_.nodes[residual].estimate);
    out.cost = plan_.nodes[residual].cost;
    return emit(out);
  }

  // The aggregate that must have found an event for `id` to hold.
  const Node* impliedEvent(NodeId id) const {
    const Node& n = node(id);
    if (isAggregate(n.op)) return n.op == Op::Exists ? &n : nullptr;
    if (!isCompare(n.op)) return nullptr;
    for (int side = 0; side < 2; ++side) {
      const Node& a = node(n.args[side]);
      if (!isAggregate(a.op)) continue;
      const Op op = side == 0 ? n.op : mirror(n.op);
      const auto k = planConst(n.args[1 - side]);
      switch (a.op) {
        case Op::Min:
        case Op::Max:
        case Op::Last: return &a;  // missing without events: the comparison is false
        case Op::Count:
          if (!k) return nullptr;
          if ((op == Op::Ge && *k >= 1) || (op == Op::Gt && *k >= 0) || (op == Op::Eq && *k >= 1)) return &a;
          return nullptr;
        case Op::Sum:
          if (k && ((op == Op::Gt && *k >= 0) || ((op == Op::Ge || op == Op::Eq) && *k > 0))) return &a;
          return nullptr;
        default: return nullptr;
      }
    }
    return nullptr;
  }

  // What an index answers exactly, if anything.
  std::optional<std::uint32_t> leaf(NodeId id) {
    const Node& n = node(id);
    switch (n.op) {
      case Op::Has: return indexNode(present(n.a), id);
      case Op::Tag: return indexNode(named(IndexLookup::Kind::Tag, n.a), id);
      case Op::Audience: return indexNode(named(IndexLookup::Kind::Audience, n.a), id);
      case Op::Status: {
        IndexLookup lookup = named(IndexLookup::Kind::Status, n.a);
        lookup.k1 = n.b;
        return indexNode(lookup, id);
      }
      case Op::Exists: {
        if (n.b != 0 || (n.flags & kHasWhere)) return std::nullopt;
        const auto range = window(n);
        if (!range) return std::nullopt;
        IndexLookup lookup;
        lookup.kind = IndexLookup::Kind::EventWindow;
        lookup.event = n.a;
        lookup.k1 = range->first;
        lookup.k2 = range->second;
        return indexNode(lookup, id);
      }
      case Op::InList: return inList(id);
      case Op::InRange: {
        const Node& subject = node(n.args[0]);
        if (subject.op == Op::Age) return ageRange(id, subject, n.args[1], n.args[2]);
        return inRange(id);
      }
      case Op::Attr:
        // A bare boolean attribute: its `true` bitmap.
        if (n.type == ValueType::Bool) return compare(id, n.a, Op::Eq, 1);
        return std::nullopt;
      default: break;
    }
    if (!isCompare(n.op)) return std::nullopt;
    for (int side = 0; side < 2; ++side) {
      const Node& subject = node(n.args[side]);
      const auto k = planConst(n.args[1 - side]);
      if (!k) continue;
      const Op op = side == 0 ? n.op : mirror(n.op);
      if (subject.op == Op::Attr) return compare(id, subject.a, op, *k);
      if (subject.op == Op::Age) return ageCompare(id, subject, op, *k);
      if (subject.op == Op::Month && op == Op::Eq) return monthEquals(id, subject, *k);
      if (subject.op == Op::FriendFor) {
        // friend_for OP d  <=>  followed_at mirror(OP) now - d
        const auto followed = plan_.program.schema.attribute("followed_at");
        if (!followed) return std::nullopt;
        return compare(id, static_cast<std::uint32_t>(*followed), mirror(op), plan_.now - *k);
      }
    }
    // String equality with a literal.
    if (n.op == Op::Eq || n.op == Op::Ne) {
      for (int side = 0; side < 2; ++side) {
        const Node& subject = node(n.args[side]);
        const Node& other = node(n.args[1 - side]);
        if (subject.op == Op::Attr && other.op == Op::Const && other.type == ValueType::String) {
          return stringEquality(id, subject.a, other.a, n.op == Op::Ne);
        }
      }
    }
    return std::nullopt;
  }

  // age(d) on plan day `today` is at least `years` exactly when d is on or
  // before this day: the same month and day, `years` earlier (Feb 29 in a
  // common year clamps to Feb 28, as a birthday there has not yet come).
  std::int64_t lastDayAged(std::int64_t years) const {
    const civil::YearMonthDay t = civil::civilFromDays(static_cast<std::int32_t>(plan_.today));
    const std::int64_t year = t.year - years;
    if (year < -100000 || year > 100000) return year < 0 ? INT32_MIN : INT32_MAX;
    const auto y = static_cast<std::int32_t>(year);
    return civil::daysFromCivil({y, t.month, std::min(t.day, civil::daysInMonth(y, t.month))});
  }

  // age(attr) compared with a constant, as a range of the date attribute.
  std::optional<std::uint32_t> ageCompare(NodeId id, const Node& age, Op op, std::int64_t years) {
    switch (op) {
      case Op::Ge: return dateRange(id, age, INT32_MIN, lastDayAged(years));
      case Op::Gt: return dateRange(id, age, INT32_MIN, lastDayAged(years + 1));
      case Op::Le: return dateRange(id, age, lastDayAged(years + 1) + 1, INT32_MAX);
      case Op::Lt: return dateRange(id, age, lastDayAged(years) + 1, INT32_MAX);
      case Op::Eq: return dateRange(id, age, lastDayAged(years + 1) + 1, lastDayAged(years));
      default: return std::nullopt;
    }
  }
  std::optional<std::uint32_t> ageRange(NodeId id, const Node& age, NodeId low, NodeId high) {
    const auto from = planConst(low), to = planConst(high);
    if (!from || !to) return std::nullopt;
    return dateRange(id, age, lastDayAged(*to + 1) + 1, lastDayAged(*from));
  }
  std::optional<std::uint32_t> dateRange(NodeId id, const Node& age, std::int64_t first, std::int64_t last) {
    const Node& subject = node(age.args[0]);
    if (subject.op != Op::Attr) return std::nullopt;
    IndexLookup lookup;
    lookup.attribute = subject.a;
    if (first == INT32_MIN || last == INT32_MAX) {
      lookup.kind = IndexLookup::Kind::Compare;
      lookup.op = first == INT32_MIN ? Op::Le : Op::Ge;
      lookup.k1 = first == INT32_MIN ? last : first;
    } else {
      lookup.kind = IndexLookup::Kind::Range;
      lookup.values = {first, last};
    }
    return indexNode(lookup, id);
  }

  // month(d) == k for a date attribute: d in month k of any year the
  // column's values span, one range a year (birthday months).
  std::optional<std::uint32_t> monthEquals(NodeId id, const Node& month, std::int64_t k) {
    const Node& subject = node(month.args[0]);
    if (subject.op != Op::Attr || subject.type != ValueType::Date || k < 1 || k > 12) return std::nullopt;
    if (options_.statistics == nullptr) return std::nullopt;
    const auto bounds = options_.statistics->valueBounds(subject.a);
    if (!bounds) return std::nullopt;
    const auto yearOf = [](std::int64_t day) {
      return civil::civilFromDays(static_cast<std::int32_t>(std::clamp<std::int64_t>(day, INT32_MIN, INT32_MAX))).year;
    };
    const std::int32_t first = yearOf(bounds->first), last = yearOf(bounds->second);
    constexpr std::int32_t kMaxYears = 1000;  // beyond this, a scan is cheaper
    if (last - first >= kMaxYears) return std::nullopt;
    IndexLookup lookup;
    lookup.kind = IndexLookup::Kind::Range;
    lookup.attribute = subject.a;
    const auto m = static_cast<std::uint32_t>(k);
    for (std::int32_t year = first; year <= last; ++year) {
      lookup.values.push_back(civil::daysFromCivil({year, m, 1}));
      lookup.values.push_back(civil::daysFromCivil({year, m, civil::daysInMonth(year, m)}));
    }
    return indexNode(lookup, id);
  }

  static IndexLookup present(std::uint32_t attribute) {
    IndexLookup lookup;
    lookup.kind = IndexLookup::Kind::Present;
    lookup.attribute = attribute;
    return lookup;
  }

  IndexLookup named(IndexLookup::Kind kind, std::uint32_t string) const {
    IndexLookup lookup;
    lookup.kind = kind;
    lookup.name = plan_.program.strings[string];
    return lookup;
  }

  bool stringIndexed(std::uint32_t attribute) const {
    return options_.statistics == nullptr || options_.statistics->stringIndexed(attribute);
  }

  std::optional<std::uint32_t> compare(NodeId id, std::uint32_t attribute, Op op, std::int64_t k) {
    const ColumnSpec& column = plan_.program.schema.attributes[attribute];
    IndexLookup lookup;
    lookup.attribute = attribute;
    switch (column.type) {
      case ValueType::Enum:
      case ValueType::Bool: {
        lookup.kind = IndexLookup::Kind::Values;
        const std::int64_t values = column.type == ValueType::Bool ? 2 : static_cast<std::int64_t>(column.enumValues.size());
        for (std::int64_t v = 0; v < values; ++v) {
          if (holds(op, v, k)) lookup.values.push_back(v);
        }
        return indexNode(lookup, id);
      }
      case ValueType::String: return std::nullopt;
      default:
        lookup.kind = IndexLookup::Kind::Compare;
        lookup.op = op;
        lookup.k1 = k;
        return indexNode(lookup, id);
    }
  }

  std::optional<std::uint32_t> stringEquality(NodeId id, std::uint32_t attribute, std::uint32_t string, bool negated) {
    if (!stringIndexed(attribute)) return std::nullopt;
    IndexLookup lookup;
    lookup.kind = IndexLookup::Kind::Values;
    lookup.attribute = attribute;
    lookup.values = {string};
    const std::uint32_t equal = indexNode(lookup, id);
    if (!negated) return equal;
    // x != s: has a value, and not s.
    PlanNode notEqual;
    notEqual.kind = PlanNode::Kind::Not;
    notEqual.expr = id;
    notEqual.children = {equal};
    notEqual.estimate = 1 - plan_.nodes[equal].estimate;
    const std::uint32_t notNode = emit(notEqual);
    const std::uint32_t presentNode = indexNode(present(attribute), id);
    PlanNode both;
    both.kind = PlanNode::Kind::And;
    both.expr = id;
    both.children = {presentNode, notNode};
    both.estimate = plan_.nodes[presentNode].estimate * plan_.nodes[notNode].estimate;
    return emit(both);
  }

  std::optional<std::uint32_t> inList(NodeId id) {
    const Node& n = node(id);
    const Node& subject = node(n.args[0]);
    if (subject.op != Op::Attr) return std::nullopt;
    const ColumnSpec& column = plan_.program.schema.attributes[subject.a];
    IndexLookup lookup;
    lookup.kind = IndexLookup::Kind::Values;
    lookup.attribute = subject.a;
    if (column.type == ValueType::String) {
      if (!stringIndexed(subject.a)) return std::nullopt;
      for (std::size_t i = 1; i < n.args.size(); ++i) {
        const Node& c = node(n.args[i]);
        if (c.op != Op::Const || c.type != ValueType::String) return std::nullopt;
        lookup.values.push_back(c.a);
      }
      return indexNode(lookup, id);
    }
    std::vector<std::int64_t> values;
    for (std::size_t i = 1; i < n.args.size(); ++i) {
      const auto k = planConst(n.args[i]);
      if (!k) return std::nullopt;
      values.push_back(*k);
    }
    if (column.type == ValueType::Enum || column.type == ValueType::Bool) {
      lookup.values = values;
      return indexNode(lookup, id);
    }
    // Numbers: one range-index lookup a value.
    PlanNode any;
    any.kind = PlanNode::Kind::Or;
    any.expr = id;
    any.estimate = 0;
    for (std::int64_t v : values) {
      IndexLookup eq;
      eq.kind = IndexLookup::Kind::Compare;
      eq.attribute = subject.a;
      eq.op = Op::Eq;
      eq.k1 = v;
      const std::uint32_t child = indexNode(eq, id);
      any.children.push_back(child);
      any.estimate = std::min(1.0, any.estimate + plan_.nodes[child].estimate);
    }
    return emit(any);
  }

  std::optional<std::uint32_t> inRange(NodeId id) {
    const Node& n = node(id);
    const Node& subject = node(n.args[0]);
    const auto low = planConst(n.args[1]);
    const auto high = planConst(n.args[2]);
    if (!low || !high) return std::nullopt;
    std::uint32_t attribute;
    std::int64_t k1 = *low, k2 = *high;
    if (subject.op == Op::Attr) {
      attribute = subject.a;
    } else if (subject.op == Op::FriendFor) {
      const auto followed = plan_.program.schema.attribute("followed_at");
      if (!followed) return std::nullopt;
      attribute = static_cast<std::uint32_t>(*followed);
      k1 = plan_.now - *high;
      k2 = plan_.now - *low;
    } else {
      return std::nullopt;
    }
    const ColumnSpec& column = plan_.program.schema.attributes[attribute];
    IndexLookup lookup;
    lookup.attribute = attribute;
    if (column.type == ValueType::String) return std::nullopt;
    if (column.type == ValueType::Enum || column.type == ValueType::Bool) {
      lookup.kind = IndexLookup::Kind::Values;
      for (std::int64_t v = std::max<std::int64_t>(0, k1); v <= k2 && v < 1000; ++v) lookup.values.push_back(v);
      return indexNode(lookup, id);
    }
    lookup.kind = IndexLookup::Kind::Range;
    lookup.values = {k1, k2};
    return indexNode(lookup, id);
  }

  Plan plan_;
  const PlanOptions& options_;
  std::optional<TimeZone> zone_;
};

// ------------------------------------------------------------- explain

std::string exprText(const Program& p, NodeId id);

std::string constText(const Program& p, const Node& n) {
  if (n.flags & kMissing) return "<LINE>";
  switch (n.type) {
    case ValueType::String: return "\"" + p.strings[n.a] + "\"";
    case ValueType::Bool: return n.imm ? "true" : "false";
    case ValueType::Date: return civil::formatDate(static_cast<std::int32_t>(n.imm));
    case ValueType::Duration: return civil::formatDuration(n.imm);
    case ValueType::Percent: return civil::formatPercent(n.imm);
    case ValueType::Time: return fmt::format("@{}", n.imm);
    default: return std::to_string(n.imm);
  }
}

std::string enumValue(const Program& p, const Node& subject, std::int64_t v) {
  if (subject.op == Op::Attr) {
    const ColumnSpec& c = p.schema.attributes[subject.a];
    if (c.type == ValueType::Enum && v >= 0 && static_cast<std::size_t>(v) < c.enumValues.size()) {
      return c.enumValues[static_cast<std::size_t>(v)];
    }
  }
  return std::to_string(v);
}

std::string operandText(const Program& p, NodeId id, NodeId other) {
  const Node& n = p.nodes[id];
  if (n.op == Op::Const && n.type == ValueType::Enum && other != kNoNode) return enumValue(p, p.nodes[other], n.imm);
  return exprText(p, id);
}

std::string exprText(const Program& p, NodeId id) {
  const Node& n = p.nodes[id];
  const auto arg = [&](std::size_t i) { return exprText(p, n.args[i]); };
  switch (n.op) {
    case Op::Const: return constText(p, n);
    case Op::Now: return "now";
    case Op::Today: return "today";
    case Op::Attr: return p.schema.attributes[n.a].name;
    case Op::FriendFor: return "friend_for";
    case Op::RowField:
    case Op::TriggerField: return fmt::format("field#{}", n.a);
    case Op::Tag: return "tag \"" + p.strings[n.a] + "\"";
    case Op::Audience: return "audience \"" + p.strings[n.a] + "\"";
    case Op::Status: {
      static const char* kinds[] = {"received", "opened", "clicked"};
      return fmt::format("{}(\"{}\")", kinds[n.b % 3], p.strings[n.a]);
    }
    case Op::Bucket: return "bucket(\"" + p.strings[n.a] + "\")";
    case Op::SegmentRef: return p.segments[n.a].name;
    case Op::Neg: return "-" + arg(0);
    case Op::Not: return "not " + arg(0);
    case Op::Has: return "has(" + p.schema.attributes[n.a].name + ")";
    case Op::Matches: return arg(0) + " matches \"" + p.strings[n.a] + "\"";
    case Op::InList: {
      std::string out = arg(0) + " in [";
      for (std::size_t i = 1; i < n.args.size(); ++i) out += (i > 1 ? ", " : "") + operandText(p, n.args[i], n.args[0]);
      return out + "]";
    }
    case Op::InRange:
      return arg(0) + " in " + operandText(p, n.args[1], n.args[0]) + ".." + operandText(p, n.args[2], n.args[0]);
    case Op::And:
    case Op::Or: {
      std::string out = "(";
      for (std::size_t i = 0; i < n.args.size(); ++i) out += (i ? (n.op == Op::And ? " and " : " or ") : "") + arg(i);
      return out + ")";
    }
    case Op::Month:
    case Op::Day:
    case Op::Year:
    case Op::Weekday:
    case Op::Hour:
    case Op::DateOf:
    case Op::Age:
    case Op::Length: return std::string(opName(n.op)) + "(" + arg(0) + ")";
    case Op::Exists:
    case Op::Count:
    case Op::Sum:
    case Op::Min:
    case Op::Max:
    case Op::Last: {
      const EventSpec& e = p.schema.events[n.a];
      std::string out = std::string(opName(n.op)) + "(" + e.name;
      if (n.b) out += "." + e.fields[n.b - 1].name;
      if (n.flags & kHasWhere) {
        // Row fields print with their names.
        std::function<std::string(NodeId)> rowText = [&](NodeId r) -> std::string {
          const Node& rn = p.nodes[r];
          if (rn.op == Op::RowField) return e.fields[rn.a].name;
          return exprText(p, r);
        };
        const Node& where = p.nodes[n.args[0]];
        if (isCompare(where.op) && where.args.size() == 2) {
          out += " where " + rowText(where.args[0]) + " " + opName(where.op) + " " + rowText(where.args[1]);
        } else {
          out += " where ...";
        }
      }
      if (n.imm) out += ", within " + civil::formatDuration(n.imm);
      if (n.flags & kHasSince) out += ", since " + exprText(p, n.args[(n.flags & kHasWhere) ? 1 : 0]);
      return out + ")";
    }
    default:
      if (n.args.size() == 2) return arg(0) + " " + opName(n.op) + " " + operandText(p, n.args[1], n.args[0]);
      return opName(n.op);
  }
}

std::string lookupText(const Plan& plan, const IndexLookup& l) {
  const Program& p = plan.program;
  const auto attribute = [&] { return p.schema.attributes[l.attribute].name; };
  // Bounds in the attribute's own terms: dates as dates.
  const auto number = [&](std::int64_t v) {
    if (p.schema.attributes[l.attribute].type == ValueType::Date) return civil::formatDate(static_cast<std::int32_t>(v));
    return std::to_string(v);
  };
  const auto when = [&](std::int64_t t) {
    if (t == INT64_MIN) return std::string("the beginning");
    return TimeZone::find(p.timezone)->formatInstant(t);
  };
  switch (l.kind) {
    case IndexLookup::Kind::Values: {
      const ColumnSpec& c = p.schema.attributes[l.attribute];
      std::string values;
      for (std::size_t i = 0; i < l.values.size(); ++i) {
        const std::int64_t v = l.values[i];
        std::string text = c.type == ValueType::String ? "\"" + p.strings[static_cast<std::size_t>(v)] + "\""
                           : c.type == ValueType::Enum ? c.enumValues[static_cast<std::size_t>(v)]
                           : c.type == ValueType::Bool ? (v ? "true" : "false")
                                                       : std::to_string(v);
        values += (i ? ", " : "") + text;
      }
      return fmt::format("value bitmaps {} in [{}]", attribute(), values);
    }
    case IndexLookup::Kind::Compare: return fmt::format("range index {} {} {}", attribute(), opName(l.op), number(l.k1));
    case IndexLookup::Kind::Range:
      return l.values.size() == 2 ? fmt::format("range index {} in {}..{}", attribute(), number(l.values[0]), number(l.values[1]))
                                  : fmt::format("range index {} in {} ranges, {}..{} to {}..{}", attribute(), l.values.size() / 2,
                                                number(l.values[0]), number(l.values[1]), number(l.values[l.values.size() - 2]),
                                                number(l.values.back()));
    case IndexLookup::Kind::Present: return "present " + attribute();
    case IndexLookup::Kind::Tag: return "tag bitmap \"" + l.name + "\"";
    case IndexLookup::Kind::Audience: return "audience bitmap \"" + l.name + "\"";
    case IndexLookup::Kind::Status: return fmt::format("message status bitmap \"{}\" #{}", l.name, l.k1);
    case IndexLookup::Kind::EventWindow:
      return fmt::format("day bitmaps of {} from {} to {} (edge days checked per friend)", p.schema.events[l.event].name,
                         when(l.k1), when(l.k2));
    case IndexLookup::Kind::EventDays:
      return fmt::format("prefilter: day bitmaps of {} from {} to {}", p.schema.events[l.event].name, when(l.k1), when(l.k2));
  }
  return "?";
}

void explainNode(const Plan& plan, std::uint32_t index, int depth, std::uint64_t friends,
                 const std::vector<PlanNodeRun>* actual, std::string& out) {
  const PlanNode& n = plan.nodes[index];
  std::string head;
  switch (n.kind) {
    case PlanNode::Kind::All: head = "all friends"; break;
    case PlanNode::Kind::Nothing: head = "no friends"; break;
    case PlanNode::Kind::And: head = "and"; break;
    case PlanNode::Kind::Or: head = "or"; break;
    case PlanNode::Kind::Not: head = "not"; break;
    case PlanNode::Kind::Index: head = "index    " + lookupText(plan, n.lookup); break;
    case PlanNode::Kind::Residual: head = "residual " + exprText(plan.program, n.expr); break;
  }
  std::string line = std::string(static_cast<std::size_t>(depth) * 2, ' ') + head;
  line += fmt::format("   [est {:.0f}", n.estimate * static_cast<double>(friends));
  if (actual != nullptr && index < actual->size() && (*actual)[index].inputs > 0) {
    const PlanNodeRun& run = (*actual)[index];
    line += fmt::format(", actual {} of {}, {:.3f} ms", run.passed, run.inputs, run.seconds * 1000);
  }
  out += line + "]\n";
  for (std::uint32_t child : n.children) explainNode(plan, child, depth + 1, friends, actual, out);
}

}  // namespace

Plan plan(const Program& program, NodeId root, const PlanOptions& options) {
  Planner planner(program, options);
  return planner.run(root);
}

std::string explainPlan(const Plan& plan, std::uint64_t friendCount, const std::vector<PlanNodeRun>* actual) {
  std::string out;
  explainNode(plan, plan.root, 0, friendCount, actual, out);
  return out;
}

}  // namespace seg::ir
