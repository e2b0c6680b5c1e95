// Loading and checking a program for the commands that run it: prints its
// diagnostics the way `segc check` does and says whether it can be used.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "compiler/diagnostics/diagnostics.h"
#include "compiler/ir/schema.h"
#include "compiler/sema/typed_program.h"
#include "runtime/store/store.h"

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

// Opens the store at `dir` for a command. With a program's schema, the
// store's schema is bound to it the same way for every command (extended
// by what the program adds, refused when they disagree). Prints the reason
// and returns null on failure; notes a recovery after a crash.
std::unique_ptr<Store> openStore(const std::string& dir, const ir::Schema* programSchema, bool write);

// The channel secret from --channel-secret, else LINE_CHANNEL_SECRET: one
// rule for every command that reads webhook bodies.
std::string channelSecret(const std::string& option);

}  // namespace seg::cli
