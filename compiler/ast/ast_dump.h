// A readable, stable dump of the AST (`segc check --dump-ast`), one node a
// line, indented by depth, each with its source range.
#pragma once

#include <string>

#include "compiler/ast/ast.h"

namespace seg::ast {

std::string dump(const Program& program, const SourceManager& sources);
std::string dump(const Expr& expr);
// One node's line in the dump, without children or range: `Binary >=`.
std::string describe(const Expr& expr);

}  // namespace seg::ast
