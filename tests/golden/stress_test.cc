// Absurd inputs: huge, deep, binary. segc must answer each with a clear
// result and never crash or run away with memory.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <fmt/format.h>

#include "tests/golden/run_segc.h"

namespace fs = std::filesystem;

namespace seg::test {
namespace {

// Generous: it guards against runaway growth, it is not a performance target
// (those live in bench/ and docs/benchmarks.md).
constexpr long long kMemoryGuardBytes = 2LL << 30;

class StressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("seg-stress-{}", getpid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  RunResult check(const std::string& name, const std::string& extra = "") {
    return runSegc("check " + extra + " " + shellQuote(name), dir_);
  }

  fs::path dir_;
};

std::string tenMegabyteProgram() {
  std::string out =
      "schema {\n  member_rank: enum(bronze, silver, gold)\n  points: int\n"
      "  event purchase(product: string, category: string, price: int)\n}\n";
  for (int i = 0; out.size() < (10u << 20); ++i) {
    out += fmt::format(
        "segment s{} = member_rank >= gold and points > {} or tag \"タグ{}\" and "
        "count(purchase where category == \"c{}\", within 30d) >= 3\n",
        i, i, i, i);
  }
  return out;
}

TEST_F(StressTest, TenMegabyteProgramIsAccepted) {
  write("big.seg", tenMegabyteProgram());
  const RunResult result = check("big.seg");
  EXPECT_EQ(result.exitCode, 0) << result.output.substr(0, 2000);
  EXPECT_NE(result.output.find("segments"), std::string::npos);
  EXPECT_LT(peakChildMemoryBytes(), kMemoryGuardBytes);
}

TEST_F(StressTest, TenMegabyteNameGetsAShortMessage) {
  write("line.seg", "segment s = " + std::string(10u << 20, 'a') + "\n");
  const RunResult result = check("line.seg");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.output.find("unknown name `aaaa"), std::string::npos) << result.output.substr(0, 2000);
  EXPECT_LT(result.output.size(), 2000u) << "long names and lines are shortened in messages";
}

TEST_F(StressTest, TenMegabyteStringIsAccepted) {
  write("string.seg", "segment s = tag \"" + std::string(10u << 20, 'x') + "\"\n");
  const RunResult result = check("string.seg");
  EXPECT_EQ(result.exitCode, 0) << result.output.substr(0, 2000);
}

TEST_F(StressTest, RandomBytesStopAtTheErrorLimit) {
  std::mt19937 random(42);
  std::string bytes(10u << 20, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  write("noise.seg", bytes);
  const RunResult result = check("noise.seg");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.output.find("stopped after 100 errors"), std::string::npos);
  EXPECT_LT(result.output.size(), 200000u) << "the error limit should bound the output";
}

TEST_F(StressTest, DeepBracketsAreRefused) {
  write("deep.seg", "segment s = " + std::string(1u << 20, '(') + "a\n");
  const RunResult result = check("deep.seg");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.output.find("error[E0016]: nesting is too deep"), std::string::npos) << result.output;
}

TEST_F(StressTest, LongNotChainIsRefused) {
  std::string program = "segment s = ";
  for (int i = 0; i < 100000; ++i) program += "not ";
  write("nots.seg", program + "tag \"x\"\n");
  const RunResult result = check("nots.seg");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.output.find("error[E0016]"), std::string::npos) << result.output.substr(0, 2000);
}

TEST_F(StressTest, LongAndChainIsFine) {
  std::string program = "segment s = tag \"0\"";
  for (int i = 1; i < 30000; ++i) program += fmt::format(" and tag \"{}\"", i);
  write("ands.seg", program + "\n");
  const RunResult result = check("ands.seg");
  EXPECT_EQ(result.exitCode, 0) << result.output.substr(0, 2000);
}

// Beyond 100,000 tokens a declaration is refused before it is parsed (the
// parser's memory grows with the declaration).
TEST_F(StressTest, HugeDeclarationIsRefusedNotParsed) {
  std::string program = "segment s = tag \"0\"";
  for (int i = 1; i < 200000; ++i) program += fmt::format(" or tag \"{}\"", i);
  write("ors.seg", program + "\n");
  const RunResult result = check("ors.seg");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.output.find("ors.seg:1:1: error[E0019]"), std::string::npos) << result.output.substr(0, 2000);
}

TEST_F(StressTest, LongSumChainIsRefusedNotCrashed) {
  std::string program = "segment s = points > 1";
  for (int i = 0; i < 20000; ++i) program += " + 1";
  write("sum.seg", program + "\n");
  const RunResult result = check("sum.seg");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.output.find("error[E0016]"), std::string::npos) << result.output.substr(0, 2000);
}

TEST_F(StressTest, OversizedFileIsRefusedBeforeReading) {
  const fs::path path = dir_ / "huge.seg";
  std::ofstream(path).put('x');
  fs::resize_file(path, 100u << 20);  // sparse: no 100 MB written
  const RunResult result = check("huge.seg");
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_NE(result.output.find("limited to 64 MiB"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace seg::test
