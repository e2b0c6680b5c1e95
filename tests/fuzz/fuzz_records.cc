// libFuzzer: any bytes as records a CRM or a shop exports — friends as JSON
// lines or CSV, events as JSON lines, an audience as CSV — the first byte
// choosing which, and whether --strict.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using seg::ImportKind;
  if (size == 0) return 0;
  const std::uint8_t choice = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  static const struct {
    ImportKind kind;
    const char* name;
  } kKinds[] = {{ImportKind::Friends, "friends.jsonl"},
                {ImportKind::Friends, "friends.csv"},
                {ImportKind::Events, "events.jsonl"},
                {ImportKind::Audience, "winter.csv"}};
  const auto& k = kKinds[choice % 4];
  seg::fuzz::importOnce(k.kind, k.name, bytes, (choice & 4) != 0);
  return 0;
}
