#include "base/civil_time.h"

#include <fmt/format.h>

namespace seg::civil {

bool isLeapYear(std::int32_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

std::uint32_t daysInMonth(std::int32_t year, std::uint32_t month) {
  static constexpr std::uint32_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && isLeapYear(year)) return 29;
  return kDays[month - 1];
}

// Era-based conversion (400-year cycles of 146097 days), which is exact for
// every proleptic Gregorian date.
std::int32_t daysFromCivil(YearMonthDay date) {
  const std::int32_t y = date.year - (date.month <= 2 ? 1 : 0);
  const std::int32_t era = (y >= 0 ? y : y - 399) / 400;
  const std::uint32_t yearOfEra = static_cast<std::uint32_t>(y - era * 400);
  const std::uint32_t shiftedMonth = date.month > 2 ? date.month - 3 : date.month + 9;
  const std::uint32_t dayOfYear = (153 * shiftedMonth + 2) / 5 + date.day - 1;
  const std::uint32_t dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
  return era * 146097 + static_cast<std::int32_t>(dayOfEra) - 719468;
}

YearMonthDay civilFromDays(std::int32_t days) {
  const std::int32_t z = days + 719468;
  const std::int32_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::uint32_t dayOfEra = static_cast<std::uint32_t>(z - era * 146097);
  const std::uint32_t yearOfEra =
      (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
  const std::uint32_t dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
  const std::uint32_t shiftedMonth = (5 * dayOfYear + 2) / 153;
  const std::uint32_t day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1;
  const std::uint32_t month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const std::int32_t year = static_cast<std::int32_t>(yearOfEra) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

std::uint32_t isoWeekday(std::int32_t days) {
  // 1970-01-01 was a Thursday (4).
  const std::int64_t shifted = floorDiv(static_cast<std::int64_t>(days) + 3, 7) * 7;
  return static_cast<std::uint32_t>(days + 3 - shifted) + 1;
}

std::string formatDate(std::int32_t days) {
  const YearMonthDay ymd = civilFromDays(days);
  return fmt::format("{:04}-{:02}-{:02}", ymd.year, ymd.month, ymd.day);
}

std::string formatClock(std::int32_t secondsOfDay) {
  const int h = secondsOfDay / 3600, m = secondsOfDay / 60 % 60, s = secondsOfDay % 60;
  return s == 0 ? fmt::format("{:02}:{:02}", h, m) : fmt::format("{:02}:{:02}:{:02}", h, m, s);
}

std::string formatDateTime(std::int32_t days, std::int32_t secondsOfDay) {
  return formatDate(days) + " " + formatClock(secondsOfDay);
}

std::string formatDuration(std::int64_t seconds) {
  // `24h` reads better than `1d` for a day-long window; `2d` than `48h`.
  if (seconds >= 2 * kSecondsPerDay && seconds % kSecondsPerDay == 0) return fmt::format("{}d", seconds / kSecondsPerDay);
  if (seconds != 0 && seconds % 3600 == 0) return fmt::format("{}h", seconds / 3600);
  if (seconds != 0 && seconds % 60 == 0) return fmt::format("{}m", seconds / 60);
  return fmt::format("{}s", seconds);
}

std::string formatPercent(std::int64_t basisPoints) {
  if (basisPoints % 100 == 0) return fmt::format("{}%", basisPoints / 100);
  std::string fraction = fmt::format("{:02}", basisPoints % 100);
  if (fraction.back() == '0') fraction.pop_back();
  return fmt::format("{}.{}%", basisPoints / 100, fraction);
}

namespace {

bool allDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int toInt(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

std::string outOfRange(std::string_view what) {
  return fmt::format("{} is outside the times seg takes (years {} to {})", what, kFirstYear, kLastYear);
}

std::optional<std::int32_t> parseDate(std::string_view text, std::string& why) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !allDigits(text.substr(0, 4)) ||
      !allDigits(text.substr(5, 2)) || !allDigits(text.substr(8, 2))) {
    why = "expected YYYY-MM-DD";
    return std::nullopt;
  }
  const int year = toInt(text.substr(0, 4));
  const int month = toInt(text.substr(5, 2));
  const int day = toInt(text.substr(8, 2));
  if (year < 1900 || year > 9999) {
    why = fmt::format("year {} is out of range (1900 to 9999)", year);
    return std::nullopt;
  }
  if (month < 1 || month > 12) {
    why = fmt::format("month {} is out of range (1 to 12)", month);
    return std::nullopt;
  }
  const std::uint32_t last = daysInMonth(year, static_cast<std::uint32_t>(month));
  if (day < 1 || static_cast<std::uint32_t>(day) > last) {
    why = fmt::format("day {} is out of range ({:04}-{:02} has {} days)", day, year, month, last);
    return std::nullopt;
  }
  return daysFromCivil({year, static_cast<std::uint32_t>(month), static_cast<std::uint32_t>(day)});
}

std::optional<std::int32_t> parseClock(std::string_view text, std::string& why) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2) {
    why = "expected HH:MM";
    return std::nullopt;
  }
  const std::string_view hours = text.substr(0, colon);
  const std::string_view rest = text.substr(colon + 1);
  const std::string_view minutes = rest.substr(0, 2);
  const std::string_view seconds = rest.size() > 3 ? rest.substr(3) : std::string_view();
  if (!allDigits(hours) || !allDigits(minutes) || minutes.size() != 2 ||
      (rest.size() > 2 && (rest[2] != ':' || seconds.size() != 2 || !allDigits(seconds)))) {
    why = "expected HH:MM";
    return std::nullopt;
  }
  const int h = toInt(hours), m = toInt(minutes), s = seconds.empty() ? 0 : toInt(seconds);
  if (h > 23) {
    why = fmt::format("hour {} is out of range (0 to 23)", h);
    return std::nullopt;
  }
  if (m > 59) {
    why = fmt::format("minute {} is out of range (0 to 59)", m);
    return std::nullopt;
  }
  if (s > 59) {
    why = fmt::format("second {} is out of range (0 to 59)", s);
    return std::nullopt;
  }
  return h * 3600 + m * 60 + s;
}

std::int64_t durationUnitSeconds(std::string_view unit) {
  if (unit == "s") return 1;
  if (unit == "m") return 60;
  if (unit == "h") return 3600;
  if (unit == "d") return kSecondsPerDay;
  return 0;
}

}  // namespace seg::civil
