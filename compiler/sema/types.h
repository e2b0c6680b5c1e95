// The types of seg expressions.
//
// Types are small ids into a TypeTable: the primitive types have fixed ids,
// each declared enum gets its own id (so `member_rank` and `skin_type` never
// compare), and lists are interned by element type.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/source/source.h"

namespace seg::sema {

using TypeId = std::uint32_t;

enum class TypeKind : std::uint8_t {
  Error,     // after a reported error; compatible with everything
  Bool, Int, String, Date, Time, Duration, Percent, Clock,
  Enum, List,
  Catalog,  // a reference to a catalog's row: its id, a string
};

// An ordered enumeration: values in declaration (= rank) order, each with an
// optional display label (`jp_13 = "東京都"`), accepted in place of the value.
struct EnumType {
  std::string name;  // the attribute or field that declared it
  std::vector<std::string> values;
  std::vector<std::string> labels;  // "" when none
  SourceRange range;

  // Index of a value by name or label; -1 when neither matches.
  int find(const std::string& nameOrLabel) const;
};

class TypeTable {
 public:
  static constexpr TypeId kError = 0, kBool = 1, kInt = 2, kString = 3, kDate = 4, kTime = 5,
                          kDuration = 6, kPercent = 7, kClock = 8;

  TypeTable();

  TypeId addEnum(EnumType type);
  TypeId listOf(TypeId element);
  TypeId addCatalog(std::string name, std::uint32_t catalog);
  bool isCatalog(TypeId type) const { return kind(type) == TypeKind::Catalog; }
  // Values of one can stand where the other is expected: equal types, or a
  // catalog reference and a string (its row's id).
  bool interchangeable(TypeId a, TypeId b) const {
    return a == b || (isCatalog(a) && b == kString) || (isCatalog(b) && a == kString);
  }
  std::uint32_t catalogOf(TypeId type) const { return entries_.at(type).detail; }

  TypeKind kind(TypeId type) const { return entries_.at(type).kind; }
  bool isError(TypeId type) const { return kind(type) == TypeKind::Error; }
  bool isEnum(TypeId type) const { return kind(type) == TypeKind::Enum; }
  const EnumType& enumType(TypeId type) const { return enums_.at(entries_.at(type).detail); }
  TypeId element(TypeId list) const { return entries_.at(list).detail; }
  // How the type is written: `int`, `member_rank`, `list of string`.
  std::string name(TypeId type) const;
  // The built-in type a name denotes (`int`, `date`, ...), or kError.
  static TypeId primitive(const std::string& name);
  static std::vector<std::string> primitiveNames();
  // Types that can be ordered with `<` (numbers, times, enums).
  bool isOrdered(TypeId type) const;
  // Every enum type, in declaration order.
  std::vector<TypeId> enumIds() const;

 private:
  struct Entry {
    TypeKind kind;
    std::uint32_t detail;  // enum index or list element type
  };
  std::vector<Entry> entries_;
  std::vector<EnumType> enums_;
  std::map<TypeId, std::string> catalogNames_;
  std::map<TypeId, TypeId> lists_;
};

}  // namespace seg::sema
