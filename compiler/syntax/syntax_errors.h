// Turns ANTLR's parse errors into seg diagnostics a marketer can follow:
// "expected `=` after segment name, found `member_rank`" instead of token
// dumps. Internal to compiler/syntax.
#pragma once

#include <cstddef>
#include <string>

#include "SegParser.h"
#include "antlr4-runtime.h"
#include "compiler/diagnostics/diagnostics.h"
#include "compiler/syntax/token_pass.h"

namespace seg::syntax {

// Thrown to stop parsing once the error limit is reached.
struct ParseAborted {};

// The FIRST sets of the grammar rules the messages talk about, computed
// from the parser's ATN so they stay in step with the grammar.
class TokenGroups {
 public:
  explicit TokenGroups(const antlr4::atn::ATN& atn);

  bool isName(std::size_t type) const { return name_.contains(type); }
  bool isReserved(std::size_t type) const;
  // Describes a set of acceptable tokens in words ("an expression or `)`").
  std::string describe(antlr4::misc::IntervalSet expected, const antlr4::dfa::Vocabulary& vocabulary) const;
  bool startsExpression(const antlr4::misc::IntervalSet& expected) const;
  bool startsDeclaration(std::size_t type) const;
  const antlr4::misc::IntervalSet& nameTokens() const { return name_; }

 private:
  struct Group {
    antlr4::misc::IntervalSet tokens;
    std::string words;
  };
  antlr4::misc::IntervalSet name_;
  antlr4::misc::IntervalSet expr_;
  std::vector<Group> groups_;
};

class SyntaxErrorStrategy : public antlr4::DefaultErrorStrategy {
 public:
  SyntaxErrorStrategy(FileId file, DiagnosticEngine& diags, const LexState& lexState,
                      const TokenGroups& groups);
  // Called before each chunk is parsed.
  void startChunk(const Chunk& chunk);

  antlr4::Token* recoverInline(antlr4::Parser* recognizer) override;

 protected:
  // Our tokens carry no token source; make the conjured token ourselves.
  antlr4::Token* getMissingSymbol(antlr4::Parser* recognizer) override;

 protected:
  void reportNoViableAlternative(antlr4::Parser* recognizer, const antlr4::NoViableAltException& e) override;
  void reportInputMismatch(antlr4::Parser* recognizer, const antlr4::InputMismatchException& e) override;
  void reportFailedPredicate(antlr4::Parser* recognizer, const antlr4::FailedPredicateException& e) override;
  void reportUnwantedToken(antlr4::Parser* recognizer) override;
  void reportMissingToken(antlr4::Parser* recognizer) override;

 private:
  enum class Problem { Mismatch, Unwanted, Missing };
  void report(antlr4::Parser* recognizer, antlr4::Token* offending,
              const antlr4::misc::IntervalSet& expected, Problem problem);
  bool reportUnclosed();
  void addContinuationHelp(Diagnostic& d, antlr4::Token* offending, antlr4::Token* previous,
                           const antlr4::misc::IntervalSet& expected) const;
  std::string after(antlr4::Parser* recognizer, antlr4::Token* previous) const;
  antlr4::Token* previousToken(antlr4::Parser* recognizer, antlr4::Token* offending) const;
  bool suppress(std::uint32_t line, antlr4::Token* offending);
  void addKeywordSuggestion(Diagnostic& d, antlr4::Token* offending, const antlr4::misc::IntervalSet& expected,
                            const antlr4::dfa::Vocabulary& vocabulary) const;
  void checkLimit() const;

  FileId file_;
  DiagnosticEngine& diags_;
  const LexState& lexState_;
  const Chunk* chunk_ = nullptr;
  const TokenGroups& groups_;
  std::uint32_t lastErrorLine_ = 0;
  std::vector<std::unique_ptr<antlr4::Token>> conjured_;  // tokens made up by recovery
  bool reportedAtEof_ = false;
  std::size_t chunkErrors_ = 0;
};

}  // namespace seg::syntax
