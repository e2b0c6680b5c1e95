#include "runtime/api/runtime.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "compiler/diagnostics/diagnostics.h"
#include "compiler/ir/lower.h"
#include "compiler/syntax/parser.h"
#include "runtime/jit/jit.h"

namespace seg {

std::shared_ptr<const CompiledProgram> CompiledProgram::fromFile(const std::string& path) {
  auto program = std::unique_ptr<CompiledProgram>(new CompiledProgram());
  std::string error;
  const auto file = program->sources_.load(path, error);
  if (!file) throw ProgramError(fmt::format("cannot read `{}`: {}", path, error));
  return compile(std::move(program), *file);
}

std::shared_ptr<const CompiledProgram> CompiledProgram::fromText(const std::string& name, const std::string& text) {
  auto program = std::unique_ptr<CompiledProgram>(new CompiledProgram());
  const FileId file = program->sources_.add(name, text);
  return compile(std::move(program), file);
}

std::shared_ptr<const CompiledProgram> CompiledProgram::compile(std::unique_ptr<CompiledProgram> program, FileId file) {
  DiagnosticEngine diags;
  ast::Program ast = syntax::parseFile(program->sources_, file, diags);
  if (!diags.hasErrors()) program->typed_ = sema::analyze(std::move(ast), program->sources_, diags);
  if (diags.hasErrors()) {
    std::string rendered;
    for (const Diagnostic& d : diags.diagnostics()) {
      if (d.severity == Severity::Error) rendered += renderText(d, program->sources_);
    }
    throw ProgramError(rendered);
  }
  program->ir_ = ir::lowerProgram(program->typed_);
  return std::shared_ptr<const CompiledProgram>(std::move(program));
}

namespace {

std::unique_ptr<ResidualCompiler> jitFor(const RuntimeOptions& options, std::string& why) {
  if (!options.jit) {
    why = "the JIT is off";
    return nullptr;
  }
  auto jit = makeJit();
  if (!jit) why = "LLVM cannot target this machine";
  return jit;
}

}  // namespace

Runtime::Runtime(std::shared_ptr<const CompiledProgram> program, const StoreState& state, RuntimeOptions options)
    : program_(std::move(program)), state_(state), jit_(jitFor(options, jitUnavailable_)),
      evaluator_(program_->ir(), state_, jit_.get(),
                 options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency())) {}

Runtime::~Runtime() = default;

Bitmap Runtime::members(const std::string& segment, std::int64_t now) {
  return evaluate(segment, now).friends;
}

EvaluationResult Runtime::evaluate(const std::string& segment, std::int64_t now, Engine engine, bool profile) {
  if (engine == Engine::Auto && !jit_) engine = Engine::Bitmap;
  return evaluator_.evaluate(segment, now, engine, profile);
}

bool Runtime::isMember(const std::string& segment, std::uint32_t friendId, std::int64_t now) {
  return evaluator_.contains(segment, friendId, now);
}

bool Runtime::isMember(const std::string& segment, const UserId& user, std::int64_t now) {
  const auto id = state_.friends().find(user);
  return id && evaluator_.contains(segment, *id, now);
}

}  // namespace seg
