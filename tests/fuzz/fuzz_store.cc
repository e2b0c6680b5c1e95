// libFuzzer: a store's files from any bytes — the input is split into a
// snapshot and a log — opened as seg opens a store after a crash. A damaged
// store must be refused with a message, never crash seg; one that opens
// must take a commit, a checkpoint and open again.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tests/fuzz/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace seg;
  if (size < 4) return 0;
  std::uint32_t snapshotBytes = 0;
  std::memcpy(&snapshotBytes, data, 4);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 4, size - 4);
  const std::size_t split = std::min<std::size_t>(snapshotBytes, rest.size());
  test::CrashFs files;
  files.createDirectories("/fuzz");
  files.create("/fuzz/snapshot.seg")->append(rest.substr(0, split));
  if (split < rest.size()) files.create("/fuzz/wal.log")->append(rest.substr(split));
  files.syncDirectory("/fuzz");
  OpenOptions open;
  open.fileSystem = &files;
  try {
    auto store = Store::open("/fuzz", &fuzz::schema(), open);
    Mutation m = Mutation::of(Mutation::Kind::SetAttribute, *UserId::parse("U0123456789abcdef0123456789abcdef"));
    m.index = static_cast<std::uint32_t>(*store->state().schema().attribute("points"));
    m.value = Value::ofInt(1);
    store->commit({m});
    store->checkpoint();
  } catch (const StoreError&) {
    return 0;  // refused with a message: fine
  }
  (void)Store::open("/fuzz", &fuzz::schema(), open);  // what it wrote opens again
  return 0;
}
