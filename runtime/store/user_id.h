// LINE user IDs: `U` followed by 32 lowercase hex digits, kept as 16 bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seg {

struct UserId {
  std::array<std::uint8_t, 16> bytes{};

  // Parses a LINE user ID; on failure says why in `why` (for messages).
  static std::optional<UserId> parse(std::string_view text, std::string* why = nullptr);
  std::string toString() const;
  std::uint64_t hash() const;
  bool operator==(const UserId&) const = default;
  auto operator<=>(const UserId&) const = default;
};

}  // namespace seg
