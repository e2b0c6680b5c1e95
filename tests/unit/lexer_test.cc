// The hand-written lexer must agree with the one ANTLR generates from
// grammar/Seg.g4, token for token, on every program we have and on random
// input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "SegLexer.h"
#include "antlr4-runtime.h"
#include "compiler/source/source.h"
#include "compiler/syntax/lexer.h"

namespace fs = std::filesystem;

namespace seg::syntax {
namespace {

struct Tok {
  std::size_t type, line, column, channel, start, stop;
  std::string text;
  bool operator==(const Tok&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Tok& t) {
  return out << "type " << t.type << " at " << t.line << ":" << t.column << " [" << t.start << ".." << t.stop
             << "] channel " << t.channel << " text '" << t.text << "'";
}

Tok describe(const antlr4::Token& t) {
  return {t.getType(), t.getLine(), t.getCharPositionInLine(), t.getChannel(),
          t.getStartIndex(), t.getStopIndex(), t.getType() == antlr4::Token::EOF ? "" : t.getText()};
}

std::vector<Tok> antlrTokens(const std::string& text) {
  antlr4::ANTLRInputStream input(text);
  SegLexer lexer(&input);
  lexer.removeErrorListeners();
  std::vector<Tok> out;
  for (;;) {
    auto token = lexer.nextToken();
    out.push_back(describe(*token));
    if (token->getType() == antlr4::Token::EOF) return out;
  }
}

std::vector<Tok> ourTokens(const std::string& text) {
  Lexer lexer(text);
  std::vector<Tok> out;
  for (;;) {
    auto token = lexer.nextToken();
    out.push_back(describe(*token));
    if (token->getType() == antlr4::Token::EOF) return out;
  }
}

void expectSameTokens(const std::string& raw, const std::string& what) {
  const SourceFile file("x.seg", raw);  // both lexers see valid UTF-8
  const auto expected = antlrTokens(file.text());
  const auto actual = ourTokens(file.text());
  const std::size_t n = std::min(expected.size(), actual.size());
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(actual[i], expected[i]) << what << ": token " << i;
  }
  ASSERT_EQ(actual.size(), expected.size()) << what;
}

TEST(Lexer, AgreesWithAntlrOnEverySegFileInTheRepository) {
  int files = 0;
  for (const char* dir : {"examples", "tests/golden", "stdlib"}) {
    const fs::path root = fs::path(SEG_SOURCE_DIR) / dir;
    if (!fs::exists(root)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.path().extension() != ".seg") continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      expectSameTokens(text.str(), entry.path().string());
      ++files;
    }
  }
  EXPECT_GT(files, 0);
}

TEST(Lexer, AgreesWithAntlrOnTrickyFragments) {
  const char* fragments[] = {
      "2026-12-01 10:00", "2026-12-01T10:00:30+09:00", "2026-12-01 1:00", "2026-12-01Z",
      "10:00:", "9:5", "20..29", "1.5%", "1.5", "10%", "3w", "30d", "1e5", "0x10",
      "\"a\\\"b\"", "\"unterminated\n", "\"ends with backslash\\\n", "\"\\", "/* x */", "/* x", "/**/",
      "/*/", "// c\nx", "a->b", "a-=1", "a- =1", "!=", "!", "==>", "..=", "segment_x", "segments",
      "min_reach", "_x", "x1y", "\xEF\xBB\xBFsegment", "\t\f\r\n", "＝", "東京", "\"東京都\"",
      "10:0", "1:", "12345-12-01", "2026-1-01", "99%%", ".5%", "a.b.c", "tag\"x\"",
  };
  for (const char* fragment : fragments) expectSameTokens(fragment, fragment);
}

TEST(Lexer, AgreesWithAntlrOnRandomInput) {
  // Random strings over an alphabet rich in the characters that matter.
  const std::vector<std::string> alphabet = {
      "a", "z", "_", "0", "9", "1", "2", "-", ":", ".", "%", "\"", "\\", "/", "*", "\n", " ", "T",
      "d", "m", "h", "+", "=", "<", ">", "!", "(", ")", "{", "}", "[", "]", ",", ";", "東", "Ｘ",
      "seg", "in", "not", "2026-12-01", "10:00", "Z", "\r", "#",
  };
  std::mt19937 random(7);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int length = static_cast<int>(random() % 40);
    for (int i = 0; i < length; ++i) text += alphabet[random() % alphabet.size()];
    expectSameTokens(text, "random input '" + text + "'");
  }
}

}  // namespace
}  // namespace seg::syntax
