#include "compiler/ir/lower.h"

#include "compiler/ir/lower_automation.h"

#include <stdexcept>

#include "compiler/ast/ast.h"
#include "base/civil_time.h"
#include "base/timezone.h"
#include "compiler/sema/typed_program.h"

namespace seg::ir {
namespace {

using namespace seg::ast;
using sema::RefKind;

}  // namespace

ValueType valueTypeOf(sema::TypeId type, const sema::TypeTable& types) {
  switch (types.kind(type)) {
    case sema::TypeKind::Bool: return ValueType::Bool;
    case sema::TypeKind::String:
    case sema::TypeKind::Catalog: return ValueType::String;
    case sema::TypeKind::Date: return ValueType::Date;
    case sema::TypeKind::Time: return ValueType::Time;
    case sema::TypeKind::Duration: return ValueType::Duration;
    case sema::TypeKind::Percent: return ValueType::Percent;
    case sema::TypeKind::Enum: return ValueType::Enum;
    default: return ValueType::Int;
  }
}

namespace {

Op compareOp(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return Op::Add;
    case BinaryOp::Sub: return Op::Sub;
    case BinaryOp::Eq: return Op::Eq;
    case BinaryOp::Ne: return Op::Ne;
    case BinaryOp::Lt: return Op::Lt;
    case BinaryOp::Le: return Op::Le;
    case BinaryOp::Gt: return Op::Gt;
    case BinaryOp::Ge: return Op::Ge;
    case BinaryOp::Contains: return Op::Contains;
    case BinaryOp::StartsWith: return Op::StartsWith;
    case BinaryOp::EndsWith: return Op::EndsWith;
    case BinaryOp::Matches: return Op::Matches;
  }
  return Op::Eq;
}

Op functionOp(sema::Function f) {
  switch (f) {
    case sema::Function::Month: return Op::Month;
    case sema::Function::Day: return Op::Day;
    case sema::Function::Year: return Op::Year;
    case sema::Function::Weekday: return Op::Weekday;
    case sema::Function::Hour: return Op::Hour;
    case sema::Function::Date: return Op::DateOf;
    case sema::Function::Age: return Op::Age;
    case sema::Function::Length: return Op::Length;
    default: return Op::Const;
  }
}

Op aggregateOp(AggregateFn fn) {
  switch (fn) {
    case AggregateFn::Exists: return Op::Exists;
    case AggregateFn::Count: return Op::Count;
    case AggregateFn::Sum: return Op::Sum;
    case AggregateFn::Min: return Op::Min;
    case AggregateFn::Max: return Op::Max;
    case AggregateFn::Last: return Op::Last;
  }
  return Op::Exists;
}

}  // namespace

Lowerer::Lowerer(const sema::TypedProgram& typed) : typed_(typed) {
  program_.schema = lowerSchema(typed);
  program_.timezone = typed.policy.timezone;
  // Segment ids match the typed program's, so references lower directly.
  for (const sema::Segment& s : typed.segments) program_.segments.push_back({s.name, kNoNode, false, ""});
  for (std::size_t i = 0; i < typed.segments.size(); ++i) {
    std::string line;
    program_.segments[i].root = lowerExpr(*typed.segments[i].decl->condition, &line);
    program_.segments[i].lineSide = typed.segments[i].usesLine;
    program_.segments[i].lineAttribute = line;
  }
  // A segment that uses a LINE-side one is LINE-side too.
  for (std::uint32_t s : typed.segmentOrder) {
    if (typed.segments[s].usesLine && program_.segments[s].lineAttribute.empty()) {
      for (std::uint32_t r : typed.segments[s].references) {
        if (!program_.segments[r].lineAttribute.empty()) program_.segments[s].lineAttribute = program_.segments[r].lineAttribute;
      }
    }
  }
}

ValueType Lowerer::typeOf(const ast::Expr& e) const { return valueTypeOf(typed_.typeOf(e), typed_.types); }

NodeId Lowerer::constant(ValueType type, std::int64_t value) {
  Node n;
  n.op = Op::Const;
  n.type = type;
  n.imm = value;
  return program_.add(n);
}

NodeId Lowerer::lowerExpr(const ast::Expr& e, std::string* lineAttribute) {
  lineAttribute_ = lineAttribute;
  return lower(e);
}

NodeId Lowerer::lower(const ast::Expr& e) {
  const sema::Ref& ref = typed_.refOf(e);
  Node n;
  n.type = typeOf(e);
  const auto attributeIndex = [&](const std::string& name) {
    const auto index = program_.schema.attribute(name);
    if (!index) throw std::logic_error("attribute missing from the lowered schema: " + name);
    return static_cast<std::uint32_t>(*index);
  };
  switch (e.kind) {
    case ExprKind::IntLit: return constant(ValueType::Int, static_cast<const IntLitExpr&>(e).value);
    case ExprKind::PercentLit: return constant(ValueType::Percent, static_cast<const PercentLitExpr&>(e).basisPoints);
    case ExprKind::BoolLit: return constant(ValueType::Bool, static_cast<const BoolLitExpr&>(e).value ? 1 : 0);
    case ExprKind::DateLit: return constant(ValueType::Date, static_cast<const DateLitExpr&>(e).days);
    case ExprKind::ClockLit: return constant(ValueType::Int, static_cast<const ClockLitExpr&>(e).secondsOfDay);
    case ExprKind::DurationLit: return constant(ValueType::Duration, static_cast<const DurationLitExpr&>(e).seconds);
    case ExprKind::DateTimeLit: {
      const auto& t = static_cast<const DateTimeLitExpr&>(e);
      std::int64_t instant;
      if (t.utcOffsetSeconds) {
        instant = static_cast<std::int64_t>(t.days) * civil::kSecondsPerDay + t.secondsOfDay - *t.utcOffsetSeconds;
      } else {
        instant = TimeZone::find(program_.timezone)->toInstant(t.days, t.secondsOfDay);
      }
      return constant(ValueType::Time, instant);
    }
    case ExprKind::StringLit: {
      if (ref.kind == RefKind::EnumValue) return constant(ValueType::Enum, ref.index);
      n.op = Op::Const;
      n.type = ValueType::String;
      n.a = program_.intern(static_cast<const StringLitExpr&>(e).value);
      return program_.add(n);
    }
    case ExprKind::NameRef:
    case ExprKind::Member:
      switch (ref.kind) {
        case RefKind::Attribute: {
          const std::string& name = typed_.attributes[ref.index].name;
          n.op = name == "friend_for" ? Op::FriendFor : Op::Attr;
          if (n.op == Op::Attr) n.a = attributeIndex(name);
          return program_.add(n);
        }
        case RefKind::LineAttribute: {
          if (lineAttribute_ != nullptr && lineAttribute_->empty()) {
            *lineAttribute_ = "line." + typed_.lineAttributes[ref.index].name;
          }
          n.op = Op::Const;
          n.flags = kMissing;
          return program_.add(n);
        }
        case RefKind::Segment:
          n.op = Op::SegmentRef;
          n.a = ref.index;
          return program_.add(n);
        case RefKind::EnumValue: return constant(ValueType::Enum, ref.index);
        case RefKind::RowField:
          n.op = Op::RowField;
          n.a = ref.sub;
          return program_.add(n);
        case RefKind::CatalogField:
          n.op = Op::CatalogField;
          n.a = ref.index;
          n.b = ref.sub;
          n.args.push_back(lower(*static_cast<const MemberExpr&>(e).object));
          return program_.add(n);
        case RefKind::TriggerField:
          n.op = Op::TriggerField;
          n.a = ref.sub;
          return program_.add(n);
        case RefKind::Now: n.op = Op::Now; return program_.add(n);
        case RefKind::Today: n.op = Op::Today; return program_.add(n);
        default: throw std::logic_error("unresolved name reached lowering");
      }
    case ExprKind::Call: {
      const auto& call = static_cast<const CallExpr&>(e);
      const auto function = static_cast<sema::Function>(ref.index);
      switch (function) {
        case sema::Function::Received:
        case sema::Function::Opened:
        case sema::Function::Clicked:
          n.op = Op::Status;
          n.a = program_.intern(static_cast<const StringLitExpr&>(*call.args[0]).value);
          n.b = function == sema::Function::Received ? 0 : function == sema::Function::Opened ? 1 : 2;
          return program_.add(n);
        case sema::Function::Bucket:
          n.op = Op::Bucket;
          n.a = program_.intern(static_cast<const StringLitExpr&>(*call.args[0]).value);
          return program_.add(n);
        case sema::Function::Param:
          n.op = Op::Param;
          n.args.push_back(lower(*call.args[0]));
          n.args.push_back(lower(*call.args[1]));
          return program_.add(n);
        case sema::Function::Has:
          n.op = Op::Has;
          n.a = attributeIndex(static_cast<const NameRefExpr&>(*call.args[0]).name);
          return program_.add(n);
        default:
          n.op = functionOp(function);
          n.args.push_back(lower(*call.args[0]));
          return program_.add(n);
      }
    }
    case ExprKind::Aggregate: {
      const auto& agg = static_cast<const AggregateExpr&>(e);
      n.op = aggregateOp(agg.fn);
      n.a = ref.index;  // the event
      if (const auto* member = as<MemberExpr>(agg.source.get())) n.b = typed_.refOf(*member).sub + 1;
      if (agg.window.kind == Window::Kind::Within) n.imm = agg.window.withinSeconds;
      if (agg.where) {
        n.flags |= kHasWhere;
        n.args.push_back(lower(*agg.where));
      }
      if (agg.window.kind == Window::Kind::Since) {
        n.flags |= kHasSince;
        n.args.push_back(lower(*agg.window.since));
      }
      return program_.add(n);
    }
    case ExprKind::TagTest:
      n.op = Op::Tag;
      n.a = program_.intern(static_cast<const TagTestExpr&>(e).tag->value);
      return program_.add(n);
    case ExprKind::AudienceTest:
      n.op = Op::Audience;
      n.a = program_.intern(static_cast<const AudienceTestExpr&>(e).audience->value);
      return program_.add(n);
    case ExprKind::Unary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      n.op = u.op == UnaryOp::Not ? Op::Not : Op::Neg;
      n.args.push_back(lower(*u.operand));
      return program_.add(n);
    }
    case ExprKind::Binary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      n.op = compareOp(b.op);
      n.args.push_back(lower(*b.lhs));
      if (b.op == BinaryOp::Matches) {
        n.a = program_.intern(static_cast<const StringLitExpr&>(*b.rhs).value);
      } else {
        n.args.push_back(lower(*b.rhs));
      }
      return program_.add(n);
    }
    case ExprKind::Logical: {
      const auto& l = static_cast<const LogicalExpr&>(e);
      n.op = l.op == LogicalOp::And ? Op::And : Op::Or;
      for (const ExprPtr& operand : l.operands) n.args.push_back(lower(*operand));
      return program_.add(n);
    }
    case ExprKind::In: {
      const auto& in = static_cast<const InExpr&>(e);
      n.args.push_back(lower(*in.value));
      if (const auto* list = as<ListLitExpr>(in.collection.get())) {
        n.op = Op::InList;
        for (const ExprPtr& element : list->elements) n.args.push_back(lower(*element));
      } else {
        const auto& range = static_cast<const RangeLitExpr&>(*in.collection);
        n.op = Op::InRange;
        n.args.push_back(lower(*range.low));
        n.args.push_back(lower(*range.high));
      }
      const NodeId in_ = program_.add(n);
      if (!in.negated) return in_;
      Node negation;
      negation.op = Op::Not;
      negation.args.push_back(in_);
      return program_.add(negation);
    }
    case ExprKind::Between: {
      const auto& b = static_cast<const BetweenExpr&>(e);
      n.op = Op::InRange;
      n.args = {lower(*b.value), lower(*b.low), lower(*b.high)};
      return program_.add(n);
    }
    case ExprKind::ListLit:
    case ExprKind::RangeLit: break;
  }
  throw std::logic_error("unexpected expression in lowering");
}

Program lowerProgram(const sema::TypedProgram& typed, const SourceManager* sources) {
  Lowerer lowerer(typed);
  lowerAutomation(lowerer, typed, sources);
  return std::move(lowerer.program());
}

}  // namespace seg::ir
