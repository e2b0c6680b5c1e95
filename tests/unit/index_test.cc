#include <gtest/gtest.h>

#include <map>
#include <random>

#include "runtime/index/bitmap.h"
#include "runtime/index/bsi.h"

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

// Every comparison of the bit-sliced index agrees with a scan of the values.
TEST(BitSlicedIndex, AgreesWithAScan) {
  std::mt19937_64 random(11);
  BitSlicedIndex bsi;
  std::map<std::uint32_t, std::int64_t> values;
  const std::int64_t samples[] = {0, 1, -1, 7, -7, 1000, -1000, INT64_MAX, INT64_MIN + 1, 20788, 1764000000};
  for (int round = 0; round < 3000; ++round) {
    const auto id = static_cast<std::uint32_t>(random() % 500);
    const std::int64_t value = random() % 3 == 0 ? samples[random() % std::size(samples)]
                                                  : static_cast<std::int64_t>(random() % 2001) - 1000;
    const auto old = values.find(id);
    if (random() % 10 == 0 && old != values.end()) {
      bsi.clear(id, old->second);
      values.erase(old);
      continue;
    }
    bsi.set(id, value, old == values.end() ? nullptr : &old->second);
    values[id] = value;
  }
  const Compare ops[] = {Compare::Lt, Compare::Le, Compare::Eq, Compare::Ne, Compare::Ge, Compare::Gt};
  for (std::int64_t constant : {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{500},
                                std::int64_t{-500}, INT64_MAX, INT64_MIN + 1, std::int64_t{1000}}) {
    for (Compare op : ops) {
      std::vector<std::uint32_t> expected;
      for (const auto& [id, v] : values) {
        const bool match = op == Compare::Lt ? v < constant : op == Compare::Le ? v <= constant
                         : op == Compare::Eq ? v == constant : op == Compare::Ne ? v != constant
                         : op == Compare::Ge ? v >= constant : v > constant;
        if (match) expected.push_back(id);
      }
      ASSERT_EQ(bsi.compare(op, constant).toVector(), expected) << "constant " << constant << " op " << int(op);
    }
  }
  std::vector<std::uint32_t> expected;
  for (const auto& [id, v] : values) {
    if (v >= -10 && v <= 300) expected.push_back(id);
  }
  EXPECT_EQ(bsi.between(-10, 300).toVector(), expected);
}

}  // namespace
}  // namespace seg
