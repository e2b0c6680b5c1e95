#include "compiler/syntax/literals.h"

#include <limits>
#include <string>

#include <fmt/format.h>

#include "base/civil_time.h"

namespace seg::syntax {

SourceRange TokenSpan::rangeOfChars(std::size_t firstCodePoint, std::size_t count) const {
  const auto column = static_cast<std::uint32_t>(begin.column + firstCodePoint);
  return {file, {begin.line, column}, {begin.line, static_cast<std::uint32_t>(column + count)}};
}

SourceRange TokenSpan::whole() const { return rangeOfChars(0, utf8::countCodePoints(text)); }

namespace {

// The text as code points, so that indexes are columns.
std::u32string codePoints(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp = 0xFFFD;
    const std::size_t length = utf8::decode(text, pos, cp);
    pos += length == 0 ? 1 : length;
    out += cp;
  }
  return out;
}

std::string toUtf8(std::u32string_view text) {
  std::string out;
  for (char32_t cp : text) utf8::append(out, cp);
  return out;
}

bool isIdentStart(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isIdentChar(char32_t c) { return isIdentStart(c) || (c >= '0' && c <= '9'); }

// `name` or `a.b`: identifiers joined by dots.
bool isPlaceholderPath(std::u32string_view text) {
  bool expectStart = true;
  for (char32_t c : text) {
    if (expectStart) {
      if (!isIdentStart(c)) return false;
      expectStart = false;
    } else if (c == '.') {
      expectStart = true;
    } else if (!isIdentChar(c)) {
      return false;
    }
  }
  return !expectStart;
}

std::u32string_view trim(std::u32string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

constexpr const char* kPlaceholderHelp =
    "a placeholder is `{{name}}`, or `{{name|fallback}}` to say something when the value is missing";

// What is between `{{` and `}}`: the name and fallback of a placeholder,
// or why it is not one (`why` set, placeholder empty).
std::optional<ast::Placeholder> placeholderContent(std::u32string_view content, std::string& why) {
  const std::size_t bar = content.find(U'|');
  const std::u32string_view inner = trim(content.substr(0, bar));
  if (!isPlaceholderPath(inner)) {
    why = inner.empty() ? (bar == std::u32string_view::npos ? "it is empty" : "no name before `|`")
                        : "expected a name such as `name` or `e.product`";
    return std::nullopt;
  }
  ast::Placeholder placeholder;
  placeholder.name = toUtf8(inner);
  if (bar != std::u32string_view::npos) placeholder.fallback = toUtf8(trim(content.substr(bar + 1)));
  return placeholder;
}

// Scans `{{...}}` at index `open` of the string's code points (the first
// `{`); returns the index just past the closing braces.
std::size_t scanPlaceholder(const TokenSpan& token, std::u32string_view chars, std::size_t open,
                            std::size_t contentEnd, ast::StringLitExpr& out,
                            DiagnosticEngine& diags) {
  const std::size_t close = chars.substr(0, contentEnd).find(U"}}", open + 2);
  if (close == std::u32string_view::npos) {
    diags.report(DiagId::InvalidPlaceholder, token.rangeOfChars(open, 2), "{{", "missing `}}`")
        .addHelp("write a literal brace as `\\{`");
    return open + 2;
  }
  const SourceRange range = token.rangeOfChars(open, close + 2 - open);
  std::string why;
  if (auto placeholder = placeholderContent(chars.substr(open + 2, close - open - 2), why)) {
    placeholder->range = range;
    placeholder->offset = out.value.size();
    out.placeholders.push_back(std::move(*placeholder));
  } else {
    diags.report(DiagId::InvalidPlaceholder, range, toUtf8(chars.substr(open, close + 2 - open)), why)
        .addHelp(kPlaceholderHelp);
  }
  return close + 2;
}

// Decodes `\u{XXXX}`; returns the index past it, or 0 on failure.
std::size_t decodeUnicodeEscape(std::u32string_view chars, std::size_t backslash, std::string& value) {
  std::size_t i = backslash + 2;
  if (i >= chars.size() || chars[i] != '{') return 0;
  char32_t cp = 0;
  std::size_t digits = 0;
  for (++i; i < chars.size() && chars[i] != '}'; ++i, ++digits) {
    const char32_t c = chars[i];
    int v;
    if (c >= '0' && c <= '9') v = static_cast<int>(c - '0');
    else if (c >= 'a' && c <= 'f') v = static_cast<int>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v = static_cast<int>(c - 'A' + 10);
    else return 0;
    cp = cp * 16 + static_cast<char32_t>(v);
    if (digits >= 6) return 0;
  }
  if (i >= chars.size() || digits == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  utf8::append(value, cp);
  return i + 1;
}

}  // namespace

PlainPlaceholders findPlaceholders(std::string_view text) {
  PlainPlaceholders out;
  for (std::size_t open = text.find("{{"); open != std::string_view::npos; open = text.find("{{", open)) {
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      if (out.error.empty()) out.error = fmt::format("`{}` is missing `}}}}`", text.substr(open, 20));
      break;
    }
    std::string why;
    auto placeholder = placeholderContent(codePoints(text.substr(open + 2, close - open - 2)), why);
    if (!placeholder) {
      if (out.error.empty()) out.error = fmt::format("`{}`: {}", text.substr(open, close + 2 - open), why);
    } else {
      placeholder->offset = open;
      placeholder->length = close + 2 - open;
      out.found.push_back(std::move(*placeholder));
    }
    open = close + 2;
  }
  return out;
}

void decodeString(const TokenSpan& token, bool terminated, ast::StringLitExpr& out,
                  DiagnosticEngine& diags) {
  const std::u32string chars = codePoints(token.text);
  const std::size_t contentEnd = terminated ? chars.size() - 1 : chars.size();
  std::string& value = out.value;
  for (std::size_t i = 1; i < contentEnd;) {
    const char32_t c = chars[i];
    if (c == '{' && i + 1 < contentEnd && chars[i + 1] == '{') {
      const std::size_t found = out.placeholders.size();
      const std::size_t next = scanPlaceholder(token, chars, i, contentEnd, out, diags);
      value += toUtf8(std::u32string_view(chars).substr(i, next - i));
      if (out.placeholders.size() > found) out.placeholders.back().length = value.size() - out.placeholders.back().offset;
      i = next;
      continue;
    }
    if (c != '\\') {
      utf8::append(value, c);
      ++i;
      continue;
    }
    if (i + 1 >= contentEnd) {  // a lone backslash before the line ends
      ++i;
      continue;
    }
    const char32_t e = chars[i + 1];
    switch (e) {
      case '"': value += '"'; break;
      case '\\': value += '\\'; break;
      case 'n': value += '\n'; break;
      case 't': value += '\t'; break;
      case 'r': value += '\r'; break;
      case '{': value += '{'; break;
      case '}': value += '}'; break;
      case 'u': {
        const std::size_t next = decodeUnicodeEscape(chars, i, value);
        if (next != 0) {
          i = next;
          continue;
        }
        diags.report(DiagId::InvalidEscape, token.rangeOfChars(i, 2), "\\u")
            .addHelp("write a code point as `\\u{30C6}`");
        break;
      }
      default: {
        std::string spelled = "\\";
        utf8::append(spelled, e);
        diags.report(DiagId::InvalidEscape, token.rangeOfChars(i, 2), spelled)
            .addHelp("valid escapes are \\\" \\\\ \\n \\t \\r \\{ \\} and \\u{XXXX}");
      }
    }
    i += 2;
  }
}

std::optional<std::int64_t> decodeInt(const TokenSpan& token, DiagnosticEngine& diags) {
  std::int64_t value = 0;
  for (char c : token.text) {
    if (value > (std::numeric_limits<std::int64_t>::max() - (c - '0')) / 10) {
      diags.report(DiagId::NumberTooLarge, token.whole(), token.text);
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<std::int64_t> decodePercent(const TokenSpan& token, DiagnosticEngine& diags) {
  const std::string_view body = token.text.substr(0, token.text.size() - 1);  // drop '%'
  const std::size_t dot = body.find('.');
  const std::string_view whole = body.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : body.substr(dot + 1);
  if (fraction.size() > 2) {
    diags.report(DiagId::InvalidPercent, token.whole(), token.text, "at most two decimals are allowed");
    return std::nullopt;
  }
  if (whole.size() > 6) {
    diags.report(DiagId::InvalidPercent, token.whole(), token.text, "it is larger than 100%");
    return std::nullopt;
  }
  std::int64_t basisPoints = 0;
  for (char c : whole) basisPoints = basisPoints * 10 + (c - '0');
  basisPoints *= 100;
  if (!fraction.empty()) basisPoints += (fraction[0] - '0') * 10 + (fraction.size() > 1 ? fraction[1] - '0' : 0);
  if (basisPoints > 10000) {
    diags.report(DiagId::InvalidPercent, token.whole(), token.text, "it is larger than 100%");
    return std::nullopt;
  }
  return basisPoints;
}

std::optional<std::int32_t> decodeDate(const TokenSpan& token, DiagnosticEngine& diags) {
  std::string why;
  auto days = civil::parseDate(token.text, why);
  if (!days) diags.report(DiagId::InvalidDate, token.whole(), token.text, why);
  return days;
}

std::optional<std::int32_t> decodeClock(const TokenSpan& token, DiagnosticEngine& diags) {
  std::string why;
  auto seconds = civil::parseClock(token.text, why);
  if (!seconds) diags.report(DiagId::InvalidClock, token.whole(), token.text, why);
  return seconds;
}

std::optional<std::int64_t> decodeDuration(const TokenSpan& token, DiagnosticEngine& diags) {
  std::size_t digits = 0;
  while (digits < token.text.size() && token.text[digits] >= '0' && token.text[digits] <= '9') ++digits;
  const std::string_view unit = token.text.substr(digits);
  const std::int64_t unitSeconds = civil::durationUnitSeconds(unit);
  if (unitSeconds == 0) {
    Diagnostic& d = diags.report(DiagId::InvalidDurationUnit,
                                 token.rangeOfChars(digits, unit.size()), unit, token.text);
    if (unit == "w") {
      d.addHelp("durations use s, m, h and d; write three weeks as `21d`");
    } else {
      d.addHelp("durations use s (seconds), m (minutes), h (hours) and d (days), as in `30d`");
    }
    return std::nullopt;
  }
  const TokenSpan number{token.file, token.begin, token.text.substr(0, digits)};
  const auto count = decodeInt(number, diags);
  if (!count) return std::nullopt;
  // Ten thousand years is far beyond any marketing window; beyond it the
  // arithmetic on instants could overflow.
  if (*count > 10000LL * 366 * civil::kSecondsPerDay / unitSeconds) {
    diags.report(DiagId::NumberTooLarge, token.whole(), token.text);
    return std::nullopt;
  }
  return *count * unitSeconds;
}

bool decodeDateTime(const TokenSpan& token, ast::DateTimeLitExpr& out, DiagnosticEngine& diags) {
  // YYYY-MM-DD[ T]HH:MM[:SS][Z|+HH:MM]
  const TokenSpan date{token.file, token.begin, token.text.substr(0, 10)};
  const auto days = decodeDate(date, diags);
  std::string_view rest = token.text.substr(11);
  std::string_view offset;
  const std::size_t offsetAt = rest.find_first_of("Z+-");
  if (offsetAt != std::string_view::npos) {
    offset = rest.substr(offsetAt);
    rest = rest.substr(0, offsetAt);
  }
  const TokenSpan clock{token.file, {token.begin.line, token.begin.column + 11}, rest};
  const auto seconds = decodeClock(clock, diags);
  if (!days || !seconds) return false;
  out.days = *days;
  out.secondsOfDay = *seconds;
  if (offset == "Z") {
    out.utcOffsetSeconds = 0;
  } else if (!offset.empty()) {
    std::string why;
    const TokenSpan offsetSpan{token.file,
                               {token.begin.line, static_cast<std::uint32_t>(token.begin.column + 11 + rest.size() + 1)},
                               offset.substr(1)};
    const auto magnitude = civil::parseClock(offset.substr(1), why);
    if (!magnitude || *magnitude > 14 * 3600) {
      diags.report(DiagId::InvalidDate, offsetSpan.whole(), token.text, "the UTC offset is out of range");
      return false;
    }
    out.utcOffsetSeconds = offset[0] == '-' ? -*magnitude : *magnitude;
  }
  return true;
}

}  // namespace seg::syntax
