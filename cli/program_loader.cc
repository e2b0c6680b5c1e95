#include "cli/program_loader.h"

#include <ctime>

#include <fmt/format.h>

#include "base/timezone.h"
#include "cli/output.h"
#include "runtime/ingest/values.h"
#include "compiler/sema/sema.h"
#include "compiler/syntax/parser.h"

namespace seg::cli {

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

std::optional<std::int64_t> instantOption(const std::string& option, const std::string& at, const std::string& timezone) {
  if (at.empty()) return static_cast<std::int64_t>(std::time(nullptr));
  const auto zone = TimeZone::find(timezone);
  std::string error;
  auto instant = instantFromText(at, *zone, error);
  if (!instant) printToolError(option + ": " + error);
  return instant;
}

}  // namespace seg::cli
