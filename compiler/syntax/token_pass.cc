#include "compiler/syntax/token_pass.h"

#include <fmt/format.h>

#include "SegLexer.h"

namespace seg::syntax {

SourceRange tokenRange(FileId file, const antlr4::Token& token) {
  const auto line = static_cast<std::uint32_t>(token.getLine());
  const auto column = static_cast<std::uint32_t>(token.getCharPositionInLine() + 1);
  if (token.getType() == antlr4::Token::EOF) return {file, {line, column}, {line, column}};
  const std::size_t length = token.getStopIndex() + 1 - token.getStartIndex();
  return {file, {line, column}, {line, static_cast<std::uint32_t>(column + length)}};
}

bool isNextDeclaration(const antlr4::Token& token) {
  return token.getType() == antlr4::Token::EOF && token.getText() != "<EOF>";
}

namespace {

char32_t firstCodePoint(const std::string& text) {
  char32_t cp = 0xFFFD;
  utf8::decode(text, 0, cp);
  return cp;
}

std::string describeChar(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0xFEFF || cp == 0x200B) {
    return fmt::format("U+{:04X}", static_cast<std::uint32_t>(cp));
  }
  std::string text = "`";
  utf8::append(text, cp);
  return text + "`";
}

// What seg writes for a character other languages use as an operator;
// "" when it is not one.
const char* segSpelling(char32_t ascii) {
  switch (ascii) {
    case '&': return "and";
    case '|': return "or";
    case '!': return "not";
    default: return "";
  }
}

// Full-width forms typed with a Japanese IME: say which ASCII was meant
// (and for operators, seg's word for them).
void addCharHelp(Diagnostic& d, char32_t cp) {
  if (cp == 0x3000) {
    d.addHelp("this is a full-width space; use an ordinary space outside strings");
  } else if (cp >= 0xFF01 && cp <= 0xFF5E) {
    const char32_t ascii = cp - 0xFEE0;
    const std::string meant = *segSpelling(ascii) != '\0' ? segSpelling(ascii) : std::string(1, static_cast<char>(ascii));
    d.addHelp(fmt::format("did you mean `{}`? full-width characters are only allowed inside strings", meant));
  } else if (*segSpelling(cp) != '\0') {
    d.addHelp(fmt::format("seg writes `{}`", segSpelling(cp)));
  } else if (cp == 0x201C || cp == 0x201D || cp == 0x300C || cp == 0x300D) {
    d.addHelp("strings are written in straight double quotes: \"...\"");
  } else if (cp > 0x7F) {
    d.addHelp("names are ASCII; Japanese text belongs inside strings, as in tag \"VIP会員\"");
  }
}

bool isOpener(std::size_t type) {
  return type == SegLexer::LPAREN || type == SegLexer::LBRACE || type == SegLexer::LBRACKET;
}
bool isCloser(std::size_t type) {
  return type == SegLexer::RPAREN || type == SegLexer::RBRACE || type == SegLexer::RBRACKET;
}
std::size_t closerFor(std::size_t opener) {
  switch (opener) {
    case SegLexer::LPAREN: return SegLexer::RPAREN;
    case SegLexer::LBRACE: return SegLexer::RBRACE;
    default: return SegLexer::RBRACKET;
  }
}
std::size_t openerFor(std::size_t closer) {
  switch (closer) {
    case SegLexer::RPAREN: return SegLexer::LPAREN;
    case SegLexer::RBRACE: return SegLexer::LBRACE;
    default: return SegLexer::LBRACKET;
  }
}
const char* spell(std::size_t type) {
  switch (type) {
    case SegLexer::LPAREN: return "(";
    case SegLexer::RPAREN: return ")";
    case SegLexer::LBRACE: return "{";
    case SegLexer::RBRACE: return "}";
    case SegLexer::LBRACKET: return "[";
    default: return "]";
  }
}

// Tokens a declaration can end with (a name, a literal, a closing bracket);
// after an operator or a keyword the declaration is still going on.
bool canEndDeclaration(std::size_t type) {
  switch (type) {
    case SegLexer::RBRACE:
    case SegLexer::RPAREN:
    case SegLexer::RBRACKET:
    case SegLexer::ID:
    case SegLexer::STRING:
    case SegLexer::UNTERMINATED_STRING:
    case SegLexer::INT:
    case SegLexer::PERCENT:
    case SegLexer::DATE:
    case SegLexer::DATETIME:
    case SegLexer::CLOCK:
    case SegLexer::UNIT_NUMBER:
    case SegLexer::TRUE:
    case SegLexer::FALSE: return true;
    default:
      // Contextual keywords are names (`on follow` ends with one).
      return type >= SegLexer::TEXT && type <= SegLexer::MATCHES;
  }
}

// Words that only ever start a declaration.
bool alwaysStartsDeclaration(std::size_t type) {
  switch (type) {
    case SegLexer::USE:
    case SegLexer::SCHEMA:
    case SegLexer::SEGMENT:
    case SegLexer::SCENARIO:
    case SegLexer::CAMPAIGN:
    case SegLexer::POLICY:
    case SegLexer::MENUS:
    case SegLexer::TEST: return true;
    default: return false;
  }
}

}  // namespace

class TokenPass::Impl {
 public:
  Impl(Lexer& lexer, FileId file, DiagnosticEngine& diags, LexState& state)
      : lexer_(lexer), file_(file), diags_(diags), state_(state) {}

  std::optional<Chunk> nextChunk() {
    if (finished_) return std::nullopt;
    // Token addresses are reused once a chunk is freed.
    state_.reported.clear();
    Chunk chunk;
    if (pending_) chunk.tokens.push_back(take(std::move(pending_)));
    for (;;) {
      std::unique_ptr<antlr4::Token> token = nextDefaultToken();
      if (token->getType() == antlr4::Token::EOF) {
        chunk.unclosed = std::move(open_);
        chunk.atEndOfFile = true;
        chunk.tokens.push_back(std::move(token));
        finished_ = true;
        return chunk;
      }
      if (!chunk.tokens.empty() && startsDeclaration(*token)) {
        chunk.unclosed = std::move(open_);
        open_.clear();
        chunk.tokens.push_back(sentinelFor(*token));
        pending_ = std::move(token);
        return chunk;
      }
      chunk.tokens.push_back(take(std::move(token)));
      if (chunk.tokens.size() > kMaxDeclarationTokens && !state_.tooDeep) {
        diags_.report(DiagId::DeclarationTooLarge, tokenRange(file_, *chunk.tokens.front()), kMaxDeclarationTokens)
            .addHelp("split it into named segments and combine them by name, or keep long lists of IDs in an "
                     "uploaded audience (`audience \"name\"`)");
        state_.tooDeep = true;  // the parser stops here
        finished_ = true;
        return chunk;
      }
    }
  }

 private:
  // Tracks nesting for a token joining a chunk.
  std::unique_ptr<antlr4::Token> take(std::unique_ptr<antlr4::Token> token) {
    ++state_.tokenCount;
    if (!state_.tooDeep) trackNesting(*token);
    previous2_ = previous1_;
    previous1_ = token->getType();
    return token;
  }

  bool startsDeclaration(const antlr4::Token& token) const {
    const std::size_t type = token.getType();
    // `segment segment = ...`: the second word is a (bad) name, reported as such.
    if (alwaysStartsDeclaration(previous1_) || previous1_ == SegLexer::MESSAGE ||
        previous1_ == SegLexer::RICHMENU) {
      return false;
    }
    if (alwaysStartsDeclaration(type)) return true;
    // `message`, `richmenu` and `on` also appear inside declarations; they
    // start one only at the top level, after something that can end one.
    if (!open_.empty() || !canEndDeclaration(previous1_)) return false;
    switch (type) {
      case SegLexer::MESSAGE: return previous1_ != SegLexer::ON && previous1_ != SegLexer::GIVEN;
      case SegLexer::RICHMENU: return true;
      // `scenario NAME on TRIGGER` is not a rule.
      case SegLexer::ON: return previous2_ != SegLexer::SCENARIO;
      default: return false;
    }
  }

  std::unique_ptr<antlr4::Token> sentinelFor(const antlr4::Token& next) const {
    auto eof = std::make_unique<antlr4::CommonToken>(antlr4::Token::EOF, next.getText());
    eof->setLine(next.getLine());
    eof->setCharPositionInLine(next.getCharPositionInLine());
    return eof;
  }

  std::unique_ptr<antlr4::Token> nextDefaultToken() {
    for (;;) {
      std::unique_ptr<antlr4::Token> token = lexer_.nextToken();
      const std::size_t type = token->getType();
      if (type != SegLexer::BAD_CHAR) flushBadChars();
      if (type == SegLexer::BAD_CHAR) {
        badChar(*token);
        continue;
      }
      if (type == SegLexer::UNTERMINATED_COMMENT) {
        SourceRange r = tokenRange(file_, *token);
        r.end = {r.begin.line, r.begin.column + 2};
        diags_.report(DiagId::UnterminatedComment, r).addHelp("close it with `*/`");
        continue;
      }
      if (token->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
      if (type == SegLexer::UNTERMINATED_STRING) {
        diags_.report(DiagId::UnterminatedString, tokenRange(file_, *token))
            .addHelp("strings end on the line they start; add `\"` at the end");
      }
      return token;
    }
  }

  void badChar(const antlr4::Token& token) {
    const char32_t cp = firstCodePoint(token.getText());
    const SourceRange range = tokenRange(file_, token);
    // Invalid UTF-8 was already reported when the file was read.
    if (cp == 0xFFFD) {
      flushBadChars();
      return;
    }
    if (badRun_.valid() && badRun_.end == range.begin && cp == badChar_) {
      badRun_.end = range.end;
      ++badCount_;
      return;
    }
    flushBadChars();
    badRun_ = range;
    badChar_ = cp;
    badCount_ = 1;
  }

  void flushBadChars() {
    if (!badRun_.valid()) return;
    state_.linesWithErrors.insert(badRun_.begin.line);
    const std::string repeated = badCount_ > 1 ? fmt::format(" ({} times)", badCount_) : "";
    Diagnostic& d = diags_.report(DiagId::UnexpectedCharacter, badRun_, describeChar(badChar_), repeated);
    addCharHelp(d, badChar_);
    badRun_ = {};
  }

  void trackNesting(const antlr4::Token& token) {
    const std::size_t type = token.getType();
    prefixRun_ = (type == SegLexer::NOT || type == SegLexer::MINUS) ? prefixRun_ + 1 : 0;
    if (type == SegLexer::IF && previous1_ == SegLexer::ELSE) ++elseIfChain_;
    if (alwaysStartsDeclaration(type)) elseIfChain_ = 0;
    if (isOpener(type)) {
      open_.push_back({type, tokenRange(file_, token)});
    } else if (isCloser(type)) {
      closeBracket(token);
    }
    if (open_.size() > kMaxNesting || prefixRun_ > kMaxNesting || elseIfChain_ > kMaxNesting) {
      diags_.report(DiagId::NestingTooDeep, tokenRange(file_, token), kMaxNesting)
          .addHelp("split the rule into named segments and refer to them by name");
      state_.tooDeep = true;
    }
  }

  void closeBracket(const antlr4::Token& token) {
    const std::size_t type = token.getType();
    const SourceRange range = tokenRange(file_, token);
    if (open_.empty()) {
      diags_.report(DiagId::UnmatchedClosing, range, spell(type))
          .addHelp(fmt::format("remove it, or add the `{}` it should close", spell(openerFor(type))));
      state_.reported.insert(&token);
      return;
    }
    if (closerFor(open_.back().tokenType) == type) {
      open_.pop_back();
      return;
    }
    const OpenBracket& opener = open_.back();
    diags_.report(DiagId::MismatchedBracket, range, spell(type), spell(opener.tokenType))
        .addNote(opener.range, fmt::format("`{}` opened here; close it with `{}` first",
                                           spell(opener.tokenType), spell(closerFor(opener.tokenType))));
    state_.reported.insert(&token);
    // If an outer bracket matches, the inner ones were left open: drop them.
    for (std::size_t i = open_.size(); i-- > 0;) {
      if (closerFor(open_[i].tokenType) == type) {
        open_.resize(i);
        return;
      }
    }
  }

  Lexer& lexer_;
  FileId file_;
  DiagnosticEngine& diags_;
  LexState& state_;
  std::unique_ptr<antlr4::Token> pending_;
  bool finished_ = false;
  std::vector<OpenBracket> open_;
  std::size_t previous1_ = 0;  // types of the last two tokens taken
  std::size_t previous2_ = 0;
  std::size_t prefixRun_ = 0;
  std::size_t elseIfChain_ = 0;
  SourceRange badRun_;
  char32_t badChar_ = 0;
  std::size_t badCount_ = 0;
};

TokenPass::TokenPass(Lexer& lexer, FileId file, DiagnosticEngine& diags)
    : impl_(std::make_unique<Impl>(lexer, file, diags, state_)) {}

TokenPass::~TokenPass() = default;

std::optional<Chunk> TokenPass::nextChunk() { return impl_->nextChunk(); }

}  // namespace seg::syntax
