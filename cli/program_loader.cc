#include "cli/program_loader.h"

#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

#include "base/timezone.h"
#include "cli/output.h"
#include "runtime/ingest/values.h"
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
