// A value of an attribute or event field, as stored: integral types
// (int, date, time, duration, percent, enum rank) in `i`, strings in `s`.
#pragma once

#include <cstdint>
#include <string>

namespace seg {

struct Value {
  enum class Kind : std::uint8_t { Missing, Int, Bool, String };
  Kind kind = Kind::Missing;
  std::int64_t i = 0;
  std::string s;

  static Value missing() { return {}; }
  static Value ofInt(std::int64_t v) { return {Kind::Int, v, {}}; }
  static Value ofBool(bool v) { return {Kind::Bool, v ? 1 : 0, {}}; }
  static Value ofString(std::string v) { return {Kind::String, 0, std::move(v)}; }
  bool isMissing() const { return kind == Kind::Missing; }
  bool operator==(const Value&) const = default;
};

}  // namespace seg
