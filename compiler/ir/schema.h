// The data shape a program declares, as the runtime needs it: attribute and
// event field names with plain value types. Part of the IR: no pointers into
// the compiler, so it can be stored with data, sent elsewhere, or lowered to
// another back end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seg::sema {
struct TypedProgram;
}

namespace seg::ir {

// How a value is stored. Dates are days since 1970-01-01, times seconds
// since the epoch, durations seconds, percents basis points, enums the
// value's rank.
enum class ValueType : std::uint8_t { Bool, Int, String, Date, Time, Duration, Percent, Enum };
const char* valueTypeName(ValueType type);
bool isIntegral(ValueType type);  // stored as int64

struct ColumnSpec {
  std::string name;
  ValueType type = ValueType::Int;
  std::vector<std::string> enumValues;  // Enum: in rank order
  std::vector<std::string> enumLabels;  // Enum: "" when none

  // Rank of an enum value written by name or label.
  std::optional<std::int64_t> enumRank(const std::string& text) const;
  bool operator==(const ColumnSpec&) const = default;
};

struct EventSpec {
  std::string name;
  std::vector<ColumnSpec> fields;
  bool builtin = false;

  std::optional<std::size_t> field(const std::string& fieldName) const;
  bool operator==(const EventSpec&) const = default;
};

// Built-in attributes and events are included, first, as the compiler
// declares them.
struct Schema {
  std::vector<ColumnSpec> attributes;
  std::vector<EventSpec> events;
  // Catalogs (`catalog product { id: string ... }`): rows keyed by `id`,
  // shaped like events.
  std::vector<EventSpec> catalogs;

  std::optional<std::size_t> attribute(const std::string& name) const;
  std::optional<std::size_t> event(const std::string& name) const;
  std::optional<std::size_t> catalog(const std::string& name) const;
  bool operator==(const Schema&) const = default;
};

Schema lowerSchema(const sema::TypedProgram& program);

}  // namespace seg::ir
