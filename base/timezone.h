// IANA time zones (the system's tz database, through Howard Hinnant's date
// library, as libstdc++ 12 has no chrono tzdb).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seg {

class TimeZone {
 public:
  // nullopt when the name is unknown.
  static std::optional<TimeZone> find(const std::string& name);
  // Every zone name the database knows.
  static std::vector<std::string> names();
  const std::string& name() const { return name_; }

  // The instant of a local date and time. In a gap (spring forward) the
  // later offset is used; in an overlap, the earlier instant.
  std::int64_t toInstant(std::int32_t days, std::int32_t secondsOfDay) const;
  // The offset from UTC, in seconds, at an instant.
  std::int32_t offsetAt(std::int64_t instant) const;
  // The local calendar day of an instant.
  std::int32_t localDay(std::int64_t instant) const;
  std::int32_t localSecondsOfDay(std::int64_t instant) const;
  // "2026-12-01T10:00:00+09:00"
  std::string formatInstant(std::int64_t instant) const;

 private:
  TimeZone(std::string name, const void* zone) : name_(std::move(name)), zone_(zone) {}
  std::string name_;
  const void* zone_;  // date::time_zone, owned by the tz database
};

}  // namespace seg
