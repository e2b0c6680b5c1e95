// What the input harnesses share: a program whose schema has every type, a
// store of it on a file system in memory (no disk), and the import of bytes
// as one kind of record.
#pragma once

#include <memory>

#include "compiler/ir/lower.h"
#include "runtime/api/runtime.h"
#include "runtime/ingest/importer.h"
#include "runtime/store/store.h"
#include "tests/tools/crash_fs.h"

namespace seg::fuzz {

inline const char* kProgram = R"(
schema {
  rank: enum(bronze, silver = "銀", gold)
  points: int
  born: date
  seen_at: time
  wait: duration
  rate: percent
  pref: string
  vip: bool
  event purchase(product: string, price: int, at_store: bool, paid_at: time)
  event view(page: string)
}
)";

inline const ir::Schema& schema() {
  static const std::shared_ptr<const CompiledProgram> program = CompiledProgram::fromText("fuzz.seg", kProgram);
  return program->ir().schema;
}

// Imports `bytes` as `kind` into a fresh store in memory; then the store
// must reopen (what was committed is readable).
inline void importOnce(ImportKind kind, const std::string& name, std::string_view bytes, bool strict) {
  test::CrashFs files;
  OpenOptions open;
  open.fileSystem = &files;
  {
    auto store = Store::open("/fuzz", &schema(), open);
    ImportOptions options;
    options.strict = strict;
    options.now = 1796086800;
    options.recordsPerCommit = 7;
    (void)importBytes(*store, kind, name, bytes, options);
  }
  (void)Store::open("/fuzz", &schema(), open);
}

}  // namespace seg::fuzz
