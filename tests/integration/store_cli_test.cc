// segc gen, import, export and stats, end to end, including every class of
// bad input: the store must come out unchanged by the bad records.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "runtime/ingest/importer.h"
#include "tests/integration/cli.h"

namespace fs = std::filesystem;

namespace seg {
namespace {

const std::string kShop = std::string(SEG_SOURCE_DIR) + "/examples/shop/shop.seg";
const std::string kData = std::string(SEG_SOURCE_DIR) + "/tests/data";

using testing::CliRun;
using testing::quote;
using testing::segc;
std::string read(const std::string& path) { return testing::readFile(path); }

class StoreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("seg-cli-{}-{}", getpid(), counter_++);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }
  // The store's counts (without timings, which vary).
  std::string stats(const std::string& store) {
    std::string out = segc("stats --json --store " + quote(store)).out;
    const std::size_t at = out.find("\"open_seconds\"");
    if (at != std::string::npos) out.erase(at, out.find('\n', at) - at);
    return out;
  }

  fs::path dir_;
  static inline int counter_ = 0;
};

// tests/data/store-v2 was written by seg before numeric columns moved from
// bit slices to binned range indexes (snapshot format 2): it still opens,
// and its ranges select the friends that seg selected then.
TEST_F(StoreCli, OlderSnapshotsOpenAndAnswerAsBefore) {
  fs::copy(kData + "/store-v2", path("store"));
  const std::string program = quote(std::string(SEG_SOURCE_DIR) + "/bench/eval/bench.seg");
  const std::pair<const char*, const char*> expected[] = {
      {"points_band", "5"}, {"recent_order", "31"}, {"mixed", "25"}, {"birthday_month", "15"}, {"vip", "37"}};
  for (const auto& [segment, count] : expected) {
    for (const char* engine : {"auto", "interp"}) {
      const CliRun run = segc(fmt::format("eval {} --store {} --segment {} --at 2026-11-18T12:00:00+09:00 --count --engine {}",
                                          program, quote(path("store")), segment, engine));
      EXPECT_EQ(run.exit, 0) << run.out;
      EXPECT_EQ(run.out, std::string(count) + "\n") << segment << " with " << engine;
    }
  }
}

TEST_F(StoreCli, GeneratedStoresAreDeterministic) {
  ASSERT_EQ(segc(fmt::format("gen {} --store {} --friends 500 --events 4000 --seed 7", quote(kShop), quote(path("a")))).exit, 0);
  ASSERT_EQ(segc(fmt::format("gen {} --store {} --friends 500 --events 4000 --seed 7", quote(kShop), quote(path("b")))).exit, 0);
  ASSERT_EQ(segc(fmt::format("gen {} --store {} --friends 500 --events 4000 --seed 8", quote(kShop), quote(path("c")))).exit, 0);
  EXPECT_EQ(read(path("a/snapshot.seg")), read(path("b/snapshot.seg")));
  EXPECT_NE(read(path("a/snapshot.seg")), read(path("c/snapshot.seg")));
}

TEST_F(StoreCli, ExportImportRoundTrip) {
  ASSERT_EQ(segc(fmt::format("gen {} --store {} --friends 300 --events 3000 --seed 3", quote(kShop), quote(path("a")))).exit, 0);
  ASSERT_EQ(segc(fmt::format("import {} --store {} --audience {} --name winter", quote(kShop), quote(path("a")),
                             quote(kData + "/audience.csv"))).exit, 1);  // two bad lines
  const CliRun first = segc(fmt::format("export --store {} --friends {} --events {} --audiences {} --catalogs {}", quote(path("a")),
                                     quote(path("f1.jsonl")), quote(path("e1.jsonl")), quote(path("aud1")), quote(path("cat1"))));
  ASSERT_EQ(first.exit, 0) << first.out;
  EXPECT_NE(first.out.find("product.jsonl: 10000 rows"), std::string::npos) << first.out;
  const CliRun import = segc(fmt::format("import {} --store {} --friends {} --events {} --audience {} --catalog {}", quote(kShop),
                                      quote(path("b")), quote(path("f1.jsonl")), quote(path("e1.jsonl")),
                                      quote(path("aud1/winter.csv")), quote(path("cat1/product.jsonl"))));
  ASSERT_EQ(import.exit, 0) << import.out;
  ASSERT_EQ(segc(fmt::format("export --store {} --friends {} --events {} --audiences {} --catalogs {}", quote(path("b")),
                             quote(path("f2.jsonl")), quote(path("e2.jsonl")), quote(path("aud2")), quote(path("cat2")))).exit, 0);
  EXPECT_EQ(read(path("cat1/product.jsonl")), read(path("cat2/product.jsonl")));
  EXPECT_EQ(read(path("f1.jsonl")), read(path("f2.jsonl")));
  EXPECT_EQ(read(path("e1.jsonl")), read(path("e2.jsonl")));
  EXPECT_EQ(read(path("aud1/winter.csv")), read(path("aud2/winter.csv")));
  EXPECT_NE(read(path("f1.jsonl")).find("\"tags\""), std::string::npos);
}

TEST_F(StoreCli, BadFriendRecordsAreReportedAndLeftOut) {
  const std::string bad = write("friends.jsonl",
                                "{\"user_id\": \"U4af4980629a1b2c3d4e5f60718293a4b\", \"member_rank\": \"gold\", \"points\": 10}\n"
                                "{\"user_id\": \"U0000000000000000000000000000000a\", \"points\": \"lots\"}\n"
                                "{\"user_id\": \"Ubad\"}\n"
                                "{\"user_id\": \"U0000000000000000000000000000000b\", \"membr_rank\": \"gold\"}\n"
                                "{\"user_id\": \"U0000000000000000000000000000000c\", \"points\": 1\n"
                                "[1, 2]\n"
                                "{\"points\": 5}\n");
  const CliRun run = segc(fmt::format("import {} --store {} --friends {}", quote(kShop), quote(path("s")), quote(bad)));
  EXPECT_EQ(run.exit, 1);
  EXPECT_NE(run.out.find("friends.jsonl:2: error: field `points`: expected a whole number, found a string"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("friends.jsonl:3: error: field `user_id`: \"Ubad\" is not a LINE user ID"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("friends.jsonl:4: error: field `membr_rank`: unknown attribute; did you mean `member_rank`?"), std::string::npos);
  EXPECT_NE(run.out.find("friends.jsonl:5: error: malformed JSON"), std::string::npos);
  EXPECT_NE(run.out.find("friends.jsonl:6: error: expected a JSON object"), std::string::npos);
  EXPECT_NE(run.out.find("friends.jsonl:7: error: field `user_id`: missing"), std::string::npos);
  EXPECT_NE(run.out.find("7 records, 1 imported, 6 skipped"), std::string::npos) << run.out;
  EXPECT_NE(stats(path("s")).find("\"friends\": 1,"), std::string::npos);
}

TEST_F(StoreCli, StrictImportIsAllOrNothing) {
  const std::string good = write("good.jsonl", "{\"user_id\": \"U4af4980629a1b2c3d4e5f60718293a4b\", \"points\": 10}\n");
  ASSERT_EQ(segc(fmt::format("import {} --store {} --friends {}", quote(kShop), quote(path("s")), quote(good))).exit, 0);
  const std::string mixed = write("mixed.jsonl",
                                  "{\"user_id\": \"U0000000000000000000000000000000a\", \"points\": 1}\n"
                                  "{\"user_id\": \"U0000000000000000000000000000000b\", \"points\": \"x\"}\n");
  const CliRun run = segc(fmt::format("import --strict --store {} --friends {}", quote(path("s")), quote(mixed)));
  EXPECT_EQ(run.exit, 1);
  EXPECT_NE(run.out.find("2 records checked, 1 bad: nothing imported (--strict)"), std::string::npos) << run.out;
  EXPECT_NE(stats(path("s")).find("\"friends\": 1,"), std::string::npos);
}

TEST_F(StoreCli, CsvFriendsWithQuotesBomAndBadCells) {
  const CliRun run = segc(fmt::format("import {} --store {} --friends {}", quote(kShop), quote(path("s")),
                                   quote(kData + "/friends.csv")));
  EXPECT_EQ(run.exit, 1);
  EXPECT_NE(run.out.find("friends.csv:4: error: field `member_rank`: expected one of regular, silver, gold, platinum, found \"bronze\""),
            std::string::npos) << run.out;
  EXPECT_NE(run.out.find("friends.csv:5: error: field `birthday`: invalid date \"2000-02-30\""), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("4 records, 2 imported, 2 skipped"), std::string::npos) << run.out;
  const CliRun exported = segc(fmt::format("export --store {} --friends {}", quote(path("s")), quote(path("out.jsonl"))));
  ASSERT_EQ(exported.exit, 0);
  const std::string text = read(path("out.jsonl"));
  EXPECT_NE(text.find("\"tags\":[\"VIP\",\"リピーター\"]"), std::string::npos) << text;
}

TEST_F(StoreCli, HugeLineIsRefusedWithoutReadingItIntoMemory) {
  const std::string huge = path("huge.jsonl");
  {
    std::ofstream out(huge, std::ios::binary);
    out << "{\"user_id\": \"U4af4980629a1b2c3d4e5f60718293a4b\"}\n{";
  }
  fs::resize_file(huge, (2ull << 30) + 100);  // a 2 GB line (sparse: no disk used)
  std::ofstream(huge, std::ios::binary | std::ios::app) << "\n{\"user_id\": \"U0000000000000000000000000000000a\"}\n";
  const CliRun run = segc(fmt::format("import {} --store {} --friends {}", quote(kShop), quote(path("s")), quote(huge)));
  EXPECT_EQ(run.exit, 1);
  EXPECT_NE(run.out.find("huge.jsonl:2: error: line is longer than 16 MiB; it was skipped"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("3 records, 2 imported, 1 skipped"), std::string::npos) << run.out;
}

TEST_F(StoreCli, EventsAreCheckedAgainstTheSchema) {
  const std::string events = write("events.jsonl",
                                   "{\"event\": \"purchase\", \"user_id\": \"U4af4980629a1b2c3d4e5f60718293a4b\", "
                                   "\"time\": \"2026-11-01T10:00:00+09:00\", \"product\": \"化粧水\", \"category\": \"skincare\", \"price\": 3200}\n"
                                   "{\"event\": \"purchse\", \"user_id\": \"U4af4980629a1b2c3d4e5f60718293a4b\", \"time\": 1}\n"
                                   "{\"event\": \"purchase\", \"user_id\": \"U4af4980629a1b2c3d4e5f60718293a4b\", \"time\": \"yesterday\"}\n"
                                   "{\"event\": \"purchase\", \"user_id\": \"U4af4980629a1b2c3d4e5f60718293a4b\", \"time\": 1764550800000, \"prise\": 3}\n"
                                   "{\"event\": \"view\", \"user_id\": \"U4af4980629a1b2c3d4e5f60718293a4b\", \"time\": 1764550800000}\n");
  const CliRun run = segc(fmt::format("import {} --store {} --events {}", quote(kShop), quote(path("s")), quote(events)));
  EXPECT_EQ(run.exit, 1);
  EXPECT_NE(run.out.find("events.jsonl:2: error: field `event`: unknown event \"purchse\"; did you mean `purchase`?"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("events.jsonl:3: error: field `time`: expected a time"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("events.jsonl:4: error: field `prise`: event `purchase` has no such field; did you mean `price`?"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("5 records, 2 imported, 3 skipped"), std::string::npos) << run.out;
}

TEST_F(StoreCli, WebhookBodiesAreVerifiedAndDeduplicated) {
  const std::string body = kData + "/webhook_body.json";
  const std::string signature = webhookSignature("test-secret", read(body));
  // A wrong signature: refused, nothing written.
  CliRun run = segc(fmt::format("import {} --store {} --webhook {} --channel-secret test-secret --signature {}", quote(kShop),
                             quote(path("s")), quote(body), quote("AAAA" + signature.substr(4))));
  EXPECT_EQ(run.exit, 1);
  EXPECT_NE(run.out.find("the signature does not match the body"), std::string::npos) << run.out;
  EXPECT_NE(stats(path("s")).find("\"friends\": 0,"), std::string::npos);
  // Missing signature while a secret is configured.
  run = segc(fmt::format("import --store {} --webhook {} --channel-secret test-secret", quote(path("s")), quote(body)));
  EXPECT_NE(run.out.find("needs its `x-line-signature`"), std::string::npos) << run.out;
  // The right one.
  run = segc(fmt::format("import --store {} --webhook {} --channel-secret test-secret --signature {}", quote(path("s")),
                         quote(body), quote(signature)));
  EXPECT_EQ(run.exit, 0) << run.out;
  EXPECT_NE(run.out.find("6 records, 4 imported, 2 not used by seg"), std::string::npos) << run.out;
  std::string s = stats(path("s"));
  EXPECT_NE(s.find("\"friends\": 2,"), std::string::npos) << s;
  EXPECT_NE(s.find("\"blocked\": 1,"), std::string::npos) << s;
  EXPECT_NE(s.find("\"events\": 4,"), std::string::npos) << s;
  // LINE redelivers the same body: nothing is counted twice.
  run = segc(fmt::format("import --store {} --webhook {} --channel-secret test-secret --signature {}", quote(path("s")),
                         quote(body), quote(signature)));
  EXPECT_NE(run.out.find("6 records, 0 imported, 6 already seen (redelivered)"), std::string::npos) << run.out;
  EXPECT_EQ(stats(path("s")), s);
  // Malformed bodies are refused whole.
  const std::string broken = write("broken.json", "{\"destination\": \"x\", \"events\": [");
  run = segc(fmt::format("import --store {} --webhook {}", quote(path("s")), quote(broken)));
  EXPECT_EQ(run.exit, 1);
  EXPECT_NE(run.out.find("malformed JSON"), std::string::npos) << run.out;
}

TEST_F(StoreCli, StatsAndMissingStores) {
  CliRun run = segc("stats --store " + quote(path("nope")));
  EXPECT_EQ(run.exit, 2);
  EXPECT_NE(run.out.find("no store at"), std::string::npos) << run.out;
  run = segc(fmt::format("import --store {} --friends {}", quote(path("new")), quote(kData + "/friends.csv")));
  EXPECT_EQ(run.exit, 2);
  EXPECT_NE(run.out.find("a new store needs a program for its schema"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace seg
