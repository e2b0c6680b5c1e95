// Calendar arithmetic and the textual forms of seg's time literals.
//
// Dates are days since 1970-01-01 in the proleptic Gregorian calendar;
// instants are seconds since the Unix epoch. Shared by the compiler and the
// runtime so both read and print times the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seg::civil {

struct YearMonthDay {
  std::int32_t year;
  std::uint32_t month;  // 1..12
  std::uint32_t day;    // 1..31
};

inline constexpr std::int64_t kSecondsPerDay = 86400;

// What seg takes in, from any source (webhooks, files, command lines,
// programs): dates and times of the years 1900 to 9999, and durations of
// at most 10,000 years either way. Beyond them the arithmetic on instants
// could overflow, and no marketing data lives there.
inline constexpr std::int32_t kFirstYear = 1900;
inline constexpr std::int32_t kLastYear = 9999;
inline constexpr std::int64_t kFirstInstant = -2208988800;  // 1900-01-01T00:00:00Z
inline constexpr std::int64_t kLastInstant = 253402300799;  // 9999-12-31T23:59:59Z
inline constexpr std::int64_t kMaxDurationSeconds = 10000LL * 366 * kSecondsPerDay;
inline bool instantInRange(std::int64_t seconds) { return seconds >= kFirstInstant && seconds <= kLastInstant; }
// "... is outside the times seg takes (years 1900 to 9999)"
std::string outOfRange(std::string_view what);

bool isLeapYear(std::int32_t year);
std::uint32_t daysInMonth(std::int32_t year, std::uint32_t month);
// Days since 1970-01-01; the date must be valid.
std::int32_t daysFromCivil(YearMonthDay date);
YearMonthDay civilFromDays(std::int32_t days);
// 1 = Monday .. 7 = Sunday (ISO 8601).
std::uint32_t isoWeekday(std::int32_t days);

// Floor division that rounds toward negative infinity.
inline std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// "2026-12-01"
std::string formatDate(std::int32_t days);
// "10:00" or "10:00:30"
std::string formatClock(std::int32_t secondsOfDay);
// "2026-12-01 10:00" (+ ":SS" when needed)
std::string formatDateTime(std::int32_t days, std::int32_t secondsOfDay);
// The largest exact unit: "30d", "24h" is printed "1d", "90m", "45s".
std::string formatDuration(std::int64_t seconds);
// "10%", "2.5%"
std::string formatPercent(std::int64_t basisPoints);

// Strict parsers for the literal forms; on failure they return nullopt and
// explain why in `why` (lower case, for a diagnostic).
std::optional<std::int32_t> parseDate(std::string_view text, std::string& why);
std::optional<std::int32_t> parseClock(std::string_view text, std::string& why);
// Seconds for one unit letter: s, m, h, d; 0 when unknown.
std::int64_t durationUnitSeconds(std::string_view unit);

}  // namespace seg::civil
