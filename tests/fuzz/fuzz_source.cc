// libFuzzer: any bytes as a .seg program, through the whole front end —
// lexing, parsing, checking, diagnostics rendered as text and JSON, and
// lowering to the IR when the program checks. Nothing may crash, hang or
// break an invariant the sanitizers watch.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "compiler/diagnostics/diagnostics.h"
#include "compiler/ir/lower.h"
#include "compiler/sema/sema.h"
#include "compiler/syntax/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace seg;
  SourceManager sources;
  DiagnosticEngine diags;
  const FileId file = sources.add("fuzz.seg", std::string_view(reinterpret_cast<const char*>(data), size));
  ast::Program ast = syntax::parseFile(sources, file, diags);
  sema::TypedProgram typed;
  if (!diags.hasErrors()) typed = sema::analyze(std::move(ast), sources, diags);
  for (const Diagnostic& d : diags.diagnostics()) {
    (void)renderText(d, sources);
    (void)renderJson(d, sources);
  }
  if (!diags.hasErrors()) (void)ir::lowerProgram(typed, &sources);
  return 0;
}
