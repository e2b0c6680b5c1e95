#include "tests/differential/world.h"

#include <fmt/format.h>

#include "base/civil_time.h"

namespace seg::difftest {
namespace {

constexpr std::int64_t kDay = civil::kSecondsPerDay;
// Evaluation instants (Asia/Tokyo): an ordinary day, and days where
// calendars bite: Feb 29, the day before and after a Feb 29 that does not
// exist, New Year.
constexpr std::int64_t kInstants[] = {
    1763607600,  // 2026-11-20 12:00
    1709143200,  // 2024-02-29 03:00
    1740753000,  // 2025-02-28 23:30
    1740755400,  // 2025-03-01 00:10
    1798729200,  // 2027-01-01 00:00
    1835406000,  // 2028-02-29 12:00
};

const char* const kRanks[] = {"bronze", "silver", "gold", "platinum"};
const char* const kPrefs[] = {"東京都", "大阪府", "京都府", "沖縄県", "北海道"};
const char* const kTags[] = {"VIP", "新規", "配信停止"};
const char* const kItems[] = {"化粧水", "乳液", "リップ"};
const char* const kPages[] = {"top", "sale", "diet"};
// The catalog's rows: "リップ" has none (its fields are missing).
struct Item {
  const char* id;
  std::int64_t price;
  const char* kind;
  bool onSale;
};
const Item kCatalog[] = {{"化粧水", 3200, "skin", true}, {"乳液", 2800, "skin", false}, {"美容液", 5400, "serum", true}};
// Postback data of a survey: `q` and `r` answers, in either order, or none.
const char* const kAnswers[] = {"q=a&r=b", "r=b&q=a", "q=b", "r=a", "q=&r=a", "survey=1&q=a", "other"};
const char* const kOps[] = {"==", "!=", "<", "<=", ">", ">="};

class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  std::int64_t between(std::int64_t low, std::int64_t high) {
    return low + static_cast<std::int64_t>(engine_() % static_cast<std::uint64_t>(high - low + 1));
  }
  bool chance(double p) { return static_cast<double>(engine_() % 1000000) / 1e6 < p; }
  template <typename T, std::size_t N>
  const T& pick(const T (&items)[N]) {
    return items[engine_() % N];
  }

 private:
  std::mt19937_64 engine_;
};

UserId userFor(std::uint64_t seed, std::size_t i) { return *UserId::parse(fmt::format("U{:016x}{:016x}", seed, i)); }

std::string dateText(std::int64_t days) { return civil::formatDate(static_cast<std::int32_t>(days)); }

// Mostly any day 15 to 70 years back; often a birthday that falls on
// `today` (give or take a day) some years ago, or on a Feb 29, where
// age() has its edges.
std::int64_t birthday(Random& r, std::int64_t today) {
  const double kind = static_cast<double>(r.between(0, 99));
  if (kind < 60) return today - r.between(15 * 365, 70 * 365);
  if (kind < 90) {
    const civil::YearMonthDay t = civil::civilFromDays(static_cast<std::int32_t>(today));
    const std::int32_t year = t.year - static_cast<std::int32_t>(r.between(18, 30));
    const std::uint32_t day = std::min(t.day, civil::daysInMonth(year, t.month));
    return civil::daysFromCivil({year, t.month, day}) + r.between(-1, 1);
  }
  const std::int32_t leap = 1956 + 4 * static_cast<std::int32_t>(r.between(0, 13));
  return civil::daysFromCivil({leap, 2, 29});
}

std::shared_ptr<Gen> leaf(std::string text) {
  auto g = std::make_shared<Gen>();
  g->text = std::move(text);
  return g;
}

class ExprMaker {
 public:
  ExprMaker(Random& random, std::int64_t now, std::vector<std::string> earlier)
      : r_(random), now_(now), earlier_(std::move(earlier)) {}

  std::shared_ptr<Gen> make(int depth) {
    if (depth > 0 && r_.chance(0.45)) {
      auto g = std::make_shared<Gen>();
      const int kind = static_cast<int>(r_.between(0, 2));
      g->kind = kind == 0 ? Gen::Kind::And : kind == 1 ? Gen::Kind::Or : Gen::Kind::Not;
      const int n = g->kind == Gen::Kind::Not ? 1 : static_cast<int>(r_.between(2, 3));
      for (int i = 0; i < n; ++i) g->children.push_back(make(depth - 1));
      return g;
    }
    return leaf(condition());
  }

 private:
  std::string window() {
    switch (r_.between(0, 3)) {
      case 0: return "";
      case 1: return fmt::format(", within {}d", r_.pick<std::int64_t>({1, 7, 30, 45}));
      case 2: return fmt::format(", within {}h", r_.between(1, 48));
      default: return fmt::format(", since {}", dateText(civil::floorDiv(now_ + 9 * 3600, kDay) - r_.between(0, 40)));
    }
  }

  std::string condition() {
    const std::int64_t today = civil::floorDiv(now_ + 9 * 3600, kDay);
    switch (r_.between(0, 44)) {
      case 0: return fmt::format("rank {} {}", r_.pick(kOps), r_.pick(kRanks));
      case 1: return fmt::format("points {} {}", r_.pick(kOps), r_.between(-5, 60));
      case 2: {
        const std::int64_t a = r_.between(-5, 50);
        return fmt::format("points in {}..{}", a, a + r_.between(0, 20));
      }
      case 3: return fmt::format("points in [{}, {}, {}]", r_.between(0, 20), r_.between(0, 20), r_.between(-5, 60));
      case 4: return fmt::format("birthday {} {}", r_.pick(kOps), dateText(today - r_.between(20, 60) * 365));
      case 5: {
        const std::int64_t a = today - r_.between(20, 60) * 365;
        return fmt::format("birthday between {} and {}", dateText(a), dateText(a + r_.between(0, 4000)));
      }
      case 6: return fmt::format("last_seen {} now - {}d", r_.pick(kOps), r_.between(0, 60));
      case 7: return fmt::format("pref {} \"{}\"", r_.chance(0.5) ? "==" : "!=", r_.pick(kPrefs));
      case 8: return fmt::format("pref in [\"{}\", \"{}\"]", r_.pick(kPrefs), r_.pick(kPrefs));
      case 9: return r_.chance(0.5) ? "pref contains \"京\"" : "pref starts_with \"東\"";
      case 10: return r_.chance(0.5) ? "pref matches \"^(東|大)\"" : "pref ends_with \"県\"";
      case 11: return r_.chance(0.5) ? "vip_flag" : "vip_flag == false";
      case 12: return fmt::format("tag \"{}\"", r_.pick(kTags));
      case 13: return r_.chance(0.5) ? "has(points)" : "has(pref)";
      case 14: return fmt::format("friend_for {} {}d", r_.pick(kOps), r_.between(0, 400));
      case 15: return fmt::format("score {} {}", r_.pick(kOps), r_.between(0, 10));
      case 16: return fmt::format("month(birthday) == {}", r_.between(1, 12));
      case 17: return fmt::format("weekday(last_seen) <= {}", r_.between(1, 7));
      case 18: return fmt::format("hour(last_seen) >= {}", r_.between(0, 23));
      case 19: return fmt::format("age(birthday) {} {}", r_.pick(kOps), r_.between(18, 30));
      case 20: return fmt::format("length(pref) == {}", r_.between(2, 4));
      case 21: return fmt::format("bucket(\"s{}\") < {}%", r_.between(0, 3), r_.between(0, 100));
      case 22: return fmt::format("exists(buy{})", window());
      case 23: return fmt::format("exists(buy where price > {}{})", r_.between(0, 5000), window());
      case 24: return fmt::format("count(visit where page == \"{}\"{}) >= {}", r_.pick(kPages), window(), r_.between(0, 3));
      case 25: return fmt::format("sum(buy.price{}) > {}", window(), r_.between(0, 8000));
      case 26: return fmt::format("min(buy.price) < {}", r_.between(0, 5000));
      case 27: return fmt::format("max(buy.price{}) >= {}", window(), r_.between(0, 5000));
      case 28: return fmt::format("last(buy.item) == \"{}\"", r_.pick(kItems));
      case 29: return fmt::format("last(buy) > now - {}d", r_.between(0, 40));
      case 30: return fmt::format("points + {} > {}", r_.between(-10, 10), r_.between(0, 60));
      case 31: return fmt::format("birthday + {}d < today", r_.between(-100, 100) * 365);
      case 32: return fmt::format("inflow == \"{}\"", r_.chance(0.5) ? "qr" : "ad");
      case 33: {
        const std::int64_t a = r_.between(18, 30);
        return fmt::format("age(birthday) in {}..{}", a, a + r_.between(0, 5));
      }
      case 34: return fmt::format("day(birthday) {} {}", r_.pick(kOps), r_.between(1, 31));
      case 35: return fmt::format("year(birthday) {} {}", r_.pick(kOps), r_.between(1960, 2010));
      case 36: return fmt::format("weekday(birthday) == {}", r_.between(1, 7));
      case 37: return r_.chance(0.5) ? "month(birthday) == month(today)" : "day(birthday) == day(today)";
      case 38: return fmt::format("exists(postback where param(data, \"{}\") == \"{}\"{})", r_.chance(0.5) ? "q" : "r",
                                  r_.chance(0.5) ? "a" : "b", window());
      case 39: return fmt::format("count(postback where postback.param(\"q\") != \"a\"{}) >= {}", window(), r_.between(0, 2));
      case 40: return fmt::format("last(postback.data).param(\"{}\") == \"{}\"", r_.chance(0.5) ? "q" : "r", r_.chance(0.5) ? "a" : "");
      case 41: return fmt::format("exists(buy where item.kind == \"{}\"{})", r_.chance(0.5) ? "skin" : "serum", window());
      case 42: return fmt::format("count(buy where item.price {} {}{}) >= {}", r_.pick(kOps), r_.between(2000, 6000), window(), r_.between(0, 2));
      case 43: return r_.chance(0.5) ? fmt::format("exists(buy where item.on_sale and price > {})", r_.between(0, 5000))
                                     : fmt::format("last(buy.item).price {} {}", r_.pick(kOps), r_.between(2000, 6000));
      default:
        if (!earlier_.empty()) return earlier_[static_cast<std::size_t>(r_.between(0, static_cast<std::int64_t>(earlier_.size()) - 1))];
        return "exists(visit, within 3d)";
    }
  }

  Random& r_;
  std::int64_t now_;
  std::vector<std::string> earlier_;
};

}  // namespace

std::string Gen::render() const {
  switch (kind) {
    case Kind::Leaf: return text;
    case Kind::Not: return "not (" + children[0]->render() + ")";
    default: {
      std::string out = "(";
      for (std::size_t i = 0; i < children.size(); ++i) {
        if (i > 0) out += kind == Kind::And ? " and " : " or ";
        out += children[i]->render();
      }
      return out + ")";
    }
  }
}

std::vector<std::shared_ptr<Gen>> Gen::shrink() const {
  std::vector<std::shared_ptr<Gen>> out;
  if (kind == Kind::Leaf) return out;
  for (const auto& child : children) out.push_back(child);
  if (children.size() > 2) {
    for (std::size_t drop = 0; drop < children.size(); ++drop) {
      auto smaller = std::make_shared<Gen>(*this);
      smaller->children.erase(smaller->children.begin() + static_cast<std::ptrdiff_t>(drop));
      out.push_back(smaller);
    }
  }
  for (std::size_t i = 0; i < children.size(); ++i) {
    for (const auto& variant : children[i]->shrink()) {
      auto smaller = std::make_shared<Gen>(*this);
      smaller->children[i] = variant;
      out.push_back(smaller);
    }
  }
  return out;
}

std::string programFor(const World& world, const std::vector<std::pair<std::string, std::shared_ptr<Gen>>>& segments) {
  std::string out = world.schemaText;
  for (const auto& [name, gen] : segments) out += "segment " + name + " = " + gen->render() + "\n";
  return out;
}

std::string World::program() const { return programFor(*this, segments); }

World makeWorld(std::uint64_t seed, std::size_t friends, std::size_t segmentCount) {
  World world;
  world.seed = seed;
  world.now = kInstants[seed % std::size(kInstants)];
  const std::int64_t now = world.now;
  world.schemaText =
      "catalog goods { id: string  price: int  kind: string  on_sale: bool }\n"
      "schema {\n"
      "  rank: enum(bronze, silver, gold, platinum)\n"
      "  points: int\n"
      "  birthday: date\n"
      "  last_seen: time\n"
      "  pref: string\n"
      "  vip_flag: bool\n"
      "  event buy(item: goods, price: int)\n"
      "  event visit(page: string)\n"
      "}\n";
  Random r(seed);
  const std::int64_t today = civil::floorDiv(now + 9 * 3600, kDay);  // in Asia/Tokyo
  for (const Item& item : kCatalog) {
    Mutation row = Mutation::of(Mutation::Kind::CatalogPut);
    row.fields = {Value::ofString(item.id), r.chance(0.9) ? Value::ofInt(item.price) : Value::missing(), Value::ofString(item.kind),
                  Value::ofBool(item.onSale)};
    world.data.push_back(std::move(row));
  }
  // Attribute indexes follow the lowered schema: built-ins first.
  const auto set = [&](const UserId& user, std::uint32_t index, Value value) {
    Mutation m = Mutation::of(Mutation::Kind::SetAttribute, user);
    m.index = index;
    m.value = std::move(value);
    world.data.push_back(std::move(m));
  };
  // name score followed_at inflow blocked | rank points birthday last_seen pref vip_flag
  enum : std::uint32_t { kName, kScore, kFollowedAt, kInflow, kBlocked, kRank, kPoints, kBirthday, kLastSeen, kPref, kVip };
  for (std::size_t i = 0; i < friends; ++i) {
    const UserId user = userFor(seed, i);
    world.data.push_back(Mutation::of(Mutation::Kind::AddFriend, user));
    if (r.chance(0.8)) set(user, kRank, Value::ofInt(r.between(0, 3)));
    if (r.chance(0.8)) set(user, kPoints, Value::ofInt(r.between(-5, 60)));
    if (r.chance(0.8)) set(user, kBirthday, Value::ofInt(birthday(r, today)));
    if (r.chance(0.8)) set(user, kLastSeen, Value::ofInt(now - r.between(-3 * kDay, 60 * kDay)));
    if (r.chance(0.8)) set(user, kPref, Value::ofString(r.pick(kPrefs)));
    if (r.chance(0.8)) set(user, kVip, Value::ofBool(r.chance(0.3)));
    if (r.chance(0.9)) set(user, kScore, Value::ofInt(r.between(0, 10)));
    if (r.chance(0.9)) set(user, kFollowedAt, Value::ofInt(now - r.between(0, 400 * kDay)));
    if (r.chance(0.9)) set(user, kInflow, Value::ofString(r.chance(0.5) ? "qr" : "ad"));
    if (r.chance(0.1)) set(user, kBlocked, Value::ofBool(true));
    for (const char* tag : kTags) {
      if (!r.chance(0.3)) continue;
      Mutation m = Mutation::of(Mutation::Kind::Tag, user);
      m.name = tag;
      m.on = true;
      world.data.push_back(std::move(m));
    }
    // Events around the windows' edges, and a few after `now`.
    const std::int64_t edges[] = {0, 1, -1, kDay, 7 * kDay, 30 * kDay, 30 * kDay - 1, 30 * kDay + 1, 45 * kDay};
    for (int e = 0, n = static_cast<int>(r.between(0, 6)); e < n; ++e) {
      Mutation m = Mutation::of(Mutation::Kind::AppendEvent, user);
      m.index = 4;  // follow unfollow message postback | buy visit
      m.time = now - (r.chance(0.3) ? edges[r.between(0, 8)] : r.between(-2 * kDay, 50 * kDay));
      m.fields = {Value::ofString(r.pick(kItems)), r.chance(0.9) ? Value::ofInt(r.between(100, 5000)) : Value::missing()};
      world.data.push_back(std::move(m));
    }
    for (int e = 0, n = static_cast<int>(r.between(0, 2)); e < n; ++e) {
      Mutation m = Mutation::of(Mutation::Kind::AppendEvent, user);
      m.index = 3;  // postback
      m.time = now - r.between(-kDay, 40 * kDay);
      m.fields = {Value::ofString(r.pick(kAnswers))};
      world.data.push_back(std::move(m));
    }
    for (int e = 0, n = static_cast<int>(r.between(0, 5)); e < n; ++e) {
      Mutation m = Mutation::of(Mutation::Kind::AppendEvent, user);
      m.index = 5;
      m.time = now - r.between(-kDay, 40 * kDay);
      m.fields = {Value::ofString(r.pick(kPages))};
      world.data.push_back(std::move(m));
    }
  }
  std::vector<std::string> names;
  for (std::size_t s = 0; s < segmentCount; ++s) {
    ExprMaker maker(r, now, names);
    const std::string name = fmt::format("s{}", s);
    world.segments.emplace_back(name, maker.make(3));
    names.push_back(name);
  }
  return world;
}

}  // namespace seg::difftest
