#include "compiler/diagnostics/diagnostics.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace seg {

const std::vector<DiagInfo>& allDiagnostics() {
  static const std::vector<DiagInfo> kInfos = {
#define DIAG(Name, Code, Sev, Format) \
  DiagInfo{DiagId::Name, Code, Severity::Sev, Format, #Name},
#include "compiler/diagnostics/diagnostic_kinds.def"
  };
  return kInfos;
}

const DiagInfo& diagInfo(DiagId id) { return allDiagnostics()[static_cast<std::size_t>(id)]; }

std::string_view severityName(Severity severity) {
  switch (severity) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

namespace {

// Names and texts quoted in a message are shortened past 40 characters, so
// a 10 MB identifier gives a one-line message.
std::string shortenQuoted(const std::string& message) {
  constexpr std::size_t kLongest = 40;
  std::string out;
  std::size_t pos = 0;
  while (pos < message.size()) {
    const std::size_t open = message.find('`', pos);
    const std::size_t close = open == std::string::npos ? open : message.find('`', open + 1);
    if (close == std::string::npos) {
      out += message.substr(pos);
      break;
    }
    out += message.substr(pos, open + 1 - pos);
    const std::string_view quoted = std::string_view(message).substr(open + 1, close - open - 1);
    if (utf8::countCodePoints(quoted) > kLongest) {
      out += quoted.substr(0, utf8::byteOffsetOfColumn(quoted, kLongest - 2));
      out += "…";
    } else {
      out += quoted;
    }
    out += '`';
    pos = close + 1;
  }
  return out;
}

}  // namespace

Diagnostic& DiagnosticEngine::push(Diagnostic diagnostic) {
  if (diagnostic.message.size() > 200) diagnostic.message = shortenQuoted(diagnostic.message);
  if (diagnostic.severity == Severity::Error) {
    if (limitReached()) {
      discarded_ = std::move(diagnostic);
      return discarded_;
    }
    ++errors_;
  } else if (diagnostic.severity == Severity::Warning) {
    ++warnings_;
  }
  diagnostics_.push_back(std::move(diagnostic));
  return diagnostics_.back();
}

void DiagnosticEngine::sortByPosition() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     if (a.range.file != b.range.file) return a.range.file < b.range.file;
                     return a.range.begin < b.range.begin;
                   });
}

namespace {

struct Style {
  bool color;
  std::string paint(std::string_view text, std::string_view code) const {
    if (!color) return std::string(text);
    return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
  }
};

std::string_view severityColor(Severity severity) {
  switch (severity) {
    case Severity::Error: return "1;31";
    case Severity::Warning: return "1;33";
    case Severity::Note: return "1;36";
  }
  return "1";
}

std::string location(const SourceRange& range, const SourceManager& sources) {
  if (range.file == kNoFile) return "<unknown>";
  const std::string& path = sources.file(range.file).path();
  if (!range.valid()) return path;
  return fmt::format("{}:{}:{}", path, range.begin.line, range.begin.column);
}

// The source line (tabs shown as spaces so the caret lines up) and the caret
// line beneath it, each prefixed by a gutter.
std::string snippet(const SourceRange& range, const SourceManager& sources, const Style& style,
                    Severity severity) {
  if (!range.valid()) return {};
  const SourceFile& file = sources.file(range.file);
  const std::string_view line = file.line(range.begin.line);
  const std::string number = std::to_string(range.begin.line);
  const std::string gutter(number.size() + 2, ' ');

  std::uint32_t beginColumn = range.begin.column;
  std::uint32_t endColumn = range.end.line == range.begin.line ? range.end.column : 0;
  std::string text;
  // Very long lines are shown as a window around the caret: about 40
  // terminal columns before it and 80 after. The window is found from the
  // caret outwards, so each diagnostic costs the window, not the line.
  if (line.size() > 640) {
    const std::size_t caret = utf8::byteOffsetOfColumn(line, beginColumn);
    const auto previous = [&](std::size_t at) {
      do --at;
      while (at > 0 && (static_cast<unsigned char>(line[at]) & 0xC0) == 0x80);
      return at;
    };
    const auto widthAt = [&](std::size_t at, std::size_t& length) {
      char32_t cp = 0xFFFD;
      length = std::max<std::size_t>(1, utf8::decode(line, at, cp));
      return utf8::displayWidth(cp);
    };
    std::size_t from = caret, length = 0;
    std::uint32_t dropped = beginColumn - 1;  // code points left out before the window
    for (int width = 0; from > 0;) {
      const std::size_t before = previous(from);
      const int w = widthAt(before, length);
      if (width + w > 40) break;
      width += w;
      from = before;
      --dropped;
    }
    std::size_t to = caret;
    std::uint32_t shown = 0;  // code points from the caret on
    for (int width = 0; to < line.size();) {
      const int w = widthAt(to, length);
      if (width + w > 80) break;
      width += w;
      to += length;
      ++shown;
    }
    text = (from > 0 ? "…" : "") + std::string(line.substr(from, to - from)) + (to < line.size() ? "…" : "");
    const std::uint32_t shift = dropped - (from > 0 ? 1 : 0);
    beginColumn -= shift;
    if (endColumn != 0) endColumn = std::min(endColumn, range.begin.column + shown) - shift;
  } else {
    text = std::string(line);
  }
  std::replace(text.begin(), text.end(), '\t', ' ');

  const std::size_t beginByte = utf8::byteOffsetOfColumn(text, beginColumn);
  std::size_t endByte = text.size();
  if (endColumn != 0 && endColumn > beginColumn) endByte = utf8::byteOffsetOfColumn(text, endColumn);
  const int pad = utf8::displayWidth(std::string_view(text).substr(0, beginByte));
  int width = utf8::displayWidth(std::string_view(text).substr(beginByte, endByte - beginByte));
  if (range.end.line == range.begin.line && range.end.column <= range.begin.column) width = 1;
  width = std::max(width, 1);

  std::string caret(static_cast<std::size_t>(width), '~');
  caret[0] = '^';
  std::string out;
  out += fmt::format(" {} | {}\n", number, text);
  out += fmt::format("{}| {}{}\n", gutter, std::string(static_cast<std::size_t>(pad), ' '),
                     style.paint(caret, severityColor(severity)));
  return out;
}

}  // namespace

std::string renderText(const Diagnostic& diagnostic, const SourceManager& sources,
                       const RenderOptions& options) {
  const Style style{options.color};
  const DiagInfo& info = diagInfo(diagnostic.id);
  std::string out = fmt::format(
      "{}: {}: {}\n", style.paint(location(diagnostic.range, sources), "1"),
      style.paint(fmt::format("{}[{}]", severityName(diagnostic.severity), info.code),
                  severityColor(diagnostic.severity)),
      style.paint(diagnostic.message, "1"));
  out += snippet(diagnostic.range, sources, style, diagnostic.severity);
  const std::size_t gutterWidth =
      diagnostic.range.valid() ? std::to_string(diagnostic.range.begin.line).size() + 2 : 1;
  for (const std::string& help : diagnostic.help) {
    out += fmt::format("{}= {}: {}\n", std::string(gutterWidth, ' '),
                       style.paint("help", "1;36"), help);
  }
  for (const DiagNote& note : diagnostic.notes) {
    out += fmt::format("{}: {}: {}\n", style.paint(location(note.range, sources), "1"),
                       style.paint("note", severityColor(Severity::Note)), note.message);
    out += snippet(note.range, sources, style, Severity::Note);
  }
  return out;
}

namespace {

nlohmann::json rangeJson(const SourceRange& range) {
  return {{"start", {{"line", range.begin.line}, {"column", range.begin.column}}},
          {"end", {{"line", range.end.line}, {"column", range.end.column}}}};
}

std::string filePath(const SourceRange& range, const SourceManager& sources) {
  return range.file == kNoFile ? std::string() : sources.file(range.file).path();
}

}  // namespace

std::string renderJson(const Diagnostic& diagnostic, const SourceManager& sources) {
  const DiagInfo& info = diagInfo(diagnostic.id);
  nlohmann::json notes = nlohmann::json::array();
  for (const DiagNote& note : diagnostic.notes) {
    notes.push_back({{"file", filePath(note.range, sources)},
                     {"range", rangeJson(note.range)},
                     {"message", note.message}});
  }
  const nlohmann::json object = {
      {"id", info.code},
      {"name", info.name},
      {"severity", severityName(diagnostic.severity)},
      {"file", filePath(diagnostic.range, sources)},
      {"range", rangeJson(diagnostic.range)},
      {"message", diagnostic.message},
      {"hints", diagnostic.help},
      {"notes", notes},
  };
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace seg
