#include "base/recurrence.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "base/civil_time.h"

namespace seg {
namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {"monday", "tuesday", "wednesday", "thursday",
                                                       "friday", "saturday", "sunday"};

// A day past the month's end falls on its last day.
std::uint32_t clampedDay(std::int32_t year, std::uint32_t month, std::uint32_t day) {
  return std::min(day, civil::daysInMonth(year, month));
}

}  // namespace

std::optional<Recurrence> Recurrence::ofUnit(std::string_view word) {
  Recurrence r;
  if (word == "day") return r;
  if (word == "month") {
    r.unit = Unit::Month;
    return r;
  }
  for (std::size_t i = 0; i < kWeekdays.size(); ++i) {
    if (word == kWeekdays[i]) {
      r.unit = Unit::Week;
      r.weekday = static_cast<std::uint32_t>(i + 1);
      return r;
    }
  }
  return std::nullopt;
}

std::string Recurrence::describe() const {
  const std::string at = civil::formatClock(atSecondsOfDay);
  switch (unit) {
    case Unit::Day: return fmt::format("every day at {}", at);
    case Unit::Week: return fmt::format("every {} at {}", kWeekdays[weekday - 1], at);
    case Unit::Month: return fmt::format("every month on day {} at {}", dayOfMonth, at);
    case Unit::Year: return fmt::format("every year on {:02}-{:02} at {}", month, dayOfMonth, at);
  }
  return at;
}

bool Recurrence::fallsOn(std::int32_t localDay) const {
  const civil::YearMonthDay d = civil::civilFromDays(localDay);
  switch (unit) {
    case Unit::Day: return true;
    case Unit::Week: return civil::isoWeekday(localDay) == weekday;
    case Unit::Month: return d.day == clampedDay(d.year, d.month, dayOfMonth);
    case Unit::Year: return d.month == month && d.day == clampedDay(d.year, d.month, dayOfMonth);
  }
  return false;
}

std::int64_t Recurrence::firstAtOrAfter(std::int64_t instant, const TimeZone& zone) const {
  // At most a year and a day of local days holds the next occurrence (a
  // yearly one on Feb 29 falls on Feb 28 in other years).
  const std::int32_t first = zone.localDay(instant) - 1;
  for (std::int32_t day = first; day <= first + 368; ++day) {
    if (!fallsOn(day)) continue;
    const std::int64_t at = zone.toInstant(day, atSecondsOfDay);
    if (at >= instant) return at;
  }
  return civil::kLastInstant;
}

}  // namespace seg
