#include "compiler/ir/schema.h"


namespace seg::ir {

const char* valueTypeName(ValueType type) {
  switch (type) {
    case ValueType::Bool: return "bool";
    case ValueType::Int: return "int";
    case ValueType::String: return "string";
    case ValueType::Date: return "date";
    case ValueType::Time: return "time";
    case ValueType::Duration: return "duration";
    case ValueType::Percent: return "percent";
    case ValueType::Enum: return "enum";
  }
  return "?";
}

bool isIntegral(ValueType type) { return type != ValueType::String && type != ValueType::Bool; }

std::optional<std::int64_t> ColumnSpec::enumRank(const std::string& text) const {
  for (std::size_t i = 0; i < enumValues.size(); ++i) {
    if (enumValues[i] == text || (!enumLabels[i].empty() && enumLabels[i] == text)) return static_cast<std::int64_t>(i);
  }
  return std::nullopt;
}

std::optional<std::size_t> EventSpec::field(const std::string& fieldName) const {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == fieldName) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> Schema::attribute(const std::string& name) const {
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    if (attributes[i].name == name) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> Schema::event(const std::string& name) const {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].name == name) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> Schema::catalog(const std::string& name) const {
  for (std::size_t i = 0; i < catalogs.size(); ++i) {
    if (catalogs[i].name == name) return i;
  }
  return std::nullopt;
}

}  // namespace seg::ir
