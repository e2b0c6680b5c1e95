// Loading and checking a program for the commands that run it: prints its
// diagnostics the way `segc check` does and says whether it can be used.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "compiler/diagnostics/diagnostics.h"
#include "compiler/ir/schema.h"
#include "compiler/sema/typed_program.h"
#include "runtime/automation/engine.h"
#include "runtime/automation/state_writer.h"
#include "runtime/exec/segment_evaluator.h"
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

// A program and a store, opened for the automation engine. Batched: the
// engine's units of work share transactions until `batch->flush()`.
struct AutomationSession {
  std::unique_ptr<LoadedProgram> loaded;
  ir::Program program;
  std::unique_ptr<Store> store;
  std::unique_ptr<ResidualCompiler> jit;
  std::unique_ptr<StateWriter> writer;
  BatchWriter* batch = nullptr;  // the writer, when batched
  std::unique_ptr<AutomationEngine> engine;
};
// Null when anything fails (already printed).
std::unique_ptr<AutomationSession> openSession(const std::string& programPath, const std::string& storeDir, bool write,
                                               bool batched = false);

// The channel secret from --channel-secret, else LINE_CHANNEL_SECRET: one
// rule for every command that reads webhook bodies.
std::string channelSecret(const std::string& option);

}  // namespace seg::cli
