// Compressed bitmaps of friend ids.
//
// This is the one place that knows CRoaring (Debian's 0.2.66): every other
// part of seg uses seg::Bitmap, so upgrading CRoaring, or changing how
// bitmaps are stored, touches only bitmap.cc. Serialization uses CRoaring's
// portable format, the bytes ClickHouse and pg_roaringbitmap read.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

class Roaring;

namespace seg {

class Bitmap {
 public:
  Bitmap();
  ~Bitmap();
  Bitmap(const Bitmap& other);
  Bitmap(Bitmap&& other) noexcept;
  Bitmap& operator=(const Bitmap& other);
  Bitmap& operator=(Bitmap&& other) noexcept;

  // From ids in increasing order (the fast way to build a bitmap).
  static Bitmap fromSorted(std::span<const std::uint32_t> ids);
  // Every id in [begin, end).
  static Bitmap range(std::uint32_t begin, std::uint32_t end);

  void add(std::uint32_t id);
  void addSorted(std::span<const std::uint32_t> ids);
  void addRange(std::uint32_t begin, std::uint32_t end);
  void remove(std::uint32_t id);
  // Sets or clears `id`.
  void set(std::uint32_t id, bool on) { on ? add(id) : remove(id); }
  bool contains(std::uint32_t id) const;
  std::uint64_t cardinality() const;
  bool empty() const;
  std::uint32_t minimum() const;
  std::uint32_t maximum() const;
  // The id at 0-based position `rank` in increasing order.
  std::optional<std::uint32_t> select(std::uint32_t rank) const;

  Bitmap& operator&=(const Bitmap& other);
  Bitmap& operator|=(const Bitmap& other);
  Bitmap& operator-=(const Bitmap& other);
  Bitmap& operator^=(const Bitmap& other);
  Bitmap operator&(const Bitmap& other) const;
  Bitmap operator|(const Bitmap& other) const;
  Bitmap operator-(const Bitmap& other) const;
  bool operator==(const Bitmap& other) const;
  std::uint64_t andCardinality(const Bitmap& other) const;
  // Flips every id in [begin, end): the complement within a universe.
  void flip(std::uint32_t begin, std::uint32_t end);

  // Union of many bitmaps in one pass.
  static Bitmap unionOf(std::span<const Bitmap* const> bitmaps);

  // Calls `visit` for each id in increasing order; stops if it returns false.
  void forEach(const std::function<bool(std::uint32_t)>& visit) const;
  std::vector<std::uint32_t> toVector() const;

  // Compresses runs; call after bulk building.
  void optimize();
  std::size_t sizeInBytes() const;  // serialized, portable format
  void serialize(std::string& out) const;
  // Reads a portable bitmap, checking it against `bytes`' length; nullopt
  // if the bytes are not a valid bitmap.
  static std::optional<Bitmap> deserialize(std::string_view bytes, std::size_t& consumed);

 private:
  explicit Bitmap(std::unique_ptr<Roaring> roaring);
  std::unique_ptr<Roaring> r_;
};

}  // namespace seg
