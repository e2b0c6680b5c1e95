// A writer that commits numbered changes to a store and prints "ack N"
// after each commit returns, until it is killed. The crash-recovery test
// kills it at random moments and checks that every acknowledged change
// survived.
//
//   crash_writer STORE FIRST
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "compiler/ir/schema.h"
#include "runtime/store/store.h"
#include "tests/tools/crash_schema.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_writer STORE FIRST\n");
    return 2;
  }
  const seg::ir::Schema schema = seg::test::crashSchema();
  auto store = seg::Store::open(argv[1], &schema);
  const std::size_t points = *schema.attribute("points");
  const std::size_t purchase = *schema.event("purchase");
  for (long n = std::atol(argv[2]);; ++n) {
    std::vector<seg::Mutation> changes;
    seg::Mutation set = seg::Mutation::of(seg::Mutation::Kind::SetAttribute, seg::test::crashUser(n));
    set.index = static_cast<std::uint32_t>(points);
    set.value = seg::Value::ofInt(n);
    changes.push_back(set);
    seg::Mutation event = seg::Mutation::of(seg::Mutation::Kind::AppendEvent, seg::test::crashUser(n));
    event.index = static_cast<std::uint32_t>(purchase);
    event.time = 1700000000 + n;
    event.fields = {seg::Value::ofString(fmt::format("product {}", n)), seg::Value::ofInt(n)};
    changes.push_back(event);
    store->commit(std::move(changes));
    std::printf("ack %ld\n", n);
    std::fflush(stdout);
    if (n % 97 == 0) store->checkpoint();  // crashes also land inside snapshots
  }
}
