// A program as the service runs it: compiled from its text (a file at
// start and on SIGHUP, a request body on POST /v1/program), with its
// diagnostics rendered for whoever sent it.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "compiler/diagnostics/diagnostics.h"
#include "compiler/ir/expr.h"
#include "compiler/sema/typed_program.h"

namespace seg::service {

struct ServiceProgram {
  std::string name;  // the file's path, or what the poster called it
  SourceManager sources;
  sema::TypedProgram typed;
  ir::Program program;
};

struct CompileOutcome {
  std::unique_ptr<ServiceProgram> program;  // null when it has errors
  std::string text;                         // the diagnostics as `segc check` prints them
  nlohmann::json diagnostics = nlohmann::json::array();  // the same, as JSON objects
  std::size_t errors = 0, warnings = 0;
};

CompileOutcome compileProgram(const std::string& name, const std::string& source);
// Reads `path` first; a file that cannot be read is an error in `text`.
CompileOutcome compileProgramFile(const std::string& path);

}  // namespace seg::service
