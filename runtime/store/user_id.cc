#include "runtime/store/user_id.h"

#include <cstring>

namespace seg {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void explain(std::string* why, std::string text) {
  if (why != nullptr) *why = std::move(text);
}

}  // namespace

std::optional<UserId> UserId::parse(std::string_view text, std::string* why) {
  if (text.size() != 33 || text[0] != 'U') {
    explain(why, "a LINE user ID is `U` followed by 32 hex digits");
    return std::nullopt;
  }
  UserId out;
  for (std::size_t i = 0; i < 16; ++i) {
    const int high = hexValue(text[1 + 2 * i]);
    const int low = hexValue(text[2 + 2 * i]);
    if (high < 0 || low < 0) {
      const char bad = high < 0 ? text[1 + 2 * i] : text[2 + 2 * i];
      explain(why, (bad >= 'A' && bad <= 'F') ? "LINE user IDs use lowercase hex digits"
                                              : "a LINE user ID is `U` followed by 32 hex digits");
      return std::nullopt;
    }
    out.bytes[i] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return out;
}

std::string UserId::toString() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "U";
  for (std::uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::uint64_t UserId::hash() const {
  // LINE's IDs look random, but imported or synthetic ones may differ only
  // in a few bytes (U0000...0001, U0000...0002): mix every byte into the
  // low bits the table indexes by, or such IDs all collide.
  std::uint64_t a, b;
  std::memcpy(&a, bytes.data(), 8);
  std::memcpy(&b, bytes.data() + 8, 8);
  // MurmurHash3's 64-bit finalizer, over each half in turn.
  const auto mix = [](std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 33);
  };
  return mix(a ^ mix(b));
}

}  // namespace seg
