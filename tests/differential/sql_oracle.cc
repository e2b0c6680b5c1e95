#include "tests/differential/sql_oracle.h"

#include <re2/re2.h>
#include <sqlite3.h>

#include <stdexcept>

#include <fmt/format.h>

#include "base/civil_time.h"
#include "runtime/exec/interpreter.h"

namespace seg::difftest {
namespace {

using ir::Op;
constexpr std::int64_t kDay = civil::kSecondsPerDay;
// The worlds use Asia/Tokyo, which has no daylight saving: +9 hours.
constexpr std::int64_t kOffset = 9 * 3600;

std::string quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// REGEXP(pattern, text) with RE2, as seg's `matches` (partial match).
void regexpFunction(sqlite3_context* context, int, sqlite3_value** values) {
  const char* pattern = reinterpret_cast<const char*>(sqlite3_value_text(values[0]));
  const char* text = reinterpret_cast<const char*>(sqlite3_value_text(values[1]));
  if (pattern == nullptr || text == nullptr) {
    sqlite3_result_null(context);
    return;
  }
  sqlite3_result_int(context, RE2::PartialMatch(text, RE2(pattern)) ? 1 : 0);
}

// seg_bucket(seed, user_id_hex): bucket() is a hash definition, not logic
// to check; the oracle takes it from the runtime.
void bucketFunction(sqlite3_context* context, int, sqlite3_value** values) {
  const char* seed = reinterpret_cast<const char*>(sqlite3_value_text(values[0]));
  const char* user = reinterpret_cast<const char*>(sqlite3_value_text(values[1]));
  sqlite3_result_int64(context, Interpreter::bucketOf(seed, *UserId::parse(user)));
}

}  // namespace

SqlOracle::SqlOracle(const StoreState& state, const ir::Program& program) : state_(state), program_(program) {
  if (sqlite3_open(":memory:", &db_) != SQLITE_OK) throw std::runtime_error("sqlite3_open failed");
  sqlite3_create_function(db_, "regexp", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, &regexpFunction, nullptr, nullptr);
  sqlite3_create_function(db_, "seg_bucket", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, &bucketFunction, nullptr, nullptr);
  const ir::Schema& schema = program.schema;
  std::string columns = "id INTEGER PRIMARY KEY, user_id TEXT";
  for (std::size_t a = 0; a < schema.attributes.size(); ++a) columns += fmt::format(", a{}", a);
  exec("BEGIN");
  exec("CREATE TABLE friends (" + columns + ")");
  exec("CREATE TABLE tags (id INTEGER, tag TEXT)");
  for (std::size_t e = 0; e < schema.events.size(); ++e) {
    std::string fields = "friend INTEGER, time INTEGER";
    for (std::size_t f = 0; f < schema.events[e].fields.size(); ++f) fields += fmt::format(", f{}", f);
    exec(fmt::format("CREATE TABLE e{} ({})", e, fields));
    exec(fmt::format("CREATE INDEX e{0}_friend ON e{0} (friend, time)", e));
  }
  const auto sqlValue = [](const Value& v) -> std::string {
    switch (v.kind) {
      case Value::Kind::Missing: return "NULL";
      case Value::Kind::String: return quote(v.s);
      default: return std::to_string(v.i);
    }
  };
  for (std::uint32_t id = 0; id < state.friendCount(); ++id) {
    std::string row = fmt::format("{}, {}", id, quote(state.friends().user(id).toString()));
    for (const ir::ColumnSpec& c : schema.attributes) row += ", " + sqlValue(state.attribute(c.name)->get(id));
    exec("INSERT INTO friends VALUES (" + row + ")");
  }
  for (const auto& [tag, members] : state.tags()) {
    members.forEach([&](std::uint32_t id) {
      exec(fmt::format("INSERT INTO tags VALUES ({}, {})", id, quote(tag)));
      return true;
    });
  }
  for (std::size_t e = 0; e < schema.events.size(); ++e) {
    const EventLog& log = *state.events(schema.events[e].name);
    for (std::size_t r = 0; r < log.size(); ++r) {
      std::string row = fmt::format("{}, {}", log.friendAt(r), log.timeAt(r));
      for (std::size_t f = 0; f < log.fieldCount(); ++f) row += ", " + sqlValue(log.field(f).get(r));
      exec(fmt::format("INSERT INTO e{} VALUES ({})", e, row));
    }
  }
  for (std::size_t c = 0; c < schema.catalogs.size(); ++c) {
    std::string fields;
    for (std::size_t f = 0; f < schema.catalogs[c].fields.size(); ++f) fields += fmt::format("{}f{}", f ? ", " : "", f);
    exec(fmt::format("CREATE TABLE c{} ({})", c, fields));
    state.catalog(*state.schema().catalog(schema.catalogs[c].name)).forEach([&](const std::string&, const std::vector<Value>& row) {
      std::string values;
      for (std::size_t f = 0; f < schema.catalogs[c].fields.size(); ++f) {
        values += (f ? ", " : "") + (f < row.size() ? sqlValue(row[f]) : std::string("NULL"));
      }
      exec(fmt::format("INSERT INTO c{} VALUES ({})", c, values));
    });
  }
  exec("COMMIT");
}

SqlOracle::~SqlOracle() { sqlite3_close(db_); }

void SqlOracle::exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "?";
    sqlite3_free(error);
    throw std::runtime_error("sqlite: " + message + " in " + sql.substr(0, 300));
  }
}

std::vector<std::uint32_t> SqlOracle::select(ir::NodeId root, std::int64_t now) {
  now_ = now;
  today_ = civil::floorDiv(now + kOffset, kDay);
  const auto blocked = program_.schema.attribute("blocked");
  lastQuery_ = fmt::format("SELECT f.id FROM friends f WHERE coalesce(f.a{}, 0) = 0 AND coalesce(({}), 0) ORDER BY f.id",
                           *blocked, expr(root, false));
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db_, lastQuery_.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_) + " in " + lastQuery_);
  }
  std::vector<std::uint32_t> out;
  while (sqlite3_step(statement) == SQLITE_ROW) out.push_back(static_cast<std::uint32_t>(sqlite3_column_int64(statement, 0)));
  sqlite3_finalize(statement);
  return out;
}

// SQL for a node: booleans as 0/1 (never NULL), values NULL when missing.
std::string SqlOracle::expr(ir::NodeId id, bool inRow) {
  const ir::Node& n = program_.nodes[id];
  const auto arg = [&](std::size_t i) { return expr(n.args[i], inRow); };
  const auto known = [](const std::string& condition) { return "coalesce((" + condition + "), 0)"; };
  const auto dayOf = [&](std::size_t i) {
    // The local day of a date or time operand.
    return program_.nodes[n.args[i]].type == ir::ValueType::Time
               ? fmt::format("(({} + {}) / {})", arg(i), kOffset, kDay) : arg(i);
  };
  const auto strftimeOf = [&](const char* format, std::size_t i) {
    return fmt::format("CAST(strftime('{}', {} * {}, 'unixepoch') AS INTEGER)", format, dayOf(i), kDay);
  };
  switch (n.op) {
    case Op::Const:
      if (n.flags & ir::kMissing) return "NULL";
      if (n.type == ir::ValueType::String) return quote(program_.strings[n.a]);
      return std::to_string(n.imm);
    case Op::Now: return std::to_string(now_);
    case Op::Today: return std::to_string(today_);
    case Op::Attr: return fmt::format("f.a{}", n.a);
    case Op::FriendFor: return fmt::format("({} - f.a{})", now_, *program_.schema.attribute("followed_at"));
    case Op::RowField: return fmt::format("r.f{}", n.a);
    case Op::Tag: return fmt::format("EXISTS (SELECT 1 FROM tags t WHERE t.id = f.id AND t.tag = {})", quote(program_.strings[n.a]));
    case Op::Bucket: return fmt::format("seg_bucket({}, f.user_id)", quote(program_.strings[n.a]));
    case Op::SegmentRef: return expr(program_.segments[n.a].root, inRow);
    case Op::Add:
    case Op::Sub: {
      const ir::ValueType ta = program_.nodes[n.args[0]].type, tb = program_.nodes[n.args[1]].type;
      std::string a = arg(0), b = arg(1);
      const auto days = [&](const std::string& seconds) {
        return fmt::format("(CASE WHEN {0} >= 0 THEN {0} / {1} ELSE -((-({0}) + {1} - 1) / {1}) END)", seconds, kDay);
      };
      if (ta == ir::ValueType::Date && tb == ir::ValueType::Duration) b = days(b);
      if (ta == ir::ValueType::Duration && tb == ir::ValueType::Date) a = days(a);
      std::string out = fmt::format("({} {} {})", a, n.op == Op::Add ? "+" : "-", b);
      if (ta == ir::ValueType::Date && tb == ir::ValueType::Date) out = fmt::format("({} * {})", out, kDay);
      return out;
    }
    case Op::Neg: return "(-" + arg(0) + ")";
    case Op::Eq: return known(arg(0) + " = " + arg(1));
    case Op::Ne: return known(arg(0) + " <> " + arg(1));
    case Op::Lt: return known(arg(0) + " < " + arg(1));
    case Op::Le: return known(arg(0) + " <= " + arg(1));
    case Op::Gt: return known(arg(0) + " > " + arg(1));
    case Op::Ge: return known(arg(0) + " >= " + arg(1));
    case Op::Contains: return known("instr(" + arg(0) + ", " + arg(1) + ") > 0");
    case Op::StartsWith: return known("substr(" + arg(0) + ", 1, length(" + arg(1) + ")) = " + arg(1));
    case Op::EndsWith:
      return known(fmt::format("length({0}) >= length({1}) AND substr({0}, length({0}) - length({1}) + 1) = {1}", arg(0), arg(1)));
    case Op::Matches: return known(fmt::format("regexp({}, {})", quote(program_.strings[n.a]), arg(0)));
    case Op::InList: {
      std::string list;
      for (std::size_t i = 1; i < n.args.size(); ++i) list += (i > 1 ? ", " : "") + arg(i);
      return known(arg(0) + " IN (" + list + ")");
    }
    case Op::InRange: return known(fmt::format("{} BETWEEN {} AND {}", arg(0), arg(1), arg(2)));
    case Op::And:
    case Op::Or: {
      // Operands as 0/1: a missing bool is false, not SQL's unknown.
      std::string out = "(";
      for (std::size_t i = 0; i < n.args.size(); ++i) out += (i ? (n.op == Op::And ? " AND " : " OR ") : "") + known(arg(i));
      return out + ")";
    }
    case Op::Not: return "(NOT " + known(arg(0)) + ")";
    case Op::Month: return strftimeOf("%m", 0);
    case Op::Day: return strftimeOf("%d", 0);
    case Op::Year: return strftimeOf("%Y", 0);
    case Op::Weekday: return fmt::format("(({} + 6) % 7 + 1)", strftimeOf("%w", 0));
    case Op::Hour: return fmt::format("CAST(strftime('%H', {} + {}, 'unixepoch') AS INTEGER)", arg(0), kOffset);
    case Op::DateOf: return dayOf(0);
    case Op::Age: {
      const std::string birth = dayOf(0);
      const std::string today = std::to_string(today_);
      const auto part = [&](const std::string& day, const char* f) {
        return fmt::format("CAST(strftime('{}', {} * {}, 'unixepoch') AS INTEGER)", f, day, kDay);
      };
      return fmt::format("(CASE WHEN {0} IS NULL THEN NULL ELSE {1} - {2} - (CASE WHEN {3} * 100 + {4} < {5} * 100 + {6} THEN 1 ELSE 0 END) END)",
                         birth, part(today, "%Y"), part(birth, "%Y"), part(today, "%m"), part(today, "%d"),
                         part(birth, "%m"), part(birth, "%d"));
    }
    case Op::Length: return "length(" + arg(0) + ")";
    case Op::CatalogField: {
      const std::size_t id = *program_.schema.catalogs[n.a].field("id");
      return fmt::format("(SELECT f{} FROM c{} WHERE f{} = {})", n.b, n.a, id, arg(0));
    }
    case Op::Param: {
      // The text between "&KEY=" and the next "&" of "&TEXT&" (the worlds
      // write every pair with `=`), in SQL's own string functions.
      const std::string text = "('&' || " + arg(0) + " || '&')", needle = "('&' || " + arg(1) + " || '=')";
      const std::string rest = fmt::format("substr({}, instr({}, {}) + length({}))", text, text, needle, needle);
      return fmt::format("(CASE WHEN instr({0}, {1}) > 0 THEN substr({2}, 1, instr({2}, '&') - 1) END)", text, needle, rest);
    }
    case Op::Has: return fmt::format("(f.a{} IS NOT NULL)", n.a);
    case Op::Exists:
    case Op::Count:
    case Op::Sum:
    case Op::Min:
    case Op::Max:
    case Op::Last: {
      std::string where = fmt::format("r.friend = f.id AND r.time <= {}", now_);
      if (n.imm > 0) where += fmt::format(" AND r.time >= {}", now_ - n.imm + 1);
      if (n.flags & ir::kHasSince) {
        const ir::NodeId since = n.args[(n.flags & ir::kHasWhere) ? 1 : 0];
        std::string start = expr(since, false);
        if (program_.nodes[since].type == ir::ValueType::Date) start = fmt::format("({} * {} - {})", start, kDay, kOffset);
        where += " AND r.time >= " + start;
      }
      if (n.flags & ir::kHasWhere) where += " AND coalesce((" + expr(n.args[0], true) + "), 0)";
      const std::string table = fmt::format("e{}", n.a);
      const std::string field = n.b ? fmt::format("r.f{}", n.b - 1) : "r.time";
      if (n.b) where += " AND " + field + " IS NOT NULL";
      switch (n.op) {
        case Op::Exists: return fmt::format("EXISTS (SELECT 1 FROM {} r WHERE {})", table, where);
        case Op::Count: return fmt::format("(SELECT COUNT(*) FROM {} r WHERE {})", table, where);
        case Op::Sum: return fmt::format("(SELECT coalesce(SUM({}), 0) FROM {} r WHERE {})", field, table, where);
        case Op::Min: return fmt::format("(SELECT MIN({}) FROM {} r WHERE {})", field, table, where);
        case Op::Max: return fmt::format("(SELECT MAX({}) FROM {} r WHERE {})", field, table, where);
        default:
          return fmt::format("(SELECT {} FROM {} r WHERE {} ORDER BY r.time DESC, r.rowid DESC LIMIT 1)", field, table, where);
      }
    }
    default: throw std::runtime_error(std::string("no SQL for ") + ir::opName(n.op));
  }
}

}  // namespace seg::difftest
