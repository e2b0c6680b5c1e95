#include "cli/output.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace seg::cli {

bool useColor(ColorMode mode, int fd) {
  switch (mode) {
    case ColorMode::Always: return true;
    case ColorMode::Never: return false;
    case ColorMode::Auto: return isatty(fd) && std::getenv("NO_COLOR") == nullptr;
  }
  return false;
}

void printToolError(std::string_view message) {
  fmt::print(stderr, "segc: error: {}\n", message);
}

void printDiagnostics(DiagnosticEngine& diags, const SourceManager& sources, const OutputOptions& options) {
  diags.sortByPosition();
  const RenderOptions render{useColor(options.color, STDERR_FILENO)};
  for (const Diagnostic& d : diags.diagnostics()) {
    fmt::print(stderr, "{}\n", renderText(d, sources, render));
  }
  if (diags.limitReached()) {
    fmt::print(stderr, "segc: stopped after {} errors; fix these first, or raise --error-limit\n",
               diags.errorLimit());
  }
}

std::string diagnosticsJson(DiagnosticEngine& diags, const SourceManager& sources) {
  diags.sortByPosition();
  std::string out = "[";
  bool first = true;
  for (const Diagnostic& d : diags.diagnostics()) {
    out += first ? "\n  " : ",\n  ";
    out += renderJson(d, sources);
    first = false;
  }
  out += first ? "]" : "\n]";
  return out;
}

}  // namespace seg::cli
