#include "compiler/ir/schema.h"

#include "compiler/sema/typed_program.h"

namespace seg::ir {

namespace {

ColumnSpec column(const std::string& name, sema::TypeId type, const sema::TypeTable& types) {
  ColumnSpec out;
  out.name = name;
  switch (types.kind(type)) {
    case sema::TypeKind::Bool: out.type = ValueType::Bool; break;
    case sema::TypeKind::String: out.type = ValueType::String; break;
    case sema::TypeKind::Date: out.type = ValueType::Date; break;
    case sema::TypeKind::Time: out.type = ValueType::Time; break;
    case sema::TypeKind::Duration: out.type = ValueType::Duration; break;
    case sema::TypeKind::Percent: out.type = ValueType::Percent; break;
    case sema::TypeKind::Enum:
      out.type = ValueType::Enum;
      out.enumValues = types.enumType(type).values;
      out.enumLabels = types.enumType(type).labels;
      break;
    default: out.type = ValueType::Int; break;
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
  return out;
}

}  // namespace seg::ir
