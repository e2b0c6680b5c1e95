#include "runtime/ingest/values.h"

#include <charconv>

#include <fmt/format.h>

#include "base/civil_time.h"

namespace seg {
namespace {

std::string quoteForMessage(std::string_view text) {
  std::string shown(text.substr(0, 40));
  if (text.size() > 40) shown += "…";
  return "\"" + shown + "\"";
}

std::optional<std::int64_t> parseInteger(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  // INT64_MIN marks a missing value in the store's columns.
  if (ec != std::errc() || end != text.data() + text.size() || value == INT64_MIN) return std::nullopt;
  return value;
}

bool durationInRange(std::int64_t seconds) {
  return seconds >= -civil::kMaxDurationSeconds && seconds <= civil::kMaxDurationSeconds;
}

// "30d", "24h", "90m", "45s", or a number of seconds.
std::optional<std::int64_t> parseDuration(std::string_view text) {
  if (auto seconds = parseInteger(text)) return durationInRange(*seconds) ? seconds : std::nullopt;
  if (text.size() < 2) return std::nullopt;
  const std::int64_t unit = civil::durationUnitSeconds(text.substr(text.size() - 1));
  const auto count = parseInteger(text.substr(0, text.size() - 1));
  if (unit == 0 || !count || *count > civil::kMaxDurationSeconds / unit || *count < -civil::kMaxDurationSeconds / unit) {
    return std::nullopt;
  }
  return *count * unit;
}

// A percentage, 0 to 100, as basis points.
std::optional<std::int64_t> percentOf(double value) {
  if (!(value >= 0 && value <= 100)) return std::nullopt;  // NaN fails too
  return static_cast<std::int64_t>(value * 100 + 0.5);
}

// "10%", "2.5%" or "2.5" (percent): basis points.
std::optional<std::int64_t> parsePercent(std::string_view text) {
  if (!text.empty() && text.back() == '%') text.remove_suffix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return percentOf(value);
}

// Epoch milliseconds (LINE's timestamps) as seconds, when in range.
std::optional<std::int64_t> instantOfMillis(std::int64_t millis, std::string& error) {
  const std::int64_t seconds = civil::floorDiv(millis, 1000);
  if (!civil::instantInRange(seconds)) {
    error = civil::outOfRange(fmt::format("{} (epoch milliseconds)", millis));
    return std::nullopt;
  }
  return seconds;
}

std::string expected(const ir::ColumnSpec& column) {
  switch (column.type) {
    case ir::ValueType::Bool: return "true or false";
    case ir::ValueType::Int: return "a whole number";
    case ir::ValueType::String: return "a string";
    case ir::ValueType::Date: return "a date such as \"2026-12-01\"";
    case ir::ValueType::Time: return "a time such as \"2026-12-01T10:00:00+09:00\" or epoch milliseconds";
    case ir::ValueType::Duration: return "a duration such as \"30d\" or a number of seconds";
    case ir::ValueType::Percent: return "a percentage such as \"10%\"";
    case ir::ValueType::Enum: {
      std::string values;
      for (std::size_t i = 0; i < column.enumValues.size() && i < 6; ++i) values += (i ? ", " : "") + column.enumValues[i];
      if (column.enumValues.size() > 6) values += ", ...";
      return "one of " + values;
    }
  }
  return "a value";
}

}  // namespace

std::optional<std::int64_t> instantFromText(std::string_view text, const TimeZone& zone, std::string& error) {
  const std::string_view digits = !text.empty() && text[0] == '-' ? text.substr(1) : text;
  if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos) {
    const auto millis = parseInteger(text);
    if (!millis) {
      error = civil::outOfRange(quoteForMessage(text));
      return std::nullopt;
    }
    return instantOfMillis(*millis, error);
  }
  // YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+HH:MM]
  std::string why;
  const auto days = text.size() >= 10 ? civil::parseDate(text.substr(0, 10), why) : std::nullopt;
  if (!days) {
    error = "expected a time such as \"2026-12-01T10:00:00+09:00\" or epoch milliseconds, found " + quoteForMessage(text);
    return std::nullopt;
  }
  std::int32_t seconds = 0;
  std::string_view rest = text.substr(10);
  std::optional<std::int32_t> offset;
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != ' ') {
      error = "expected `T` or a space after the date in " + quoteForMessage(text);
      return std::nullopt;
    }
    rest.remove_prefix(1);
    std::size_t end = rest.find_first_of("Z+-");
    std::string_view clock = rest.substr(0, end);
    if (const std::size_t dot = clock.find('.'); dot != std::string_view::npos) clock = clock.substr(0, dot);
    const auto parsed = civil::parseClock(clock, why);
    if (!parsed) {
      error = "invalid time of day in " + quoteForMessage(text) + ": " + why;
      return std::nullopt;
    }
    seconds = *parsed;
    if (end != std::string_view::npos) {
      const std::string_view zonePart = rest.substr(end);
      if (zonePart == "Z") {
        offset = 0;
      } else {
        const auto magnitude = civil::parseClock(zonePart.substr(1), why);
        if (!magnitude) {
          error = "invalid UTC offset in " + quoteForMessage(text);
          return std::nullopt;
        }
        offset = zonePart[0] == '-' ? -*magnitude : *magnitude;
      }
    }
  }
  const std::int64_t instant =
      offset ? static_cast<std::int64_t>(*days) * civil::kSecondsPerDay + seconds - *offset : zone.toInstant(*days, seconds);
  if (!civil::instantInRange(instant)) {
    error = civil::outOfRange(quoteForMessage(text));
    return std::nullopt;
  }
  return instant;
}

std::optional<std::int64_t> instantFromJson(simdjson::dom::element element, const TimeZone& zone, std::string& error) {
  if (element.is_int64()) return instantOfMillis(element.get_int64().value(), error);
  if (element.is_uint64() || element.is_double()) {
    error = "expected epoch milliseconds, found a number that is not one";
    return std::nullopt;
  }
  if (element.is_string()) return instantFromText(element.get_string().value(), zone, error);
  error = "expected a time such as \"2026-12-01T10:00:00+09:00\" or epoch milliseconds";
  return std::nullopt;
}

std::optional<Value> valueFromText(const ir::ColumnSpec& column, std::string_view text, const TimeZone& zone,
                                   std::string& error) {
  const auto fail = [&]() -> std::optional<Value> {
    error = "expected " + expected(column) + ", found " + quoteForMessage(text);
    return std::nullopt;
  };
  switch (column.type) {
    case ir::ValueType::String:
      if (text.find('\0') != std::string_view::npos) {
        error = "the text holds a NUL character (\\0), which seg does not store";
        return std::nullopt;
      }
      return Value::ofString(std::string(text));
    case ir::ValueType::Bool:
      if (text == "true" || text == "1") return Value::ofBool(true);
      if (text == "false" || text == "0") return Value::ofBool(false);
      return fail();
    case ir::ValueType::Int:
      if (auto v = parseInteger(text)) return Value::ofInt(*v);
      return fail();
    case ir::ValueType::Date: {
      std::string why;
      if (auto days = civil::parseDate(text, why)) return Value::ofInt(*days);
      if (text.size() == 10 && !why.empty() && why != "expected YYYY-MM-DD") {
        error = "invalid date " + quoteForMessage(text) + ": " + why;
        return std::nullopt;
      }
      return fail();
    }
    case ir::ValueType::Time: {
      if (auto instant = instantFromText(text, zone, error)) return Value::ofInt(*instant);
      return std::nullopt;
    }
    case ir::ValueType::Duration:
      if (auto v = parseDuration(text)) return Value::ofInt(*v);
      return fail();
    case ir::ValueType::Percent:
      if (auto v = parsePercent(text)) return Value::ofInt(*v);
      return fail();
    case ir::ValueType::Enum:
      if (auto rank = column.enumRank(std::string(text))) return Value::ofInt(*rank);
      return fail();
  }
  return fail();
}

std::optional<Value> valueFromJson(const ir::ColumnSpec& column, simdjson::dom::element element, const TimeZone& zone,
                                   std::string& error) {
  if (element.is_null()) return Value::missing();
  switch (column.type) {
    case ir::ValueType::Bool:
      if (element.is_bool()) return Value::ofBool(element.get_bool().value());
      break;
    case ir::ValueType::Int:
      if (element.is_int64() && element.get_int64().value() != INT64_MIN) return Value::ofInt(element.get_int64().value());
      break;
    case ir::ValueType::Time:
      if (element.is_number()) {
        const auto instant = instantFromJson(element, zone, error);
        if (!instant) return std::nullopt;
        return Value::ofInt(*instant);
      }
      if (element.is_string()) return valueFromText(column, element.get_string().value(), zone, error);
      break;
    case ir::ValueType::Duration:
      // A number is seconds; in range like "30d".
      if (element.is_int64() && durationInRange(element.get_int64().value())) return Value::ofInt(element.get_int64().value());
      if (element.is_number()) {
        error = "expected a duration such as \"30d\" or a number of seconds, found a number out of range (10,000 years)";
        return std::nullopt;
      }
      if (element.is_string()) return valueFromText(column, element.get_string().value(), zone, error);
      break;
    case ir::ValueType::Percent:
      // A number is percent, 0 to 100, like "10%".
      if (element.is_number()) {
        const double value = element.is_double()   ? element.get_double().value()
                             : element.is_int64() ? static_cast<double>(element.get_int64().value())
                                                  : -1;
        if (auto basisPoints = percentOf(value)) return Value::ofInt(*basisPoints);
        error = "expected a percentage from 0 to 100, such as 10 or \"10%\"";
        return std::nullopt;
      }
      if (element.is_string()) return valueFromText(column, element.get_string().value(), zone, error);
      break;
    default:
      if (element.is_string()) return valueFromText(column, element.get_string().value(), zone, error);
      break;
  }
  const char* found = element.is_string() ? "a string" : element.is_bool() ? "true or false"
                      : element.is_number()                     ? "a number"
                      : element.is_array()                      ? "a list"
                                                                : "an object";
  error = "expected " + expected(column) + ", found " + found;
  return std::nullopt;
}

std::string valueToText(const ir::ColumnSpec& column, const Value& value, const TimeZone& zone) {
  if (value.isMissing()) return "";
  switch (column.type) {
    case ir::ValueType::String: return value.s;
    case ir::ValueType::Bool: return value.i ? "true" : "false";
    case ir::ValueType::Int: return std::to_string(value.i);
    case ir::ValueType::Date: return civil::formatDate(static_cast<std::int32_t>(value.i));
    case ir::ValueType::Time: return zone.formatInstant(value.i);
    case ir::ValueType::Duration: return civil::formatDuration(value.i);
    case ir::ValueType::Percent: return civil::formatPercent(value.i);
    case ir::ValueType::Enum:
      return value.i >= 0 && static_cast<std::size_t>(value.i) < column.enumValues.size()
                 ? column.enumValues[static_cast<std::size_t>(value.i)] : "";
  }
  return "";
}

}  // namespace seg
