#include "compiler/ast/ast.h"

#include "base/civil_time.h"

namespace seg::ast {

const char* exprKindName(ExprKind kind) {
  switch (kind) {
#define EXPR_KIND(Name) \
  case ExprKind::Name:  \
    return #Name;
#include "compiler/ast/expr_kinds.def"
  }
  return "?";
}

const char* actionKeyword(ActionKind kind) {
  switch (kind) {
#define ACTION_KIND(Name, Keyword) \
  case ActionKind::Name:           \
    return Keyword;
#include "compiler/ast/action_kinds.def"
  }
  return "?";
}

const char* declKeyword(DeclKind kind) {
  switch (kind) {
#define DECL_KIND(Name, Keyword) \
  case DeclKind::Name:           \
    return Keyword;
#include "compiler/ast/decl_kinds.def"
  }
  return "?";
}

const char* aggregateFnName(AggregateFn fn) {
  switch (fn) {
    case AggregateFn::Exists: return "exists";
    case AggregateFn::Count: return "count";
    case AggregateFn::Sum: return "sum";
    case AggregateFn::Min: return "min";
    case AggregateFn::Max: return "max";
    case AggregateFn::Last: return "last";
  }
  return "?";
}

const char* binaryOpSpelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "+";
    case BinaryOp::Sub: return "-";
    case BinaryOp::Eq: return "==";
    case BinaryOp::Ne: return "!=";
    case BinaryOp::Lt: return "<";
    case BinaryOp::Le: return "<=";
    case BinaryOp::Gt: return ">";
    case BinaryOp::Ge: return ">=";
    case BinaryOp::Contains: return "contains";
    case BinaryOp::StartsWith: return "starts_with";
    case BinaryOp::EndsWith: return "ends_with";
    case BinaryOp::Matches: return "matches";
  }
  return "?";
}

const char* messageKindName(MessageBody::Kind kind) {
  switch (kind) {
    case MessageBody::Kind::Text: return "text";
    case MessageBody::Kind::Flex: return "flex";
    case MessageBody::Kind::Image: return "image";
    case MessageBody::Kind::Sticker: return "sticker";
  }
  return "?";
}

std::string triggerText(const Trigger& trigger) {
  switch (trigger.change) {
    case Trigger::Change::Enter: return "enter " + trigger.name.text;
    case Trigger::Change::Leave: return "leave " + trigger.name.text;
    case Trigger::Change::None: break;
  }
  if (trigger.atSecondsOfDay) return trigger.name.text + " at " + civil::formatClock(*trigger.atSecondsOfDay);
  return trigger.name.text;
}

}  // namespace seg::ast
