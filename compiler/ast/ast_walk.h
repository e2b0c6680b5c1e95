// Visiting the direct children of an expression, for the passes that only
// care about some node kinds.
#pragma once

#include "compiler/ast/ast.h"

namespace seg::ast {

template <typename Visit>
void forEachChild(const Expr& e, Visit&& visit) {
  const auto each = [&](const ExprPtr& child) {
    if (child) visit(*child);
  };
  switch (e.kind) {
    case ExprKind::ListLit:
      for (const ExprPtr& c : static_cast<const ListLitExpr&>(e).elements) each(c);
      break;
    case ExprKind::RangeLit:
      each(static_cast<const RangeLitExpr&>(e).low);
      each(static_cast<const RangeLitExpr&>(e).high);
      break;
    case ExprKind::Member: each(static_cast<const MemberExpr&>(e).object); break;
    case ExprKind::Call:
      for (const ExprPtr& c : static_cast<const CallExpr&>(e).args) each(c);
      break;
    case ExprKind::Aggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      each(a.source);
      each(a.where);
      each(a.window.since);
      break;
    }
    case ExprKind::TagTest: visit(*static_cast<const TagTestExpr&>(e).tag); break;
    case ExprKind::AudienceTest: visit(*static_cast<const AudienceTestExpr&>(e).audience); break;
    case ExprKind::Unary: each(static_cast<const UnaryExpr&>(e).operand); break;
    case ExprKind::Binary:
      each(static_cast<const BinaryExpr&>(e).lhs);
      each(static_cast<const BinaryExpr&>(e).rhs);
      break;
    case ExprKind::Logical:
      for (const ExprPtr& c : static_cast<const LogicalExpr&>(e).operands) each(c);
      break;
    case ExprKind::In:
      each(static_cast<const InExpr&>(e).value);
      each(static_cast<const InExpr&>(e).collection);
      break;
    case ExprKind::Between:
      each(static_cast<const BetweenExpr&>(e).value);
      each(static_cast<const BetweenExpr&>(e).low);
      each(static_cast<const BetweenExpr&>(e).high);
      break;
    default: break;
  }
}

}  // namespace seg::ast
