#include "runtime/ingest/importer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <simdjson.h>
#include <xxhash.h>

#include "base/civil_time.h"
#include "base/spelling.h"
#include "runtime/ingest/line_reader.h"
#include "runtime/ingest/values.h"

namespace seg {
namespace {

constexpr std::size_t kKeptErrors = 100;
constexpr std::size_t kMaxWebhookBytes = 16u << 20;

// One record's changes, or why it is bad.
struct Parsed {
  bool header = false;  // a CSV header row: not a record
  std::vector<Mutation> changes;
  std::optional<RecordError> error;
  std::size_t duplicates = 0;
  std::size_t ignored = 0;
  std::string replyToken;  // webhook events that can be replied to
  bool standby = false;    // webhook events of a channel that is not the active one
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // The next record; false at the end of the input.
  virtual bool next(Parsed& out) = 0;
  virtual std::uint64_t bytesRead() const = 0;
  virtual std::uint64_t totalBytes() const = 0;
};

RecordError errorAt(std::size_t line, std::string field, std::string message) {
  return {line, std::move(field), std::move(message)};
}

std::optional<UserId> userIdFrom(std::string_view text, std::size_t line, std::optional<RecordError>& error,
                                 const char* field = "user_id") {
  std::string why;
  auto user = UserId::parse(text, &why);
  if (!user) {
    std::string shown(text.substr(0, 40));
    error = errorAt(line, field, fmt::format("\"{}\" is not a LINE user ID: {}", shown, why));
  }
  return user;
}

std::string suggestion(const std::string& name, const std::vector<std::string>& candidates) {
  auto match = closestMatch(name, candidates);
  return match ? fmt::format("; did you mean `{}`?", *match) : "";
}

std::vector<std::string> attributeNames(const ir::Schema& schema) {
  std::vector<std::string> out;
  for (const ir::ColumnSpec& c : schema.attributes) out.push_back(c.name);
  out.push_back("tags");
  return out;
}

// The path of the first key an object under `e` holds twice ("" when none):
// simdjson keeps both, and taking one silently would hide a broken sender.
std::string duplicateKey(simdjson::dom::element e, const std::string& at = "") {
  simdjson::dom::object object;
  simdjson::dom::array array;
  if (e.get_object().get(object) == simdjson::SUCCESS) {
    std::set<std::string_view> keys;
    for (const auto field : object) {
      const std::string path = at.empty() ? std::string(field.key) : at + "." + std::string(field.key);
      if (!keys.insert(field.key).second) return path;
      if (std::string inner = duplicateKey(field.value, path); !inner.empty()) return inner;
    }
  } else if (e.get_array().get(array) == simdjson::SUCCESS) {
    std::size_t i = 0;
    for (const auto item : array) {
      if (std::string inner = duplicateKey(item, fmt::format("{}[{}]", at, i++)); !inner.empty()) return inner;
    }
  }
  return "";
}

std::optional<std::vector<std::string>> splitCsv(std::string_view line, std::string& error);

// Reads lines, skipping blank ones; reports over-long lines as errors.
class LineSource : public RecordSource {
 public:
  explicit LineSource(LineReader reader) : reader_(std::move(reader)) {}
  std::uint64_t bytesRead() const override { return reader_.bytesRead(); }
  std::uint64_t totalBytes() const override { return reader_.totalBytes(); }

 protected:
  // The next line's CSV cells (without a leading byte-order mark, as Excel
  // writes); false at the end. `cells` is empty when the line is bad (its
  // error in `out`).
  bool nextCells(std::optional<std::vector<std::string>>& cells, Parsed& out) {
    std::string line;
    if (!nextLine(line, out)) return false;
    if (out.error) return true;
    if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    std::string error;
    cells = splitCsv(line, error);
    if (!cells) out.error = errorAt(lineNumber(), "", error);
    return true;
  }

  // The next non-blank line; false at the end. Over-long lines come back
  // as an error in `out`.
  bool nextLine(std::string& line, Parsed& out) {
    bool tooLong = false;
    while (reader_.next(line, tooLong)) {
      if (tooLong) {
        out.error = errorAt(reader_.lineNumber(), "",
                            fmt::format("line is longer than {} MiB; it was skipped", LineReader::kMaxLineBytes >> 20));
        return true;
      }
      if (line.find_first_not_of(" \t\r") != std::string::npos) return true;
    }
    return false;
  }
  std::size_t lineNumber() const { return reader_.lineNumber(); }

  LineReader reader_;
};

// ------------------------------------------------------------- JSON lines

class JsonLineSource : public LineSource {
 public:
  JsonLineSource(LineReader reader, const ir::Schema& schema, const TimeZone& zone)
      : LineSource(std::move(reader)), schema_(schema), zone_(zone) {}

  bool next(Parsed& out) override {
    std::string line;
    if (!nextLine(line, out)) return false;
    if (out.error) return true;
    if (lineNumber() == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a byte-order mark
    simdjson::dom::element doc;
    if (const auto error = parser_.parse(line).get(doc); error) {
      out.error = errorAt(lineNumber(), "", std::string("malformed JSON: ") + simdjson::error_message(error));
      return true;
    }
    simdjson::dom::object object;
    if (doc.get_object().get(object)) {
      out.error = errorAt(lineNumber(), "", "expected a JSON object, one a line");
      return true;
    }
    if (const std::string duplicate = duplicateKey(doc); !duplicate.empty()) {
      out.error = errorAt(lineNumber(), duplicate, "the key is given twice in one record");
      return true;
    }
    parseObject(object, out);
    if (out.error) out.changes.clear();  // a bad record is left out whole
    return true;
  }

 protected:
  virtual void parseObject(simdjson::dom::object object, Parsed& out) = 0;

  std::optional<UserId> user(simdjson::dom::object object, Parsed& out) {
    std::string_view text;
    simdjson::dom::element element;
    if (object["user_id"].get(element) && object["userId"].get(element)) {
      out.error = errorAt(lineNumber(), "user_id", "missing; every record names a friend by LINE user ID");
      return std::nullopt;
    }
    if (element.get_string().get(text)) {
      out.error = errorAt(lineNumber(), "user_id", "expected a string such as \"U4af4980629...\"");
      return std::nullopt;
    }
    return userIdFrom(text, lineNumber(), out.error);
  }

  const ir::Schema& schema_;
  const TimeZone& zone_;
  simdjson::dom::parser parser_;
};

// {"user_id": "U...", "member_rank": "gold", "tags": ["VIP"], ...}
class FriendJsonSource : public JsonLineSource {
 public:
  using JsonLineSource::JsonLineSource;

 private:
  void parseObject(simdjson::dom::object object, Parsed& out) override {
    const auto who = user(object, out);
    if (!who) return;
    out.changes.push_back(Mutation::of(Mutation::Kind::AddFriend, *who));
    for (const auto field : object) {
      const std::string key(field.key);
      if (key == "user_id" || key == "userId") continue;
      if (key == "tags") {
        tags(field.value, *who, out);
      } else if (const auto index = schema_.attribute(key)) {
        std::string error;
        auto value = valueFromJson(schema_.attributes[*index], field.value, zone_, error);
        if (!value) {
          out.error = errorAt(lineNumber(), key, error);
          return;
        }
        Mutation m = Mutation::of(Mutation::Kind::SetAttribute, *who);
        m.index = static_cast<std::uint32_t>(*index);
        m.value = std::move(*value);
        out.changes.push_back(std::move(m));
      } else {
        out.error = errorAt(lineNumber(), key, "unknown attribute" + suggestion(key, attributeNames(schema_)));
        return;
      }
      if (out.error) return;
    }
  }

  void tags(simdjson::dom::element value, const UserId& who, Parsed& out) {
    simdjson::dom::array list;
    if (value.get_array().get(list)) {
      out.error = errorAt(lineNumber(), "tags", "expected a list of strings such as [\"VIP\"]");
      return;
    }
    for (const auto tag : list) {
      std::string_view name;
      if (tag.get_string().get(name) || name.empty() || name.find('\0') != std::string_view::npos) {
        out.error = errorAt(lineNumber(), "tags", "expected a list of non-empty strings (without NUL characters)");
        return;
      }
      Mutation m = Mutation::of(Mutation::Kind::Tag, who);
      m.name = std::string(name);
      m.on = true;
      out.changes.push_back(std::move(m));
    }
  }
};

// {"event": "purchase", "user_id": "U...", "time": "2026-11-01T10:00:00+09:00", "price": 3200, ...}
class EventJsonSource : public JsonLineSource {
 public:
  using JsonLineSource::JsonLineSource;

 private:
  void parseObject(simdjson::dom::object object, Parsed& out) override {
    std::string_view eventName;
    if (object["event"].get_string().get(eventName)) {
      out.error = errorAt(lineNumber(), "event", "missing; say which event, such as \"purchase\"");
      return;
    }
    const auto eventIndex = schema_.event(std::string(eventName));
    if (!eventIndex) {
      std::vector<std::string> names;
      for (const ir::EventSpec& e : schema_.events) names.push_back(e.name);
      out.error = errorAt(lineNumber(), "event",
                          fmt::format("unknown event \"{}\"{}", eventName, suggestion(std::string(eventName), names)));
      return;
    }
    const auto who = user(object, out);
    if (!who) return;
    simdjson::dom::element timeElement;
    if (object["time"].get(timeElement)) {
      out.error = errorAt(lineNumber(), "time", "missing; say when it happened");
      return;
    }
    std::string error;
    const auto time = instantFromJson(timeElement, zone_, error);
    if (!time) {
      out.error = errorAt(lineNumber(), "time", error);
      return;
    }
    const ir::EventSpec& spec = schema_.events[*eventIndex];
    std::vector<Value> fields(spec.fields.size());
    for (const auto field : object) {
      const std::string key(field.key);
      if (key == "event" || key == "user_id" || key == "userId" || key == "time") continue;
      const auto f = spec.field(key);
      if (!f) {
        std::vector<std::string> names;
        for (const ir::ColumnSpec& c : spec.fields) names.push_back(c.name);
        out.error = errorAt(lineNumber(), key, fmt::format("event `{}` has no such field{}", spec.name, suggestion(key, names)));
        return;
      }
      auto value = valueFromJson(spec.fields[*f], field.value, zone_, error);
      if (!value) {
        out.error = errorAt(lineNumber(), key, error);
        return;
      }
      fields[*f] = std::move(*value);
    }
    Mutation m;
    if (spec.name == "follow") {
      m = Mutation::of(Mutation::Kind::Follow, *who);
      m.on = !fields.empty() && fields[0].kind == Value::Kind::Bool && fields[0].i != 0;
    } else if (spec.name == "unfollow") {
      m = Mutation::of(Mutation::Kind::Unfollow, *who);
    } else {
      m = Mutation::of(Mutation::Kind::AppendEvent, *who);
      m.index = static_cast<std::uint32_t>(*eventIndex);
      m.fields = std::move(fields);
    }
    m.time = *time;
    out.changes.push_back(std::move(m));
  }
};

// ---------------------------------------------------------------------- CSV

// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields).
std::optional<std::vector<std::string>> splitCsv(std::string_view line, std::string& error) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, wasQuoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty() && !wasQuoted) {
      quoted = wasQuoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      wasQuoted = false;
    } else {
      field += c;
    }
  }
  if (quoted) {
    error = "unterminated quoted field (line breaks inside fields are not supported)";
    return std::nullopt;
  }
  fields.push_back(std::move(field));
  return fields;
}

// A header row naming `user_id` and attributes (and `tags`, separated by
// `;`), then one friend a row. An empty cell changes nothing.
class FriendCsvSource : public LineSource {
 public:
  FriendCsvSource(LineReader reader, const ir::Schema& schema, const TimeZone& zone)
      : LineSource(std::move(reader)), schema_(schema), zone_(zone) {}

  bool next(Parsed& out) override {
    std::optional<std::vector<std::string>> cells;
    if (!nextCells(cells, out)) return false;
    if (!cells) return true;
    if (!header_) {
      out.header = !out.error;
      readHeader(*cells, out);
      if (out.error) out.header = false;
      return true;
    }
    row(*cells, out);
    if (out.error) out.changes.clear();
    return true;
  }

 private:
  void readHeader(const std::vector<std::string>& cells, Parsed& out) {
    header_.emplace();
    for (const std::string& name : cells) {
      if (name == "user_id" || name == "userId") {
        userColumn_ = header_->size();
        header_->push_back(-2);
      } else if (name == "tags") {
        header_->push_back(-1);
      } else if (const auto index = schema_.attribute(name)) {
        header_->push_back(static_cast<int>(*index));
      } else {
        out.error = errorAt(lineNumber(), name, "unknown attribute in the header" + suggestion(name, attributeNames(schema_)));
        fatalHeader_ = true;
        return;
      }
    }
    if (userColumn_ == kNoColumn) {
      out.error = errorAt(lineNumber(), "", "the header has no `user_id` column");
      fatalHeader_ = true;
    }
  }

  void row(const std::vector<std::string>& cells, Parsed& out) {
    if (fatalHeader_) {
      out.error = errorAt(lineNumber(), "", "skipped because the header is wrong");
      return;
    }
    if (cells.size() != header_->size()) {
      out.error = errorAt(lineNumber(), "", fmt::format("has {} cells; the header has {}", cells.size(), header_->size()));
      return;
    }
    for (const std::string& cell : cells) {
      if (cell.find('\0') != std::string::npos) {
        out.error = errorAt(lineNumber(), "", "a cell holds a NUL character (\\0), which seg does not store");
        return;
      }
    }
    const auto who = userIdFrom(cells[userColumn_], lineNumber(), out.error);
    if (!who) return;
    out.changes.push_back(Mutation::of(Mutation::Kind::AddFriend, *who));
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const int column = (*header_)[i];
      if (column == -2 || cells[i].empty()) continue;
      if (column == -1) {
        std::size_t start = 0;
        while (start <= cells[i].size()) {
          const std::size_t end = std::min(cells[i].find(';', start), cells[i].size());
          if (end > start) {
            Mutation m = Mutation::of(Mutation::Kind::Tag, *who);
            m.name = cells[i].substr(start, end - start);
            m.on = true;
            out.changes.push_back(std::move(m));
          }
          start = end + 1;
        }
        continue;
      }
      std::string error;
      auto value = valueFromText(schema_.attributes[static_cast<std::size_t>(column)], cells[i], zone_, error);
      if (!value) {
        out.error = errorAt(lineNumber(), schema_.attributes[static_cast<std::size_t>(column)].name, error);
        return;
      }
      Mutation m = Mutation::of(Mutation::Kind::SetAttribute, *who);
      m.index = static_cast<std::uint32_t>(column);
      m.value = std::move(*value);
      out.changes.push_back(std::move(m));
    }
  }

  static constexpr std::size_t kNoColumn = ~std::size_t{0};
  const ir::Schema& schema_;
  const TimeZone& zone_;
  std::optional<std::vector<int>> header_;  // attribute index, -1 tags, -2 user_id
  std::size_t userColumn_ = kNoColumn;
  bool fatalHeader_ = false;
};

// A catalog's rows (`catalog product { id: string ... }`): JSONL objects
// or CSV with a header row, keyed by field name; `id` is required. A row
// given again replaces the one with its id (a price change).
class CatalogRows {
 public:
  CatalogRows(const ir::Schema& schema, std::size_t catalog, const TimeZone& zone)
      : spec_(schema.catalogs[catalog]), catalog_(static_cast<std::uint32_t>(catalog)), zone_(zone) {}

  // The field a key names; an error (with the closest field) otherwise.
  std::optional<std::size_t> field(const std::string& key, std::size_t line, std::optional<RecordError>& error) const {
    if (const auto f = spec_.field(key)) return f;
    std::vector<std::string> names;
    for (const ir::ColumnSpec& c : spec_.fields) names.push_back(c.name);
    error = errorAt(line, key, fmt::format("catalog `{}` has no such field{}", spec_.name, suggestion(key, names)));
    return std::nullopt;
  }
  const ir::ColumnSpec& spec(std::size_t field) const { return spec_.fields[field]; }
  const TimeZone& zone() const { return zone_; }

  // The row as one change, once every field it gives is in `fields`.
  void put(std::vector<Value> fields, std::size_t line, Parsed& out) const {
    const auto id = spec_.field("id");
    if (!id || fields[*id].kind != Value::Kind::String || fields[*id].s.empty()) {
      out.error = errorAt(line, "id", fmt::format("missing; every row of catalog `{}` has its id", spec_.name));
      return;
    }
    Mutation m = Mutation::of(Mutation::Kind::CatalogPut);
    m.index = catalog_;
    m.fields = std::move(fields);
    out.changes.push_back(std::move(m));
  }
  std::size_t fieldCount() const { return spec_.fields.size(); }

 private:
  const ir::EventSpec& spec_;
  std::uint32_t catalog_;
  const TimeZone& zone_;
};

class CatalogJsonSource : public JsonLineSource {
 public:
  CatalogJsonSource(LineReader reader, const ir::Schema& schema, const TimeZone& zone, std::size_t catalog)
      : JsonLineSource(std::move(reader), schema, zone), rows_(schema, catalog, zone) {}

 private:
  void parseObject(simdjson::dom::object object, Parsed& out) override {
    std::vector<Value> fields(rows_.fieldCount());
    for (const auto field : object) {
      const std::string key(field.key);
      const auto f = rows_.field(key, lineNumber(), out.error);
      if (!f) return;
      std::string error;
      auto value = valueFromJson(rows_.spec(*f), field.value, rows_.zone(), error);
      if (!value) {
        out.error = errorAt(lineNumber(), key, error);
        return;
      }
      fields[*f] = std::move(*value);
    }
    rows_.put(std::move(fields), lineNumber(), out);
  }

  CatalogRows rows_;
};

class CatalogCsvSource : public LineSource {
 public:
  CatalogCsvSource(LineReader reader, const ir::Schema& schema, const TimeZone& zone, std::size_t catalog)
      : LineSource(std::move(reader)), rows_(schema, catalog, zone) {}

  bool next(Parsed& out) override {
    std::optional<std::vector<std::string>> cells;
    if (!nextCells(cells, out)) return false;
    if (!cells) return true;
    if (!header_) {
      header_.emplace();
      for (const std::string& name : *cells) {
        const auto f = rows_.field(name, lineNumber(), out.error);
        if (!f) {
          fatalHeader_ = true;
          return true;
        }
        header_->push_back(*f);
      }
      out.header = true;
      return true;
    }
    if (fatalHeader_) {
      out.error = errorAt(lineNumber(), "", "skipped because the header is wrong");
      return true;
    }
    if (cells->size() != header_->size()) {
      out.error = errorAt(lineNumber(), "", fmt::format("has {} cells; the header has {}", cells->size(), header_->size()));
      return true;
    }
    std::vector<Value> fields(rows_.fieldCount());
    for (std::size_t i = 0; i < cells->size(); ++i) {
      if ((*cells)[i].empty()) continue;
      const std::size_t f = (*header_)[i];
      std::string error;
      auto value = valueFromText(rows_.spec(f), (*cells)[i], rows_.zone(), error);
      if (!value) {
        out.error = errorAt(lineNumber(), rows_.spec(f).name, error);
        return true;
      }
      fields[f] = std::move(*value);
    }
    rows_.put(std::move(fields), lineNumber(), out);
    if (out.error) out.changes.clear();
    return true;
  }

 private:
  CatalogRows rows_;
  std::optional<std::vector<std::size_t>> header_;  // catalog field by column
  bool fatalHeader_ = false;
};

// One user ID a line, as LINE's audience upload takes them.
class AudienceSource : public LineSource {
 public:
  AudienceSource(LineReader reader, std::string name, std::int64_t now)
      : LineSource(std::move(reader)), name_(std::move(name)), now_(now) {}

  bool next(Parsed& out) override {
    std::string line;
    std::size_t first = std::string::npos;
    while (first == std::string::npos) {  // a line of only a byte-order mark is blank too
      if (!nextLine(line, out)) return false;
      if (out.error) return true;
      if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
      first = line.find_first_not_of(" \t\r");
    }
    const std::size_t last = line.find_last_not_of(" \t\r,");
    const std::string_view id = std::string_view(line).substr(first, last == std::string::npos ? 0 : last - first + 1);
    auto who = userIdFrom(id, lineNumber(), out.error);
    if (!who) return true;
    Mutation m = Mutation::of(Mutation::Kind::AudienceAdd);
    m.name = name_;
    m.time = now_;
    m.users.push_back(*who);
    out.changes.push_back(std::move(m));
    return true;
  }

 private:
  std::string name_;
  std::int64_t now_;
};

// --------------------------------------------------------------- webhooks

// One webhook request body: {"destination": ..., "events": [...]}; each
// event is one record.

// The line on which each element of the top-level array `key` starts, by a
// scan of the raw JSON (simdjson's DOM keeps no positions).
std::vector<std::size_t> elementLines(std::string_view json, std::string_view key) {
  std::vector<std::size_t> lines;
  std::size_t line = 1;
  int depth = 0;         // containers open
  int elements = -1;     // the depth of the array's elements, while inside it
  std::string_view lastString;  // the last string at depth 1: the key before `[`
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '\n') {
      ++line;
    } else if (c == '"') {
      const std::size_t start = ++i;
      for (; i < json.size() && json[i] != '"'; ++i) {
        if (json[i] == '\\') ++i;
        if (i < json.size() && json[i] == '\n') ++line;
      }
      if (depth == 1) lastString = json.substr(start, i - start);
    } else if (c == '{' || c == '[') {
      if (depth == elements) lines.push_back(line);
      ++depth;
      if (c == '[' && depth == 2 && lastString == key) elements = 2;
    } else if (c == '}' || c == ']') {
      --depth;
      if (depth < elements) elements = -1;
    }
  }
  return lines;
}

class WebhookSource : public RecordSource {
 public:
  WebhookSource(std::string body, const ir::Schema& schema, const TimeZone& zone, SeenPredicate seen, std::int64_t receivedAt)
      : body_(std::move(body)), schema_(schema), zone_(zone), seen_(std::move(seen)), receivedAt_(receivedAt) {
    if (const auto error = parser_.parse(body_).get(doc_); error) {
      fatal_ = std::string("malformed JSON: ") + simdjson::error_message(error);
      return;
    }
    simdjson::dom::array events;
    if (doc_["events"].get_array().get(events)) {
      fatal_ = "a webhook body is {\"destination\": ..., \"events\": [...]}; `events` is missing";
      return;
    }
    events_ = events;
    it_ = events_.begin();
    eventLines_ = elementLines(body_, "events");
  }

  const std::string& fatal() const { return fatal_; }
  std::uint64_t bytesRead() const override { return done_ ? body_.size() : 0; }
  std::uint64_t totalBytes() const override { return body_.size(); }

  bool next(Parsed& out) override {
    if (!fatal_.empty() || it_ == events_.end()) {
      done_ = true;
      return false;
    }
    ++index_;
    event(*it_, out);
    ++it_;
    if (out.error) out.changes.clear();
    return true;
  }

 private:
  std::string field(const char* name) const { return fmt::format("events[{}].{}", index_ - 1, name); }

  RecordError error(const std::string& name, std::string message) const {
    return errorAt(line(), field(name.c_str()), std::move(message));
  }
  // The body's line where this event starts (bodies are often pretty-printed).
  std::size_t line() const { return index_ - 1 < eventLines_.size() ? eventLines_[index_ - 1] : 1; }

  void event(simdjson::dom::element e, Parsed& out) {
    if (const std::string duplicate = duplicateKey(e); !duplicate.empty()) {
      out.error = error(duplicate, "the key is given twice; LINE sends each once");
      return;
    }
    std::string_view type, eventId, userId;
    if (e["type"].get_string().get(type)) {
      out.error = error("type", "missing");
      return;
    }
    std::int64_t millis = 0;
    if (e["timestamp"].get_int64().get(millis)) {
      out.error = error("timestamp", "missing or not a number of milliseconds");
      return;
    }
    if (!civil::instantInRange(civil::floorDiv(millis, 1000))) {
      out.error = error("timestamp", civil::outOfRange(std::to_string(millis)));
      return;
    }
    if (e["webhookEventId"].get_string().get(eventId) || eventId.empty()) {
      out.error = error("webhookEventId", "missing; LINE sends one with every event");
      return;
    }
    if ((seen_ && seen_(std::string(eventId))) || !seenHere_.insert(std::string(eventId)).second) {
      out.duplicates = 1;  // a redelivery: already counted once
      return;
    }
    Mutation seen = Mutation::of(Mutation::Kind::WebhookSeen);
    seen.name = std::string(eventId);
    seen.time = receivedAt_;  // kept by when seg received it, not by the time it claims
    const bool known = type == "follow" || type == "unfollow" || type == "message" || type == "postback";
    std::string_view sourceType;
    // Only a user source is a friend's 1:1 conversation: a member of a group
    // or room may not be a friend at all (docs/automation.md).
    const bool oneToOne = e["source"]["type"].get_string().get(sourceType) == simdjson::SUCCESS && sourceType == "user";
    if (!known || !oneToOne || e["source"]["userId"].get_string().get(userId)) {
      out.ignored = 1;
      out.changes.push_back(std::move(seen));
      return;
    }
    std::string_view mode;
    out.standby = e["mode"].get_string().get(mode) == simdjson::SUCCESS && mode == "standby";
    const auto who = userIdFrom(userId, line(), out.error, field("source.userId").c_str());
    if (!who) return;
    Mutation m;
    if (type == "follow") {
      m = Mutation::of(Mutation::Kind::Follow, *who);
      // Absent before LINE added it: a plain follow.
      simdjson::dom::element unblocked;
      if (e["follow"]["isUnblocked"].get(unblocked) == simdjson::SUCCESS) {
        if (!unblocked.is_bool()) {
          out.error = error("follow.isUnblocked", "expected true or false");
          return;
        }
        m.on = unblocked.get_bool().value();
      }
    } else if (type == "unfollow") {
      m = Mutation::of(Mutation::Kind::Unfollow, *who);
    } else if (type == "message") {
      std::string_view messageType, text;
      if (e["message"]["type"].get_string().get(messageType) || messageType != "text") {
        out.ignored = 1;  // stickers, images...: not used by rules today
        out.changes.push_back(std::move(seen));
        return;
      }
      if (e["message"]["text"].get_string().get(text)) {
        out.error = error("message.text", "missing in a text message");
        return;
      }
      m = appendEvent("message", *who, Value::ofString(std::string(text)));
    } else {
      std::string_view data;
      if (e["postback"]["data"].get_string().get(data)) {
        out.error = error("postback.data", "missing in a postback");
        return;
      }
      m = appendEvent("postback", *who, Value::ofString(std::string(data)));
      if (!pickerParams(e["postback"], m, out)) return;
    }
    m.time = civil::floorDiv(millis, 1000);
    std::string_view replyToken;
    if (e["replyToken"].get_string().get(replyToken) == simdjson::SUCCESS) out.replyToken = std::string(replyToken);
    out.changes.push_back(std::move(m));
    out.changes.push_back(std::move(seen));
  }

  // A datetime picker's choice (`postback.params`: `date` "2026-12-24",
  // `time` "10:00", `datetime` "2026-12-24T10:00", local to the program's
  // time zone) fills the postback's `picked_date`, `picked_time` or
  // `picked_datetime`. A rich menu switch's params (`newRichMenuAliasId`,
  // `status`) are not kept.
  bool pickerParams(simdjson::dom::element postback, Mutation& m, Parsed& out) {
    simdjson::dom::object params;
    if (postback["params"].get_object().get(params) != simdjson::SUCCESS) return true;
    const ir::EventSpec& spec = schema_.events[m.index];
    m.fields.resize(spec.fields.size());
    for (const auto field : params) {
      const std::string key(field.key);
      if (key != "date" && key != "time" && key != "datetime") continue;
      const std::optional<std::size_t> f = spec.field("picked_" + key);
      if (!f) continue;
      std::string_view text;
      std::string why;
      std::optional<Value> value;
      if (field.value.get_string().get(text) == simdjson::SUCCESS) value = valueFromText(spec.fields[*f], text, zone_, why);
      if (!value) {
        out.error = error("postback.params." + key, why.empty() ? "expected a string" : why);
        return false;
      }
      m.fields[*f] = std::move(*value);
    }
    return true;
  }

  Mutation appendEvent(const char* name, const UserId& who, Value field) const {
    Mutation m = Mutation::of(Mutation::Kind::AppendEvent, who);
    m.index = static_cast<std::uint32_t>(*schema_.event(name));
    m.fields = {std::move(field)};
    return m;
  }

  std::string body_;
  const ir::Schema& schema_;
  const TimeZone& zone_;
  SeenPredicate seen_;
  std::int64_t receivedAt_;
  simdjson::dom::parser parser_;
  simdjson::dom::element doc_;
  simdjson::dom::array events_;
  simdjson::dom::array::iterator it_;
  std::string fatal_;
  std::size_t index_ = 0;
  bool done_ = false;
  std::set<std::string> seenHere_;
  std::vector<std::size_t> eventLines_;
};

LineReader readerFor(const ImportInput& input) {
  if (!input.bytes) return LineReader(input.name);
  return LineReader(
      [bytes = *input.bytes](char* buffer, std::size_t capacity) mutable {
        const std::size_t n = std::min(capacity, bytes.size());
        std::memcpy(buffer, bytes.data(), n);
        bytes.remove_prefix(n);
        return n;
      },
      input.bytes->size());
}

// The catalog a file's rows are of: named, the only one, or named like the file.
std::optional<std::size_t> catalogFor(const ir::Schema& schema, const std::string& name, const std::string& file, std::string& fatal) {
  std::vector<std::string> names;
  for (const ir::EventSpec& c : schema.catalogs) names.push_back(c.name);
  if (names.empty()) {
    fatal = "the program declares no catalog (`catalog product { id: string ... }`)";
    return std::nullopt;
  }
  if (name.empty() && names.size() == 1) return 0;
  const std::string wanted = name.empty() ? std::filesystem::path(file).stem().string() : name;
  if (const auto c = schema.catalog(wanted)) return c;
  fatal = fmt::format("no catalog `{}`{}; name one with --name ({})", wanted, suggestion(wanted, names), fmt::join(names, ", "));
  return std::nullopt;
}

std::unique_ptr<RecordSource> openSource(ImportKind kind, const ImportInput& input, const ir::Schema& schema,
                                         const SeenPredicate& seen, const TimeZone& zone, const ImportOptions& options,
                                         std::string& fatal) {
  const bool csv = std::filesystem::path(input.name).extension() == ".csv";
  switch (kind) {
    case ImportKind::Friends:
      if (csv) return std::make_unique<FriendCsvSource>(readerFor(input), schema, zone);
      return std::make_unique<FriendJsonSource>(readerFor(input), schema, zone);
    case ImportKind::Events: return std::make_unique<EventJsonSource>(readerFor(input), schema, zone);
    case ImportKind::Catalog: {
      const std::optional<std::size_t> catalog = catalogFor(schema, options.catalogName, input.name, fatal);
      if (!catalog) return nullptr;
      if (csv) return std::make_unique<CatalogCsvSource>(readerFor(input), schema, zone, *catalog);
      return std::make_unique<CatalogJsonSource>(readerFor(input), schema, zone, *catalog);
    }
    case ImportKind::Audience: {
      std::string name = options.audienceName.empty() ? std::filesystem::path(input.name).stem().string() : options.audienceName;
      return std::make_unique<AudienceSource>(readerFor(input), std::move(name), options.now);
    }
    case ImportKind::Webhook: {
      std::optional<std::string> body;
      if (input.bytes) {
        body = std::string(*input.bytes);
      } else {
        std::error_code ec;
        const auto size = std::filesystem::file_size(input.name, ec);
        if (!ec && size > kMaxWebhookBytes) {
          fatal = fmt::format("the body is {} MiB; LINE's webhook bodies are far smaller", size >> 20);
          return nullptr;
        }
        body = readWholeFile(input.name);
      }
      if (!body) {
        fatal = "no such file";
        return nullptr;
      }
      if (body->size() > kMaxWebhookBytes) {
        fatal = fmt::format("the body is {} MiB; LINE's webhook bodies are far smaller", body->size() >> 20);
        return nullptr;
      }
      if (options.channelSecret.empty() && !options.signature.empty()) {
        fatal = "a signature was given but no channel secret to check it with (--channel-secret or LINE_CHANNEL_SECRET)";
        return nullptr;
      }
      if (!options.channelSecret.empty()) {
        if (options.signature.empty()) {
          fatal = "a channel secret is set, so the body needs its `x-line-signature` (--signature)";
          return nullptr;
        }
        if (!signatureMatches(options.channelSecret, *body, options.signature)) {
          fatal = "the signature does not match the body: it was not sent by LINE for this channel, or was changed";
          return nullptr;
        }
      }
      auto source = std::make_unique<WebhookSource>(std::move(*body), schema, zone, seen, options.now);
      if (!source->fatal().empty()) {
        fatal = source->fatal();
        return nullptr;
      }
      return source;
    }
  }
  return nullptr;
}

// A file's identity for the import records: a hash of its content and its
// size, so a re-run of the same data finds its progress whatever the name.
std::string fileKey(const ImportInput& input) {
  LineReader reader = readerFor(input);  // opens or throws IoError with the reason
  XXH3_state_t* state = XXH3_createState();
  if (state == nullptr) throw IoError("out of memory hashing `" + input.name + "`");
  const std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> guard(state, XXH3_freeState);
  XXH3_128bits_reset(state);
  std::uint64_t size = 0;
  if (input.bytes) {
    XXH3_128bits_update(state, input.bytes->data(), input.bytes->size());
    size = input.bytes->size();
  } else {
    std::ifstream in(input.name, std::ios::binary);
    std::vector<char> buffer(1 << 20);
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto n = static_cast<std::size_t>(in.gcount());
      XXH3_128bits_update(state, buffer.data(), n);
      size += n;
    }
    if (in.bad()) throw IoError("cannot read `" + input.name + "`");
  }
  const XXH128_hash_t h = XXH3_128bits_digest(state);
  return fmt::format("{:016x}{:016x}-{}", h.high64, h.low64, size);
}

Mutation importProgress(const std::string& key, const std::string& path, std::uint64_t bytes, std::uint64_t records,
                        bool complete, std::int64_t now) {
  Mutation m = Mutation::of(Mutation::Kind::ImportProgress);
  m.name = key;
  m.value = Value::ofString(std::filesystem::path(path).filename().string());
  m.fields = {Value::ofInt(static_cast<std::int64_t>(bytes)), Value::ofInt(static_cast<std::int64_t>(records))};
  m.on = complete;
  m.time = now;
  return m;
}

void note(ImportReport& report, RecordError error) {
  ++report.errorCount;
  if (report.errors.size() < kKeptErrors) report.errors.push_back(std::move(error));
}

}  // namespace

std::string webhookSignature(const std::string& channelSecret, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), channelSecret.data(), static_cast<int>(channelSecret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  std::string out(4 * ((length + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, static_cast<int>(length));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

bool signatureMatches(const std::string& channelSecret, std::string_view body, std::string_view signature) {
  const std::string expected = webhookSignature(channelSecret, body);
  // Constant time: the comparison must not reveal how much matched.
  return expected.size() == signature.size() && CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) == 0;
}

ImportReport importFile(Store& store, ImportKind kind, const std::string& path, const ImportOptions& options) {
  return importInput(store, kind, {path, std::nullopt}, options);
}

ImportReport importBytes(Store& store, ImportKind kind, const std::string& name, std::string_view bytes,
                         const ImportOptions& options) {
  return importInput(store, kind, {name, bytes}, options);
}

ImportReport importInput(Store& store, ImportKind kind, const ImportInput& input, const ImportOptions& options) {
  const std::string& path = input.name;
  ImportReport report;
  const auto zone = TimeZone::find(options.timezone);
  if (!zone) {
    report.fatal = "unknown time zone `" + options.timezone + "`";
    return report;
  }
  // The schema as the import starts (a service may extend the store's
  // meanwhile), and event ids seen, asked under the lock as others write.
  ir::Schema schema;
  {
    auto lock = store.readLock();
    schema = store.state().schema();
  }
  const SeenPredicate seen = [&store](const std::string& eventId) {
    auto lock = store.readLock();
    return store.state().webhookSeen(eventId);
  };
  const auto open = [&]() -> std::unique_ptr<RecordSource> {
    try {
      return openSource(kind, input, schema, seen, *zone, options, report.fatal);
    } catch (const IoError& e) {
      report.fatal = e.what();
      return nullptr;
    }
  };
  const auto progress = [&](const RecordSource& source) {
    if (options.progress) options.progress(source.bytesRead(), source.totalBytes());
  };
  // What the store already has of this file (webhook bodies are deduplicated
  // by event id instead; records handed to onRecord are the caller's).
  std::string key;
  std::uint64_t resumeAfter = 0;
  if (kind != ImportKind::Webhook && !options.onRecord) {
    try {
      key = fileKey(input);
    } catch (const IoError& e) {
      report.fatal = e.what();
      return report;
    }
    const ImportRecord* before = nullptr;
    {
      auto lock = store.readLock();
      if (const ImportRecord* r = store.state().importRecord(key)) before = r;
      if (before != nullptr && before->complete && !options.again) {
        report.alreadyImported = *before;
        return report;
      }
      if (before != nullptr && !before->complete) resumeAfter = before->bytes;
    }
  }
  // A record an interrupted run committed: counted, not applied again.
  // A record's changes as written: its own, or the one change that stands
  // for it (asChange: the service's inbox).
  const auto changesOf = [&](Parsed& parsed) {
    if (!options.asChange || parsed.changes.empty()) return std::move(parsed.changes);
    return std::vector<Mutation>{options.asChange({std::move(parsed.changes), parsed.replyToken, parsed.standby})};
  };
  const auto committedBefore = [&](const RecordSource& source) { return resumeAfter > 0 && source.bytesRead() <= resumeAfter; };
  const auto progressOf = [&](const RecordSource& source, bool complete) {
    return importProgress(key, path, source.bytesRead(), report.records, complete, options.now);
  };

  if (options.strict) {
    // First pass: check everything, write nothing.
    auto source = open();
    if (!source) return report;
    Parsed parsed;
    std::size_t records = 0;
    while (source->next(parsed)) {
      if (parsed.header) {
        parsed = Parsed();
        continue;
      }
      ++records;
      if (parsed.error) note(report, *parsed.error);
      if (records % 4096 == 0) progress(*source);
      parsed = Parsed();
    }
    if (report.errorCount > 0) {
      report.records = records;
      report.aborted = true;
      return report;
    }
    // Second pass: one transaction, all or nothing.
    source = open();
    if (!source) return report;
    auto transaction = store.begin();
    while (source->next(parsed)) {
      if (parsed.header) {
        parsed = Parsed();
        continue;
      }
      ++report.records;
      if (committedBefore(*source)) {
        ++report.resumed;
        parsed = Parsed();
        continue;
      }
      report.duplicates += parsed.duplicates;
      report.ignored += parsed.ignored;
      if (!parsed.changes.empty() && parsed.duplicates == 0 && parsed.ignored == 0) ++report.applied;
      for (Mutation& m : changesOf(parsed)) transaction->add(std::move(m));
      if (report.records % 4096 == 0) progress(*source);
      parsed = Parsed();
    }
    if (!key.empty()) transaction->add(progressOf(*source, true));
    transaction->end();
    progress(*source);
    return report;
  }

  auto source = open();
  if (!source) return report;
  std::vector<Mutation> batch;
  std::size_t batchRecords = 0;
  Parsed parsed;
  while (source->next(parsed)) {
    if (parsed.header) {
      parsed = Parsed();
      continue;
    }
    ++report.records;
    if (committedBefore(*source)) {
      ++report.resumed;
      parsed = Parsed();
      continue;
    }
    report.duplicates += parsed.duplicates;
    report.ignored += parsed.ignored;
    if (parsed.error) {
      ++report.skipped;
      note(report, *parsed.error);
    } else {
      if (parsed.duplicates == 0 && parsed.ignored == 0) ++report.applied;
      if (options.onRecord) {
        if (!parsed.changes.empty()) options.onRecord({std::move(parsed.changes), parsed.replyToken, parsed.standby});
        parsed = Parsed();
        continue;
      }
      for (Mutation& m : changesOf(parsed)) batch.push_back(std::move(m));
      if (++batchRecords >= options.recordsPerCommit) {
        // The batch and how far the file is committed, in one transaction.
        if (!key.empty()) batch.push_back(progressOf(*source, false));
        if (options.beforeCommit) options.beforeCommit();
        store.commit(std::move(batch));
        batch.clear();
        batchRecords = 0;
        progress(*source);
      }
    }
    parsed = Parsed();
  }
  // Content of which nothing was taken is not recorded as imported: sent
  // again (after the sender fixed nothing), it gets the same errors again.
  const bool tookNothing = report.applied == 0 && report.resumed == 0 && report.duplicates == 0 && report.ignored == 0;
  if (!key.empty() && !(tookNothing && report.errorCount > 0)) batch.push_back(progressOf(*source, true));
  if (options.beforeCommit && !batch.empty()) options.beforeCommit();
  store.commit(std::move(batch));
  progress(*source);
  return report;
}

}  // namespace seg
