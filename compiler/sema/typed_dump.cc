#include "compiler/sema/typed_dump.h"

#include <fmt/format.h>

#include "compiler/ast/ast_dump.h"
#include "compiler/ast/ast_walk.h"
#include "base/civil_time.h"

namespace seg::sema {
namespace {

class TypedDumper {
 public:
  explicit TypedDumper(const TypedProgram& p) : p_(p) {}

  std::string run() {
    tables();
    for (const Segment& s : p_.segments) {
      line(0, fmt::format("segment {}{}", s.name, s.usesLine ? " (LINE-side)" : ""));
      expr(s.decl->condition.get(), 1);
    }
    for (const MenuRule& rule : p_.menus) {
      line(0, fmt::format("menu rule -> {}", rule.richmenu == kNone ? "?" : p_.richmenus[rule.richmenu].name));
      expr(rule.condition, 1);
    }
    for (const Scenario& s : p_.scenarios) {
      line(0, fmt::format("scenario {} on {}", s.name, triggerName(s.trigger)));
      expr(s.decl->where.get(), 1, "where");
      for (const ast::ExprPtr& e : s.decl->exitWhen) expr(e.get(), 1, "exit when");
      for (const ast::Step& step : s.decl->steps) {
        expr(step.when.get(), 1, "when");
        actions(step.actions, 1);
      }
    }
    for (const Rule& r : p_.rules) {
      line(0, "rule on " + triggerName(r.trigger));
      expr(r.decl->where.get(), 1, "where");
      actions(r.decl->actions, 1);
    }
    for (const Campaign& c : p_.campaigns) {
      line(0, "campaign " + c.name);
      for (const ast::Expr* e : c.lineConjuncts) expr(e, 1, "applied by LINE");
      for (const ast::Expr* e : c.localConjuncts) expr(e, 1, "evaluated by seg");
    }
    line(0, fmt::format("policy timezone {}", p_.policy.timezone));
    return std::move(out_);
  }

 private:
  void line(int depth, const std::string& text) {
    out_ += std::string(static_cast<std::size_t>(depth) * 2, ' ') + text + "\n";
  }

  std::string triggerName(const Trigger& t) const {
    return t.event == kNone ? "start" : p_.events[t.event].name;
  }

  void tables() {
    for (const Attribute& a : p_.attributes) {
      const char* origin = a.origin == AttributeOrigin::Builtin ? "built-in " : "";
      line(0, fmt::format("{}attribute {}: {}{}", origin, a.name, p_.types.name(a.type), a.derived ? " (derived)" : ""));
    }
    for (const Attribute& a : p_.lineAttributes) line(0, fmt::format("line attribute {}: {}", a.name, p_.types.name(a.type)));
    for (const Event& e : p_.events) {
      std::string fields;
      for (const Field& f : e.fields) fields += (fields.empty() ? "" : ", ") + f.name + ": " + p_.types.name(f.type);
      line(0, fmt::format("{}event {}({})", e.builtin ? "built-in " : "", e.name, fields));
    }
    std::string order;
    for (std::uint32_t s : p_.segmentOrder) order += (order.empty() ? "" : ", ") + p_.segments[s].name;
    line(0, "segment order: " + order);
  }

  std::string refText(const Ref& ref, const ast::Expr& e) const {
    switch (ref.kind) {
      case RefKind::None: return "";
      case RefKind::Attribute: return "attribute " + p_.attributes[ref.index].name;
      case RefKind::LineAttribute: return "LINE attribute " + p_.lineAttributes[ref.index].name;
      case RefKind::Segment: return "segment " + p_.segments[ref.index].name;
      case RefKind::EnumValue: {
        const TypeId type = p_.typeOf(e);
        if (!p_.types.isEnum(type)) return fmt::format("enum value #{}", ref.index);
        return fmt::format("value {} of {} (rank {})", p_.types.enumType(type).values[ref.index],
                           p_.types.enumType(type).name, ref.index);
      }
      case RefKind::RowField: return fmt::format("field {}.{} of each aggregated event", p_.events[ref.index].name, p_.events[ref.index].fields[ref.sub].name);
      case RefKind::TriggerField: return fmt::format("field {}.{} of the triggering event", p_.events[ref.index].name, p_.events[ref.index].fields[ref.sub].name);
      case RefKind::CatalogField: return fmt::format("field {}.{} of the catalog row", p_.catalogs[ref.index].name, p_.catalogs[ref.index].fields[ref.sub].name);
      case RefKind::Trigger: return "the triggering " + p_.events[ref.index].name + " event";
      case RefKind::Event: return "event " + p_.events[ref.index].name;
      case RefKind::Param: return fmt::format("parameter #{}", ref.index);
      case RefKind::Module: return "module line";
      case RefKind::Now: return "the evaluation instant";
      case RefKind::Today: return "the evaluation date";
      case RefKind::Function: return std::string("function ") + functionName(static_cast<Function>(ref.index));
      case RefKind::Message: return "message " + p_.messages[ref.index].name;
      case RefKind::Campaign: return "campaign " + p_.campaigns[ref.index].name;
    }
    return "";
  }

  void expr(const ast::Expr* e, int depth, const char* role = nullptr) {
    if (e == nullptr) return;
    std::string text = (role ? std::string(role) + ": " : "") + ast::describe(*e);
    const RefKind kind = p_.refOf(*e).kind;
    // Event and module names are not values and have no type.
    if (!((kind == RefKind::Event && e->kind != ast::ExprKind::Aggregate) || kind == RefKind::Module || kind == RefKind::Trigger)) {
      text += " : " + p_.types.name(p_.typeOf(*e));
    }
    const std::string ref = refText(p_.refOf(*e), *e);
    if (!ref.empty()) text += " -> " + ref;
    line(depth, text);
    ast::forEachChild(*e, [&](const ast::Expr& child) { expr(&child, depth + 1); });
  }

  void actions(const ast::ActionList& list, int depth) {
    for (const ast::ActionPtr& a : list) {
      line(depth, std::string("action ") + ast::actionKeyword(a->kind));
      expr(a->value.get(), depth + 1);
      for (const ast::MessageRef& ref : a->messages) {
        for (const ast::NamedArg& arg : ref.args) expr(arg.value.get(), depth + 1, arg.name.text.c_str());
      }
      actions(a->thenActions, depth + 1);
      actions(a->elseActions, depth + 1);
    }
  }

  const TypedProgram& p_;
  std::string out_;
};

}  // namespace

std::string dumpTyped(const TypedProgram& program) { return TypedDumper(program).run(); }

}  // namespace seg::sema
