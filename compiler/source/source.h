// Source files and positions in them.
//
// Positions are 1-based lines and 1-based columns counted in Unicode code
// points, so that a column means the same thing to a marketer typing
// Japanese as to the compiler. Invalid UTF-8 is replaced with U+FFFD when a
// file is loaded (and reported by the caller), so every later phase sees
// valid text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seg {

struct SourcePosition {
  std::uint32_t line = 0;    // 1-based; 0 means "unknown"
  std::uint32_t column = 0;  // 1-based, in code points

  friend bool operator==(const SourcePosition&, const SourcePosition&) = default;
  friend auto operator<=>(const SourcePosition&, const SourcePosition&) = default;
};

// Index of a file in a SourceManager.
using FileId = std::uint32_t;
inline constexpr FileId kNoFile = ~FileId{0};

// A half-open span [begin, end) in one file.
struct SourceRange {
  FileId file = kNoFile;
  SourcePosition begin;
  SourcePosition end;

  bool valid() const { return file != kNoFile && begin.line != 0; }
  // The smallest range covering both (same file assumed).
  static SourceRange cover(const SourceRange& a, const SourceRange& b);
};

// A byte position where the input was not valid UTF-8.
struct InvalidUtf8 {
  SourcePosition position;
  unsigned char byte;
};

class SourceFile {
 public:
  // `raw` may contain invalid UTF-8; it is repaired and the repairs recorded.
  SourceFile(std::string path, std::string_view raw);

  const std::string& path() const { return path_; }
  // Valid UTF-8.
  const std::string& text() const { return text_; }
  const std::vector<InvalidUtf8>& invalidUtf8() const { return invalid_; }

  std::uint32_t lineCount() const { return static_cast<std::uint32_t>(lineStarts_.size()); }
  // The text of a 1-based line without its line terminator.
  std::string_view line(std::uint32_t line) const;

 private:
  std::string path_;
  std::string text_;
  std::vector<std::size_t> lineStarts_;
  std::vector<InvalidUtf8> invalid_;
};

// Owns every file of a compilation; FileIds index into it.
class SourceManager {
 public:
  // Far above any real program; keeps a mistaken `segc check big.csv` cheap.
  static constexpr std::uintmax_t kMaxSourceBytes = 64u << 20;

  FileId add(std::string path, std::string_view raw);
  // Reads a file from disk; returns nullopt and sets `error` on failure.
  std::optional<FileId> load(const std::string& path, std::string& error);

  const SourceFile& file(FileId id) const { return *files_.at(id); }
  std::size_t size() const { return files_.size(); }

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

namespace utf8 {

// Decodes one code point at `pos`; returns its length in bytes, or 0 if the
// bytes there are not valid UTF-8.
std::size_t decode(std::string_view text, std::size_t pos, char32_t& out);
void append(std::string& out, char32_t cp);
std::size_t countCodePoints(std::string_view text);
// Length as LINE counts text: UTF-16 code units (a code point beyond the
// Basic Multilingual Plane, such as most emoji, is 2).
std::size_t countUtf16Units(std::string_view text);
// The longest prefix of `text` of at most `limit` UTF-16 units, never
// cutting a code point in two.
std::string_view firstUtf16Units(std::string_view text, std::size_t limit);
// Terminal columns a code point occupies (2 for East Asian wide characters).
int displayWidth(char32_t cp);
int displayWidth(std::string_view text);
// Byte offset of the `column`-th code point (1-based) of `line`.
std::size_t byteOffsetOfColumn(std::string_view line, std::uint32_t column);

}  // namespace utf8
}  // namespace seg
