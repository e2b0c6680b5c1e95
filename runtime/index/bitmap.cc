#include "runtime/index/bitmap.h"

#include <algorithm>

#include <roaring/roaring.hh>

namespace seg {

Bitmap::Bitmap() : r_(std::make_unique<Roaring>()) {}
Bitmap::~Bitmap() = default;
Bitmap::Bitmap(const Bitmap& other) : r_(std::make_unique<Roaring>(*other.r_)) {}
Bitmap::Bitmap(Bitmap&& other) noexcept : r_(std::move(other.r_)) { other.r_ = std::make_unique<Roaring>(); }
Bitmap::Bitmap(std::unique_ptr<Roaring> roaring) : r_(std::move(roaring)) {}

Bitmap& Bitmap::operator=(const Bitmap& other) {
  if (this != &other) *r_ = *other.r_;
  return *this;
}

Bitmap& Bitmap::operator=(Bitmap&& other) noexcept {
  std::swap(r_, other.r_);
  return *this;
}

Bitmap Bitmap::fromSorted(std::span<const std::uint32_t> ids) {
  Bitmap out;
  out.addSorted(ids);
  return out;
}

Bitmap Bitmap::range(std::uint32_t begin, std::uint32_t end) {
  Bitmap out;
  out.addRange(begin, end);
  return out;
}

void Bitmap::add(std::uint32_t id) { r_->add(id); }
void Bitmap::addSorted(std::span<const std::uint32_t> ids) { r_->addMany(ids.size(), ids.data()); }
void Bitmap::addRange(std::uint32_t begin, std::uint32_t end) {
  if (begin < end) r_->addRange(begin, end);
}
void Bitmap::remove(std::uint32_t id) { r_->remove(id); }
bool Bitmap::contains(std::uint32_t id) const { return r_->contains(id); }
std::uint64_t Bitmap::cardinality() const { return r_->cardinality(); }
bool Bitmap::empty() const { return r_->isEmpty(); }
std::uint32_t Bitmap::minimum() const { return r_->minimum(); }
std::uint32_t Bitmap::maximum() const { return r_->maximum(); }

std::optional<std::uint32_t> Bitmap::select(std::uint32_t rank) const {
  std::uint32_t out;
  if (!r_->select(rank, &out)) return std::nullopt;
  return out;
}

Bitmap& Bitmap::operator&=(const Bitmap& other) {
  *r_ &= *other.r_;
  return *this;
}
Bitmap& Bitmap::operator|=(const Bitmap& other) {
  *r_ |= *other.r_;
  return *this;
}
Bitmap& Bitmap::operator-=(const Bitmap& other) {
  *r_ -= *other.r_;
  return *this;
}
Bitmap& Bitmap::operator^=(const Bitmap& other) {
  *r_ ^= *other.r_;
  return *this;
}
Bitmap Bitmap::operator&(const Bitmap& other) const { return Bitmap(std::make_unique<Roaring>(*r_ & *other.r_)); }
Bitmap Bitmap::operator|(const Bitmap& other) const { return Bitmap(std::make_unique<Roaring>(*r_ | *other.r_)); }
Bitmap Bitmap::operator-(const Bitmap& other) const { return Bitmap(std::make_unique<Roaring>(*r_ - *other.r_)); }
bool Bitmap::operator==(const Bitmap& other) const { return *r_ == *other.r_; }
std::uint64_t Bitmap::andCardinality(const Bitmap& other) const { return r_->and_cardinality(*other.r_); }
void Bitmap::flip(std::uint32_t begin, std::uint32_t end) {
  if (begin < end) r_->flip(begin, end);
}

Bitmap Bitmap::unionOf(std::span<const Bitmap* const> bitmaps) {
  if (bitmaps.empty()) return Bitmap();
  // CRoaring's many-way union turns every container into a 8 KB bitset
  // first: right for a dense result or many inputs, wasteful for a sparse
  // union of a few, which merging sorted arrays builds faster.
  constexpr std::size_t kFewInputs = 4;
  if (bitmaps.size() <= kFewInputs) {
    std::uint64_t total = 0;
    std::uint32_t low = UINT32_MAX, high = 0;
    for (const Bitmap* b : bitmaps) {
      if (b->empty()) continue;
      total += b->cardinality();
      low = std::min(low, b->minimum());
      high = std::max(high, b->maximum());
    }
    if (total == 0) return Bitmap();
    constexpr std::uint64_t kArrayLimit = 4096;  // a container's ids kept as an array up to this
    if (total / ((high >> 16) - (low >> 16) + 1) < kArrayLimit / 2) {
      Bitmap out = *bitmaps[0];
      for (const Bitmap* b : bitmaps.subspan(1)) out |= *b;
      return out;
    }
  }
  std::vector<const Roaring*> inputs;
  inputs.reserve(bitmaps.size());
  for (const Bitmap* b : bitmaps) inputs.push_back(b->r_.get());
  return Bitmap(std::make_unique<Roaring>(Roaring::fastunion(inputs.size(), inputs.data())));
}

namespace {
bool visitOne(uint32_t value, void* context) {
  return (*static_cast<const std::function<bool(std::uint32_t)>*>(context))(value);
}
}  // namespace

void Bitmap::forEach(const std::function<bool(std::uint32_t)>& visit) const {
  r_->iterate(&visitOne, const_cast<std::function<bool(std::uint32_t)>*>(&visit));
}

std::vector<std::uint32_t> Bitmap::toVector() const {
  std::vector<std::uint32_t> out(cardinality());
  if (!out.empty()) r_->toUint32Array(out.data());
  return out;
}

void Bitmap::optimize() {
  r_->runOptimize();
  r_->shrinkToFit();
}

std::size_t Bitmap::sizeInBytes() const { return r_->getSizeInBytes(true); }

void Bitmap::serialize(std::string& out) const {
  const std::size_t size = r_->getSizeInBytes(true);
  const std::size_t at = out.size();
  out.resize(at + size);
  r_->write(out.data() + at, true);
}

std::optional<Bitmap> Bitmap::deserialize(std::string_view bytes, std::size_t& consumed) {
  roaring_bitmap_t* raw = roaring_bitmap_portable_deserialize_safe(bytes.data(), bytes.size());
  if (raw == nullptr) return std::nullopt;
  consumed = roaring_bitmap_portable_size_in_bytes(raw);
  auto roaring = std::make_unique<Roaring>(raw);
  return Bitmap(std::move(roaring));
}

}  // namespace seg
