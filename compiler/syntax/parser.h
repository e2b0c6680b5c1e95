// The front door of compiler/syntax: source text in, AST and diagnostics
// out. Nothing ANTLR-specific crosses this header.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diagnostics/diagnostics.h"

namespace seg::syntax {

// Wall-clock time spent in each step, for `segc check --time`.
struct ParseTimes {
  double lexSeconds = 0;
  double parseSeconds = 0;
  double buildSeconds = 0;
  std::size_t tokens = 0;
};

// Parses one file. Always returns a program (possibly partial); problems
// are reported to `diags`, all of them, each at its own position.
ast::Program parseFile(const SourceManager& sources, FileId file, DiagnosticEngine& diags,
                       ParseTimes* times = nullptr);

}  // namespace seg::syntax
