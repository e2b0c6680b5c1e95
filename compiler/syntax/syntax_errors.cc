#include "compiler/syntax/syntax_errors.h"

#include <fmt/format.h>

#include "base/spelling.h"

namespace seg::syntax {

using antlr4::Token;
using antlr4::misc::IntervalSet;

namespace {

IntervalSet firstSet(const antlr4::atn::ATN& atn, std::size_t rule) {
  return atn.nextTokens(atn.ruleToStartState[rule]);
}

bool containsAll(const IntervalSet& set, const IntervalSet& subset) {
  return !subset.isEmpty() && subset.subtract(set).isEmpty();
}

std::string joinWords(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

std::string tokenWords(std::size_t type, const antlr4::dfa::Vocabulary& vocabulary) {
  switch (type) {
    case Token::EOF: return "end of file";
    case SegParser::ID: return "a name";
    case SegParser::STRING:
    case SegParser::UNTERMINATED_STRING: return "a string";
    case SegParser::INT: return "a whole number";
    case SegParser::PERCENT: return "a percentage such as `10%`";
    case SegParser::DATE: return "a date such as `2026-12-01`";
    case SegParser::DATETIME: return "a date and time such as `2026-12-01 10:00`";
    case SegParser::CLOCK: return "a time of day such as `10:00`";
    case SegParser::UNIT_NUMBER: return "a duration such as `30d`";
    default: break;
  }
  std::string literal = vocabulary.getLiteralName(type);
  if (literal.size() >= 2 && literal.front() == '\'') literal = literal.substr(1, literal.size() - 2);
  if (literal.empty()) literal = vocabulary.getSymbolicName(type);
  return "`" + literal + "`";
}

// What the user wrote, short enough for one line.
std::string foundWords(Token* token) {
  if (token != nullptr && isNextDeclaration(*token)) return "`" + token->getText() + "`";
  if (token == nullptr || token->getType() == Token::EOF) return "end of file";
  std::string text = token->getText();
  if (utf8::countCodePoints(text) > 30) {
    text.resize(utf8::byteOffsetOfColumn(text, 28));
    text += "…";
  }
  return "`" + text + "`";
}

// The declaration or member whose name was just written: "segment name".
const char* nameOwner(antlr4::ParserRuleContext* ctx) {
  if (ctx == nullptr) return nullptr;
  switch (ctx->getRuleIndex()) {
    case SegParser::RuleSegmentDecl: return "segment";
    case SegParser::RuleMessageDecl: return "message";
    case SegParser::RuleRichmenuDecl: return "rich menu";
    case SegParser::RuleScenarioDecl: return "scenario";
    case SegParser::RuleCampaignDecl: return "campaign";
    case SegParser::RuleUseDecl: return "module";
    case SegParser::RuleFieldDecl: return "field";
    case SegParser::RuleParamDecl: return "parameter";
    case SegParser::RuleNamedArg: return "argument";
    case SegParser::RuleObjectField: return "field";
    case SegParser::RuleSchemaMember:
      return dynamic_cast<SegParser::EventDeclContext*>(ctx) ? "event" : "attribute";
    default: return nullptr;
  }
}

}  // namespace

TokenGroups::TokenGroups(const antlr4::atn::ATN& atn) {
  name_ = firstSet(atn, SegParser::RuleName);
  expr_ = firstSet(atn, SegParser::RuleExpr);
  // Checked in order; a group is used when all its tokens are acceptable.
  // Checked in order; a group is used when all its tokens are acceptable,
  // and its tokens are then not described again. Expressions come early:
  // contextual keywords are names, so they would match smaller groups.
  groups_ = {
      {firstSet(atn, SegParser::RuleDeclaration), "a declaration such as `segment`, `message` or `scenario`"},
      {firstSet(atn, SegParser::RuleExpr), "an expression"},
      {firstSet(atn, SegParser::RuleOperand), "an expression"},
      {firstSet(atn, SegParser::RuleName), "a name"},
      {firstSet(atn, SegParser::RuleScenarioItem), "a step such as `day 1:`"},
      {firstSet(atn, SegParser::RuleAction), "an action such as `send`, `tag` or `start`"},
      {firstSet(atn, SegParser::RuleCampaignItem), "`to`, `at`, `limit`, `split` or `send`"},
      {firstSet(atn, SegParser::RulePolicyItem), "`timezone`, `quiet`, `cap` or `min_reach`"},
      {firstSet(atn, SegParser::RuleTestItem), "`given`, `at` or `expect`"},
      {firstSet(atn, SegParser::RuleSchemaMember), "an attribute such as `points: int`, or `event`"},
      {firstSet(atn, SegParser::RuleMessageBody), "a message: `text`, `flex`, `image` or `sticker`"},
      {firstSet(atn, SegParser::RuleTimeLit), "a date such as `2026-12-01` or a date and time such as `2026-12-01 10:00`"},
  };
}

bool TokenGroups::isReserved(std::size_t type) const {
  return type >= SegParser::USE && type <= SegParser::WHEN;
}

bool TokenGroups::startsDeclaration(std::size_t type) const {
  return groups_.front().tokens.contains(type);
}

bool TokenGroups::startsExpression(const IntervalSet& expected) const {
  return containsAll(expected, expr_);
}

std::string TokenGroups::describe(IntervalSet expected, const antlr4::dfa::Vocabulary& vocabulary) const {
  std::vector<std::string> words;
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    const Group& group = groups_[i];
    if (containsAll(expected, group.tokens)) {
      words.push_back(group.words);
      expected = expected.subtract(group.tokens);
      // "or end of file" adds nothing to "a declaration".
      if (i == 0) expected.remove(static_cast<std::size_t>(Token::EOF));
    }
  }
  expected.remove(static_cast<std::size_t>(SegParser::UNTERMINATED_STRING));
  for (ssize_t type : expected.toList()) {
    if (words.size() >= 6) {
      words.push_back("something else");
      break;
    }
    words.push_back(tokenWords(static_cast<std::size_t>(type), vocabulary));
  }
  if (words.empty()) return "something else";
  return joinWords(words);
}

SyntaxErrorStrategy::SyntaxErrorStrategy(FileId file, DiagnosticEngine& diags,
                                         const LexState& lexState, const TokenGroups& groups)
    : file_(file), diags_(diags), lexState_(lexState), groups_(groups) {}

void SyntaxErrorStrategy::startChunk(const Chunk& chunk) {
  chunk_ = &chunk;
  reportedAtEof_ = false;
  chunkErrors_ = 0;
  conjured_.clear();
}

// A reserved word where a name belongs: say so, then carry on as if it were
// the name, so the rest of the declaration is still checked.
Token* SyntaxErrorStrategy::recoverInline(antlr4::Parser* recognizer) {
  Token* current = recognizer->getCurrentToken();
  const IntervalSet expected = recognizer->getExpectedTokens();
  if (groups_.isReserved(current->getType()) && containsAll(groups_.nameTokens(), expected)) {
    const SourceRange range = tokenRange(file_, *current);
    if (!suppress(range.begin.line, current)) {
      diags_.report(DiagId::ReservedWordAsName, range, current->getText())
          .addHelp(fmt::format("choose another name, such as `{}_1`", current->getText()));
      checkLimit();
    }
    recognizer->consume();
    return current;
  }
  return DefaultErrorStrategy::recoverInline(recognizer);
}

// Something left over after a complete declaration, on the same line.
void SyntaxErrorStrategy::addContinuationHelp(Diagnostic& d, Token* offending, Token* previous,
                                              const IntervalSet& expected) const {
  // Only at the top level, between declarations.
  if (previous == nullptr || !expected.contains(static_cast<std::size_t>(SegParser::SEGMENT))) return;
  switch (offending->getType()) {
    case SegParser::EQ:
    case SegParser::NE:
    case SegParser::LT:
    case SegParser::LE:
    case SegParser::GT:
    case SegParser::GE:
      d.addHelp("comparisons do not chain; write `a < b and b < c`, or use `between`");
      return;
    default:
      break;
  }
  if (offending->getLine() == previous->getLine()) {
    d.addHelp("the declaration ended before this; is an operator such as `and` or `or` missing?");
  }
}

// `segmnet` where `segment` belongs: suggest the keyword.
void SyntaxErrorStrategy::addKeywordSuggestion(Diagnostic& d, Token* offending, const IntervalSet& expected,
                                               const antlr4::dfa::Vocabulary& vocabulary) const {
  if (offending->getType() != SegParser::ID) return;
  std::vector<std::string> keywords;
  for (ssize_t type : expected.toList()) {
    std::string literal = vocabulary.getLiteralName(static_cast<std::size_t>(type));
    if (literal.size() > 3) keywords.push_back(literal.substr(1, literal.size() - 2));
  }
  if (auto match = closestMatch(offending->getText(), keywords)) {
    d.addHelp(fmt::format("did you mean `{}`?", *match));
  }
}

Token* SyntaxErrorStrategy::getMissingSymbol(antlr4::Parser* recognizer) {
  Token* current = recognizer->getCurrentToken();
  const IntervalSet expected = getExpectedTokens(recognizer);
  const std::size_t type = expected.isEmpty() ? Token::INVALID_TYPE : static_cast<std::size_t>(expected.getMinElement());
  auto token = std::make_unique<antlr4::CommonToken>(type, "<missing>");
  token->setLine(current->getLine());
  token->setCharPositionInLine(current->getCharPositionInLine());
  token->setTokenIndex(INVALID_INDEX);
  conjured_.push_back(std::move(token));
  return conjured_.back().get();
}

void SyntaxErrorStrategy::reportNoViableAlternative(antlr4::Parser* recognizer,
                                                    const antlr4::NoViableAltException& e) {
  report(recognizer, e.getOffendingToken(), e.getExpectedTokens(), Problem::Mismatch);
}

void SyntaxErrorStrategy::reportInputMismatch(antlr4::Parser* recognizer,
                                              const antlr4::InputMismatchException& e) {
  report(recognizer, e.getOffendingToken(), e.getExpectedTokens(), Problem::Mismatch);
}

void SyntaxErrorStrategy::reportFailedPredicate(antlr4::Parser* recognizer,
                                                const antlr4::FailedPredicateException& e) {
  report(recognizer, e.getOffendingToken(), e.getExpectedTokens(), Problem::Mismatch);
}

void SyntaxErrorStrategy::reportUnwantedToken(antlr4::Parser* recognizer) {
  if (inErrorRecoveryMode(recognizer)) return;
  beginErrorCondition(recognizer);
  report(recognizer, recognizer->getCurrentToken(), recognizer->getExpectedTokens(), Problem::Unwanted);
}

void SyntaxErrorStrategy::reportMissingToken(antlr4::Parser* recognizer) {
  if (inErrorRecoveryMode(recognizer)) return;
  beginErrorCondition(recognizer);
  report(recognizer, recognizer->getCurrentToken(), recognizer->getExpectedTokens(), Problem::Missing);
}

Token* SyntaxErrorStrategy::previousToken(antlr4::Parser* recognizer, Token* offending) const {
  const std::size_t index = offending->getTokenIndex();
  if (index == 0 || index == INVALID_INDEX) return nullptr;
  return recognizer->getTokenStream()->get(index - 1);
}

std::string SyntaxErrorStrategy::after(antlr4::Parser* recognizer, Token* previous) const {
  if (previous == nullptr) return "";
  antlr4::ParserRuleContext* ctx = recognizer->getContext();
  if (ctx != nullptr && !ctx->children.empty()) {
    auto* last = dynamic_cast<SegParser::NameContext*>(ctx->children.back());
    const char* owner = nameOwner(ctx);
    // Only the declared name: `scenario s on e as p` has a second one.
    if (last != nullptr && owner != nullptr && last->getStop() == previous &&
        ctx->getRuleContext<SegParser::NameContext>(0) == last) {
      return fmt::format(" after {} name", owner);
    }
  }
  return " after " + foundWords(previous);
}

bool SyntaxErrorStrategy::suppress(std::uint32_t line, Token* offending) {
  if (lexState_.reported.contains(offending)) return true;
  // A stray character was dropped from this line; what follows is an echo.
  if (lexState_.linesWithErrors.contains(line)) return true;
  if (offending->getType() == Token::EOF) {
    if (reportedAtEof_) return true;
    reportedAtEof_ = true;
  }
  // One syntax error a line: later ones are almost always echoes.
  if (line == lastErrorLine_) return true;
  lastErrorLine_ = line;
  return false;
}

void SyntaxErrorStrategy::checkLimit() const {
  if (diags_.limitReached()) throw ParseAborted{};
}

// At the end of a declaration with a bracket still open, the opening
// bracket is the place to point at, whatever the parser expected there.
bool SyntaxErrorStrategy::reportUnclosed() {
  if (chunk_ == nullptr || chunk_->unclosed.empty() || reportedAtEof_) return false;
  reportedAtEof_ = true;
  const OpenBracket& open = chunk_->unclosed.back();
  const char* opener = open.tokenType == SegParser::LBRACE ? "{" : open.tokenType == SegParser::LPAREN ? "(" : "[";
  const char* closer = open.tokenType == SegParser::LBRACE ? "}" : open.tokenType == SegParser::LPAREN ? ")" : "]";
  diags_.report(DiagId::UnclosedBracket, open.range, opener)
      .addHelp(chunk_->atEndOfFile
                   ? fmt::format("the file ends before the matching `{}`", closer)
                   : fmt::format("the next declaration starts before the matching `{}`", closer));
  return true;
}

void SyntaxErrorStrategy::report(antlr4::Parser* recognizer, Token* offending,
                                 const IntervalSet& expected, Problem problem) {
  if (offending == nullptr) offending = recognizer->getCurrentToken();
  if (offending->getType() == Token::EOF) {
    if (reportUnclosed()) {
      ++chunkErrors_;
      checkLimit();
      return;
    }
    // Brackets balance in the source, so an error at the end of a
    // declaration that already has one is an artefact of recovery.
    if (chunkErrors_ > 0) return;
  }
  Token* previous = previousToken(recognizer, offending);
  SourceRange range = tokenRange(file_, *offending);
  // A missing token is best shown right after the token before it,
  // especially when the next token is on a later line.
  if (previous != nullptr && problem != Problem::Unwanted &&
      (problem == Problem::Missing || offending->getType() == Token::EOF ||
       offending->getLine() > previous->getLine())) {
    const SourceRange prev = tokenRange(file_, *previous);
    range = {file_, prev.end, {prev.end.line, prev.end.column + 1}};
  }
  if (suppress(range.begin.line, offending)) return;
  ++chunkErrors_;

  const auto& vocabulary = recognizer->getVocabulary();
  if (problem == Problem::Unwanted) {
    Diagnostic& d = diags_.report(DiagId::UnexpectedToken, range, foundWords(offending),
                                  "; expected " + groups_.describe(expected, vocabulary));
    addKeywordSuggestion(d, offending, expected, vocabulary);
    addContinuationHelp(d, offending, previous, expected);
    if (expected.contains(static_cast<std::size_t>(SegParser::RBRACE)) &&
        groups_.startsDeclaration(offending->getType())) {
      d.addHelp("is a `}` missing before this line?");
    }
  } else if (groups_.isReserved(offending->getType()) && expected.contains(static_cast<std::size_t>(SegParser::ID)) &&
             !groups_.startsExpression(expected)) {
    diags_.report(DiagId::ReservedWordAsName, tokenRange(file_, *offending), offending->getText())
        .addHelp(fmt::format("choose another name, such as `{}_1`", offending->getText()));
  } else {
    const std::string found = problem == Problem::Missing ? "" : ", found " + foundWords(offending);
    Diagnostic& d = diags_.report(DiagId::ExpectedToken, range, groups_.describe(expected, vocabulary),
                                  after(recognizer, previous) + found);
    addKeywordSuggestion(d, offending, expected, vocabulary);
    // A declaration keyword inside a block usually means the block was
    // never closed.
    if (expected.contains(static_cast<std::size_t>(SegParser::RBRACE)) &&
        groups_.startsDeclaration(offending->getType())) {
      d.addHelp("is a `}` missing before this line?");
    }
  }
  checkLimit();
}

}  // namespace seg::syntax
