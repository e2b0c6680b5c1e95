// Builds the seg AST from ANTLR's parse tree. Internal to compiler/syntax.
//
// The tree may contain error nodes and missing children after recovery; the
// builder skips what is incomplete (the error was already reported) and
// still checks literals everywhere else.
#pragma once

#include <memory>

#include "SegParser.h"
#include "compiler/ast/ast.h"
#include "compiler/diagnostics/diagnostics.h"

namespace seg::syntax {

class AstBuilder {
 public:
  AstBuilder(FileId file, DiagnosticEngine& diags);
  ~AstBuilder();

  // Appends the declarations of one parsed chunk; expression ids continue
  // from the previous chunk.
  void append(SegParser::ProgramContext* tree, ast::Program& program);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seg::syntax
