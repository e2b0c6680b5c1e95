#include "compiler/syntax/lexer.h"

#include <array>
#include <string>
#include <unordered_map>

#include "SegLexer.h"
#include "compiler/source/source.h"

namespace seg::syntax {
namespace {

bool isDigit(char32_t c) { return c >= '0' && c <= '9'; }
bool isWordStart(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isWordChar(char32_t c) { return isWordStart(c) || isDigit(c); }

// Keyword spellings come from the generated lexer's vocabulary, so the
// grammar stays the single list of keywords.
const std::unordered_map<std::string, std::size_t>& keywords() {
  static const std::unordered_map<std::string, std::size_t> kKeywords = [] {
    std::unordered_map<std::string, std::size_t> out;
    antlr4::ANTLRInputStream noInput("");
    const SegLexer generated(&noInput);
    const antlr4::dfa::Vocabulary& vocabulary = generated.getVocabulary();
    for (std::size_t type = 1; type <= vocabulary.getMaxTokenType(); ++type) {
      const std::string literal = vocabulary.getLiteralName(type);
      if (literal.size() > 2 && isWordStart(static_cast<unsigned char>(literal[1]))) {
        out.emplace(literal.substr(1, literal.size() - 2), type);
      }
    }
    return out;
  }();
  return kKeywords;
}

struct Punctuation {
  std::string_view spelling;
  std::size_t type;
};

// Longest spellings first, so `..` wins over `.` and `->` over `-`.
constexpr std::array<Punctuation, 24> kPunctuation = {{
    {"..", SegLexer::DOTDOT}, {"->", SegLexer::ARROW},  {"+=", SegLexer::PLUS_EQ},
    {"-=", SegLexer::MINUS_EQ}, {"==", SegLexer::EQ},   {"!=", SegLexer::NE},
    {"<=", SegLexer::LE},     {">=", SegLexer::GE},     {"(", SegLexer::LPAREN},
    {")", SegLexer::RPAREN},  {"{", SegLexer::LBRACE},  {"}", SegLexer::RBRACE},
    {"[", SegLexer::LBRACKET}, {"]", SegLexer::RBRACKET}, {",", SegLexer::COMMA},
    {";", SegLexer::SEMI},    {":", SegLexer::COLON},   {".", SegLexer::DOT},
    {"=", SegLexer::ASSIGN},  {"<", SegLexer::LT},      {">", SegLexer::GT},
    {"+", SegLexer::PLUS},    {"-", SegLexer::MINUS},   {"", 0},
}};

// Length of `digits` digits at `pos` of `s`, or npos.
std::size_t digitsAt(std::string_view s, std::size_t pos, std::size_t count) {
  if (pos + count > s.size()) return std::string_view::npos;
  for (std::size_t i = 0; i < count; ++i) {
    if (!isDigit(static_cast<unsigned char>(s[pos + i]))) return std::string_view::npos;
  }
  return pos + count;
}

std::size_t matchDate(std::string_view s) {
  std::size_t p = digitsAt(s, 0, 4);
  if (p == std::string_view::npos || p >= s.size() || s[p] != '-') return 0;
  p = digitsAt(s, p + 1, 2);
  if (p == std::string_view::npos || p >= s.size() || s[p] != '-') return 0;
  p = digitsAt(s, p + 1, 2);
  return p == std::string_view::npos ? 0 : p;
}

// HH:MM after the date and separator: DATETIME's tail.
std::size_t matchDateTime(std::string_view s) {
  const std::size_t date = matchDate(s);
  if (date == 0 || date >= s.size() || (s[date] != 'T' && s[date] != ' ')) return 0;
  std::size_t p = digitsAt(s, date + 1, 2);
  if (p == std::string_view::npos || p >= s.size() || s[p] != ':') return 0;
  p = digitsAt(s, p + 1, 2);
  if (p == std::string_view::npos) return 0;
  if (p < s.size() && s[p] == ':') {
    const std::size_t seconds = digitsAt(s, p + 1, 2);
    if (seconds != std::string_view::npos) p = seconds;
  }
  if (p < s.size() && s[p] == 'Z') return p + 1;
  if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    std::size_t q = digitsAt(s, p + 1, 2);
    if (q != std::string_view::npos && q < s.size() && s[q] == ':') {
      q = digitsAt(s, q + 1, 2);
      if (q != std::string_view::npos) return q;
    }
  }
  return p;
}

std::size_t matchClock(std::string_view s) {
  std::size_t p = 0;
  while (p < 2 && p < s.size() && isDigit(static_cast<unsigned char>(s[p]))) ++p;
  if (p == 0 || p >= s.size() || s[p] != ':') return 0;
  const std::size_t end = digitsAt(s, p + 1, 2);
  return end == std::string_view::npos ? 0 : end;
}

std::size_t countDigits(std::string_view s, std::size_t pos) {
  std::size_t p = pos;
  while (p < s.size() && isDigit(static_cast<unsigned char>(s[p]))) ++p;
  return p - pos;
}

std::size_t matchPercent(std::string_view s) {
  std::size_t p = countDigits(s, 0);
  if (p + 1 < s.size() && s[p] == '.' && isDigit(static_cast<unsigned char>(s[p + 1]))) {
    p += 1 + countDigits(s, p + 1);
  }
  return p < s.size() && s[p] == '%' ? p + 1 : 0;
}

std::size_t matchUnitNumber(std::string_view s) {
  std::size_t p = countDigits(s, 0);
  if (p >= s.size() || !isWordStart(static_cast<unsigned char>(s[p]))) return 0;
  while (p < s.size() && isWordChar(static_cast<unsigned char>(s[p]))) ++p;
  return p;
}

}  // namespace

char32_t Lexer::peek(std::size_t ahead) const {
  std::size_t pos = pos_;
  char32_t cp = 0;
  for (std::size_t i = 0; i <= ahead; ++i) {
    if (pos >= text_.size()) return 0;
    const std::size_t length = utf8::decode(text_, pos, cp);
    pos += length == 0 ? 1 : length;
  }
  return cp;
}

std::size_t Lexer::peekLength() const {
  char32_t cp;
  const std::size_t length = utf8::decode(text_, pos_, cp);
  return length == 0 ? 1 : length;
}

void Lexer::advance() {
  if (pos_ >= text_.size()) return;
  const bool newline = text_[pos_] == '\n';
  pos_ += peekLength();
  ++codePoint_;
  if (newline) {
    ++line_;
    column_ = 0;
  } else {
    ++column_;
  }
}

bool Lexer::at(std::string_view literal) const { return text_.substr(pos_, literal.size()) == literal; }

// The longest of the number-like rules; on a tie the rule listed first in
// the grammar wins, as in ANTLR.
std::size_t Lexer::matchNumber(std::size_t& type) const {
  const std::string_view rest = text_.substr(pos_);
  const std::pair<std::size_t, std::size_t> candidates[] = {
      {matchDateTime(rest), SegLexer::DATETIME}, {matchDate(rest), SegLexer::DATE},
      {matchClock(rest), SegLexer::CLOCK},       {matchPercent(rest), SegLexer::PERCENT},
      {matchUnitNumber(rest), SegLexer::UNIT_NUMBER}, {countDigits(rest, 0), SegLexer::INT},
  };
  std::size_t best = 0;
  for (const auto& [length, candidate] : candidates) {
    if (length > best) {
      best = length;
      type = candidate;
    }
  }
  return best;  // ASCII only: bytes are code points
}

std::size_t Lexer::matchWordType(std::string_view word) const {
  const auto& table = keywords();
  const auto found = table.find(std::string(word));
  return found == table.end() ? static_cast<std::size_t>(SegLexer::ID) : found->second;
}

void Lexer::lexString(std::size_t& type) {
  advance();  // the opening quote
  for (;;) {
    const char32_t c = pos_ < text_.size() ? peek() : 0;
    if (pos_ >= text_.size() || c == '\n' || c == '\r') {
      type = SegLexer::UNTERMINATED_STRING;
      return;
    }
    if (c == '"') {
      advance();
      type = SegLexer::STRING;
      return;
    }
    if (c == '\\') {
      advance();
      if (pos_ < text_.size() && peek() != '\n' && peek() != '\r') advance();
      continue;
    }
    advance();
  }
}

void Lexer::lexBlockComment(std::size_t& type) {
  advance();
  advance();
  while (pos_ < text_.size()) {
    if (at("*/")) {
      advance();
      advance();
      type = SegLexer::BLOCK_COMMENT;
      return;
    }
    advance();
  }
  type = SegLexer::UNTERMINATED_COMMENT;
}

std::unique_ptr<antlr4::Token> Lexer::nextToken() {
  const std::size_t startByte = pos_;
  const std::size_t startCodePoint = codePoint_;
  const std::size_t line = line_;
  const std::size_t column = column_;
  std::size_t type = antlr4::Token::EOF;
  std::size_t channel = antlr4::Token::DEFAULT_CHANNEL;

  if (pos_ < text_.size()) {
    const char32_t c = peek();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == 0xFEFF) {
      while (pos_ < text_.size()) {
        const char32_t w = peek();
        if (w != ' ' && w != '\t' && w != '\r' && w != '\n' && w != '\f' && w != 0xFEFF) break;
        advance();
      }
      type = SegLexer::WS;
      channel = antlr4::Token::HIDDEN_CHANNEL;
    } else if (at("//")) {
      while (pos_ < text_.size() && peek() != '\n' && peek() != '\r') advance();
      type = SegLexer::LINE_COMMENT;
      channel = antlr4::Token::HIDDEN_CHANNEL;
    } else if (at("/*")) {
      lexBlockComment(type);
      if (type == SegLexer::BLOCK_COMMENT) channel = antlr4::Token::HIDDEN_CHANNEL;
    } else if (c == '"') {
      lexString(type);
    } else if (isDigit(c)) {
      const std::size_t length = matchNumber(type);
      for (std::size_t i = 0; i < length; ++i) advance();
    } else if (isWordStart(c)) {
      while (pos_ < text_.size() && isWordChar(peek())) advance();
      type = matchWordType(text_.substr(startByte, pos_ - startByte));
    } else {
      type = SegLexer::BAD_CHAR;
      for (const Punctuation& p : kPunctuation) {
        if (!p.spelling.empty() && at(p.spelling)) {
          type = p.type;
          for (std::size_t i = 0; i < p.spelling.size(); ++i) advance();
          break;
        }
      }
      if (type == SegLexer::BAD_CHAR) advance();
    }
  }

  const std::string text = type == antlr4::Token::EOF ? std::string("<EOF>")
                                                      : std::string(text_.substr(startByte, pos_ - startByte));
  auto token = std::make_unique<antlr4::CommonToken>(type, text);
  token->setLine(line);
  token->setCharPositionInLine(column);
  token->setChannel(channel);
  token->setStartIndex(startCodePoint);
  token->setStopIndex(codePoint_ - 1);
  return token;
}

}  // namespace seg::syntax
