#include <gtest/gtest.h>

#include "base/civil_time.h"
#include "base/recurrence.h"

namespace seg::civil {
namespace {

TEST(CivilTime, KnownDates) {
  EXPECT_EQ(daysFromCivil({1970, 1, 1}), 0);
  EXPECT_EQ(daysFromCivil({2000, 3, 1}), 11017);
  EXPECT_EQ(daysFromCivil({2026, 12, 1}), 20788);
  EXPECT_EQ(formatDate(20788), "2026-12-01");
  EXPECT_EQ(isoWeekday(0), 4u);      // Thursday
  EXPECT_EQ(isoWeekday(20788), 2u);  // 2026-12-01 is a Tuesday
}

TEST(CivilTime, RoundTripsEveryDayOfFourCenturies) {
  for (std::int32_t days = -25567; days < 146097 - 25567; ++days) {
    const YearMonthDay ymd = civilFromDays(days);
    ASSERT_EQ(daysFromCivil(ymd), days) << formatDate(days);
    ASSERT_GE(ymd.day, 1u);
    ASSERT_LE(ymd.day, daysInMonth(ymd.year, ymd.month));
  }
}

TEST(CivilTime, LeapYears) {
  EXPECT_TRUE(isLeapYear(2000));
  EXPECT_FALSE(isLeapYear(2100));
  EXPECT_TRUE(isLeapYear(2028));
  EXPECT_EQ(daysInMonth(2028, 2), 29u);
  EXPECT_EQ(daysInMonth(2026, 2), 28u);
}

TEST(CivilTime, ParseDateExplainsWhatIsWrong) {
  std::string why;
  EXPECT_EQ(parseDate("2026-02-28", why), daysFromCivil({2026, 2, 28}));
  EXPECT_FALSE(parseDate("2026-13-40", why));
  EXPECT_EQ(why, "month 13 is out of range (1 to 12)");
  EXPECT_FALSE(parseDate("2026-02-29", why));
  EXPECT_EQ(why, "day 29 is out of range (2026-02 has 28 days)");
  EXPECT_FALSE(parseDate("1800-01-01", why));
}

TEST(CivilTime, ParseClock) {
  std::string why;
  EXPECT_EQ(parseClock("10:00", why), 36000);
  EXPECT_EQ(parseClock("9:05", why), 9 * 3600 + 300);
  EXPECT_EQ(parseClock("23:59:59", why), 86399);
  EXPECT_FALSE(parseClock("25:00", why));
  EXPECT_EQ(why, "hour 25 is out of range (0 to 23)");
  EXPECT_FALSE(parseClock("10:60", why));
}

TEST(CivilTime, Formatting) {
  EXPECT_EQ(formatDuration(30 * 86400), "30d");
  EXPECT_EQ(formatDuration(86400), "24h");
  EXPECT_EQ(formatDuration(2 * 86400), "2d");
  EXPECT_EQ(formatDuration(90 * 60), "90m");
  EXPECT_EQ(formatDuration(45), "45s");
  EXPECT_EQ(formatPercent(1000), "10%");
  EXPECT_EQ(formatPercent(250), "2.5%");
  EXPECT_EQ(formatPercent(5), "0.05%");
  EXPECT_EQ(formatClock(36000), "10:00");
}

TEST(Recurrence, OccurrencesAreLocalTimesAcrossMonthEndsLeapDaysAndDaylightSaving) {
  const TimeZone tokyo = *TimeZone::find("Asia/Tokyo");
  const auto local = [&](std::int32_t y, std::uint32_t m, std::uint32_t d, std::int32_t hour) {
    return tokyo.toInstant(daysFromCivil({y, m, d}), hour * 3600);
  };
  Recurrence monthly = *Recurrence::ofUnit("month");
  monthly.dayOfMonth = 31;
  monthly.atSecondsOfDay = 10 * 3600;
  EXPECT_EQ(monthly.firstAtOrAfter(local(2027, 2, 1, 0), tokyo), local(2027, 2, 28, 10));  // no Feb 31: its last day
  EXPECT_EQ(monthly.firstAtOrAfter(local(2027, 3, 1, 0), tokyo), local(2027, 3, 31, 10));
  EXPECT_EQ(monthly.firstAtOrAfter(local(2027, 3, 31, 10), tokyo), local(2027, 3, 31, 10));  // at: included
  EXPECT_EQ(monthly.firstAtOrAfter(local(2027, 3, 31, 10) + 1, tokyo), local(2027, 4, 30, 10));
  EXPECT_EQ(monthly.describe(), "every month on day 31 at 10:00");

  Recurrence monday = *Recurrence::ofUnit("monday");
  monday.atSecondsOfDay = 12 * 3600;
  EXPECT_EQ(monday.firstAtOrAfter(local(2026, 12, 7, 12) + 1, tokyo), local(2026, 12, 14, 12));  // 12-07 is a Monday
  EXPECT_EQ(monday.firstAtOrAfter(local(2026, 12, 8, 0), tokyo), local(2026, 12, 14, 12));
  EXPECT_FALSE(Recurrence::ofUnit("mondays"));

  Recurrence leapDay;
  leapDay.unit = Recurrence::Unit::Year;
  leapDay.month = 2;
  leapDay.dayOfMonth = 29;
  leapDay.atSecondsOfDay = 9 * 3600;
  EXPECT_EQ(leapDay.firstAtOrAfter(local(2027, 1, 1, 0), tokyo), local(2027, 2, 28, 9));
  EXPECT_EQ(leapDay.firstAtOrAfter(local(2028, 1, 1, 0), tokyo), local(2028, 2, 29, 9));

  // 09:00 in New York stays 09:00 local when the clocks go forward (2027-03-14).
  const TimeZone newYork = *TimeZone::find("America/New_York");
  const Recurrence daily = [] {
    Recurrence r = *Recurrence::ofUnit("day");
    r.atSecondsOfDay = 9 * 3600;
    return r;
  }();
  const std::int64_t before = daily.firstAtOrAfter(newYork.toInstant(daysFromCivil({2027, 3, 13}), 0), newYork);
  const std::int64_t after = daily.firstAtOrAfter(before + 1, newYork);
  EXPECT_EQ(after - before, 23 * 3600);
  EXPECT_EQ(newYork.localSecondsOfDay(after), 9 * 3600);
}

}  // namespace
}  // namespace seg::civil
