// An import interrupted after some of its commits, then run again, ends
// with every record exactly once; a file the store has whole is not
// imported twice (issue: re-running an import after a crash duplicated
// its events).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "runtime/ingest/importer.h"
#include "tests/tools/crash_schema.h"

namespace fs = std::filesystem;

namespace seg {
namespace {

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

class ImportResume : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / fmt::format("seg-resume-{}-{}", getpid(), counter_++)).string();
    fs::create_directories(dir_);
    std::ofstream clean(dir_ + "/clean.jsonl"), mixed(dir_ + "/mixed.jsonl");
    for (int n = 0; n < 1000; ++n) {
      const std::string line = fmt::format("{{\"event\":\"purchase\",\"user_id\":\"{}\",\"time\":{},\"product\":\"p{}\",\"price\":{}}}\n",
                                           test::crashUser(n % 50).toString(), 1700000000000LL + n * 1000, n, n);
      clean << line;
      mixed << line;
      if (n % 97 == 0) mixed << "{\"event\":\"purchase\",\"user_id\":\"bad\",\"time\":1}\n";  // bad records too
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Each product, with how many times the store holds it.
  std::map<std::string, int> products(const Store& store) const {
    std::map<std::string, int> out;
    const EventLog& log = *store.state().events("purchase");
    for (std::size_t row = 0; row < log.size(); ++row) ++out[log.field(0).get(row).s];
    return out;
  }

  std::string dir_;
  static inline int counter_ = 0;
};

// Without --strict, a run killed after three of its commits; with --strict,
// one killed after its one commit, before it said so.
TEST_F(ImportResume, ARunInterruptedAfterACommitGoesOnWhereItStopped) {
  const ir::Schema schema = test::crashSchema();
  for (const bool strict : {false, true}) {
    fs::remove_all(dir_ + "/store");
    const std::string file = dir_ + (strict ? "/clean.jsonl" : "/mixed.jsonl");
    auto store = Store::open(dir_ + "/store", &schema);
    ImportOptions options;
    options.recordsPerCommit = 100;
    options.strict = strict;
    int commits = 0;
    options.progress = [&](std::uint64_t, std::uint64_t) {
      if (++commits == (strict ? 1 : 4)) throw Interrupted();
    };
    EXPECT_THROW(importFile(*store, ImportKind::Events, file, options), Interrupted);
    store.reset();
    store = Store::open(dir_ + "/store", &schema);
    options.progress = nullptr;
    const ImportReport again = importFile(*store, ImportKind::Events, file, options);
    EXPECT_EQ(strict ? again.alreadyImported.has_value() : again.records == 1011u, true);
    const std::map<std::string, int> held = products(*store);
    EXPECT_EQ(held.size(), 1000u) << (strict ? "strict" : "");
    for (const auto& [product, times] : held) ASSERT_EQ(times, 1) << product << (strict ? " strict" : "");
    // The whole file is there: a third run does nothing.
    const ImportReport third = importFile(*store, ImportKind::Events, file, options);
    EXPECT_TRUE(third.alreadyImported.has_value());
    EXPECT_EQ(products(*store).size(), 1000u);
    options.again = true;
    importFile(*store, ImportKind::Events, file, options);
    EXPECT_EQ(products(*store).at("p7"), 2);  // --again means it
  }
}

}  // namespace
}  // namespace seg

namespace seg {
namespace {

// Content of which nothing could be taken is not recorded as imported:
// sent again unchanged (a feed's retry), it gets its errors again rather
// than "already imported" (found when the service's feeds came).
TEST_F(ImportResume, ContentWithNothingTakenIsNotRecordedAsImported) {
  const std::string bad = dir_ + "/bad.jsonl";
  {
    std::ofstream out(bad);
    out << "{\"event\":\"purchase\",\"user_id\":\"bad\",\"time\":1}\n{\"oops\n";
  }
  const ir::Schema schema = test::crashSchema();
  auto store = Store::open(dir_ + "/store", &schema);
  for (int run = 0; run < 2; ++run) {
    const ImportReport report = importFile(*store, ImportKind::Events, bad, {});
    EXPECT_FALSE(report.alreadyImported) << "run " << run;
    EXPECT_EQ(report.errorCount, 2u) << "run " << run;
    EXPECT_EQ(report.applied, 0u);
  }
}

}  // namespace
}  // namespace seg
