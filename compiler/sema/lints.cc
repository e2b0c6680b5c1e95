// Warnings for likely mistakes: what is declared and never used, and
// conditions that can never hold.
#include <map>

#include <fmt/format.h>

#include "compiler/ast/ast_walk.h"
#include "compiler/sema/analyzer.h"

namespace seg::sema {
namespace {

using namespace seg::ast;

// An inclusive interval of an ordered value (ints, enum ranks, days,
// seconds), narrowed by each comparison in a conjunction.
struct Interval {
  std::int64_t low = std::numeric_limits<std::int64_t>::min();
  std::int64_t high = std::numeric_limits<std::int64_t>::max();
  bool empty() const { return low > high; }
};

class AlwaysFalseFinder {
 public:
  AlwaysFalseFinder(const TypedProgram& p, const SourceManager& sources, DiagnosticEngine& diags)
      : p_(p), sources_(sources), diags_(diags) {}

  void check(const Expr& e, const std::string& what) {
    if (const auto* logical = as<LogicalExpr>(&e); logical && logical->op == LogicalOp::And) conjunction(*logical, what);
    forEachChild(e, [&](const Expr& child) { check(child, what); });
  }

 private:
  std::optional<std::int64_t> constant(const Expr& e) const {
    if (const auto* i = as<IntLitExpr>(&e)) return i->value;
    if (const auto* d = as<DateLitExpr>(&e)) return d->days;
    if (const auto* d = as<DurationLitExpr>(&e)) return d->seconds;
    if (const auto* pct = as<PercentLitExpr>(&e)) return pct->basisPoints;
    if (p_.refOf(e).kind == RefKind::EnumValue) return p_.refOf(e).index;
    return std::nullopt;
  }

  // The attribute a comparison constrains, and how.
  std::optional<std::pair<std::uint32_t, Interval>> constraint(const Expr& e) const {
    Interval interval;
    const Expr* subject = nullptr;
    if (const auto* b = as<BinaryExpr>(&e)) {
      const auto value = constant(*b->rhs);
      if (!value) return std::nullopt;
      subject = b->lhs.get();
      switch (b->op) {
        case BinaryOp::Eq: interval = {*value, *value}; break;
        case BinaryOp::Lt: interval.high = *value - 1; break;
        case BinaryOp::Le: interval.high = *value; break;
        case BinaryOp::Gt: interval.low = *value + 1; break;
        case BinaryOp::Ge: interval.low = *value; break;
        default: return std::nullopt;
      }
    } else if (const auto* between = as<BetweenExpr>(&e)) {
      const auto low = constant(*between->low);
      const auto high = constant(*between->high);
      if (!low || !high) return std::nullopt;
      subject = between->value.get();
      interval = {*low, *high};
    } else if (const auto* in = as<InExpr>(&e); in && !in->negated) {
      const auto* range = as<RangeLitExpr>(in->collection.get());
      if (range == nullptr) return std::nullopt;
      const auto low = constant(*range->low);
      const auto high = constant(*range->high);
      if (!low || !high) return std::nullopt;
      subject = in->value.get();
      interval = {*low, *high};
    } else {
      return std::nullopt;
    }
    const Ref& ref = p_.refOf(*subject);
    if (ref.kind != RefKind::Attribute) return std::nullopt;
    return std::pair{ref.index, interval};
  }

  std::string text(const SourceRange& r) const {
    if (!r.valid() || r.begin.line != r.end.line) return "this condition";
    const std::string_view line = sources_.file(r.file).line(r.begin.line);
    const std::size_t begin = utf8::byteOffsetOfColumn(line, r.begin.column);
    const std::size_t end = utf8::byteOffsetOfColumn(line, r.end.column);
    return "`" + std::string(line.substr(begin, end - begin)) + "`";
  }

  void conjunction(const LogicalExpr& e, const std::string& what) {
    struct Seen {
      Interval interval;
      const Expr* first;
    };
    std::map<std::uint32_t, Seen> byAttribute;
    for (const ExprPtr& operand : e.operands) {
      const auto c = constraint(*operand);
      if (!c) continue;
      auto [it, inserted] = byAttribute.try_emplace(c->first, Seen{c->second, operand.get()});
      if (inserted) continue;
      Interval& current = it->second.interval;
      current.low = std::max(current.low, c->second.low);
      current.high = std::min(current.high, c->second.high);
      if (current.empty()) {
        diags_.report(DiagId::AlwaysFalse, operand->range, what,
                      fmt::format("{} and {} cannot both hold", text(it->second.first->range), text(operand->range)))
            .addNote(it->second.first->range, "the other condition");
        return;
      }
    }
  }

  const TypedProgram& p_;
  const SourceManager& sources_;
  DiagnosticEngine& diags_;
};

}  // namespace

void Analyzer::lint() {
  AlwaysFalseFinder finder(p_, sources_, diags_);
  for (const Segment& s : p_.segments) {
    if (s.decl->condition) finder.check(*s.decl->condition, fmt::format("segment `{}`", s.name));
    if (!s.used && options_.warnUnusedSegments) {
      diags_.report(DiagId::UnusedSegment, s.decl->name.range, s.name)
          .addHelp("nothing in the program refers to it; it can still be read by `segc eval` and the runtime API");
    }
  }
  for (const Campaign& c : p_.campaigns) {
    if (c.decl->audience) finder.check(*c.decl->audience, fmt::format("the audience of `{}`", c.name));
  }
  for (const Message& m : p_.messages) {
    if (!m.used) diags_.report(DiagId::UnusedMessage, m.decl->name.range, m.name);
  }
}

}  // namespace seg::sema
