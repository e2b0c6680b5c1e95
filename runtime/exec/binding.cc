#include "runtime/exec/binding.h"

#include <re2/re2.h>

#include <fmt/format.h>

namespace seg {
namespace {

// The stored field index of each field the program declares (an event's or
// a catalog's), matched by name and type.
std::vector<std::uint32_t> storedFields(const ir::EventSpec& program, const ir::EventSpec& stored, const char* what) {
  std::vector<std::uint32_t> out;
  for (const ir::ColumnSpec& f : program.fields) {
    const auto fi = stored.field(f.name);
    if (!fi || stored.fields[*fi].type != f.type) {
      throw BindError(fmt::format("the store's {} `{}` has no {} field `{}`", what, program.name, ir::valueTypeName(f.type), f.name));
    }
    out.push_back(static_cast<std::uint32_t>(*fi));
  }
  return out;
}

}  // namespace

BoundProgram::BoundProgram(const ir::Program& program, const StoreState& state) : program_(program), state_(state) {
  const ir::Schema& stored = state.schema();
  for (const ir::ColumnSpec& c : program.schema.attributes) {
    const auto index = stored.attribute(c.name);
    if (!index || stored.attributes[*index].type != c.type) {
      throw BindError(fmt::format("the store has no {} attribute `{}`; import with this program first",
                                  ir::valueTypeName(c.type), c.name));
    }
    attributes_.push_back(&state.attribute(*index));
  }
  for (const ir::EventSpec& e : program.schema.events) {
    const auto index = stored.event(e.name);
    if (!index) throw BindError(fmt::format("the store has no event `{}`; import with this program first", e.name));
    events_.push_back(&state.events(*index));
    fields_.push_back(storedFields(e, stored.events[*index], "event"));
  }
  for (const ir::EventSpec& c : program.schema.catalogs) {
    const auto index = stored.catalog(c.name);
    if (!index) throw BindError(fmt::format("the store has no catalog `{}`; import with this program first", c.name));
    catalogs_.push_back(&state.catalog(*index));
    catalogFields_.push_back(storedFields(c, stored.catalogs[*index], "catalog"));
  }
  for (const ir::Node& n : program.nodes) {
    if (n.op != ir::Op::Matches || regexes_.contains(n.a)) continue;
    RE2::Options options;
    options.set_log_errors(false);
    regexes_[n.a] = std::make_unique<RE2>(program.strings[n.a], options);
  }
}

BoundProgram::~BoundProgram() = default;

const re2::RE2& BoundProgram::regex(std::uint32_t pattern) const { return *regexes_.at(pattern); }

const Value* BoundProgram::catalogValue(std::uint32_t irCatalog, std::uint32_t irField, std::string_view id) const {
  const std::vector<Value>* row = catalogs_[irCatalog]->find(id);
  const std::uint32_t field = catalogFields_[irCatalog][irField];
  return row == nullptr || field >= row->size() ? nullptr : &(*row)[field];
}

const Bitmap& BoundProgram::tag(const std::string& name) const {
  const auto it = state_.tags().find(name);
  return it == state_.tags().end() ? empty_ : it->second;
}

const Bitmap& BoundProgram::audience(const std::string& name, std::int64_t now) const {
  const auto it = state_.audiences().find(name);
  return it == state_.audiences().end() || it->second.expiredAt(now) ? empty_ : it->second.members;
}

const Bitmap& BoundProgram::status(const std::string& name, std::uint32_t kind) const {
  const auto it = state_.messageStatus().find(name);
  return it == state_.messageStatus().end() || kind >= kMessageStatusKinds ? empty_ : it->second.byKind[kind];
}

Bitmap BoundProgram::universe() const {
  Bitmap all = Bitmap::range(0, state_.friendCount());
  all -= state_.blocked();
  return all;
}

}  // namespace seg
