// Lexing, before the parser runs: reports bad characters, unterminated
// strings and comments once each, drops them and the hidden channel, checks
// bracket balance and nesting depth, and cuts the token stream into one
// chunk per top-level declaration. Internal to compiler/syntax.
//
// Parsing a chunk at a time keeps memory bounded by the largest declaration
// rather than the file (ANTLR's parse trees are large), and lets an error in
// one declaration never swallow the next.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <unordered_set>
#include <vector>

#include "antlr4-runtime.h"
#include "compiler/diagnostics/diagnostics.h"
#include "compiler/syntax/lexer.h"

namespace seg::syntax {

// Deeper nesting than this is refused: no real rule needs it, and it bounds
// the recursion of every phase after parsing.
inline constexpr std::size_t kMaxNesting = 100;
// A declaration of more tokens than this is refused (a flat chain of a
// million `or`s once took 2.7 GB to parse): the parser's memory stays
// bounded by it. Real rules are a few hundred tokens.
inline constexpr std::size_t kMaxDeclarationTokens = 100000;

struct OpenBracket {
  std::size_t tokenType;
  SourceRange range;
};

// The tokens of one declaration, ending with an EOF token. When the chunk
// ends because the next declaration starts, the EOF carries that
// declaration's first word and position, so messages can name it.
struct Chunk {
  std::vector<std::unique_ptr<antlr4::Token>> tokens;
  std::vector<OpenBracket> unclosed;  // still open when the chunk ended
  bool atEndOfFile = false;
};

// State shared by all chunks of a file.
struct LexState {
  std::unordered_set<const antlr4::Token*> reported;  // tokens already diagnosed
  std::unordered_set<std::uint32_t> linesWithErrors;  // lines with a lexical error
  bool tooDeep = false;  // also: a declaration too large; parsing stops
  std::size_t tokenCount = 0;
};

SourceRange tokenRange(FileId file, const antlr4::Token& token);
// An end-of-chunk token that stands for the start of the next declaration.
bool isNextDeclaration(const antlr4::Token& token);

class TokenPass {
 public:
  TokenPass(Lexer& lexer, FileId file, DiagnosticEngine& diags);
  ~TokenPass();

  // The next declaration's tokens, or nullopt after the end of the file.
  std::optional<Chunk> nextChunk();
  const LexState& state() const { return state_; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  LexState state_;
};

}  // namespace seg::syntax
