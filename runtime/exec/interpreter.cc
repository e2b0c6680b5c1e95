#include "runtime/exec/interpreter.h"

#include <re2/re2.h>
#include <xxhash.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "base/civil_time.h"
#include "compiler/source/source.h"

namespace seg {
namespace {

using ir::Op;
constexpr std::int64_t kDay = civil::kSecondsPerDay;

Val missing() { return {}; }

// The value of `key` in `k=v&k2=v2` text, as written (no percent-decoding:
// postback data is whatever the button says); a key without `=` has "".
std::optional<std::string_view> queryParam(std::string_view text, std::string_view key) {
  while (true) {
    const std::size_t end = std::min(text.find('&'), text.size());
    const std::string_view pair = text.substr(0, end);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (end == text.size()) return std::nullopt;
    text.remove_prefix(end + 1);
  }
}
Val integer(std::int64_t v) { return {true, v, {}}; }
Val boolean(bool v) { return {true, v ? 1 : 0, {}}; }

bool compare(Op op, const Val& a, const Val& b, bool strings) {
  if (!a.present || !b.present) return false;
  if (strings) {
    switch (op) {
      case Op::Eq: return a.s == b.s;
      case Op::Ne: return a.s != b.s;
      case Op::Lt: return a.s < b.s;
      case Op::Le: return a.s <= b.s;
      case Op::Gt: return a.s > b.s;
      case Op::Ge: return a.s >= b.s;
      default: return false;
    }
  }
  switch (op) {
    case Op::Eq: return a.i == b.i;
    case Op::Ne: return a.i != b.i;
    case Op::Lt: return a.i < b.i;
    case Op::Le: return a.i <= b.i;
    case Op::Gt: return a.i > b.i;
    case Op::Ge: return a.i >= b.i;
    default: return false;
  }
}

}  // namespace

std::int32_t ageOn(std::int32_t birthday, std::int32_t today) {
  const civil::YearMonthDay b = civil::civilFromDays(birthday);
  const civil::YearMonthDay t = civil::civilFromDays(today);
  std::int32_t age = t.year - b.year;
  if (t.month < b.month || (t.month == b.month && t.day < b.day)) --age;
  return age;
}

std::int64_t Interpreter::bucketOf(std::string_view seed, const UserId& user) {
  // XXH64 (a published, stable hash) of the seed, a NUL and the user ID's
  // 16 bytes: the same seed and user give the same bucket in every release.
  char buffer[320];
  std::uint64_t hash;
  if (seed.size() + 17 <= sizeof buffer) {
    std::memcpy(buffer, seed.data(), seed.size());
    buffer[seed.size()] = 0;
    std::memcpy(buffer + seed.size() + 1, user.bytes.data(), 16);
    hash = XXH64(buffer, seed.size() + 17, 0);
  } else {
    std::string bytes(seed);
    bytes += '\0';
    bytes.append(reinterpret_cast<const char*>(user.bytes.data()), 16);
    hash = XXH64(bytes.data(), bytes.size(), 0);
  }
  return static_cast<std::int64_t>(hash % 10000);
}

Interpreter::Interpreter(const BoundProgram& bound, const EvalTime& time)
    : bound_(bound), p_(bound.program()), time_(time) {}

Interpreter::~Interpreter() = default;

bool Interpreter::test(ir::NodeId root, std::uint32_t friendId, const TriggerEvent* trigger) const {
  return truth(root, Frame{friendId, trigger});
}

Val Interpreter::value(ir::NodeId root, std::uint32_t friendId, const TriggerEvent* trigger) const {
  return eval(root, Frame{friendId, trigger});
}

Val Interpreter::fieldValue(std::uint32_t irEvent, std::uint32_t irField, std::uint32_t row) const {
  const FieldColumn& column = bound_.events(irEvent).field(bound_.field(irEvent, irField));
  if (column.spec().type == ir::ValueType::String) {
    const std::uint32_t code = column.codeAt(row);
    if (code == 0) return missing();
    return {true, 0, column.dict().at(code)};
  }
  const std::int64_t v = column.intAt(row);
  if (v == FieldColumn::kMissing) return missing();
  return integer(v);
}

Val Interpreter::eval(ir::NodeId id, const Frame& f) const {
  const ir::Node& n = p_.nodes[id];
  const auto arg = [&](std::size_t i) { return eval(n.args[i], f); };
  switch (n.op) {
    case Op::Const:
      if (n.flags & ir::kMissing) return missing();
      if (n.type == ir::ValueType::String) return {true, 0, p_.strings[n.a]};
      return integer(n.imm);
    case Op::Now: return integer(time_.now);
    case Op::Today: return integer(time_.today);
    case Op::Attr: {
      const AttributeColumn& column = bound_.attribute(n.a);
      if (!column.has(f.friendId)) return missing();
      if (n.type == ir::ValueType::String) return {true, 0, column.dict().at(column.codeAt(f.friendId))};
      return integer(column.intAt(f.friendId));
    }
    case Op::FriendFor: {
      const auto followed = p_.schema.attribute("followed_at");
      if (!followed) return missing();
      const AttributeColumn& column = bound_.attribute(static_cast<std::uint32_t>(*followed));
      if (!column.has(f.friendId)) return missing();
      return integer(time_.now - column.intAt(f.friendId));
    }
    case Op::RowField: return fieldValue(f.rowEvent, n.a, f.row);
    case Op::TriggerField: {
      if (f.trigger == nullptr || n.a >= f.trigger->fields.size()) return missing();
      const Value& v = f.trigger->fields[n.a];
      if (v.isMissing()) return missing();
      if (v.kind == Value::Kind::String) return {true, 0, v.s};
      return integer(v.i);
    }
    case Op::Tag: return boolean(bound_.tag(p_.strings[n.a]).contains(f.friendId));
    case Op::Audience: return boolean(bound_.audience(p_.strings[n.a], time_.now).contains(f.friendId));
    case Op::Status: return boolean(bound_.status(p_.strings[n.a], n.b).contains(f.friendId));
    case Op::Bucket: return integer(bucketOf(p_.strings[n.a], bound_.state().friends().user(f.friendId)));
    case Op::SegmentRef: return eval(p_.segments[n.a].root, f);
    case Op::Add:
    case Op::Sub: {
      const Val a = arg(0), b = arg(1);
      if (!a.present || !b.present) return missing();
      const ir::ValueType ta = p_.nodes[n.args[0]].type, tb = p_.nodes[n.args[1]].type;
      std::int64_t x = a.i, y = b.i;
      if (ta == ir::ValueType::Date && tb == ir::ValueType::Duration) y = civil::floorDiv(y, kDay);
      if (ta == ir::ValueType::Duration && tb == ir::ValueType::Date) x = civil::floorDiv(x, kDay);
      if (ta == ir::ValueType::Date && tb == ir::ValueType::Date) return integer((x - y) * kDay);
      return integer(n.op == Op::Add ? x + y : x - y);
    }
    case Op::Neg: {
      const Val a = arg(0);
      return a.present ? integer(-a.i) : missing();
    }
    case Op::Eq:
    case Op::Ne:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge: return boolean(compare(n.op, arg(0), arg(1), p_.nodes[n.args[0]].type == ir::ValueType::String));
    case Op::Contains:
    case Op::StartsWith:
    case Op::EndsWith: {
      const Val a = arg(0), b = arg(1);
      if (!a.present || !b.present) return boolean(false);
      if (n.op == Op::Contains) return boolean(a.s.find(b.s) != std::string_view::npos);
      if (n.op == Op::StartsWith) return boolean(a.s.substr(0, b.s.size()) == b.s);
      return boolean(a.s.size() >= b.s.size() && a.s.substr(a.s.size() - b.s.size()) == b.s);
    }
    case Op::Matches: {
      const Val a = arg(0);
      return boolean(a.present && RE2::PartialMatch(a.s, bound_.regex(n.a)));
    }
    case Op::InList: {
      const Val v = arg(0);
      const bool strings = p_.nodes[n.args[0]].type == ir::ValueType::String;
      for (std::size_t i = 1; i < n.args.size(); ++i) {
        if (compare(Op::Eq, v, arg(i), strings)) return boolean(true);
      }
      return boolean(false);
    }
    case Op::InRange: {
      const Val v = arg(0), low = arg(1), high = arg(2);
      const bool strings = p_.nodes[n.args[0]].type == ir::ValueType::String;
      return boolean(compare(Op::Ge, v, low, strings) && compare(Op::Le, v, high, strings));
    }
    case Op::And:
      for (ir::NodeId c : n.args) {
        if (!truth(c, f)) return boolean(false);
      }
      return boolean(true);
    case Op::Or:
      for (ir::NodeId c : n.args) {
        if (truth(c, f)) return boolean(true);
      }
      return boolean(false);
    case Op::Not: return boolean(!truth(n.args[0], f));
    case Op::Month:
    case Op::Day:
    case Op::Year:
    case Op::Weekday:
    case Op::Hour:
    case Op::DateOf:
    case Op::Age: {
      const Val a = arg(0);
      if (!a.present) return missing();
      const bool isTime = p_.nodes[n.args[0]].type == ir::ValueType::Time;
      if (n.op == Op::Hour) return integer(time_.zone.localSecondsOfDay(a.i) / 3600);
      const std::int32_t day = isTime ? time_.zone.localDay(a.i) : static_cast<std::int32_t>(a.i);
      if (n.op == Op::DateOf) return integer(day);
      if (n.op == Op::Age) return integer(ageOn(day, time_.today));
      if (n.op == Op::Weekday) return integer(civil::isoWeekday(day));
      const civil::YearMonthDay ymd = civil::civilFromDays(day);
      return integer(n.op == Op::Month ? ymd.month : n.op == Op::Day ? ymd.day : ymd.year);
    }
    case Op::Length: {
      const Val a = arg(0);
      return a.present ? integer(static_cast<std::int64_t>(utf8::countCodePoints(a.s))) : missing();
    }
    case Op::CatalogField: {
      const Val id = arg(0);
      if (!id.present) return missing();
      const Value* v = bound_.catalogValue(n.a, n.b, id.s);
      if (v == nullptr || v->isMissing()) return missing();
      return v->kind == Value::Kind::String ? Val{true, 0, v->s} : Val{true, v->i, {}};
    }
    case Op::Param: {
      const Val text = arg(0);
      const Val key = arg(1);
      if (!text.present || !key.present) return missing();
      const std::optional<std::string_view> value = queryParam(text.s, key.s);
      return value ? Val{true, 0, *value} : missing();
    }
    case Op::Has: return boolean(bound_.attribute(n.a).has(f.friendId));
    case Op::Exists:
    case Op::Count:
    case Op::Sum:
    case Op::Min:
    case Op::Max:
    case Op::Last: return aggregate(n, f);
  }
  throw std::logic_error("unknown IR op");
}

Val Interpreter::aggregate(const ir::Node& n, const Frame& f) const {
  const EventLog& log = bound_.events(n.a);
  std::int64_t from = INT64_MIN;
  if (n.imm > 0) from = time_.now - n.imm + 1;
  if (n.flags & ir::kHasSince) {
    const ir::NodeId since = n.args[(n.flags & ir::kHasWhere) ? 1 : 0];
    const Val start = eval(since, f);
    if (!start.present) return n.op == Op::Exists ? boolean(false) : n.op == Op::Count || n.op == Op::Sum ? integer(0) : missing();
    const std::int64_t instant = p_.nodes[since].type == ir::ValueType::Date
                                     ? time_.zone.toInstant(static_cast<std::int32_t>(start.i), 0) : start.i;
    from = std::max(from, instant);
  }
  std::int64_t count = 0, sum = 0;
  Val best;
  for (std::uint32_t row = log.latestOf(f.friendId); row != kNoRow; row = log.previousOf(row)) {
    const std::int64_t t = log.timeAt(row);
    if (t > time_.now) continue;
    if (t < from) break;
    if (n.flags & ir::kHasWhere) {
      Frame rowFrame = f;
      rowFrame.rowEvent = n.a;
      rowFrame.row = row;
      if (!truth(n.args[0], rowFrame)) continue;
    }
    if (n.op == Op::Exists) return boolean(true);
    if (n.op == Op::Count) {
      ++count;
      continue;
    }
    const Val v = n.b == 0 ? integer(t) : fieldValue(n.a, n.b - 1, row);
    if (!v.present) continue;  // rows without the field do not count
    switch (n.op) {
      case Op::Last: return v;  // rows come newest first
      case Op::Sum: sum += v.i; break;
      case Op::Min:
      case Op::Max: {
        const bool strings = n.type == ir::ValueType::String;
        if (!best.present || compare(n.op == Op::Min ? Op::Lt : Op::Gt, v, best, strings)) best = v;
        break;
      }
      default: break;
    }
  }
  switch (n.op) {
    case Op::Exists: return boolean(false);
    case Op::Count: return integer(count);
    case Op::Sum: return integer(sum);
    default: return best;
  }
}

}  // namespace seg
