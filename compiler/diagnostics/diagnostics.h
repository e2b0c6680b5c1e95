// Diagnostics: what every phase reports, and how it is shown.
//
// Phases report through a DiagnosticEngine; the driver renders what was
// collected, either clang-style text with the source line and a caret span,
// or JSON for editors and CI.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "compiler/source/source.h"

namespace seg {

enum class Severity : std::uint8_t { Error, Warning, Note };

enum class DiagId : std::uint16_t {
#define DIAG(Name, Code, Severity, Format) Name,
#include "compiler/diagnostics/diagnostic_kinds.def"
};

struct DiagInfo {
  DiagId id;
  std::string_view code;
  Severity severity;
  std::string_view format;
  std::string_view name;
};

const DiagInfo& diagInfo(DiagId id);
// Every declared diagnostic, in declaration order.
const std::vector<DiagInfo>& allDiagnostics();
std::string_view severityName(Severity severity);

// A secondary location ("previous declaration is here").
struct DiagNote {
  SourceRange range;
  std::string message;
};

struct Diagnostic {
  DiagId id;
  Severity severity;
  SourceRange range;
  std::string message;
  std::vector<std::string> help;
  std::vector<DiagNote> notes;

  Diagnostic& addHelp(std::string text) {
    help.push_back(std::move(text));
    return *this;
  }
  Diagnostic& addNote(SourceRange where, std::string text) {
    notes.push_back({where, std::move(text)});
    return *this;
  }
};

class DiagnosticEngine {
 public:
  explicit DiagnosticEngine(std::size_t errorLimit = 100) : errorLimit_(errorLimit) {}

  // Reports a diagnostic; the returned reference stays valid for adding
  // help and notes. Past the error limit, errors go to a scratch slot and
  // are not kept.
  template <typename... Args>
  Diagnostic& report(DiagId id, SourceRange range, Args&&... args) {
    const DiagInfo& info = diagInfo(id);
    return push(Diagnostic{id, info.severity, range,
                           fmt::format(fmt::runtime(info.format), std::forward<Args>(args)...),
                           {}, {}});
  }

  const std::deque<Diagnostic>& diagnostics() const { return diagnostics_; }
  std::size_t errorCount() const { return errors_; }
  std::size_t warningCount() const { return warnings_; }
  bool hasErrors() const { return errors_ > 0; }
  bool limitReached() const { return errorLimit_ != 0 && errors_ >= errorLimit_; }
  std::size_t errorLimit() const { return errorLimit_; }
  // Sorts by file and position, keeping report order among equals.
  void sortByPosition();

 private:
  Diagnostic& push(Diagnostic diagnostic);

  std::deque<Diagnostic> diagnostics_;
  Diagnostic discarded_;
  std::size_t errors_ = 0;
  std::size_t warnings_ = 0;
  std::size_t errorLimit_;
};

struct RenderOptions {
  bool color = false;
};

// clang-style text: "file:line:col: error[E0010]: message", the source line,
// a caret span and help lines.
std::string renderText(const Diagnostic& diagnostic, const SourceManager& sources,
                       const RenderOptions& options = {});
// One JSON object (no trailing newline).
std::string renderJson(const Diagnostic& diagnostic, const SourceManager& sources);

}  // namespace seg
