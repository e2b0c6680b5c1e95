#include "compiler/ast/ast_dump.h"

#include <fmt/format.h>

#include "base/civil_time.h"

namespace seg::ast {
namespace {

std::string rangeText(const SourceRange& r) {
  if (!r.valid()) return "";
  return fmt::format(" @{}:{}-{}:{}", r.begin.line, r.begin.column, r.end.line, r.end.column);
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string typeText(const TypeExpr& type) {
  if (type.kind == TypeExpr::Kind::Named) return type.name.text;
  std::string out = "enum(";
  for (std::size_t i = 0; i < type.enumValues.size(); ++i) {
    if (i > 0) out += ", ";
    out += type.enumValues[i].name.text;
    if (!type.enumValues[i].label.empty()) out += " = " + quoted(type.enumValues[i].label);
  }
  return out + ")";
}

class Dumper {
 public:
  std::string take() { return std::move(out_); }

  void line(int depth, const std::string& text, const SourceRange& range) {
    out_ += std::string(static_cast<std::size_t>(depth) * 2, ' ') + text + rangeText(range) + "\n";
  }

  void expr(const Expr* e, int depth, const char* role = nullptr) {
    if (!e) return;
    const std::string prefix = role ? std::string(role) + ": " : "";
    line(depth, prefix + header(*e), e->range);
    children(*e, depth + 1);
  }

  void messageRefs(const std::vector<MessageRef>& refs, int depth) {
    for (const MessageRef& ref : refs) {
      line(depth, "message " + ref.name.text, ref.range);
      for (const NamedArg& arg : ref.args) expr(arg.value.get(), depth + 1, arg.name.text.c_str());
    }
  }

  void actions(const ActionList& list, int depth) {
    for (const ActionPtr& a : list) action(*a, depth);
  }

  void action(const Action& a, int depth) {
    std::string text = std::string("Action ") + actionKeyword(a.kind);
    switch (a.kind) {
      case ActionKind::Tag:
      case ActionKind::Untag: text += " " + quoted(a.tag->value); break;
      case ActionKind::Score:
        text += a.assignOp == AssignOp::Add ? " +=" : a.assignOp == AssignOp::Subtract ? " -=" : " =";
        break;
      case ActionKind::Set:
        text += " " + a.target.text + (a.assignOp == AssignOp::Add ? " +=" : a.assignOp == AssignOp::Subtract ? " -=" : "");
        break;
      case ActionKind::Richmenu:
      case ActionKind::Start:
      case ActionKind::Stop: text += " " + a.target.text; break;
      default: break;
    }
    line(depth, text, a.range);
    messageRefs(a.messages, depth + 1);
    expr(a.value.get(), depth + 1);
    if (a.kind == ActionKind::If) {
      line(depth + 1, "then", {});
      actions(a.thenActions, depth + 2);
      if (!a.elseActions.empty()) {
        line(depth + 1, "else", {});
        actions(a.elseActions, depth + 2);
      }
    }
  }

  void decl(const Decl& d, const SourceManager& sources) {
    (void)sources;
    switch (d.kind) {
      case DeclKind::Tags: {
        line(1, "Tags", d.range);
        for (const auto& t : static_cast<const TagsDecl&>(d).tags) line(2, quoted(t->value), t->range);
        break;
      }
      case DeclKind::Catalog: {
        const auto& c = static_cast<const CatalogDecl&>(d);
        line(1, "Catalog " + c.name.text, d.range);
        for (const FieldDecl& f : c.fields) line(2, "Field " + f.name.text + ": " + typeText(f.type), f.range);
        break;
      }
      case DeclKind::Use: {
        const auto& u = static_cast<const UseDecl&>(d);
        line(1, "Use " + u.module.text, d.range);
        break;
      }
      case DeclKind::Schema: {
        const auto& s = static_cast<const SchemaDecl&>(d);
        line(1, "Schema", d.range);
        for (const AttributeDecl& a : s.attributes) {
          line(2, "Attribute " + a.name.text + ": " + typeText(a.type), a.range);
        }
        for (const EventDecl& e : s.events) {
          line(2, "Event " + e.name.text, e.range);
          for (const FieldDecl& f : e.fields) line(3, "Field " + f.name.text + ": " + typeText(f.type), f.range);
        }
        break;
      }
      case DeclKind::Segment: {
        const auto& s = static_cast<const SegmentDecl&>(d);
        line(1, "Segment " + s.name.text, d.range);
        expr(s.condition.get(), 2);
        break;
      }
      case DeclKind::Message: {
        const auto& m = static_cast<const MessageDecl&>(d);
        line(1, "Message " + m.name.text + " " + messageKindName(m.body.kind), d.range);
        for (const ParamDecl& p : m.params) line(2, "Param " + p.name.text + ": " + typeText(p.type), p.range);
        if (m.body.text) expr(m.body.text.get(), 2, m.body.kind == MessageBody::Kind::Text ? "text" : m.body.kind == MessageBody::Kind::Flex ? "file" : "url");
        if (m.body.altText) expr(m.body.altText.get(), 2, "alt");
        if (m.body.preview) expr(m.body.preview.get(), 2, "preview");
        if (m.body.kind == MessageBody::Kind::Sticker) {
          line(2, fmt::format("package {} sticker {}", m.body.packageId, m.body.stickerId), m.body.range);
        }
        break;
      }
      case DeclKind::Richmenu: {
        const auto& r = static_cast<const RichmenuDecl&>(d);
        line(1, "Richmenu " + r.name.text + " " + quoted(r.alias->value), d.range);
        break;
      }
      case DeclKind::Menus: {
        const auto& m = static_cast<const MenusDecl&>(d);
        line(1, "Menus", d.range);
        for (const MenuRule& rule : m.rules) {
          line(2, (rule.condition ? "Rule -> " : "Default -> ") + rule.menu.text, rule.range);
          expr(rule.condition.get(), 3);
        }
        break;
      }
      case DeclKind::Scenario: {
        const auto& s = static_cast<const ScenarioDecl&>(d);
        std::string head = "Scenario " + s.name.text + " on " + s.trigger.name.text;
        if (s.binding) head += " as " + s.binding->text;
        line(1, head, d.range);
        expr(s.where.get(), 2, "where");
        for (const ExprPtr& e : s.exitWhen) expr(e.get(), 2, "exit when");
        if (s.reentry.range.valid()) {
          const char* kinds[] = {"never", "always", "after"};
          std::string text = std::string("Reenter ") + kinds[static_cast<int>(s.reentry.kind)];
          if (s.reentry.kind == Reentry::Kind::After) text += " " + civil::formatDuration(s.reentry.afterSeconds);
          line(2, text, s.reentry.range);
        }
        for (const Step& step : s.steps) {
          std::string timing;
          if (step.timing.kind == StepTiming::Kind::Day) {
            timing = fmt::format("day {}", step.timing.day);
            if (step.timing.atSecondsOfDay) timing += " at " + civil::formatClock(*step.timing.atSecondsOfDay);
          } else {
            timing = "after " + civil::formatDuration(step.timing.afterSeconds);
          }
          line(2, "Step " + timing, step.range);
          expr(step.when.get(), 3, "when");
          actions(step.actions, 3);
        }
        break;
      }
      case DeclKind::Rule: {
        const auto& r = static_cast<const RuleDecl&>(d);
        line(1, "Rule on " + r.trigger.name.text, d.range);
        expr(r.where.get(), 2, "where");
        actions(r.actions, 2);
        break;
      }
      case DeclKind::Campaign: {
        const auto& c = static_cast<const CampaignDecl&>(d);
        line(1, "Campaign " + c.name.text, d.range);
        expr(c.audience.get(), 2, "to");
        expr(c.schedule.get(), 2, "at");
        if (c.limit) line(2, fmt::format("limit {}", *c.limit), c.limitRange);
        for (const SplitArm& arm : c.split) {
          line(2, "Split " + civil::formatPercent(arm.basisPoints) + (arm.holdout ? " holdout" : ""), arm.range);
          messageRefs(arm.messages, 3);
        }
        messageRefs(c.messages, 2);
        break;
      }
      case DeclKind::Policy: {
        const auto& p = static_cast<const PolicyDecl&>(d);
        line(1, "Policy", d.range);
        if (p.timezone) line(2, "timezone " + quoted(p.timezone->value), p.timezone->range);
        if (p.quietFrom) line(2, "quiet " + civil::formatClock(*p.quietFrom) + " .. " + civil::formatClock(*p.quietTo), p.quietRange);
        if (p.capCount) line(2, fmt::format("cap {} per {}", *p.capCount, civil::formatDuration(p.capPeriodSeconds)), p.capRange);
        if (p.minReach) line(2, fmt::format("min_reach {}", *p.minReach), p.minReachRange);
        if (p.expiredReply) line(2, "expired_reply " + p.expiredReply->text, p.expiredReply->range);
        if (p.beyondQuota) line(2, "beyond_quota " + p.beyondQuota->text, p.beyondQuota->range);
        break;
      }
      case DeclKind::Test: {
        const auto& t = static_cast<const TestDecl&>(d);
        line(1, "Test " + quoted(t.title->value), d.range);
        for (const TestItem& item : t.items) testItem(item);
        break;
      }
    }
  }

 private:
  void testItem(const TestItem& item) {
    static const char* kNames[] = {"GivenFriend", "GivenEvent", "Clock", "ExpectIn", "ExpectMenu", "ExpectSent", "ExpectCondition"};
    std::string text = kNames[static_cast<int>(item.kind)];
    if (item.negated) text += " not";
    if (!item.name.text.empty()) text += " " + item.name.text;
    if (item.message) text += " " + item.message->name.text;
    line(2, text, item.range);
    for (const ObjectField& f : item.fields) expr(f.value.get(), 3, f.name.text.c_str());
    expr(item.at.get(), 3, "at");
    expr(item.condition.get(), 3);
  }

  friend std::string seg::ast::describe(const Expr& e);

  static std::string header(const Expr& e) {
    switch (e.kind) {
      case ExprKind::IntLit: return fmt::format("Int {}", static_cast<const IntLitExpr&>(e).value);
      case ExprKind::PercentLit: return "Percent " + civil::formatPercent(static_cast<const PercentLitExpr&>(e).basisPoints);
      case ExprKind::StringLit: {
        const auto& s = static_cast<const StringLitExpr&>(e);
        std::string text = "String " + quoted(s.value);
        for (const Placeholder& p : s.placeholders) text += " {{" + p.name + (p.fallback ? "|" + *p.fallback : "") + "}}";
        return text;
      }
      case ExprKind::BoolLit: return static_cast<const BoolLitExpr&>(e).value ? "Bool true" : "Bool false";
      case ExprKind::DateLit: return "Date " + civil::formatDate(static_cast<const DateLitExpr&>(e).days);
      case ExprKind::DateTimeLit: {
        const auto& t = static_cast<const DateTimeLitExpr&>(e);
        std::string text = "DateTime " + civil::formatDateTime(t.days, t.secondsOfDay);
        if (t.utcOffsetSeconds) text += fmt::format(" offset {}s", *t.utcOffsetSeconds);
        return text;
      }
      case ExprKind::ClockLit: return "Clock " + civil::formatClock(static_cast<const ClockLitExpr&>(e).secondsOfDay);
      case ExprKind::DurationLit: return "Duration " + civil::formatDuration(static_cast<const DurationLitExpr&>(e).seconds);
      case ExprKind::ListLit: return "List";
      case ExprKind::RangeLit: return "Range";
      case ExprKind::NameRef: return "Name " + static_cast<const NameRefExpr&>(e).name;
      case ExprKind::Member: return "Member ." + static_cast<const MemberExpr&>(e).member.text;
      case ExprKind::Call: return "Call " + static_cast<const CallExpr&>(e).callee.text;
      case ExprKind::Aggregate: {
        const auto& a = static_cast<const AggregateExpr&>(e);
        std::string text = std::string("Aggregate ") + aggregateFnName(a.fn);
        if (a.window.kind == Window::Kind::Within) text += " within " + civil::formatDuration(a.window.withinSeconds);
        if (a.window.kind == Window::Kind::Since) text += " since";
        return text;
      }
      case ExprKind::TagTest: return "Tag " + quoted(static_cast<const TagTestExpr&>(e).tag->value);
      case ExprKind::AudienceTest: return "Audience " + quoted(static_cast<const AudienceTestExpr&>(e).audience->value);
      case ExprKind::Unary: return static_cast<const UnaryExpr&>(e).op == UnaryOp::Not ? "Not" : "Negate";
      case ExprKind::Binary: return std::string("Binary ") + binaryOpSpelling(static_cast<const BinaryExpr&>(e).op);
      case ExprKind::Logical: return static_cast<const LogicalExpr&>(e).op == LogicalOp::And ? "And" : "Or";
      case ExprKind::In: return static_cast<const InExpr&>(e).negated ? "NotIn" : "In";
      case ExprKind::Between: return "Between";
    }
    return "?";
  }

  void children(const Expr& e, int depth) {
    switch (e.kind) {
      case ExprKind::ListLit:
        for (const ExprPtr& el : static_cast<const ListLitExpr&>(e).elements) expr(el.get(), depth);
        break;
      case ExprKind::RangeLit:
        expr(static_cast<const RangeLitExpr&>(e).low.get(), depth);
        expr(static_cast<const RangeLitExpr&>(e).high.get(), depth);
        break;
      case ExprKind::Member: expr(static_cast<const MemberExpr&>(e).object.get(), depth); break;
      case ExprKind::Call:
        for (const ExprPtr& a : static_cast<const CallExpr&>(e).args) expr(a.get(), depth);
        break;
      case ExprKind::Aggregate: {
        const auto& a = static_cast<const AggregateExpr&>(e);
        expr(a.source.get(), depth, "source");
        expr(a.where.get(), depth, "where");
        expr(a.window.since.get(), depth, "since");
        break;
      }
      case ExprKind::Unary: expr(static_cast<const UnaryExpr&>(e).operand.get(), depth); break;
      case ExprKind::Binary:
        expr(static_cast<const BinaryExpr&>(e).lhs.get(), depth);
        expr(static_cast<const BinaryExpr&>(e).rhs.get(), depth);
        break;
      case ExprKind::Logical:
        for (const ExprPtr& o : static_cast<const LogicalExpr&>(e).operands) expr(o.get(), depth);
        break;
      case ExprKind::In:
        expr(static_cast<const InExpr&>(e).value.get(), depth);
        expr(static_cast<const InExpr&>(e).collection.get(), depth);
        break;
      case ExprKind::Between: {
        const auto& b = static_cast<const BetweenExpr&>(e);
        expr(b.value.get(), depth);
        expr(b.low.get(), depth, "low");
        expr(b.high.get(), depth, "high");
        break;
      }
      default: break;
    }
  }

  std::string out_;
};

}  // namespace

std::string dump(const Program& program, const SourceManager& sources) {
  Dumper dumper;
  dumper.line(0, "Program " + (program.file == kNoFile ? std::string("?") : sources.file(program.file).path()), {});
  for (const DeclPtr& d : program.decls) dumper.decl(*d, sources);
  return dumper.take();
}

std::string describe(const Expr& e) { return Dumper::header(e); }

std::string dump(const Expr& e) {
  Dumper dumper;
  dumper.expr(&e, 0);
  return dumper.take();
}

}  // namespace seg::ast
