// Decoding of literal tokens whose contents the grammar does not check:
// strings (escapes, `{{placeholders}}`), dates, clocks, durations, numbers.
// Every function reports problems at the exact characters involved.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/diagnostics/diagnostics.h"

namespace seg::syntax {

// Where a token's text starts; columns of its characters follow from it.
struct TokenSpan {
  FileId file;
  SourcePosition begin;
  std::string_view text;

  SourceRange rangeOfChars(std::size_t firstCodePoint, std::size_t count) const;
  SourceRange whole() const;
};

// `raw` includes the quotes (the closing one is missing when unterminated).
void decodeString(const TokenSpan& token, bool terminated, ast::StringLitExpr& out,
                  DiagnosticEngine& diags);

// The `{{name}}` and `{{name|fallback}}` placeholders of a plain string
// (the string values of a flex file, which has no seg escapes). Offsets
// and lengths are in bytes; ranges are left invalid. `error` says what is
// wrong with the first malformed one ("" when none).
struct PlainPlaceholders {
  std::vector<ast::Placeholder> found;
  std::string error;
};
PlainPlaceholders findPlaceholders(std::string_view text);

std::optional<std::int64_t> decodeInt(const TokenSpan& token, DiagnosticEngine& diags);
std::optional<std::int64_t> decodePercent(const TokenSpan& token, DiagnosticEngine& diags);
std::optional<std::int32_t> decodeDate(const TokenSpan& token, DiagnosticEngine& diags);
std::optional<std::int32_t> decodeClock(const TokenSpan& token, DiagnosticEngine& diags);
std::optional<std::int64_t> decodeDuration(const TokenSpan& token, DiagnosticEngine& diags);
// Fills days, secondsOfDay and the optional offset.
bool decodeDateTime(const TokenSpan& token, ast::DateTimeLitExpr& out, DiagnosticEngine& diags);

}  // namespace seg::syntax
