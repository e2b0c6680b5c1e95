// The seg lexer.
//
// grammar/Seg.g4's lexer rules are the specification; this hand-written
// lexer implements them because ANTLR's generated C++ lexer falls back to
// slow ATN simulation for every character above U+007F, and seg programs
// are full of Japanese strings and comments (3x slower end to end). A
// differential test (tests/unit/lexer_test.cc) checks that both lexers
// produce identical tokens. Internal to compiler/syntax.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "antlr4-runtime.h"

namespace seg::syntax {

class Lexer {
 public:
  // `text` must be valid UTF-8 and outlive the lexer.
  explicit Lexer(std::string_view text) : text_(text) {}

  // The next token, hidden-channel ones included; EOF at the end, forever.
  std::unique_ptr<antlr4::Token> nextToken();

 private:
  char32_t peek(std::size_t ahead = 0) const;
  std::size_t peekLength() const;
  void advance();
  bool at(std::string_view literal) const;
  std::size_t matchNumber(std::size_t& type) const;
  std::size_t matchWordType(std::string_view word) const;
  void lexString(std::size_t& type);
  void lexBlockComment(std::size_t& type);

  std::string_view text_;
  std::size_t pos_ = 0;           // byte offset
  std::size_t codePoint_ = 0;     // code point index (ANTLR's char index)
  std::size_t line_ = 1;
  std::size_t column_ = 0;        // 0-based, in code points
};

}  // namespace seg::syntax
