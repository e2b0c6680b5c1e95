#include "compiler/sema/types.h"

namespace seg::sema {

int EnumType::find(const std::string& nameOrLabel) const {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] == nameOrLabel || (!labels[i].empty() && labels[i] == nameOrLabel)) return static_cast<int>(i);
  }
  return -1;
}

TypeTable::TypeTable() {
  for (TypeKind kind : {TypeKind::Error, TypeKind::Bool, TypeKind::Int, TypeKind::String, TypeKind::Date,
                        TypeKind::Time, TypeKind::Duration, TypeKind::Percent, TypeKind::Clock}) {
    entries_.push_back({kind, 0});
  }
}

TypeId TypeTable::addEnum(EnumType type) {
  enums_.push_back(std::move(type));
  entries_.push_back({TypeKind::Enum, static_cast<std::uint32_t>(enums_.size() - 1)});
  return static_cast<TypeId>(entries_.size() - 1);
}

TypeId TypeTable::addCatalog(std::string name, std::uint32_t catalog) {
  entries_.push_back({TypeKind::Catalog, catalog});
  const TypeId id = static_cast<TypeId>(entries_.size() - 1);
  catalogNames_[id] = std::move(name);
  return id;
}

TypeId TypeTable::listOf(TypeId element) {
  const auto found = lists_.find(element);
  if (found != lists_.end()) return found->second;
  entries_.push_back({TypeKind::List, element});
  const auto id = static_cast<TypeId>(entries_.size() - 1);
  lists_.emplace(element, id);
  return id;
}

std::string TypeTable::name(TypeId type) const {
  switch (kind(type)) {
    case TypeKind::Error: return "<error>";
    case TypeKind::Bool: return "bool";
    case TypeKind::Int: return "int";
    case TypeKind::String: return "string";
    case TypeKind::Date: return "date";
    case TypeKind::Time: return "time";
    case TypeKind::Duration: return "duration";
    case TypeKind::Percent: return "percent";
    case TypeKind::Clock: return "time of day";
    case TypeKind::Enum: return enumType(type).name;
    case TypeKind::List: return "list of " + name(element(type));
    case TypeKind::Catalog: return catalogNames_.at(type);
  }
  return "?";
}

TypeId TypeTable::primitive(const std::string& name) {
  if (name == "bool") return kBool;
  if (name == "int") return kInt;
  if (name == "string") return kString;
  if (name == "date") return kDate;
  if (name == "time") return kTime;
  if (name == "duration") return kDuration;
  if (name == "percent") return kPercent;
  return kError;
}

std::vector<std::string> TypeTable::primitiveNames() {
  return {"bool", "int", "string", "date", "time", "duration", "percent"};
}

std::vector<TypeId> TypeTable::enumIds() const {
  std::vector<TypeId> out;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].kind == TypeKind::Enum) out.push_back(static_cast<TypeId>(i));
  }
  return out;
}

bool TypeTable::isOrdered(TypeId type) const {
  switch (kind(type)) {
    case TypeKind::Int:
    case TypeKind::Date:
    case TypeKind::Time:
    case TypeKind::Duration:
    case TypeKind::Percent:
    case TypeKind::Clock:
    case TypeKind::Enum:
    case TypeKind::Error: return true;
    default: return false;
  }
}

}  // namespace seg::sema
