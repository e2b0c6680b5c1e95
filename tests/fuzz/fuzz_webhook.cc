// libFuzzer: any bytes as a LINE webhook request body, taken into a store
// (in memory) as `segc import --webhook` takes it. Errors are fine; a
// crash, a hang or a store that does not reopen is not.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  seg::fuzz::importOnce(seg::ImportKind::Webhook, "body.json", std::string_view(reinterpret_cast<const char*>(data), size), false);
  return 0;
}
