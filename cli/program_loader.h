// Loading and checking a program for the commands that run it: prints its
// diagnostics the way `segc check` does and says whether it can be used.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "compiler/diagnostics/diagnostics.h"
#include "compiler/sema/typed_program.h"

namespace seg::cli {

struct LoadedProgram {
  SourceManager sources;
  sema::TypedProgram program;
};

// nullptr when the program cannot be read or has errors (already printed).
std::unique_ptr<LoadedProgram> loadProgram(const std::string& path);

// A time option such as --at, read in the program's time zone; now when
// empty; nullopt (with the error printed) when it cannot be read.
std::optional<std::int64_t> instantOption(const std::string& option, const std::string& at, const std::string& timezone);

}  // namespace seg::cli
