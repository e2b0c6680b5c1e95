// What a per-key enrolment costs (`scenario ... as e per e.product`): each
// of FRIENDS friends carts PER_FRIEND distinct products out of PRODUCTS, in
// memory through the automation engine; the process's resident memory is
// read before and after, and compared with the same events on a scenario
// without `per` (one enrolment per friend). Run by bench/enrolment_bench.sh;
// results in docs/benchmarks.md.
//   seg_enrolment_bench FRIENDS PER_FRIEND PRODUCTS
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "base/civil_time.h"
#include "base/timezone.h"
#include "runtime/api/runtime.h"
#include "runtime/automation/engine.h"

namespace seg {
namespace {

constexpr const char* kProgram = R"(
schema { event cart_add(product: string, price: int)  event purchase(product: string) }
message reminder(product: string) = text "「{{product}}」がカートに残っています"
scenario cart_recovery on cart_add as e {PER} {
  exit when exists(purchase where product == e.product)
  after 1d: send reminder(product: e.product)
  after 3d: send reminder(product: e.product)
}
)";

std::size_t residentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

struct Result {
  std::size_t enrolments = 0;
  std::size_t bytes = 0;
  double seconds = 0;
};

Result run(bool perProduct, int friends, int perFriend, int products) {
  std::string text = kProgram;
  text.replace(text.find("{PER}"), 5, perProduct ? "per e.product" : "");
  const auto program = CompiledProgram::fromText("bench.seg", text);
  MemoryWriter writer{StoreState(program->ir().schema)};
  AutomationEngine engine(program->ir(), writer, {});
  const std::int64_t start = TimeZone::find("Asia/Tokyo")->toInstant(civil::daysFromCivil({2026, 12, 1}), 9 * 3600);
  const std::uint32_t cart = static_cast<std::uint32_t>(*program->ir().schema.event("cart_add"));
  // Friends first, so that only enrolments are measured.
  for (int n = 0; n < friends; ++n) {
    InboundEvent e;
    e.changes.push_back(Mutation::of(Mutation::Kind::AddFriend, *UserId::parse(fmt::format("U{:032x}", n + 1))));
    writer.stage(e.changes);
  }
  engine.advanceTo(start);
  const std::size_t before = residentBytes();
  const auto began = std::chrono::steady_clock::now();
  for (int k = 0; k < perFriend; ++k) {
    for (int n = 0; n < friends; ++n) {
      InboundEvent e;
      Mutation m = Mutation::of(Mutation::Kind::AppendEvent, *UserId::parse(fmt::format("U{:032x}", n + 1)));
      m.index = cart;
      m.time = start + k * 60;
      m.fields = {Value::ofString(fmt::format("sku-{:05}", (n * 7919 + k * 104729) % products)), Value::ofInt(3000)};
      e.changes.push_back(std::move(m));
      engine.handle(e, start + k * 60);
    }
  }
  Result r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  r.bytes = residentBytes() - before;
  r.enrolments = writer.state().automation().enrolmentCount();
  return r;
}

}  // namespace
}  // namespace seg

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: seg_enrolment_bench FRIENDS PER_FRIEND PRODUCTS\n");
    return 2;
  }
  const int friends = std::atoi(argv[1]), perFriend = std::atoi(argv[2]), products = std::atoi(argv[3]);
  const bool per = std::getenv("SEG_BENCH_WITHOUT_PER") == nullptr;
  const seg::Result r = seg::run(per, friends, perFriend, products);
  const double events = static_cast<double>(friends) * perFriend;
  fmt::print("{}: {} friends x {} carts over {} products: {} enrolments, {:.1f} MiB more resident ({:.0f} bytes an enrolment, "
             "events included), {:.1f} us an event\n",
             per ? "per e.product" : "without per", friends, perFriend, products, r.enrolments,
             static_cast<double>(r.bytes) / (1 << 20), static_cast<double>(r.bytes) / std::max<std::size_t>(1, r.enrolments),
             r.seconds * 1e6 / events);
  return 0;
}
