// Little binary encodings for the write-ahead log and snapshots. The reader
// checks every length against what is left, so corrupt input is an error,
// never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace seg {

struct CorruptData : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class BinaryWriter {
 public:
  explicit BinaryWriter(std::string& out) : out_(out) {}

  void u8(std::uint8_t v) { out_ += static_cast<char>(v); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  // Zig-zag, so small negative numbers stay small.
  void svarint(std::int64_t v) { varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
  void fixed32(std::uint32_t v) { raw(&v, 4); }
  void fixed64(std::uint64_t v) { raw(&v, 8); }
  void bytes(std::string_view v) {
    varint(v.size());
    out_.append(v);
  }
  void raw(const void* data, std::size_t size) {
    if (size > 0) out_.append(static_cast<const char*>(data), size);  // `data` may be null when empty
  }

 private:
  std::string& out_;
};

class BinaryReader {
 public:
  explicit BinaryReader(std::string_view in) : in_(in) {}

  bool done() const { return pos_ >= in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }
  std::size_t position() const { return pos_; }

  std::uint8_t u8() {
    need(1);
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const std::uint8_t b = u8();
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw CorruptData("varint too long");
  }
  std::int64_t svarint() {
    const std::uint64_t v = varint();
    return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  std::uint32_t fixed32() {
    std::uint32_t v;
    raw(&v, 4);
    return v;
  }
  std::uint64_t fixed64() {
    std::uint64_t v;
    raw(&v, 8);
    return v;
  }
  std::string_view bytes() {
    const std::uint64_t size = varint();
    need(size);
    const std::string_view out = in_.substr(pos_, size);
    pos_ += size;
    return out;
  }
  std::string_view take(std::size_t size) {
    need(size);
    const std::string_view out = in_.substr(pos_, size);
    pos_ += size;
    return out;
  }
  void raw(void* out, std::size_t size) {
    need(size);
    if (size == 0) return;  // `out` may be null (an empty vector's data())
    std::memcpy(out, in_.data() + pos_, size);
    pos_ += size;
  }
  // A count of items each at least `minimumItemSize` bytes: refuses counts
  // the remaining bytes cannot hold, so corrupt counts cannot allocate.
  std::size_t count(std::size_t minimumItemSize) {
    const std::uint64_t n = varint();
    if (minimumItemSize > 0 && n > remaining() / minimumItemSize) throw CorruptData("count larger than the data");
    return static_cast<std::size_t>(n);
  }

 private:
  void need(std::uint64_t size) const {
    if (size > in_.size() - pos_) throw CorruptData("truncated data");
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace seg
