// Recurring local times: `every day at 09:00`, `every monday at 12:00`,
// `every month on day 1 at 10:00`, and a yearly date such as a birthday.
// Occurrences are local times in a time zone, so `every day at 09:00` stays
// at 09:00 across daylight-saving changes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/timezone.h"

namespace seg {

struct Recurrence {
  enum class Unit : std::uint8_t { Day, Week, Month, Year };
  Unit unit = Unit::Day;
  std::uint32_t weekday = 1;     // Week: 1 = Monday .. 7 = Sunday
  std::uint32_t month = 1;       // Year: 1..12
  std::uint32_t dayOfMonth = 1;  // Month, Year: 1..31; past a month's end, its last day
  std::int32_t atSecondsOfDay = 0;

  // The unit a word names: "day", "month", "monday" ... "sunday" (Week).
  static std::optional<Recurrence> ofUnit(std::string_view word);
  // "every monday at 12:00"
  std::string describe() const;
  // The first occurrence at or after `instant`.
  std::int64_t firstAtOrAfter(std::int64_t instant, const TimeZone& zone) const;
  // Whether a local day holds an occurrence (Feb 29 falls on Feb 28 in
  // other years, day 31 on a month's last day).
  bool fallsOn(std::int32_t localDay) const;
};

}  // namespace seg
