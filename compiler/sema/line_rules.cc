// LINE's rules: conditions on `line.*` are applied by LINE, in a
// narrowcast's demographic filter, so they may only appear where LINE can
// apply them (a campaign's `to`, joined to local data by a top-level `and`)
// and only in forms LINE's filter can express.
#include <algorithm>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "compiler/ast/ast_walk.h"
#include "base/civil_time.h"
#include "compiler/sema/analyzer.h"

namespace seg::sema {
namespace {

using namespace seg::ast;

// LINE's age buckets: `gte` and `lt` both take age_15 .. age_70 (the
// AgeDemographic enum of LINE's OpenAPI file).
bool isAgeLowerEdge(std::int64_t age) { return age >= 15 && age <= 70 && age % 5 == 0; }
bool isAgeUpperEdge(std::int64_t age) { return isAgeLowerEdge(age); }

// LINE's subscriptionPeriod thresholds, in days.
bool isFriendPeriodEdge(std::int64_t seconds) {
  for (std::int64_t days : {7, 30, 90, 180, 365}) {
    if (seconds == days * civil::kSecondsPerDay) return true;
  }
  return false;
}

std::int64_t nearestAgeEdge(std::int64_t age) {
  std::int64_t edge = (age + 2) / 5 * 5;
  return std::clamp(edge, std::int64_t{15}, std::int64_t{70});
}

}  // namespace

// Whether a `line.*` attribute is read under `e`, through segment references.
bool Analyzer::usesLine(const ast::Expr& e) const { return firstLineUse(e) != nullptr; }

const ast::Expr* Analyzer::firstLineUse(const ast::Expr& e) const {
  const Ref& ref = p_.refOf(e);
  if (ref.kind == RefKind::LineAttribute) return &e;
  if (ref.kind == RefKind::Segment && e.kind == ExprKind::NameRef) {
    const Segment& s = p_.segments[ref.index];
    if (!s.usesLine) return nullptr;
    // Point at the reference itself; the message names the attribute.
    return &e;
  }
  const ast::Expr* found = nullptr;
  forEachChild(e, [&](const ast::Expr& child) {
    if (found == nullptr) found = firstLineUse(child);
  });
  return found;
}

// Whether `e` reads anything about the friend that seg holds (attributes,
// tags, events, message status, samples, segments with such conditions).
bool Analyzer::usesFriendData(const ast::Expr& e) const {
  const Ref& ref = p_.refOf(e);
  switch (ref.kind) {
    case RefKind::Attribute: return true;
    case RefKind::Segment:
      if (e.kind == ExprKind::NameRef) return p_.segments[ref.index].usesFriendData;
      break;
    case RefKind::Event: return e.kind == ExprKind::Aggregate;
    case RefKind::Function:
      if (ref.index == static_cast<std::uint32_t>(Function::Received) ||
          ref.index == static_cast<std::uint32_t>(Function::Opened) ||
          ref.index == static_cast<std::uint32_t>(Function::Clicked) ||
          ref.index == static_cast<std::uint32_t>(Function::Bucket)) {
        return true;
      }
      break;
    default: break;
  }
  if (e.kind == ExprKind::TagTest || e.kind == ExprKind::AudienceTest) return true;
  bool found = false;
  forEachChild(e, [&](const ast::Expr& child) { found = found || usesFriendData(child); });
  return found;
}

namespace {

// Names the first `line.*` attribute under an expression, for messages.
class LineNamer {
 public:
  explicit LineNamer(const TypedProgram& p) : p_(p) {}

  std::string name(const Expr& e, int depth = 0) const {
    const Ref& ref = p_.refOf(e);
    if (ref.kind == RefKind::LineAttribute) return "line." + p_.lineAttributes[ref.index].name;
    // Segments may (wrongly) refer to each other in a cycle: stop somewhere.
    if (depth > 64) return "";
    if (ref.kind == RefKind::Segment && e.kind == ExprKind::NameRef) {
      const Segment& s = p_.segments[ref.index];
      if (s.decl->condition) {
        const std::string inner = name(*s.decl->condition, depth + 1);
        if (!inner.empty()) return inner;
      }
    }
    std::string found;
    forEachChild(e, [&](const Expr& child) {
      if (found.empty()) found = name(child, depth + 1);
    });
    return found;
  }

 private:
  const TypedProgram& p_;
};

// Validates the shape of each comparison on a `line.*` attribute.
class LineShapeChecker {
 public:
  LineShapeChecker(const TypedProgram& p, DiagnosticEngine& diags) : p_(p), diags_(diags) {}

  void walk(const Expr& e) {
    if (const Attribute* attr = lineAttributeOf(comparedValue(e))) {
      checkComparison(e, *attr);
      walkChildrenExcept(e, comparedValue(e));
      return;
    }
    if (const Attribute* attr = lineAttributeOf(&e)) {
      diags_.report(DiagId::LineUnsupported, e.range, "line." + attr->name,
                    "LINE can only compare it with a fixed value")
          .addHelp("write the condition as `line.x == value`, `line.x in [...]` or, for ages, a range such as `line.age in 20..29`");
      return;
    }
    forEachChild(e, [&](const Expr& child) { walk(child); });
  }

 private:
  const Attribute* lineAttributeOf(const Expr* e) const {
    if (e == nullptr) return nullptr;
    const Ref& ref = p_.refOf(*e);
    return ref.kind == RefKind::LineAttribute ? &p_.lineAttributes[ref.index] : nullptr;
  }

  // The left-hand side of a comparison node, or null.
  static const Expr* comparedValue(const Expr& e) {
    if (const auto* b = as<BinaryExpr>(&e)) {
      switch (b->op) {
        case BinaryOp::Eq:
        case BinaryOp::Ne:
        case BinaryOp::Lt:
        case BinaryOp::Le:
        case BinaryOp::Gt:
        case BinaryOp::Ge: return b->lhs.get();
        default: return nullptr;
      }
    }
    if (const auto* in = as<InExpr>(&e)) return in->value.get();
    if (const auto* between = as<BetweenExpr>(&e)) return between->value.get();
    return nullptr;
  }

  void walkChildrenExcept(const Expr& e, const Expr* skip) {
    forEachChild(e, [&](const Expr& child) {
      if (&child != skip) walk(child);
    });
  }

  void unsupported(const Expr& e, const Attribute& attr, const std::string& why, const std::string& help) {
    Diagnostic& d = diags_.report(DiagId::LineUnsupported, e.range, "line." + attr.name, why);
    if (!help.empty()) d.addHelp(help);
  }

  void checkComparison(const Expr& e, const Attribute& attr) {
    // The right-hand side must be something LINE's filter can hold.
    if (const auto* b = as<BinaryExpr>(&e); b && lineAttributeOf(b->rhs.get())) {
      unsupported(e, attr, "LINE compares it with fixed values only", "");
      return;
    }
    const TypeKind kind = p_.types.kind(attr.type);
    if (kind == TypeKind::Enum) return checkEnum(e, attr);
    if (attr.name == "age") return checkAge(e, attr);
    if (attr.name == "friend_period") return checkFriendPeriod(e, attr);
  }

  void checkEnum(const Expr& e, const Attribute& attr) {
    const auto* b = as<BinaryExpr>(&e);
    const auto* in = as<InExpr>(&e);
    const bool ok = (b && (b->op == BinaryOp::Eq || b->op == BinaryOp::Ne)) || (in && as<ListLitExpr>(in->collection.get()));
    if (!ok) {
      unsupported(e, attr, "its values have no order for LINE",
                  fmt::format("use `line.{0} == value`, `!=` or `line.{0} in [a, b]`", attr.name));
    }
  }

  void checkAge(const Expr& e, const Attribute& attr) {
    const auto literal = [](const Expr* x) -> std::optional<std::int64_t> {
      if (const auto* i = as<IntLitExpr>(x)) return i->value;
      return std::nullopt;
    };
    std::optional<std::int64_t> low, high;  // inclusive bounds
    const Expr* where = &e;
    if (const auto* b = as<BinaryExpr>(&e)) {
      const auto value = literal(b->rhs.get());
      if (!value) return unsupported(e, attr, "LINE needs a whole number here", "");
      switch (b->op) {
        case BinaryOp::Ge: low = *value; break;
        case BinaryOp::Gt: low = *value + 1; break;
        case BinaryOp::Lt: high = *value - 1; break;
        case BinaryOp::Le: high = *value; break;
        default:
          diags_.report(DiagId::LineAgeEdge, e.range, fmt::format("exactly {}", *value))
              .addHelp(fmt::format("use a range on bucket edges, such as `line.age in {}..{}`",
                                   nearestAgeEdge(*value), nearestAgeEdge(*value) + 4));
          return;
      }
      where = b->rhs.get();
    } else if (const auto* in = as<InExpr>(&e)) {
      const auto* range = as<RangeLitExpr>(in->collection.get());
      if (range == nullptr) return unsupported(e, attr, "LINE filters ages by range", "write `line.age in 20..29`");
      low = literal(range->low.get());
      high = literal(range->high.get());
      if (!low || !high) return unsupported(e, attr, "LINE needs whole numbers here", "");
      where = range;
    } else if (const auto* between = as<BetweenExpr>(&e)) {
      low = literal(between->low.get());
      high = literal(between->high.get());
      if (!low || !high) return unsupported(e, attr, "LINE needs whole numbers here", "");
    }
    const bool lowOk = !low || isAgeLowerEdge(*low);
    const bool highOk = !high || isAgeUpperEdge(*high + 1);
    if (lowOk && highOk) return;
    std::string at;
    if (!lowOk) at = fmt::format("a lower bound of {}", *low);
    if (!highOk) at += (at.empty() ? "" : " and ") + fmt::format("an upper bound of {}", *high);
    Diagnostic& d = diags_.report(DiagId::LineAgeEdge, where->range, at);
    d.addHelp("lower bounds may be 15, 20, 25, ... 70 and upper bounds 14, 19, 24, ... 69");
    if (low && high) {
      d.addHelp(fmt::format("did you mean `line.age in {}..{}`?", nearestAgeEdge(*low),
                            nearestAgeEdge(*high + 1) - 1));
    }
  }

  void checkFriendPeriod(const Expr& e, const Attribute& attr) {
    const auto* b = as<BinaryExpr>(&e);
    const auto* value = b ? as<DurationLitExpr>(b->rhs.get()) : nullptr;
    if (b == nullptr || value == nullptr || (b->op != BinaryOp::Ge && b->op != BinaryOp::Lt)) {
      unsupported(e, attr, "LINE filters friendship length with `>=` or `<` a threshold",
                  "write `line.friend_period >= 30d` or `line.friend_period < 90d`");
      return;
    }
    if (!isFriendPeriodEdge(value->seconds)) {
      diags_.report(DiagId::LineFriendPeriod, value->range, civil::formatDuration(value->seconds))
          .addHelp("LINE's thresholds are 7d, 30d, 90d, 180d and 365d");
    }
  }

  const TypedProgram& p_;
  DiagnosticEngine& diags_;
};

}  // namespace

void Analyzer::rejectLineOutsideCampaign(const ast::Expr* e, const std::string& where) {
  if (e == nullptr) return;
  if (const ast::Expr* use = firstLineUse(*e)) {
    const LineNamer namer(p_);
    diags_.report(DiagId::LineOutsideCampaign, use->range, where, namer.name(*use))
        .addHelp("LINE's demographic estimates are never sent to seg; only a narrowcast can filter on them");
  }
}

void Analyzer::checkLineRules() {
  // Which segments depend on `line.*`, in dependency order.
  for (std::uint32_t s : p_.segmentOrder) {
    Segment& segment = p_.segments[s];
    segment.usesLine = segment.decl->condition && usesLine(*segment.decl->condition);
    segment.usesFriendData = segment.decl->condition && usesFriendData(*segment.decl->condition);
  }
  // Every campaign's audience is split, `use line` or not: without it the
  // whole `to` is seg's part (it once stayed "always true" then).
  splitCampaignAudiences();
  if (lineImported_) checkLineForms();
}

void Analyzer::checkLineForms() {
  // Forms LINE can express, and no mixing with friend data under or/not.
  LineShapeChecker shapes(p_, diags_);
  const LineNamer namer(p_);
  const std::function<void(const ast::Expr&)> mixing = [&](const ast::Expr& e) {
    const auto* logical = as<LogicalExpr>(&e);
    const auto* unary = as<UnaryExpr>(&e);
    const bool isOr = logical && logical->op == LogicalOp::Or;
    const bool isNot = unary && unary->op == UnaryOp::Not;
    if ((isOr || isNot) && usesLine(e) && usesFriendData(e)) {
      const std::string name = namer.name(e);
      Diagnostic& d = isOr ? diags_.report(DiagId::LineUnderOr, e.range, name)
                           : diags_.report(DiagId::LineUnderNot, e.range, name);
      d.addHelp("LINE applies its part to the whole audience, so it can only narrow it: join it with `and` at the top of the campaign's `to`");
      return;
    }
    forEachChild(e, mixing);
  };
  for (const Segment& s : p_.segments) {
    if (s.decl->condition) {
      shapes.walk(*s.decl->condition);
      mixing(*s.decl->condition);
    }
  }
  for (const Campaign& c : p_.campaigns) {
    if (c.decl->audience) {
      shapes.walk(*c.decl->audience);
      mixing(*c.decl->audience);
    }
  }

  // Everywhere but a campaign's `to`, LINE conditions cannot be applied.
  for (const MenuRule& rule : p_.menus) rejectLineOutsideCampaign(rule.condition, "a menu rule");
  const std::function<void(const ast::ActionList&, const std::string&)> actions =
      [&](const ast::ActionList& list, const std::string& where) {
        for (const ast::ActionPtr& a : list) {
          rejectLineOutsideCampaign(a->value.get(), where);
          for (const ast::MessageRef& ref : a->messages) {
            for (const ast::NamedArg& arg : ref.args) rejectLineOutsideCampaign(arg.value.get(), where);
          }
          actions(a->thenActions, where);
          actions(a->elseActions, where);
        }
      };
  // `on enter S` / `on leave S`: seg decides membership, so S cannot depend on LINE.
  const auto segmentTrigger = [&](const Trigger& t, const ast::Trigger& written, const std::string& where) {
    if ((t.kind != TriggerKind::Enter && t.kind != TriggerKind::Leave) || t.segment == kNone || !p_.segments[t.segment].usesLine) return;
    diags_.report(DiagId::LineOutsideCampaign, written.name.range, where, namer.name(*p_.segments[t.segment].decl->condition))
        .addHelp("seg cannot know who enters a segment of LINE's estimates; watch the local part as its own segment");
  };
  for (const Scenario& s : p_.scenarios) {
    const std::string where = fmt::format("scenario `{}`", s.name);
    segmentTrigger(s.trigger, s.decl->trigger, where);
    rejectLineOutsideCampaign(s.decl->where.get(), where);
    for (const ast::ExprPtr& exit : s.decl->exitWhen) rejectLineOutsideCampaign(exit.get(), where);
    for (const ast::Step& step : s.decl->steps) {
      rejectLineOutsideCampaign(step.when.get(), where);
      actions(step.actions, where);
    }
  }
  for (const Rule& r : p_.rules) {
    const std::string where = fmt::format("the rule on `{}`", ast::triggerText(r.decl->trigger));
    segmentTrigger(r.trigger, r.decl->trigger, where);
    rejectLineOutsideCampaign(r.decl->where.get(), where);
    actions(r.decl->actions, where);
  }
  for (const Test& t : p_.tests) {
    for (const ast::TestItem& item : t.decl->items) {
      if (item.kind == ast::TestItem::Kind::ExpectIn) {
        const std::uint32_t s = p_.findSegment(item.name.text);
        if (s != kNone && p_.segments[s].usesLine) {
          diags_.report(DiagId::LineOutsideCampaign, item.name.range, "a test", namer.name(*p_.segments[s].decl->condition))
              .addHelp("a test cannot know LINE's estimates of a friend; test the local part as its own segment");
        }
      }
      rejectLineOutsideCampaign(item.condition.get(), "a test");
    }
  }
}

void Analyzer::splitCampaignAudiences() {
  // LINE's part (applied by its narrowcast filter) and seg's part.
  for (Campaign& c : p_.campaigns) {
    if (!c.decl->audience) continue;
    std::vector<const ast::Expr*> pending{c.decl->audience.get()};
    std::set<std::uint32_t> expanded;  // segments looked through (cycles are errors elsewhere)
    while (!pending.empty()) {
      const ast::Expr* e = pending.back();
      pending.pop_back();
      if (const auto* logical = as<LogicalExpr>(e); logical && logical->op == LogicalOp::And) {
        for (auto it = logical->operands.rbegin(); it != logical->operands.rend(); ++it) pending.push_back(it->get());
        continue;
      }
      const Ref& ref = p_.refOf(*e);
      if (ref.kind == RefKind::Segment && e->kind == ExprKind::NameRef) {
        const Segment& s = p_.segments[ref.index];
        // Look through a segment that mixes both at its top-level `and`.
        if (s.usesLine && s.usesFriendData && s.decl->condition && expanded.insert(ref.index).second) {
          pending.push_back(s.decl->condition.get());
          continue;
        }
      }
      (usesLine(*e) ? c.lineConjuncts : c.localConjuncts).push_back(e);
    }
  }
}

}  // namespace seg::sema
