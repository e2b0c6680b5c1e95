// Binding a program's IR to a store: IR attribute, event and field numbers
// to the store's columns and logs (matched by name, as a store may hold
// more than one program declares), and the evaluation instant.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/timezone.h"
#include "compiler/ir/expr.h"
#include "runtime/store/store_state.h"

namespace re2 {
class RE2;
}

namespace seg {

struct EvalTime {
  std::int64_t now = 0;    // the evaluation instant
  std::int32_t today = 0;  // its date in the program's time zone
  TimeZone zone;

  static EvalTime at(std::int64_t now, const TimeZone& zone) { return {now, zone.localDay(now), zone}; }
};

struct BindError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class BoundProgram {
 public:
  // Throws BindError when the store lacks what the program reads (or holds
  // it with another type).
  BoundProgram(const ir::Program& program, const StoreState& state);
  ~BoundProgram();
  BoundProgram(BoundProgram&&) = default;

  const ir::Program& program() const { return program_; }
  const StoreState& state() const { return state_; }
  const AttributeColumn& attribute(std::uint32_t irAttribute) const { return *attributes_[irAttribute]; }
  const EventLog& events(std::uint32_t irEvent) const { return *events_[irEvent]; }
  // The store's field index for an IR event field.
  std::uint32_t field(std::uint32_t irEvent, std::uint32_t irField) const { return fields_[irEvent][irField]; }
  // The value of a catalog row's field (IR catalog and field), by the row's
  // id; missing when there is no such row.
  const Value* catalogValue(std::uint32_t irCatalog, std::uint32_t irField, std::string_view id) const;
  // Store bitmaps by name; an unknown name is an empty bitmap.
  const Bitmap& tag(const std::string& name) const;
  // Empty once LINE has deleted it (180 days after creation) at `now`.
  const Bitmap& audience(const std::string& name, std::int64_t now) const;
  const Bitmap& status(const std::string& name, std::uint32_t kind) const;
  // Friends who can receive: everyone known, minus the blocked.
  Bitmap universe() const;
  // The compiled pattern of a `matches` in the program (compiled once, at
  // binding, so evaluation may run on several threads).
  const re2::RE2& regex(std::uint32_t pattern) const;

 private:
  const ir::Program& program_;
  const StoreState& state_;
  std::vector<const AttributeColumn*> attributes_;
  std::vector<const EventLog*> events_;
  std::vector<std::vector<std::uint32_t>> fields_;
  std::vector<const CatalogTable*> catalogs_;
  std::vector<std::vector<std::uint32_t>> catalogFields_;
  Bitmap empty_;
  std::map<std::uint32_t, std::unique_ptr<re2::RE2>> regexes_;
};

}  // namespace seg
