// Lowering the typed program to the IR (compiler/ir/expr.h).
#pragma once

#include "compiler/ir/expr.h"
#include "compiler/sema/types.h"

namespace seg::ast {
struct Expr;
}
namespace seg::sema {
struct TypedProgram;
}
namespace seg {
class SourceManager;
}

namespace seg::ir {

// How a checked type is stored and computed (enums by rank, catalog
// references as their row's id).
ValueType valueTypeOf(sema::TypeId type, const sema::TypeTable& types);

class Lowerer {
 public:
  // Lowers the schema and every segment; conditions elsewhere (menus,
  // scenarios, campaigns) are lowered on demand with lowerExpr.
  explicit Lowerer(const sema::TypedProgram& typed);

  Program& program() { return program_; }
  // Lowers any checked boolean or value expression of the typed program.
  // Sets `lineAttribute` when it reads a `line.*` attribute (which only
  // LINE can evaluate).
  NodeId lowerExpr(const ast::Expr& e, std::string* lineAttribute = nullptr);

 private:
  NodeId lower(const ast::Expr& e);
  NodeId constant(ValueType type, std::int64_t value);
  ValueType typeOf(const ast::Expr& e) const;

  const sema::TypedProgram& typed_;
  Program program_;
  std::string* lineAttribute_ = nullptr;
};

// The whole program lowered: segments and automation. `sources` (optional)
// names the places of test items for reports.
Program lowerProgram(const sema::TypedProgram& typed, const SourceManager* sources = nullptr);

}  // namespace seg::ir
