#include "runtime/index/bsi.h"

#include <bit>

namespace seg {
namespace {

std::uint64_t magnitudeOf(std::int64_t value) {
  return value < 0 ? ~static_cast<std::uint64_t>(value) + 1 : static_cast<std::uint64_t>(value);
}

}  // namespace

void BitSlicedIndex::setBits(std::uint32_t id, std::uint64_t magnitude, std::uint64_t previous) {
  const std::size_t needed = static_cast<std::size_t>(std::bit_width(magnitude));
  if (slices_.size() < needed) slices_.resize(needed);
  std::uint64_t changed = magnitude ^ previous;
  while (changed != 0) {
    const int bit = std::countr_zero(changed);
    changed &= changed - 1;
    slices_[static_cast<std::size_t>(bit)].set(id, (magnitude >> bit) & 1);
  }
}

void BitSlicedIndex::set(std::uint32_t id, std::int64_t value, const std::int64_t* previous) {
  const std::uint64_t old = previous ? magnitudeOf(*previous) : 0;
  setBits(id, magnitudeOf(value), old);
  if (!previous || ((*previous < 0) != (value < 0))) negative_.set(id, value < 0);
  present_.add(id);
}

void BitSlicedIndex::clear(std::uint32_t id, std::int64_t previous) {
  setBits(id, 0, magnitudeOf(previous));
  negative_.remove(id);
  present_.remove(id);
}

BitSlicedIndex::Split BitSlicedIndex::compareMagnitude(const Bitmap& candidates, std::uint64_t magnitude) const {
  Split out;
  if (static_cast<std::size_t>(std::bit_width(magnitude)) > slices_.size()) {
    out.less = candidates;  // every stored magnitude is smaller
    return out;
  }
  out.equal = candidates;
  for (std::size_t i = slices_.size(); i-- > 0;) {
    if ((magnitude >> i) & 1) {
      out.less |= out.equal - slices_[i];
      out.equal &= slices_[i];
    } else {
      out.greater |= out.equal & slices_[i];
      out.equal -= slices_[i];
    }
  }
  return out;
}

Bitmap BitSlicedIndex::compare(Compare op, std::int64_t constant, const Bitmap* within) const {
  // Restricting to `within` first keeps every slice operation as small as
  // the candidates are.
  Bitmap negative = within ? negative_ & *within : negative_;
  Bitmap positive = within ? present_ & *within : present_;
  positive -= negative;  // includes zero
  Bitmap less, equal, greater;
  if (constant >= 0) {
    Split split = compareMagnitude(positive, magnitudeOf(constant));
    less = std::move(split.less);
    less |= negative;
    equal = std::move(split.equal);
    greater = std::move(split.greater);
  } else {
    // For negatives a larger magnitude is a smaller value.
    Split split = compareMagnitude(negative, magnitudeOf(constant));
    less = std::move(split.greater);
    equal = std::move(split.equal);
    greater = std::move(split.less);
    greater |= positive;
  }
  switch (op) {
    case Compare::Lt: return less;
    case Compare::Le: return less | equal;
    case Compare::Eq: return equal;
    case Compare::Ne: return less | greater;
    case Compare::Ge: return greater | equal;
    case Compare::Gt: return greater;
  }
  return Bitmap();
}

Bitmap BitSlicedIndex::between(std::int64_t low, std::int64_t high, const Bitmap* within) const {
  if (low > high) return Bitmap();
  // The second pass runs only over what the first let through.
  const Bitmap atLeast = compare(Compare::Ge, low, within);
  return compare(Compare::Le, high, &atLeast);
}

std::size_t BitSlicedIndex::sizeInBytes() const {
  std::size_t total = present_.sizeInBytes() + negative_.sizeInBytes();
  for (const Bitmap& slice : slices_) total += slice.sizeInBytes();
  return total;
}

void BitSlicedIndex::restore(Bitmap present, Bitmap negative, std::vector<Bitmap> slices) {
  present_ = std::move(present);
  negative_ = std::move(negative);
  slices_ = std::move(slices);
}

void BitSlicedIndex::optimize() {
  present_.optimize();
  negative_.optimize();
  for (Bitmap& slice : slices_) slice.optimize();
}

}  // namespace seg
