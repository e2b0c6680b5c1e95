// Printing diagnostics and one-line errors the same way in every command.
#pragma once

#include <string>
#include <string_view>

#include "compiler/diagnostics/diagnostics.h"

namespace seg::cli {

enum class ColorMode { Auto, Always, Never };
enum class DiagnosticFormat { Text, Json };

struct OutputOptions {
  ColorMode color = ColorMode::Auto;
  DiagnosticFormat format = DiagnosticFormat::Text;
};

bool useColor(ColorMode mode, int fd);

// "segc: error: ..." on stderr, for usage and I/O problems.
void printToolError(std::string_view message);

// Renders everything collected, sorted by position, to stderr (text) or
// returns the JSON array text (json).
void printDiagnostics(DiagnosticEngine& diags, const SourceManager& sources, const OutputOptions& options);
std::string diagnosticsJson(DiagnosticEngine& diags, const SourceManager& sources);

}  // namespace seg::cli
