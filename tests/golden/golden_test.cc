// Golden-file tests.
//
// Each tests/golden/**/NAME.seg is checked by running segc on it (from its
// own directory, so paths in the output are short) and comparing stdout,
// stderr and the exit code with NAME.out beside it. The first lines of a
// .seg file may say how to run it:
//
//   // ARGS: check --format json
//
// (the file name is appended, or replaces `{file}`). To regenerate every .out file after an
// intended change, run the binary with --update (or SEG_UPDATE_GOLDEN=1)
// and review the diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/golden/run_segc.h"

namespace fs = std::filesystem;

namespace seg::test {
namespace {

bool gUpdate = false;

std::vector<fs::path> goldenFiles() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(SEG_GOLDEN_DIR)) {
    if (entry.is_regular_file() && entry.path().extension() == ".seg") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The `// ARGS:` line, or the default `check`.
std::string argsFor(const std::string& program) {
  std::istringstream lines(program);
  std::string line;
  for (int i = 0; i < 5 && std::getline(lines, line); ++i) {
    const std::string marker = "// ARGS:";
    if (line.rfind(marker, 0) == 0) return line.substr(marker.size());
  }
  return " check";
}

class GoldenTest : public ::testing::TestWithParam<fs::path> {};

TEST_P(GoldenTest, MatchesExpectedOutput) {
  const fs::path& source = GetParam();
  std::string args = argsFor(readFile(source));
  const std::string quotedName = shellQuote(source.filename().string());
  if (const std::size_t at = args.find("{file}"); at != std::string::npos) {
    args.replace(at, 6, quotedName);
  } else {
    args += " " + quotedName;
  }
  const RunResult result = runSegc(args, source.parent_path());
  const std::string actual = result.output + "[exit " + std::to_string(result.exitCode) + "]\n";
  fs::path expectedPath = source;
  expectedPath.replace_extension(".out");
  if (gUpdate) {
    std::ofstream(expectedPath, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(expectedPath)) << expectedPath << " is missing; run seg_golden_tests --update";
  EXPECT_EQ(readFile(expectedPath), actual) << "segc" << args << " (in " << source.parent_path() << ")";
}

std::string caseName(const ::testing::TestParamInfo<fs::path>& info) {
  std::string name = fs::relative(info.param, SEG_GOLDEN_DIR).replace_extension().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenTest, ::testing::ValuesIn(goldenFiles()), caseName);

}  // namespace
}  // namespace seg::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--update") seg::test::gUpdate = true;
  }
  if (const char* env = std::getenv("SEG_UPDATE_GOLDEN"); env != nullptr && std::string(env) == "1") {
    seg::test::gUpdate = true;
  }
  return RUN_ALL_TESTS();
}
