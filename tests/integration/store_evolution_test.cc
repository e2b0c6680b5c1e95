// A store that holds data meets programs that change its schema, imports
// that fail, and events that arrive in any order. Every command either
// works with the right answers or refuses before writing anything, with
// one clear message; the store always reopens; a failed command leaves the
// store's files byte for byte as they were; the order events arrive in
// does not change what the store holds.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "tests/integration/cli.h"

namespace fs = std::filesystem;

namespace seg {
namespace {

using testing::quote;
using testing::segc;

std::string user(int n) { return fmt::format("U{:032x}", n); }

std::string fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class StoreEvolution : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / fmt::format("seg-evolution-{}-{}", getpid(), counter_++)).string();
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
    return quote(path(name));
  }
  std::string store(const std::string& name = "store") const { return quote(path(name)); }
  // The store's files, to compare before and after a command.
  std::string files(const std::string& name = "store") const {
    return fileBytes(path(name) + "/snapshot.seg") + "|" + fileBytes(path(name) + "/wal.log");
  }

  // A store of v1 with friends and events.
  std::string v1() {
    const std::string program = write("v1.seg", R"(
schema {
  rank: enum(regular, gold)
  points: int
  event purchase(product: string)
}
segment gold_ones = rank == gold
segment buyers = exists(purchase)
message m = text "x"
campaign c { to buyers at 2026-12-10 10:00 send m }
)");
    std::string friends, events;
    for (int n = 1; n <= 20; ++n) {
      friends += fmt::format("{{\"user_id\":\"{}\",\"rank\":\"{}\",\"points\":{}}}\n", user(n), n % 3 ? "regular" : "gold", n);
      events += fmt::format("{{\"event\":\"purchase\",\"user_id\":\"{}\",\"time\":\"2026-11-{:02}T10:00:00+09:00\",\"product\":\"p{}\"}}\n",
                            user(n), n, n % 4);
    }
    write("friends.jsonl", friends);
    write("events.jsonl", events);
    const auto run = segc(fmt::format("import {} --store {} --friends {} --events {}", program, store(), quote(path("friends.jsonl")),
                                      quote(path("events.jsonl"))));
    EXPECT_EQ(run.exit, 0) << run.out;
    return program;
  }

  std::string dir_;
  static inline int counter_ = 0;
};

// Every command that takes a program, with that program, on the store.
std::vector<std::string> commandsWith(const std::string& program, const std::string& store, const std::string& data) {
  return {
      fmt::format("import {} --store {} --friends {}", program, store, data),
      fmt::format("eval {} --store {} --all --at 2026-12-01T10:00", program, store),
      fmt::format("explain {} --store {} --segment buyers --at 2026-12-01T10:00", program, store),
      fmt::format("plan {} --store {} --campaign c", program, store),
      fmt::format("outbox {} --store {} --at 2026-12-01T10:00", program, store),
      fmt::format("run {} --store {} --until 2026-12-01T10:00", program, store),
      fmt::format("simulate {} --store {} --from 2026-12-01 --to 2026-12-02", program, store),
  };
}

// Changes the store takes: each command works, with the right answers,
// and the store reopens.
TEST_F(StoreEvolution, ChangesThatFitAreUsableAtOnce) {
  v1();
  const std::string data = write("more.jsonl", fmt::format("{{\"user_id\":\"{}\",\"rank\":\"platinum\",\"coupon\":\"X1\"}}\n", user(99)));
  const std::string v2 = write("v2.seg", R"(
schema {
  rank: enum(regular, gold, platinum)      // a value added at the end
  coupon: string                           // a new attribute
  event purchase(product: string, price: int)   // a new field on an event with rows
  event review(stars: int)                 // a new event
}
// `points` is not declared any more: it is kept.
segment gold_ones = rank == gold
segment top = rank == platinum
segment buyers = exists(purchase)
segment priced = exists(purchase where price > 0)
segment couponed = coupon == "X1"
message m = text "x"
campaign c { to buyers at 2026-12-10 10:00 send m }
)");
  for (const std::string& command : commandsWith(v2, store(), data)) {
    const auto run = segc(command);
    EXPECT_EQ(run.exit, 0) << command << "\n" << run.out;
  }
  const auto count = [&](const std::string& segment) {
    return segc(fmt::format("eval {} --store {} --segment {} --count --at 2026-12-01T10:00", v2, store(), segment)).out;
  };
  EXPECT_EQ(count("gold_ones"), "6\n");
  EXPECT_EQ(count("top"), "1\n");
  EXPECT_EQ(count("buyers"), "20\n");
  EXPECT_EQ(count("priced"), "0\n");  // the new field is missing in the old rows
  EXPECT_EQ(count("couponed"), "1\n");
  const auto stats = segc(fmt::format("stats --store {}", store()));
  EXPECT_EQ(stats.exit, 0) << stats.out;
  const auto exported = segc(fmt::format("export --store {} --friends {}", store(), quote(path("out.jsonl"))));
  EXPECT_EQ(exported.exit, 0) << exported.out;
  EXPECT_NE(fileBytes(path("out.jsonl")).find("\"points\":7"), std::string::npos);  // the undeclared attribute is kept
}

// Changes the store cannot take: every command refuses before writing, with
// the same message, and the store's files do not change.
TEST_F(StoreEvolution, ChangesThatDoNotFitAreRefusedByEveryCommand) {
  v1();
  const std::string data = write("more.jsonl", fmt::format("{{\"user_id\":\"{}\"}}\n", user(99)));
  const struct {
    const char* what;
    const char* schema;
    const char* message;
  } kChanges[] = {
      {"reordered enum", "rank: enum(gold, regular)\n  points: int", "reorders or drops"},
      {"dropped enum value", "rank: enum(regular)\n  points: int", "reorders or drops"},
      {"changed type", "rank: enum(regular, gold)\n  points: string", "is int in the store but string in the program"},
  };
  for (const auto& change : kChanges) {
    const std::string program = write("bad.seg", fmt::format(R"(
schema {{
  {}
  event purchase(product: string)
}}
segment buyers = exists(purchase)
message m = text "x"
campaign c {{ to buyers at 2026-12-10 10:00 send m }}
)",
                                                             change.schema));
    const std::string before = files();
    for (const std::string& command : commandsWith(program, store(), data)) {
      const auto run = segc(command);
      EXPECT_EQ(run.exit, 2) << change.what << ": " << command << "\n" << run.out;
      EXPECT_NE(run.out.find(change.message), std::string::npos) << change.what << ": " << command << "\n" << run.out;
      EXPECT_EQ(files(), before) << change.what << ": " << command << " changed the store";
    }
    EXPECT_EQ(segc(fmt::format("stats --store {}", store())).exit, 0) << change.what;
  }
}

// A command that exits non-zero leaves the store as it found it; without
// --strict an import applies exactly the records it reports as imported.
TEST_F(StoreEvolution, FailedImportsChangeNothing) {
  const std::string program = v1();
  std::string mixed;
  for (int n = 30; n < 40; ++n) {
    mixed += n % 3 == 0 ? fmt::format("{{\"user_id\":\"{}\",\"points\":\"many\"}}\n", user(n))
                        : fmt::format("{{\"user_id\":\"{}\",\"points\":{}}}\n", user(n), n);
  }
  write("mixed.jsonl", mixed);
  const std::string before = files();
  const auto strict = segc(fmt::format("import {} --store {} --friends {} --strict", program, store(), quote(path("mixed.jsonl"))));
  EXPECT_EQ(strict.exit, 1) << strict.out;
  EXPECT_EQ(files(), before);
  const auto badZone = segc(fmt::format("import {} --store {} --events {} --timezone Mars/Olympus", program, store(), quote(path("events.jsonl"))));
  EXPECT_NE(badZone.exit, 0) << badZone.out;
  EXPECT_EQ(files(), before);
  const auto missing = segc(fmt::format("import {} --store {} --friends {}", program, store(), quote(path("nowhere.jsonl"))));
  EXPECT_NE(missing.exit, 0) << missing.out;
  EXPECT_EQ(files(), before);
  // Without --strict: 10 records, 4 bad (30, 33, 36 and 39).
  const auto lenient = segc(fmt::format("import {} --store {} --friends {}", program, store(), quote(path("mixed.jsonl"))));
  EXPECT_EQ(lenient.exit, 1) << lenient.out;
  EXPECT_NE(lenient.out.find("10 records, 6 imported"), std::string::npos) << lenient.out;
  ASSERT_EQ(segc(fmt::format("export --store {} --friends {}", store(), quote(path("out.jsonl")))).exit, 0);
  const std::string exported = fileBytes(path("out.jsonl"));
  for (int n = 30; n < 40; ++n) {
    EXPECT_EQ(exported.find(user(n)) != std::string::npos, n % 3 != 0) << user(n);
  }
}

// The same events imported in two orders give the same friends and events.
TEST_F(StoreEvolution, ArrivalOrderDoesNotMatter) {
  const std::string program = write("p.seg", R"(
schema { event purchase(product: string, price: int) }
)");
  std::vector<std::string> lines;
  std::mt19937_64 random(42);
  for (int n = 0; n < 400; ++n) {
    const int who = static_cast<int>(random() % 40) + 1;
    const int day = static_cast<int>(random() % 28) + 1;
    const int hour = static_cast<int>(random() % 24);
    switch (random() % 3) {
      case 0:
        lines.push_back(fmt::format("{{\"event\":\"follow\",\"user_id\":\"{}\",\"time\":\"2026-11-{:02}T{:02}:{:02}:00+09:00\"}}",
                                    user(who), day, hour, n % 60));
        break;
      case 1:
        lines.push_back(fmt::format("{{\"event\":\"unfollow\",\"user_id\":\"{}\",\"time\":\"2026-11-{:02}T{:02}:{:02}:00+09:00\"}}",
                                    user(who), day, hour, n % 60));
        break;
      default:
        lines.push_back(fmt::format(
            "{{\"event\":\"purchase\",\"user_id\":\"{}\",\"time\":\"2026-11-{:02}T{:02}:{:02}:00+09:00\",\"product\":\"p{}\",\"price\":{}}}",
            user(who), day, hour, n % 60, n % 7, n * 10));
    }
  }
  std::string inOrder, shuffled;
  for (const std::string& l : lines) inOrder += l + "\n";
  std::shuffle(lines.begin(), lines.end(), random);
  for (const std::string& l : lines) shuffled += l + "\n";
  write("a.jsonl", inOrder);
  write("b.jsonl", shuffled);
  const auto sorted = [](std::string text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> friends[2], events[2];
  for (int i = 0; i < 2; ++i) {
    const std::string name = i == 0 ? "a" : "b";
    ASSERT_EQ(segc(fmt::format("import {} --store {} --events {}", program, store(name), quote(path(name + ".jsonl")))).exit, 0);
    ASSERT_EQ(segc(fmt::format("export --store {} --friends {} --events {}", store(name), quote(path(name + "-f.jsonl")),
                               quote(path(name + "-e.jsonl"))))
                  .exit,
              0);
    friends[i] = sorted(fileBytes(path(name + "-f.jsonl")));
    events[i] = sorted(fileBytes(path(name + "-e.jsonl")));
  }
  EXPECT_EQ(friends[0], friends[1]);
  EXPECT_EQ(events[0], events[1]);
  EXPECT_EQ(friends[0].size(), 40u);
}

}  // namespace
}  // namespace seg
