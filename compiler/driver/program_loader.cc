#include "compiler/driver/program_loader.h"

#include <fmt/format.h>

#include "compiler/driver/output.h"
#include "compiler/sema/sema.h"
#include "compiler/syntax/parser.h"

namespace seg::driver {

std::unique_ptr<LoadedProgram> loadProgram(const std::string& path) {
  auto loaded = std::make_unique<LoadedProgram>();
  std::string error;
  const auto file = loaded->sources.load(path, error);
  if (!file) {
    printToolError(fmt::format("cannot read `{}`: {}", path, error));
    return nullptr;
  }
  DiagnosticEngine diags;
  ast::Program ast = syntax::parseFile(loaded->sources, *file, diags);
  if (!diags.hasErrors()) loaded->program = sema::analyze(std::move(ast), loaded->sources, diags);
  // Warnings do not stop a run; show them only with errors, where they help.
  if (diags.hasErrors()) {
    printDiagnostics(diags, loaded->sources, {});
    printToolError(fmt::format("`{}` has errors; `segc check {}` lists them", path, path));
    return nullptr;
  }
  return loaded;
}

}  // namespace seg::driver
