// Turning values written in JSON or CSV into stored values, checked against
// a column's type. Each function returns the value, or sets `error` to a
// message naming what was expected and what was found.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "base/timezone.h"
#include "compiler/ir/schema.h"
#include "runtime/store/value.h"

namespace seg {

// From a JSON value. JSON null is a missing value (it clears an attribute).
std::optional<Value> valueFromJson(const ir::ColumnSpec& column, simdjson::dom::element element,
                                   const TimeZone& zone, std::string& error);
// From CSV text (an empty cell is handled by the caller).
std::optional<Value> valueFromText(const ir::ColumnSpec& column, std::string_view text, const TimeZone& zone,
                                   std::string& error);
// An instant: epoch milliseconds (LINE's timestamps), or ISO 8601 with an
// offset, or a local date and time read in `zone`.
std::optional<std::int64_t> instantFromText(std::string_view text, const TimeZone& zone, std::string& error);
std::optional<std::int64_t> instantFromJson(simdjson::dom::element element, const TimeZone& zone, std::string& error);

// The text form used by `segc export`, readable by valueFromText.
std::string valueToText(const ir::ColumnSpec& column, const Value& value, const TimeZone& zone);

}  // namespace seg
