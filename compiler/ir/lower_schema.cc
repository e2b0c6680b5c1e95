#include "compiler/ir/schema.h"

#include "compiler/ir/lower.h"
#include "compiler/sema/typed_program.h"

namespace seg::ir {

namespace {

ColumnSpec column(const std::string& name, sema::TypeId type, const sema::TypeTable& types) {
  ColumnSpec out;
  out.name = name;
  out.type = valueTypeOf(type, types);
  if (types.isEnum(type)) {
    out.enumValues = types.enumType(type).values;
    out.enumLabels = types.enumType(type).labels;
  }
  return out;
}

}  // namespace

Schema lowerSchema(const sema::TypedProgram& program) {
  Schema out;
  for (const sema::Attribute& a : program.attributes) {
    if (a.derived) continue;  // computed at evaluation, never stored
    out.attributes.push_back(column(a.name, a.type, program.types));
  }
  for (const sema::Event& e : program.events) {
    EventSpec event{e.name, {}, e.builtin};
    for (const sema::Field& f : e.fields) event.fields.push_back(column(f.name, f.type, program.types));
    out.events.push_back(std::move(event));
  }
  for (const sema::Event& c : program.catalogs) {
    EventSpec catalog{c.name, {}, false};
    for (const sema::Field& f : c.fields) catalog.fields.push_back(column(f.name, f.type, program.types));
    out.catalogs.push_back(std::move(catalog));
  }
  return out;
}

}  // namespace seg::ir
