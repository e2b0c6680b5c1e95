// segc eval and segc explain on a generated store of the shop example: the
// engines agree through the CLI, every output form is right, and mistakes
// (unknown segments, LINE-only segments, missing stores, bad instants) get
// a clear error and the right exit code.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/integration/cli.h"

namespace fs = std::filesystem;

namespace seg {
namespace {

using testing::quote;
using testing::segc;

const std::string kShop = std::string(SEG_SOURCE_DIR) + "/examples/shop/shop.seg";
constexpr const char* kAt = "2026-11-18T12:00";

class EvalCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    store_ = (fs::temp_directory_path() / fmt::format("seg-eval-cli-{}", getpid())).string();
    const auto run = segc(fmt::format("gen {} --store {} --friends 3000 --events 30000 --seed 5 --now {}", quote(kShop),
                                      quote(store_), kAt));
    ASSERT_EQ(run.exit, 0) << run.out;
  }
  static void TearDownTestSuite() { fs::remove_all(store_); }

  static testing::CliRun eval(const std::string& args) {
    return segc(fmt::format("eval {} --store {} --at {} {}", quote(kShop), quote(store_), kAt, args));
  }

  static inline std::string store_;
};

std::set<std::string> lines(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.insert(line);
  return out;
}

TEST_F(EvalCli, EnginesSelectTheSameFriends) {
  for (const char* segment : {"vip", "skincare_fans", "cart_left", "lapsed", "birthday_month", "gold_kanto"}) {
    const auto reference = eval(fmt::format("--segment {} --ids --engine interp", segment));
    ASSERT_EQ(reference.exit, 0) << reference.out;
    for (const char* engine : {"bitmap", "jit", "auto"}) {
      const auto other = eval(fmt::format("--segment {} --ids --engine {}", segment, engine));
      EXPECT_EQ(lines(other.out), lines(reference.out)) << segment << " with " << engine;
    }
    const auto count = eval(fmt::format("--segment {} --count", segment));
    EXPECT_EQ(count.out, fmt::format("{}\n", lines(reference.out).size()));
  }
}

TEST_F(EvalCli, JsonCarriesCountAndIds) {
  const auto run = eval("--segment vip --json");
  ASSERT_EQ(run.exit, 0) << run.out;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["segment"], "vip");
  EXPECT_EQ(json["at"], "2026-11-18T12:00:00+09:00");
  EXPECT_GT(json["count"].get<int>(), 0);
  EXPECT_EQ(json["user_ids"].size(), json["count"].get<std::size_t>());
  EXPECT_EQ(json["user_ids"][0].get<std::string>().size(), 33u);
}

TEST_F(EvalCli, AllSizesEverySegment) {
  const auto run = eval("--all");
  ASSERT_EQ(run.exit, 0) << run.out;
  for (const char* segment : {"vip", "kanto", "cart_left", "pilot", "gold_kanto"}) {
    EXPECT_NE(run.out.find(fmt::format("\n  {} ", segment)), std::string::npos) << segment << "\n" << run.out;
  }
  EXPECT_NE(run.out.find("only LINE can evaluate `line.gender`"), std::string::npos) << run.out;
  const auto json = eval("--all --json");
  ASSERT_EQ(json.exit, 0) << json.out;
  const auto rows = nlohmann::json::parse(json.out.substr(json.out.find('[')));
  const auto vipCount = eval("--segment vip --count");
  bool sawVip = false;
  for (const auto& row : rows) {
    if (row["segment"] == "vip") {
      sawVip = true;
      EXPECT_EQ(fmt::format("{}\n", row["count"].get<int>()), vipCount.out);
    }
  }
  EXPECT_TRUE(sawVip);
}

TEST_F(EvalCli, MistakesAreReportedWithTheRightExitCode) {
  auto run = eval("--segment vipp");
  EXPECT_EQ(run.exit, 1);
  EXPECT_NE(run.out.find("no segment `vipp` in the program; did you mean `vip`?"), std::string::npos) << run.out;
  run = eval("--segment women_20s");
  EXPECT_EQ(run.exit, 1);
  EXPECT_NE(run.out.find("only LINE can evaluate"), std::string::npos) << run.out;
  run = segc(fmt::format("eval {} --store {} --segment vip --at 2026-13-01", quote(kShop), quote(store_)));
  EXPECT_EQ(run.exit, 2);
  EXPECT_NE(run.out.find("--at"), std::string::npos) << run.out;
  run = segc(fmt::format("eval {} --store /nonexistent/store --segment vip", quote(kShop)));
  EXPECT_EQ(run.exit, 2);
  run = eval("");
  EXPECT_EQ(run.exit, 2);
  EXPECT_NE(run.out.find("--segment NAME or --all"), std::string::npos) << run.out;
}

TEST_F(EvalCli, ExplainShowsThePlanWithReach) {
  auto run = segc(fmt::format("explain {} --store {} --at {} --segment skincare_fans", quote(kShop), quote(store_), kAt));
  ASSERT_EQ(run.exit, 0) << run.out;
  EXPECT_NE(run.out.find("tag bitmap \"興味:スキンケア\""), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("residual count(view where category == \"skincare\", within 30d) >= 3"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("actual"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("reach "), std::string::npos) << run.out;
  // Without a store: the plan alone.
  run = segc(fmt::format("explain {} --at {} --segment vip", quote(kShop), kAt));
  ASSERT_EQ(run.exit, 0) << run.out;
  EXPECT_NE(run.out.find("value bitmaps member_rank in [gold, platinum]"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("estimates need a store"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace seg
