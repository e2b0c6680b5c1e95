// A range index over a 64-bit integer column: friends are put in bins of
// neighbouring values (about equal counts, chosen from the data), one
// bitmap per bin. A range is the union of the bins wholly inside it plus
// the friends of at most two edge bins whose values are checked against
// the column; a value held by many friends (points 0) gets a bin of its
// own, which is never an edge. The cost follows the size of the answer,
// not the number of bits in the values (docs/store.md compares this with
// bit slicing, which seg used before).
//
// The index does not own the values: every call that needs them is given
// the column, indexed by friend id, with `kMissing` where there is none.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "runtime/index/bitmap.h"

namespace seg {

enum class Compare : std::uint8_t { Lt, Le, Eq, Ne, Ge, Gt };

class ValueBins {
 public:
  static constexpr std::int64_t kMissing = INT64_MIN;
  // Friends a bin is aimed to hold: a range checks the values of at most
  // two bins; a bin that grows to twice this is split.
  static constexpr std::uint64_t kFriendsPerBin = 4096;

  ValueBins();

  // Re-bins every value of `values` (after a snapshot load).
  void rebuild(std::span<const std::int64_t> values);
  // Records that `id` now holds `value` (`previous`, if it had one).
  // `values` is the column after the write: an overfull bin is split.
  void set(std::uint32_t id, std::int64_t value, const std::int64_t* previous, std::span<const std::int64_t> values);
  void clear(std::uint32_t id, std::int64_t previous);

  // The ranges [bounds[2i], bounds[2i+1]] that `value OP constant` selects.
  static std::vector<std::int64_t> rangesOf(Compare op, std::int64_t constant);

  // Ids with a value in one of the ranges [bounds[2i], bounds[2i+1]]
  // (increasing, not overlapping). `within` says which ids the caller
  // wants: when it is small only those are checked; otherwise the answer
  // may hold others, and the caller intersects.
  Bitmap between(std::span<const std::int64_t> bounds, std::span<const std::int64_t> values,
                 const Bitmap* within = nullptr) const;

  // About how many ids `between(bounds)` returns, for the planner: whole
  // bins counted, an edge bin's ids taken as spread evenly over its span.
  std::uint64_t estimate(std::span<const std::int64_t> bounds) const;
  // The smallest and largest value held; none when no id has one.
  std::optional<std::pair<std::int64_t, std::int64_t>> bounds(std::span<const std::int64_t> values) const;

  std::size_t binCount() const { return bins_.size(); }
  std::size_t sizeInBytes() const;
  void optimize();

 private:
  struct Bin {
    std::int64_t low;  // the bin holds [low, next bin's low - 1]
    Bitmap ids;
    std::uint64_t count = 0;  // ids' cardinality, kept: CRoaring counts container by container
  };

  std::size_t binOf(std::int64_t value) const;
  std::int64_t highOf(std::size_t bin) const;
  std::size_t targetBins() const;
  void splitIfFull(std::size_t bin, std::span<const std::int64_t> values);
  std::uint64_t estimateRange(std::int64_t low, std::int64_t high) const;
  // The ids of `ids` whose value lies in one of the ranges `bounds`.
  Bitmap checkEdge(const Bitmap& ids, std::span<const std::int64_t> bounds, std::span<const std::int64_t> values) const;

  std::vector<Bin> bins_;  // ordered by low; bins_[0].low is INT64_MIN
  std::uint64_t total_ = 0;
};

}  // namespace seg
