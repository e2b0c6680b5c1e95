// Semantic analysis: names, types and LINE's rules, checked before anything
// runs. Takes the parsed program, reports every problem, and returns the
// typed program that later phases consume.
#pragma once

#include "compiler/diagnostics/diagnostics.h"
#include "compiler/sema/typed_program.h"

namespace seg::sema {

struct AnalyzeOptions {
  // Where relative paths in the program (flex files) are resolved; defaults
  // to the directory of the program's file.
  std::string baseDirectory;
  // Segments are often read from outside the program (`segc eval`, the
  // runtime API), so a segment nothing in the program uses is only reported
  // when asked.
  bool warnUnusedSegments = false;
};

// Analyzes `program` (parsed from a file in `sources`). `sources` gains the
// standard library files the program uses. Errors go to `diags`; the result
// is complete enough to dump even when there are errors.
TypedProgram analyze(ast::Program program, SourceManager& sources, DiagnosticEngine& diags,
                     const AnalyzeOptions& options = {});

}  // namespace seg::sema
