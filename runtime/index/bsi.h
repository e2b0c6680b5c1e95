// A bit-sliced index over a 64-bit integer column (sign and magnitude):
// range predicates (`points > 100`, `birthday between ...`) become a few
// bitmap operations per bit of the largest magnitude, O'Neil-Quass style,
// instead of a scan of the column.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/index/bitmap.h"

namespace seg {

enum class Compare : std::uint8_t { Lt, Le, Eq, Ne, Ge, Gt };

class BitSlicedIndex {
 public:
  // Records `id`'s value, replacing `previous` if it had one.
  void set(std::uint32_t id, std::int64_t value, const std::int64_t* previous);
  void clear(std::uint32_t id, std::int64_t previous);

  // Ids (among `within`, when given) with a value and `value OP constant`.
  Bitmap compare(Compare op, std::int64_t constant, const Bitmap* within = nullptr) const;
  // Ids (among `within`, when given) with a value in [low, high].
  Bitmap between(std::int64_t low, std::int64_t high, const Bitmap* within = nullptr) const;
  const Bitmap& present() const { return present_; }

  std::size_t sliceCount() const { return slices_.size(); }
  std::size_t sizeInBytes() const;

  // For snapshots.
  const std::vector<Bitmap>& slices() const { return slices_; }
  const Bitmap& negative() const { return negative_; }
  void restore(Bitmap present, Bitmap negative, std::vector<Bitmap> slices);
  void optimize();

 private:
  struct Split {
    Bitmap less, equal, greater;
  };
  // Compares the magnitudes of `candidates` with `magnitude`.
  Split compareMagnitude(const Bitmap& candidates, std::uint64_t magnitude) const;
  void setBits(std::uint32_t id, std::uint64_t magnitude, std::uint64_t previous);

  Bitmap present_;
  Bitmap negative_;
  std::vector<Bitmap> slices_;  // slices_[i]: ids whose magnitude has bit i
};

}  // namespace seg
