#include "server/service/program.h"

#include <fmt/format.h>

#include "compiler/ir/lower.h"
#include "compiler/sema/sema.h"
#include "compiler/syntax/parser.h"

namespace seg::service {
namespace {

CompileOutcome compile(std::unique_ptr<ServiceProgram> program, FileId file) {
  CompileOutcome out;
  DiagnosticEngine diags;
  ast::Program ast = syntax::parseFile(program->sources, file, diags);
  if (!diags.hasErrors()) program->typed = sema::analyze(std::move(ast), program->sources, diags);
  diags.sortByPosition();
  for (const Diagnostic& d : diags.diagnostics()) {
    out.text += renderText(d, program->sources) + "\n";
    out.diagnostics.push_back(nlohmann::json::parse(renderJson(d, program->sources)));
  }
  out.errors = diags.errorCount();
  out.warnings = diags.warningCount();
  if (diags.hasErrors()) return out;
  program->program = ir::lowerProgram(program->typed, &program->sources);
  out.program = std::move(program);
  return out;
}

}  // namespace

CompileOutcome compileProgram(const std::string& name, const std::string& source) {
  auto program = std::make_unique<ServiceProgram>();
  program->name = name;
  if (source.size() > SourceManager::kMaxSourceBytes) {
    CompileOutcome out;
    out.text = fmt::format("{}: the program is {} MiB; seg programs are limited to {} MiB\n", name, source.size() >> 20,
                           SourceManager::kMaxSourceBytes >> 20);
    out.errors = 1;
    return out;
  }
  const FileId file = program->sources.add(name, source);
  return compile(std::move(program), file);
}

CompileOutcome compileProgramFile(const std::string& path) {
  auto program = std::make_unique<ServiceProgram>();
  program->name = path;
  std::string error;
  const auto file = program->sources.load(path, error);
  if (!file) {
    CompileOutcome out;
    out.text = fmt::format("cannot read `{}`: {}\n", path, error);
    out.errors = 1;
    return out;
  }
  return compile(std::move(program), *file);
}

}  // namespace seg::service
