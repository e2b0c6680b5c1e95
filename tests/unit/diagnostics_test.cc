#include <gtest/gtest.h>

#include <set>

#include "compiler/diagnostics/diagnostics.h"

namespace seg {
namespace {

TEST(Diagnostics, CodesAreUniqueAndWellFormed) {
  std::set<std::string_view> codes;
  for (const DiagInfo& info : allDiagnostics()) {
    EXPECT_TRUE(codes.insert(info.code).second) << "duplicate code " << info.code;
    EXPECT_EQ(info.code.size(), 5u) << info.code;
    EXPECT_TRUE(info.code[0] == 'E' || info.code[0] == 'W') << info.code;
    EXPECT_EQ(info.code[0] == 'W', info.severity == Severity::Warning) << info.code;
    // LLVM style: lower-case start (but for the name LINE), no trailing period.
    EXPECT_FALSE(info.format.empty());
    EXPECT_TRUE(!std::isupper(static_cast<unsigned char>(info.format[0])) || info.format.rfind("LINE", 0) == 0)
        << info.code;
    EXPECT_NE(info.format.back(), '.') << info.code;
  }
}

TEST(Diagnostics, CaretLinesUpUnderJapaneseText) {
  SourceManager sources;
  const FileId file = sources.add("shop.seg", "segment kanto = prefecture in [\"東京都\", 神奈川]\n");
  DiagnosticEngine diags;
  // `神奈川` starts at column 39 (characters, not bytes).
  diags.report(DiagId::UnexpectedCharacter, {file, {1, 39}, {1, 42}}, "`神`", "");
  const std::string text = renderText(diags.diagnostics().front(), sources);
  // 31 ASCII columns, the quoted 東京都 (1 + 6 + 1), a comma and a space;
  // then 神奈川 is three characters, six columns wide.
  const std::string pad(41, ' ');
  EXPECT_EQ(text,
            "shop.seg:1:39: error[E0002]: unexpected character `神`\n"
            " 1 | segment kanto = prefecture in [\"東京都\", 神奈川]\n"
            "   | " + pad + "^~~~~~\n");
}

TEST(Diagnostics, HelpAndNotes) {
  SourceManager sources;
  const FileId file = sources.add("a.seg", "segment a = {\nsegment b = x\n");
  DiagnosticEngine diags;
  diags.report(DiagId::UnclosedBracket, {file, {1, 13}, {1, 14}}, "{")
      .addHelp("add `}`")
      .addNote({file, {2, 1}, {2, 8}}, "next declaration starts here");
  EXPECT_EQ(renderText(diags.diagnostics().front(), sources),
            "a.seg:1:13: error[E0013]: unclosed `{`\n"
            " 1 | segment a = {\n"
            "   |             ^\n"
            "   = help: add `}`\n"
            "a.seg:2:1: note: next declaration starts here\n"
            " 2 | segment b = x\n"
            "   | ^~~~~~~\n");
}

TEST(Diagnostics, JsonHasIdRangeAndHints) {
  SourceManager sources;
  const FileId file = sources.add("a.seg", "x\n");
  DiagnosticEngine diags;
  diags.report(DiagId::UnterminatedString, {file, {1, 1}, {1, 2}}).addHelp("close it");
  EXPECT_EQ(renderJson(diags.diagnostics().front(), sources),
            R"({"file":"a.seg","hints":["close it"],"id":"E0003","message":"unterminated string",)"
            R"("name":"UnterminatedString","notes":[],"range":{"end":{"column":2,"line":1},)"
            R"("start":{"column":1,"line":1}},"severity":"error"})");
}

TEST(Diagnostics, ErrorLimitStopsCollecting) {
  DiagnosticEngine diags(2);
  for (int i = 0; i < 5; ++i) diags.report(DiagId::UnterminatedString, {});
  EXPECT_EQ(diags.errorCount(), 2u);
  EXPECT_TRUE(diags.limitReached());
  EXPECT_EQ(diags.diagnostics().size(), 2u);
}

}  // namespace
}  // namespace seg

#include <fstream>
#include <sstream>

namespace seg {
namespace {

// docs/diagnostics.md has a section for every diagnostic, and no others.
TEST(Diagnostics, EveryIdIsDocumented) {
  std::ifstream in(std::string(SEG_SOURCE_DIR) + "/docs/diagnostics.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  std::set<std::string> documented;
  for (std::size_t at = doc.find("\n## "); at != std::string::npos; at = doc.find("\n## ", at + 1)) {
    documented.insert(doc.substr(at + 4, 5));
  }
  std::set<std::string> declared;
  for (const DiagInfo& info : allDiagnostics()) declared.insert(std::string(info.code));
  EXPECT_EQ(documented, declared);
}

}  // namespace
}  // namespace seg
