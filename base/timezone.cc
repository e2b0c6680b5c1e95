#include "base/timezone.h"

#include <date/tz.h>

#include <fmt/format.h>

#include "base/civil_time.h"

namespace seg {
namespace {

const date::time_zone* zoneOf(const void* zone) { return static_cast<const date::time_zone*>(zone); }

}  // namespace

std::optional<TimeZone> TimeZone::find(const std::string& name) {
  try {
    return TimeZone(name, date::locate_zone(name));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<std::string> TimeZone::names() {
  std::vector<std::string> out;
  try {
    for (const auto& zone : date::get_tzdb().zones) out.emplace_back(zone.name());
  } catch (const std::exception&) {
  }
  return out;
}

std::int32_t TimeZone::offsetAt(std::int64_t instant) const {
  const date::sys_seconds at{std::chrono::seconds(instant)};
  return static_cast<std::int32_t>(zoneOf(zone_)->get_info(at).offset.count());
}

std::int64_t TimeZone::toInstant(std::int32_t days, std::int32_t secondsOfDay) const {
  const std::int64_t local = static_cast<std::int64_t>(days) * civil::kSecondsPerDay + secondsOfDay;
  const date::local_seconds at{std::chrono::seconds(local)};
  const date::local_info info = zoneOf(zone_)->get_info(at);
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous: return local - info.first.offset.count();
    case date::local_info::nonexistent: return local - info.second.offset.count();
  }
  return local - info.first.offset.count();
}

std::int32_t TimeZone::localDay(std::int64_t instant) const {
  return static_cast<std::int32_t>(civil::floorDiv(instant + offsetAt(instant), civil::kSecondsPerDay));
}

std::int32_t TimeZone::localSecondsOfDay(std::int64_t instant) const {
  const std::int64_t local = instant + offsetAt(instant);
  return static_cast<std::int32_t>(local - civil::floorDiv(local, civil::kSecondsPerDay) * civil::kSecondsPerDay);
}

std::string TimeZone::formatInstant(std::int64_t instant) const {
  const std::int32_t offset = offsetAt(instant);
  const std::int32_t day = localDay(instant);
  const std::int32_t seconds = localSecondsOfDay(instant);
  const char sign = offset < 0 ? '-' : '+';
  const std::int32_t magnitude = offset < 0 ? -offset : offset;
  return fmt::format("{}T{:02}:{:02}:{:02}{}{:02}:{:02}", civil::formatDate(day), seconds / 3600, seconds / 60 % 60,
                     seconds % 60, sign, magnitude / 3600, magnitude / 60 % 60);
}

}  // namespace seg
