#include "runtime/synth/generator.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/civil_time.h"

namespace seg {
namespace {

constexpr std::int64_t kDay = civil::kSecondsPerDay;

// SplitMix64: tiny, fast, and fully specified.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool chance(double p) { return uniform() < p; }

 private:
  std::uint64_t state_;
};

// Sampling from fixed weights by binary search on the cumulative sum.
class Weighted {
 public:
  explicit Weighted(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) cumulative_.push_back(total += w);
  }
  static Weighted zipf(std::size_t n, double exponent) {
    std::vector<double> weights(n);
    for (std::size_t i = 0; i < n; ++i) weights[i] = 1.0 / std::pow(static_cast<double>(i + 1), exponent);
    return Weighted(weights);
  }
  std::size_t sample(Rng& rng) const {
    const double x = rng.uniform() * cumulative_.back();
    return static_cast<std::size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), x) - cumulative_.begin());
  }
  std::size_t size() const { return cumulative_.size(); }

 private:
  std::vector<double> cumulative_;
};

// Population of the 47 prefectures (2020 census, 10,000s), JIS order.
const std::vector<std::pair<const char*, double>>& prefectures() {
  static const std::vector<std::pair<const char*, double>> kPrefectures = {
      {"北海道", 522}, {"青森県", 124}, {"岩手県", 121}, {"宮城県", 230}, {"秋田県", 96},  {"山形県", 107},
      {"福島県", 183}, {"茨城県", 287}, {"栃木県", 193}, {"群馬県", 194}, {"埼玉県", 734}, {"千葉県", 628},
      {"東京都", 1405}, {"神奈川県", 924}, {"新潟県", 220}, {"富山県", 103}, {"石川県", 113}, {"福井県", 77},
      {"山梨県", 81},  {"長野県", 205}, {"岐阜県", 198}, {"静岡県", 363}, {"愛知県", 754}, {"三重県", 177},
      {"滋賀県", 141}, {"京都府", 258}, {"大阪府", 884}, {"兵庫県", 547}, {"奈良県", 133}, {"和歌山県", 92},
      {"鳥取県", 55},  {"島根県", 67},  {"岡山県", 189}, {"広島県", 280}, {"山口県", 134}, {"徳島県", 72},
      {"香川県", 95},  {"愛媛県", 133}, {"高知県", 69},  {"福岡県", 514}, {"佐賀県", 81},  {"長崎県", 131},
      {"熊本県", 174}, {"大分県", 113}, {"宮崎県", 107}, {"鹿児島県", 159}, {"沖縄県", 147},
  };
  return kPrefectures;
}

const char* const kFamilyNames[] = {"佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
                                    "吉田", "山田", "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水"};
const char* const kGivenNames[] = {"花子", "さくら", "陽菜", "結衣", "美咲", "葵", "翔", "蓮", "大翔", "湊",
                                   "真由美", "恵", "健太", "拓也", "愛", "優子", "直樹", "彩", "美穂", "悠"};
const char* const kCategories[] = {"skincare", "makeup", "haircare", "bodycare", "fragrance", "diet", "supplement",
                                   "nail", "men", "baby", "sun", "lip", "eye", "cleansing", "mask", "tool",
                                   "gift", "outlet", "limited", "new"};
const char* const kItems[] = {"化粧水", "乳液", "美容液", "クリーム", "洗顔", "リップ", "ファンデーション", "マスカラ",
                              "シャンプー", "ボディソープ", "香水", "サプリ", "パック", "日焼け止め", "ネイル", "ミスト"};
const char* const kMessages[] = {"クーポンください", "ダイエットについて教えて", "スキンケアのおすすめは?", "ありがとう",
                                 "在庫ありますか", "配送はいつですか", "こんにちは", "キャンペーンの詳細を知りたい"};
const char* const kPostbacks[] = {"survey=skincare", "survey=diet", "menu=coupon", "menu=shop", "survey=makeup"};
const std::pair<const char*, double> kTags[] = {{"VIP", 0.05},          {"新規", 0.10},     {"興味:スキンケア", 0.15},
                                                {"興味:ダイエット", 0.12}, {"配信停止", 0.03}, {"クーポン利用", 0.20},
                                                {"リピーター", 0.25}};
const std::pair<const char*, double> kInflows[] = {{"qr", 30}, {"instagram", 25}, {"x", 10}, {"ad", 20}, {"shop", 10}, {"web", 5}};

bool contains(const std::string& name, const char* part) { return name.find(part) != std::string::npos; }

// Values for one friend attribute or event field, chosen by its name and type.
class ValueMaker {
 public:
  ValueMaker(std::int64_t now)
      : now_(now), today_(static_cast<std::int32_t>(civil::floorDiv(now, kDay))),
        prefecture_([] {
          std::vector<double> w;
          for (const auto& p : prefectures()) w.push_back(p.second);
          return Weighted(w);
        }()),
        products_(Weighted::zipf(kProducts, 1.05)), categories_(Weighted::zipf(std::size(kCategories), 0.9)),
        strings_(Weighted::zipf(50, 1.0)), inflow_([] {
          std::vector<double> w;
          for (const auto& p : kInflows) w.push_back(p.second);
          return Weighted(w);
        }()) {}

  Value make(const ir::ColumnSpec& column, Rng& rng) const {
    const std::string& name = column.name;
    switch (column.type) {
      case ir::ValueType::Bool: return Value::ofBool(rng.chance(name == "blocked" ? 0.08 : 0.35));
      case ir::ValueType::Enum: {
        // Lower ranks are the common ones (bronze before gold).
        const std::size_t n = column.enumValues.size();
        std::size_t rank = 0;
        while (rank + 1 < n && rng.chance(0.45)) ++rank;
        return Value::ofInt(static_cast<std::int64_t>(rank));
      }
      case ir::ValueType::Int: {
        if (name == "score") return Value::ofInt(static_cast<std::int64_t>(-std::log(1 - rng.uniform()) * 12));
        if (contains(name, "price")) return Value::ofInt(price(rng));
        if (contains(name, "star")) return Value::ofInt(stars(rng));
        if (contains(name, "point")) {
          return Value::ofInt(std::min<std::int64_t>(200000, static_cast<std::int64_t>(50 / std::pow(1 - rng.uniform(), 0.8))));
        }
        return Value::ofInt(static_cast<std::int64_t>(rng.below(100)) + 1);
      }
      case ir::ValueType::String: {
        if (name == "name") return Value::ofString(std::string(kFamilyNames[rng.below(20)]) + " " + kGivenNames[rng.below(20)]);
        if (name == "inflow") return Value::ofString(kInflows[inflow_.sample(rng)].first);
        if (contains(name, "pref")) return Value::ofString(prefectures()[prefecture_.sample(rng)].first);
        if (contains(name, "product")) return Value::ofString(product(products_.sample(rng)));
        if (contains(name, "categor")) return Value::ofString(kCategories[categories_.sample(rng)]);
        if (name == "text") return Value::ofString(kMessages[rng.below(std::size(kMessages))]);
        if (name == "data") return Value::ofString(kPostbacks[rng.below(std::size(kPostbacks))]);
        return Value::ofString(fmt::format("{}{}", name, strings_.sample(rng) + 1));
      }
      case ir::ValueType::Date: {
        if (contains(name, "birth")) return Value::ofInt(today_ - static_cast<std::int32_t>(age(rng) * 365.25 + rng.below(365)));
        return Value::ofInt(today_ + static_cast<std::int64_t>(rng.below(120)) - 30);
      }
      case ir::ValueType::Time:
        if (name == "followed_at") {
          // Three years of growth: recent friends are more numerous.
          return Value::ofInt(now_ - static_cast<std::int64_t>(std::pow(rng.uniform(), 1.6) * 3 * 365 * kDay));
        }
        return Value::ofInt(now_ - static_cast<std::int64_t>(rng.below(180 * kDay)));
      case ir::ValueType::Duration: return Value::ofInt(static_cast<std::int64_t>(rng.below(365)) * kDay);
      case ir::ValueType::Percent: return Value::ofInt(static_cast<std::int64_t>(rng.below(10001)));
    }
    return Value::missing();
  }

  // LINE users' ages: most between 20 and 50, some to 70.
  static double age(Rng& rng) {
    const double a = 15 + (rng.uniform() + rng.uniform() + rng.uniform()) / 3 * 55;
    return a;
  }

  static std::int64_t price(Rng& rng) {
    // Log-normal around 3,000 yen, in tens of yen.
    const double normal = std::sqrt(-2 * std::log(1 - rng.uniform())) * std::cos(6.283185307179586 * rng.uniform());
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(std::exp(8.0 + 0.7 * normal) / 10) * 10, 100, 100000);
  }
  static std::int64_t stars(Rng& rng) {
    const double x = rng.uniform();
    return x < 0.40 ? 5 : x < 0.70 ? 4 : x < 0.85 ? 3 : x < 0.93 ? 2 : 1;
  }
  // Catalog rows: one for each product events name (`product(i)`), the
  // fields by their names, as for friends.
  std::vector<Value> catalogRow(const ir::EventSpec& catalog, std::size_t index, Rng& rng) const {
    std::vector<Value> row;
    for (const ir::ColumnSpec& field : catalog.fields) {
      if (field.name == "id") {
        row.push_back(Value::ofString(product(index)));
      } else if (field.name == "name" && field.type == ir::ValueType::String) {
        row.push_back(Value::ofString(fmt::format("{} {}", kItems[index % std::size(kItems)], kGivenNames[index % 20])));
      } else if ((contains(field.name, "image") || contains(field.name, "url")) && field.type == ir::ValueType::String) {
        row.push_back(Value::ofString(fmt::format("https://example.com/products/{:04}.jpg", index)));
      } else if (contains(field.name, "stock") && field.type == ir::ValueType::Bool) {
        row.push_back(Value::ofBool(rng.chance(0.85)));
      } else {
        row.push_back(make(field, rng));
      }
    }
    return row;
  }
  static constexpr std::size_t kProducts = 10000;

 private:
  static std::string product(std::size_t index) {
    return fmt::format("{} No.{:04}", kItems[index % std::size(kItems)], index);
  }

  std::int64_t now_;
  std::int32_t today_;
  Weighted prefecture_, products_, categories_, strings_, inflow_;
};

// How much of all events each event type gets, by its name.
double eventShare(const std::string& name) {
  if (name == "follow" || name == "unfollow") return 0;  // follows come from followed_at and blocked
  if (contains(name, "review")) return 3;
  if (contains(name, "view")) return 50;
  if (contains(name, "cart")) return 15;
  if (contains(name, "purchase") || contains(name, "order")) return 10;
  if (name == "message") return 5;
  if (name == "postback") return 2;
  return 8;
}

// Per-day event counts over the year: weekly rhythm, growth, campaign spikes.
std::vector<std::uint64_t> dailyCounts(std::uint64_t total, Rng& rng) {
  constexpr int kDays = 365;
  std::vector<double> weights(kDays);
  std::vector<int> spikes;
  for (int i = 0; i < 10; ++i) spikes.push_back(static_cast<int>(rng.below(kDays)));
  for (int d = 0; d < kDays; ++d) {
    const int weekday = d % 7;
    double w = (weekday >= 5 ? 1.3 : 1.0) * (0.6 + 0.8 * d / kDays);
    for (int s : spikes) {
      if (d == s) w *= 4;
      if (d == s + 1) w *= 2;
    }
    weights[d] = w;
  }
  const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<std::uint64_t> counts(kDays);
  double carry = 0;
  std::uint64_t assigned = 0;
  for (int d = 0; d < kDays; ++d) {
    const double exact = static_cast<double>(total) * weights[d] / sum + carry;
    counts[d] = static_cast<std::uint64_t>(exact);
    carry = exact - static_cast<double>(counts[d]);
    assigned += counts[d];
  }
  counts[kDays - 1] += total - assigned;
  return counts;
}

// Seconds into a day, with an evening peak.
std::int64_t secondOfDay(Rng& rng) {
  static const Weighted kHours(std::vector<double>{1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2.2, 2.0, 1.8, 2.0,
                                                   3.0, 2.5, 2.0, 2.0, 2.2, 2.6, 3.2, 3.8, 4.2, 4.0, 3.0, 1.8});
  return static_cast<std::int64_t>(kHours.sample(rng)) * 3600 + static_cast<std::int64_t>(rng.below(3600));
}

UserId userIdFor(std::uint64_t seed, std::uint64_t index) {
  Rng rng(seed * 0x2545F4914F6CDD1DULL + index);
  UserId id;
  for (int half = 0; half < 2; ++half) {
    const std::uint64_t bits = rng.next();
    for (int i = 0; i < 8; ++i) id.bytes[static_cast<std::size_t>(half * 8 + i)] = static_cast<std::uint8_t>(bits >> (8 * i));
  }
  return id;
}

}  // namespace

GenerateReport generate(Store& store, const GenerateOptions& options) {
  GenerateReport report;
  store.bulkLoad([&](StoreState& state) { report = generateInto(state, options); });
  return report;
}

GenerateReport generateInto(StoreState& state, const GenerateOptions& options) {
  GenerateReport report;
  const std::uint64_t total = options.friends + options.events;
  std::uint64_t done = 0;
  const auto tick = [&](std::uint64_t n) {
    done += n;
    if (options.progress) options.progress(done, total);
  };
  {
    const ir::Schema& schema = state.schema();
    const ValueMaker values(options.now);
    Rng rng(options.seed);
    const std::uint32_t first = state.friendCount();

    // Friends, with every stored attribute mostly filled in.
    for (std::uint64_t i = 0; i < options.friends; ++i) {
      const std::uint32_t id = state.addFriend(userIdFor(options.seed, first + i));
      for (std::size_t a = 0; a < schema.attributes.size(); ++a) {
        const ir::ColumnSpec& column = schema.attributes[a];
        const bool builtin = column.name == "name" || column.name == "score" || column.name == "followed_at" ||
                             column.name == "inflow" || column.name == "blocked";
        const double fill = builtin ? 1.0 : contains(column.name, "birth") ? 0.7 : 0.9;
        if (rng.chance(fill)) state.setValue(id, a, values.make(column, rng));
      }
      for (const auto& [tag, share] : kTags) {
        if (rng.chance(share)) state.addTag(id, tag);
      }
      if (i % 65536 == 65535) tick(65536);
    }
    tick(options.friends % 65536);
    report.friends = options.friends;

    for (std::size_t c = 0; c < schema.catalogs.size(); ++c) {
      const std::size_t id = *schema.catalogs[c].field("id");
      for (std::size_t i = 0; i < ValueMaker::kProducts; ++i) {
        std::vector<Value> row = values.catalogRow(schema.catalogs[c], i, rng);
        std::string key = row[id].s;
        state.putCatalogRow(c, std::move(key), std::move(row));
      }
    }

    // Who acts: a Zipf-like activity curve over a shuffled order of friends.
    const std::uint32_t friends = state.friendCount();
    if (friends == 0 || options.events == 0) return report;
    std::vector<std::uint32_t> order(friends);
    std::iota(order.begin(), order.end(), 0u);
    for (std::uint32_t i = friends; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    const auto actor = [&]() { return order[static_cast<std::size_t>(std::pow(rng.uniform(), 2.2) * friends)]; };

    std::vector<double> shares;
    for (const ir::EventSpec& e : schema.events) shares.push_back(eventShare(e.name));
    const double shareSum = std::accumulate(shares.begin(), shares.end(), 0.0);
    if (shareSum == 0) return report;
    const Weighted eventKind(shares);
    const std::vector<std::uint64_t> perDay = dailyCounts(options.events, rng);
    const std::int64_t firstDay = civil::floorDiv(options.now, kDay) - static_cast<std::int64_t>(perDay.size());
    for (std::size_t d = 0; d < perDay.size(); ++d) {
      std::vector<std::vector<EventRow>> rows(schema.events.size());
      for (std::uint64_t k = 0; k < perDay[d]; ++k) {
        const std::size_t e = eventKind.sample(rng);
        EventRow row{actor(), (firstDay + static_cast<std::int64_t>(d)) * kDay + secondOfDay(rng), {}};
        row.fields.reserve(schema.events[e].fields.size());
        for (const ir::ColumnSpec& field : schema.events[e].fields) row.fields.push_back(values.make(field, rng));
        rows[e].push_back(std::move(row));
      }
      for (std::size_t e = 0; e < rows.size(); ++e) {
        if (!rows[e].empty()) state.appendEvents(e, std::move(rows[e]));
      }
      tick(perDay[d]);
      report.events += perDay[d];
    }
  }
  return report;
}

std::vector<Mutation> generateActivity(const StoreState& state, const ActivityOptions& options) {
  const ir::Schema& schema = state.schema();
  const ValueMaker values(options.from);
  Rng rng(options.seed ^ 0x9E3779B97F4A7C15ULL);
  std::vector<Mutation> out;
  const std::int64_t days = std::max<std::int64_t>(1, (options.to - options.from + kDay - 1) / kDay);
  const auto when = [&](std::int64_t day) {
    // Local time of day (LINE's users are in Japan): the evening peak stays in the evening.
    const std::int64_t t = civil::floorDiv(options.from, kDay) * kDay + day * kDay + secondOfDay(rng) - options.utcOffset;
    return std::clamp(t, options.from, options.to - 1);
  };
  // New friends follow through the window, with the attributes a CRM sync brings.
  const std::uint32_t existing = state.friendCount();
  const std::uint64_t follows = static_cast<std::uint64_t>(static_cast<double>(existing) * options.followsPerFriendPerDay * static_cast<double>(days));
  for (std::uint64_t i = 0; i < follows; ++i) {
    const UserId user = userIdFor(options.seed, existing + i);
    const std::int64_t t = when(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(days))));
    Mutation follow = Mutation::of(Mutation::Kind::Follow, user);
    follow.time = t;
    out.push_back(std::move(follow));
    for (std::size_t a = 0; a < schema.attributes.size(); ++a) {
      const ir::ColumnSpec& column = schema.attributes[a];
      if (column.name == "followed_at" || column.name == "blocked" || column.name == "score") continue;
      if (!rng.chance(0.8)) continue;
      Mutation set = Mutation::of(Mutation::Kind::SetAttribute, user);
      set.index = static_cast<std::uint32_t>(a);
      set.value = values.make(column, rng);
      set.time = t;
      out.push_back(std::move(set));
    }
  }
  // Events by existing friends, at the history's pace.
  std::vector<double> shares;
  for (const ir::EventSpec& e : schema.events) shares.push_back(eventShare(e.name));
  const double shareSum = std::accumulate(shares.begin(), shares.end(), 0.0);
  if (existing > 0 && shareSum > 0) {
    const Weighted eventKind(shares);
    std::vector<std::uint32_t> order(existing);
    std::iota(order.begin(), order.end(), 0u);
    for (std::uint32_t i = existing; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    const std::uint64_t total = options.eventsPerDay * static_cast<std::uint64_t>(days);
    for (std::uint64_t k = 0; k < total; ++k) {
      const std::size_t e = eventKind.sample(rng);
      const std::uint32_t actor = order[static_cast<std::size_t>(std::pow(rng.uniform(), 2.2) * existing)];
      Mutation m = Mutation::of(Mutation::Kind::AppendEvent, state.friends().user(actor));
      m.index = static_cast<std::uint32_t>(e);
      m.time = when(static_cast<std::int64_t>(k * static_cast<std::uint64_t>(days) / std::max<std::uint64_t>(1, total)));
      for (const ir::ColumnSpec& field : schema.events[e].fields) m.fields.push_back(values.make(field, rng));
      out.push_back(std::move(m));
    }
    // Some friends block the account.
    const std::uint64_t blocks = static_cast<std::uint64_t>(static_cast<double>(existing) * options.blocksPerFriendPerDay * static_cast<double>(days));
    for (std::uint64_t b = 0; b < blocks; ++b) {
      Mutation unfollow = Mutation::of(Mutation::Kind::Unfollow, state.friends().user(order[rng.below(existing)]));
      unfollow.time = when(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(days))));
      out.push_back(std::move(unfollow));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Mutation& a, const Mutation& b) { return a.time < b.time; });
  return out;
}

}  // namespace seg
