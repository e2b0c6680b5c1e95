#include "compiler/source/source.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace seg {

SourceRange SourceRange::cover(const SourceRange& a, const SourceRange& b) {
  if (!a.valid()) return b;
  if (!b.valid()) return a;
  SourceRange r = a;
  if (b.begin < r.begin) r.begin = b.begin;
  if (r.end < b.end) r.end = b.end;
  return r;
}

namespace utf8 {

std::size_t decode(std::string_view text, std::size_t pos, char32_t& out) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char b0 = byte(pos);
  if (b0 < 0x80) {
    out = b0;
    return 1;
  }
  std::size_t length;
  char32_t cp;
  char32_t minimum;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2, cp = b0 & 0x1F, minimum = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3, cp = b0 & 0x0F, minimum = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4, cp = b0 & 0x07, minimum = 0x10000;
  } else {
    return 0;
  }
  if (pos + length > text.size()) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char b = byte(pos + i);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if (cp < minimum || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  out = cp;
  return length;
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t countCodePoints(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

namespace {
std::size_t utf16Units(char32_t cp) { return cp > 0xFFFF ? 2 : 1; }
}  // namespace

std::size_t countUtf16Units(std::string_view text) {
  std::size_t units = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp = 0xFFFD;
    const std::size_t length = decode(text, pos, cp);
    pos += length == 0 ? 1 : length;
    units += utf16Units(cp);
  }
  return units;
}

std::string_view firstUtf16Units(std::string_view text, std::size_t limit) {
  std::size_t units = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp = 0xFFFD;
    const std::size_t length = decode(text, pos, cp);
    if (units + utf16Units(cp) > limit) return text.substr(0, pos);
    units += utf16Units(cp);
    pos += length == 0 ? 1 : length;
  }
  return text;
}

int displayWidth(char32_t cp) {
  if (cp == 0) return 0;
  // Combining marks take no column.
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x3099 && cp <= 0x309A)) return 0;
  // East Asian Wide and Fullwidth blocks (the ones Japanese text uses).
  const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
                    (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
                    (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
                    (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
  return wide ? 2 : 1;
}

int displayWidth(std::string_view text) {
  int width = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp = 0xFFFD;
    const std::size_t length = decode(text, pos, cp);
    pos += length == 0 ? 1 : length;
    width += cp == '\t' ? 1 : displayWidth(cp);
  }
  return width;
}

std::size_t byteOffsetOfColumn(std::string_view line, std::uint32_t column) {
  std::size_t pos = 0;
  for (std::uint32_t c = 1; c < column && pos < line.size(); ++c) {
    ++pos;
    while (pos < line.size() && (static_cast<unsigned char>(line[pos]) & 0xC0) == 0x80) ++pos;
  }
  return pos;
}

}  // namespace utf8

SourceFile::SourceFile(std::string path, std::string_view raw) : path_(std::move(path)) {
  // A byte-order mark is not content (editors on Windows add it).
  if (raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
  text_.reserve(raw.size());
  std::uint32_t line = 1;
  std::uint32_t column = 1;
  lineStarts_.push_back(0);
  for (std::size_t pos = 0; pos < raw.size();) {
    char32_t cp;
    std::size_t length = utf8::decode(raw, pos, cp);
    if (length == 0) {
      invalid_.push_back({{line, column}, static_cast<unsigned char>(raw[pos])});
      cp = 0xFFFD;
      length = 1;
      utf8::append(text_, cp);
    } else {
      text_.append(raw.substr(pos, length));
    }
    pos += length;
    if (cp == '\n') {
      ++line;
      column = 1;
      lineStarts_.push_back(text_.size());
    } else {
      ++column;
    }
  }
}

std::string_view SourceFile::line(std::uint32_t line) const {
  if (line == 0 || line > lineStarts_.size()) return {};
  const std::size_t begin = lineStarts_[line - 1];
  std::size_t end = line < lineStarts_.size() ? lineStarts_[line] - 1 : text_.size();
  if (end > begin && text_[end - 1] == '\r') --end;
  return std::string_view(text_).substr(begin, end - begin);
}

FileId SourceManager::add(std::string path, std::string_view raw) {
  files_.push_back(std::make_unique<SourceFile>(std::move(path), raw));
  return static_cast<FileId>(files_.size() - 1);
}

std::optional<FileId> SourceManager::load(const std::string& path, std::string& error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = "is a directory";
    return std::nullopt;
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxSourceBytes) {
    error = "file is " + std::to_string(size >> 20) + " MiB; seg programs are limited to " +
            std::to_string(kMaxSourceBytes >> 20) + " MiB";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::error_code(errno, std::generic_category()).message();
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = "read failed";
    return std::nullopt;
  }
  return add(path, buffer.view());
}

}  // namespace seg
