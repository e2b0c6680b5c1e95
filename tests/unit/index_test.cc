#include <gtest/gtest.h>

#include <map>
#include <random>

#include "runtime/index/bitmap.h"
#include "runtime/index/value_bins.h"

namespace seg {
namespace {

TEST(Bitmap, BasicsAndPortableRoundTrip) {
  Bitmap a = Bitmap::fromSorted(std::vector<std::uint32_t>{1, 5, 9, 100000});
  a.add(7);
  EXPECT_EQ(a.cardinality(), 5u);
  EXPECT_TRUE(a.contains(9));
  EXPECT_EQ(a.toVector(), (std::vector<std::uint32_t>{1, 5, 7, 9, 100000}));
  Bitmap b = Bitmap::range(5, 10);
  EXPECT_EQ((a & b).toVector(), (std::vector<std::uint32_t>{5, 7, 9}));
  EXPECT_EQ((a - b).toVector(), (std::vector<std::uint32_t>{1, 100000}));
  EXPECT_EQ(a.andCardinality(b), 3u);
  std::string bytes;
  a.serialize(bytes);
  std::size_t consumed = 0;
  auto back = Bitmap::deserialize(bytes, consumed);
  ASSERT_TRUE(back);
  EXPECT_EQ(consumed, bytes.size());
  EXPECT_TRUE(*back == a);
  // Garbage is refused, not crashed on.
  EXPECT_FALSE(Bitmap::deserialize(std::string("\x3b\x30\x00\x00\xff\xff", 6), consumed));
}

// Both ways of a many-way union (merging sparse arrays, CRoaring's bitset
// path for dense results) give the union.
TEST(Bitmap, UnionOfSparseAndDenseInputs) {
  std::mt19937_64 random(3);
  for (const std::uint32_t perInput : {30u, 40000u}) {
    for (const std::size_t inputs : {1u, 2u, 3u, 7u, 40u}) {
      std::vector<Bitmap> parts(inputs);
      Bitmap expected;
      for (Bitmap& part : parts) {
        for (std::uint32_t i = 0; i < perInput; ++i) part.add(static_cast<std::uint32_t>(random() % 300000));
        expected |= part;
      }
      std::vector<const Bitmap*> pointers;
      for (const Bitmap& part : parts) pointers.push_back(&part);
      EXPECT_TRUE(Bitmap::unionOf(pointers) == expected) << inputs << " inputs of " << perInput;
    }
  }
  EXPECT_TRUE(Bitmap::unionOf({}).empty());
}

std::vector<std::uint32_t> scan(const std::vector<std::int64_t>& column, Compare op, std::int64_t constant,
                                const Bitmap* within) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t id = 0; id < column.size(); ++id) {
    const std::int64_t v = column[id];
    if (v == ValueBins::kMissing || (within && !within->contains(id))) continue;
    const bool match = op == Compare::Lt ? v < constant : op == Compare::Le ? v <= constant
                     : op == Compare::Eq ? v == constant : op == Compare::Ne ? v != constant
                     : op == Compare::Ge ? v >= constant : v > constant;
    if (match) out.push_back(id);
  }
  return out;
}

// A column and its range index, written the way the store writes them.
struct BinnedColumn {
  std::vector<std::int64_t> values;
  ValueBins bins;

  explicit BinnedColumn(std::size_t friends) : values(friends, ValueBins::kMissing) {}
  void set(std::uint32_t id, std::int64_t value) {
    const std::int64_t previous = values[id];
    values[id] = value;
    bins.set(id, value, previous == ValueBins::kMissing ? nullptr : &previous, values);
  }
  void clear(std::uint32_t id) {
    if (values[id] == ValueBins::kMissing) return;
    bins.clear(id, values[id]);
    values[id] = ValueBins::kMissing;
  }
  // Every operator on every constant, over everyone and over a sample,
  // agrees with a scan of the values.
  void expectAgreesWithAScan(std::span<const std::int64_t> constants) const {
    const Bitmap everyThird = [&] {
      std::vector<std::uint32_t> ids;
      for (std::uint32_t id = 0; id < values.size(); id += 3) ids.push_back(id);
      return Bitmap::fromSorted(ids);
    }();
    const Bitmap few = Bitmap::fromSorted(std::vector<std::uint32_t>{0, 1, 2, 700, 701});
    for (std::int64_t constant : constants) {
      for (Compare op : {Compare::Lt, Compare::Le, Compare::Eq, Compare::Ne, Compare::Ge, Compare::Gt}) {
        for (const Bitmap* within : {static_cast<const Bitmap*>(nullptr), &everyThird, &few}) {
          Bitmap answer = bins.between(ValueBins::rangesOf(op, constant), values, within);
          if (within) answer &= *within;  // the index may answer more than was asked
          ASSERT_EQ(answer.toVector(), scan(values, op, constant, within))
              << "constant " << constant << " op " << int(op) << " within " << (within ? within->cardinality() : 0)
              << " bins " << bins.binCount();
        }
      }
    }
  }
};

const std::int64_t kEdgeValues[] = {0, 1, -1, 7, -7, 500, -500, 1000, -1000, INT64_MAX, INT64_MIN + 1, 20788, 1764000000};

// Random writes and clears over few friends: one bin, edges checked.
TEST(ValueBins, AgreesWithAScanOnFewFriends) {
  std::mt19937_64 random(11);
  BinnedColumn column(1000);
  for (int round = 0; round < 3000; ++round) {
    const auto id = static_cast<std::uint32_t>(random() % 1000);
    if (random() % 10 == 0) {
      column.clear(id);
      continue;
    }
    column.set(id, random() % 3 == 0 ? kEdgeValues[random() % std::size(kEdgeValues)]
                                     : static_cast<std::int64_t>(random() % 2001) - 1000);
  }
  column.expectAgreesWithAScan(kEdgeValues);
  EXPECT_EQ(column.bins.between(std::vector<std::int64_t>{-10, 300}, column.values).toVector(), [&] {
    std::vector<std::uint32_t> out;
    for (std::uint32_t id = 0; id < column.values.size(); ++id) {
      const std::int64_t v = column.values[id];
      if (v != ValueBins::kMissing && v >= -10 && v <= 300) out.push_back(id);
    }
    return out;
  }());
}

// Enough friends that bins fill and split, with a value most friends hold
// (points 0) and values that only grow (times of a last order): splits,
// single-value bins, re-binning after many splits, and a rebuild from the
// values (a snapshot load) all answer like a scan.
TEST(ValueBins, SplitsAndRebuildsAgreeWithAScan) {
  std::mt19937_64 random(5);
  constexpr std::uint32_t kFriends = 200000;
  BinnedColumn points(kFriends), times(kFriends);
  std::int64_t clock = 1700000000;
  for (std::uint32_t id = 0; id < kFriends; ++id) {
    points.set(id, random() % 2 ? 0 : static_cast<std::int64_t>(random() % 50000));
    times.set(id, clock += static_cast<std::int64_t>(random() % 100));
  }
  for (int round = 0; round < 100000; ++round) {
    const auto id = static_cast<std::uint32_t>(random() % kFriends);
    if (random() % 20 == 0) {
      points.clear(id);
      times.clear(id);
      continue;
    }
    points.set(id, static_cast<std::int64_t>(random() % 60000) - 1000);
    times.set(id, clock += static_cast<std::int64_t>(random() % 100));
  }
  EXPECT_GT(points.bins.binCount(), 10u);
  EXPECT_GT(times.bins.binCount(), 10u);
  const std::int64_t pointConstants[] = {-1001, -1000, -1, 0, 1, 999, 25000, 49999, 58999, 59000, INT64_MAX};
  points.expectAgreesWithAScan(pointConstants);
  const std::int64_t timeConstants[] = {1700000000, times.values[7] == ValueBins::kMissing ? 0 : times.values[7],
                                        clock - 1000000, clock, clock + 1};
  times.expectAgreesWithAScan(timeConstants);

  // Several ranges at once (a month in every year), narrow and wide.
  for (const std::vector<std::int64_t>& bounds :
       {std::vector<std::int64_t>{-1000, -990, 0, 0, 7, 9, 30000, 30100, 58000, 70000},
        std::vector<std::int64_t>{-5000, 10000, 10001, 10001, 20000, 50000}}) {
    std::vector<std::uint32_t> expected;
    for (std::uint32_t id = 0; id < kFriends; ++id) {
      const std::int64_t v = points.values[id];
      for (std::size_t i = 0; v != ValueBins::kMissing && i < bounds.size(); i += 2) {
        if (v >= bounds[i] && v <= bounds[i + 1]) {
          expected.push_back(id);
          break;
        }
      }
    }
    EXPECT_EQ(points.bins.between(bounds, points.values).toVector(), expected);
    // The estimate is near the answer: edge bins are guessed, not read.
    const auto estimate = static_cast<double>(points.bins.estimate(bounds));
    EXPECT_NEAR(estimate, static_cast<double>(expected.size()), 0.1 * static_cast<double>(expected.size()) + 4 * ValueBins::kFriendsPerBin);
  }
  std::int64_t lowest = INT64_MAX, highest = INT64_MIN;
  for (std::int64_t v : points.values) {
    if (v == ValueBins::kMissing) continue;
    lowest = std::min(lowest, v);
    highest = std::max(highest, v);
  }
  EXPECT_EQ(points.bins.bounds(points.values), std::make_pair(lowest, highest));
  EXPECT_EQ(ValueBins().bounds(points.values), std::nullopt);

  points.bins.rebuild(points.values);
  points.expectAgreesWithAScan(pointConstants);
  EXPECT_LE(points.bins.binCount(), 2 * kFriends / ValueBins::kFriendsPerBin);
}

}  // namespace
}  // namespace seg
