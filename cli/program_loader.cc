#include "cli/program_loader.h"

#include <cstdlib>
#include <ctime>
#include <thread>

#include <fmt/format.h>

#include "base/timezone.h"
#include "cli/output.h"
#include "runtime/ingest/values.h"
#include "runtime/jit/jit.h"
#include "compiler/ir/lower.h"
#include "compiler/sema/sema.h"
#include "compiler/syntax/parser.h"

namespace seg::cli {

std::unique_ptr<LoadedProgram> loadProgram(const std::string& path) {
  auto loaded = std::make_unique<LoadedProgram>();
  std::string error;
  const auto file = loaded->sources.load(path, error);
  if (!file) {
    printToolError(fmt::format("cannot read `{}`: {}", path, error));
    return nullptr;
  }
  DiagnosticEngine diags;
  ast::Program ast = syntax::parseFile(loaded->sources, *file, diags);
  if (!diags.hasErrors()) loaded->program = sema::analyze(std::move(ast), loaded->sources, diags);
  // Warnings do not stop a run; show them only with errors, where they help.
  if (diags.hasErrors()) {
    printDiagnostics(diags, loaded->sources, {});
    printToolError(fmt::format("`{}` has errors; `segc check {}` lists them", path, path));
    return nullptr;
  }
  return loaded;
}

std::unique_ptr<Store> openStore(const std::string& dir, const ir::Schema* programSchema, bool write) {
  try {
    OpenOptions options;
    options.readOnly = !write;
    options.create = write;
    auto store = Store::open(dir, programSchema, options);
    const RecoveryReport& r = store->recovery();
    if (r.tornTailCut || r.discardedTransactions > 0) {
      fmt::print(stderr,
                 "segc: note: recovered `{}` after an interrupted write: {} transaction(s) replayed, "
                 "{} unfinished one(s) left out\n",
                 dir, r.replayedTransactions, r.discardedTransactions);
    }
    return store;
  } catch (const std::exception& e) {
    printToolError(e.what());
    return nullptr;
  }
}

std::unique_ptr<AutomationSession> openSession(const std::string& programPath, const std::string& storeDir, bool write,
                                               bool batched) {
  auto session = std::make_unique<AutomationSession>();
  session->loaded = loadProgram(programPath);
  if (!session->loaded) return nullptr;
  session->program = ir::lowerProgram(session->loaded->program, &session->loaded->sources);
  session->store = openStore(storeDir, &session->program.schema, write);
  if (!session->store) return nullptr;
  try {
    session->jit = makeJit();
    if (batched) {
      auto batch = std::make_unique<BatchWriter>(*session->store);
      session->batch = batch.get();
      session->writer = std::move(batch);
    } else {
      session->writer = std::make_unique<StoreWriter>(*session->store);
    }
    EngineOptions engineOptions;
    engineOptions.compiler = session->jit.get();
    engineOptions.threads = std::max(1u, std::thread::hardware_concurrency());
    session->engine = std::make_unique<AutomationEngine>(session->program, *session->writer, engineOptions);
  } catch (const std::exception& e) {
    printToolError(e.what());
    return nullptr;
  }
  return session;
}

std::string channelSecret(const std::string& option) {
  if (!option.empty()) return option;
  const char* secret = std::getenv("LINE_CHANNEL_SECRET");
  return secret != nullptr ? secret : "";
}

std::optional<std::int64_t> instantOption(const std::string& option, const std::string& at, const std::string& timezone) {
  if (at.empty()) return static_cast<std::int64_t>(std::time(nullptr));
  const auto zone = TimeZone::find(timezone);
  std::string error;
  auto instant = instantFromText(at, *zone, error);
  if (!instant) printToolError(option + ": " + error);
  return instant;
}

}  // namespace seg::cli
