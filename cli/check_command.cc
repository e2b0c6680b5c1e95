// segc check: parse (and, as the compiler grows, analyse) programs and
// report every problem at once.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "compiler/ast/ast_dump.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "compiler/sema/sema.h"
#include "compiler/sema/typed_dump.h"
#include "compiler/syntax/parser.h"

namespace seg::cli {
namespace {

struct CheckOptions {
  std::vector<std::string> files;
  bool dumpAst = false;
  bool dumpTyped = false;
  bool warnUnusedSegments = false;
  std::string format = "text";
  std::string color = "auto";
  std::size_t errorLimit = 100;
  bool quiet = false;
  bool time = false;
};

// "12 segments, 9 messages, 1 campaign"
std::string summarize(const ast::Program& program) {
  std::map<ast::DeclKind, std::size_t> counts;
  for (const ast::DeclPtr& d : program.decls) ++counts[d->kind];
  const std::pair<ast::DeclKind, const char*> kinds[] = {
      {ast::DeclKind::Segment, "segment"},   {ast::DeclKind::Message, "message"},
      {ast::DeclKind::Richmenu, "rich menu"}, {ast::DeclKind::Scenario, "scenario"},
      {ast::DeclKind::Rule, "rule"},         {ast::DeclKind::Campaign, "campaign"},
      {ast::DeclKind::Test, "test"},
  };
  std::vector<std::string> parts;
  for (const auto& [kind, noun] : kinds) {
    const std::size_t n = counts[kind];
    if (n > 0) parts.push_back(fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"));
  }
  if (parts.empty()) return "no declarations";
  std::string out = parts[0];
  for (std::size_t i = 1; i < parts.size(); ++i) out += ", " + parts[i];
  return out;
}

ColorMode colorMode(const std::string& name) {
  if (name == "always") return ColorMode::Always;
  if (name == "never") return ColorMode::Never;
  return ColorMode::Auto;
}

int runCheck(const CheckOptions& options) {
  SourceManager sources;
  DiagnosticEngine diags(options.errorLimit);
  const bool json = options.format == "json";
  std::vector<std::string> summaries;
  for (const std::string& path : options.files) {
    std::string error;
    const auto file = sources.load(path, error);
    if (!file) {
      printToolError(fmt::format("cannot read `{}`: {}", path, error));
      return kExitUsage;
    }
    syntax::ParseTimes times;
    const std::size_t errorsBefore = diags.errorCount();
    const std::size_t warningsBefore = diags.warningCount();
    ast::Program program = syntax::parseFile(sources, *file, diags, &times);
    if (options.dumpAst) fmt::print("{}", ast::dump(program, sources));
    std::string summary = fmt::format("{}: {}", path, summarize(program));
    // Analysis of a program with syntax errors would mostly report echoes
    // of them (names whose declarations did not parse).
    const auto start = std::chrono::steady_clock::now();
    if (diags.errorCount() == errorsBefore) {
      sema::AnalyzeOptions analyzeOptions;
      analyzeOptions.warnUnusedSegments = options.warnUnusedSegments;
      const sema::TypedProgram typed = sema::analyze(std::move(program), sources, diags, analyzeOptions);
      if (options.dumpTyped) fmt::print("{}", sema::dumpTyped(typed));
    }
    if (const std::size_t warnings = diags.warningCount() - warningsBefore; warnings > 0) {
      summary += fmt::format(" ({} warning{})", warnings, warnings == 1 ? "" : "s");
    }
    summaries.push_back(summary);
    if (options.time) {
      const double semaSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print(stderr, "{}: {} tokens; lex {:.3f}s, parse {:.3f}s, build {:.3f}s, analyze {:.3f}s\n", path,
                 times.tokens, times.lexSeconds, times.parseSeconds, times.buildSeconds, semaSeconds);
    }
  }

  if (json) {
    fmt::print("{{\"diagnostics\": {}, \"errors\": {}, \"warnings\": {}}}\n",
               diagnosticsJson(diags, sources), diags.errorCount(), diags.warningCount());
  } else {
    printDiagnostics(diags, sources, {colorMode(options.color), DiagnosticFormat::Text});
    if (diags.hasErrors()) {
      fmt::print(stderr, "{} error{}{} found\n", diags.errorCount(), diags.errorCount() == 1 ? "" : "s",
                 diags.warningCount() ? fmt::format(" and {} warning{}", diags.warningCount(),
                                                    diags.warningCount() == 1 ? "" : "s")
                                      : "");
    } else if (!options.quiet && !options.dumpAst && !options.dumpTyped) {
      for (const std::string& line : summaries) fmt::print("{}\n", line);
    }
  }
  return diags.hasErrors() ? kExitErrors : kExitOk;
}

}  // namespace

Command addCheckCommand(CLI::App& app) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* check = app.add_subcommand("check", "Check programs and report every error");
  check->add_option("files", options->files, "Program files (.seg)")->required();
  check->add_flag("--dump-ast", options->dumpAst, "Print the syntax tree");
  check->add_flag("--dump-typed", options->dumpTyped, "Print the typed program: types and what each name denotes");
  check->add_option("--format", options->format, "Diagnostics format")
      ->check(CLI::IsMember({"text", "json"}));
  check->add_option("--color", options->color, "Colored diagnostics")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  check->add_option("--error-limit", options->errorLimit, "Stop after this many errors (0: no limit)");
  check->add_flag("-q,--quiet", options->quiet, "Print nothing when the program is clean");
  check->add_flag("--warn-unused-segments", options->warnUnusedSegments,
                  "Warn about segments nothing in the program uses");
  check->add_flag("--time", options->time, "Print how long each phase took");
  return {check, [options] { return runCheck(*options); }};
}

}  // namespace seg::cli
