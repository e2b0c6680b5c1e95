// Typing expressions and resolving the names in them.
#include <re2/re2.h>

#include <fmt/format.h>

#include "base/civil_time.h"
#include "base/spelling.h"
#include "compiler/sema/analyzer.h"

namespace seg::sema {
namespace {

using namespace seg::ast;

std::string spelled(const Expr& e) {
  if (const auto* n = as<NameRefExpr>(&e)) return n->name;
  if (const auto* m = as<MemberExpr>(&e)) return spelled(*m->object) + "." + m->member.text;
  return "";
}

struct FunctionInfo {
  const char* name;
  Function function;
};

constexpr FunctionInfo kFunctions[] = {
    {"month", Function::Month},     {"day", Function::Day},         {"year", Function::Year},
    {"weekday", Function::Weekday}, {"hour", Function::Hour},       {"date", Function::Date},
    {"age", Function::Age},         {"received", Function::Received}, {"opened", Function::Opened},
    {"clicked", Function::Clicked}, {"bucket", Function::Bucket},   {"has", Function::Has},
    {"length", Function::Length},   {"param", Function::Param},
};

// The expression checker for one call of Analyzer::check; it keeps the
// analyzer's tables and adds the rules of each expression kind.
class ExprChecker {
 public:
  ExprChecker(Analyzer& a) : a_(a), p_(a.p_), types_(a.p_.types), diags_(a.diags_) {}

  TypeId check(const Expr& e, const Scope& scope, TypeId expected) {
    switch (e.kind) {
      case ExprKind::IntLit: return done(e, TypeTable::kInt);
      case ExprKind::PercentLit: return done(e, TypeTable::kPercent);
      case ExprKind::BoolLit: return done(e, TypeTable::kBool);
      case ExprKind::DateLit: return done(e, TypeTable::kDate);
      case ExprKind::DateTimeLit: return done(e, TypeTable::kTime);
      case ExprKind::ClockLit: return done(e, TypeTable::kClock);
      case ExprKind::DurationLit: return done(e, TypeTable::kDuration);
      case ExprKind::StringLit: return stringLit(static_cast<const StringLitExpr&>(e), expected);
      case ExprKind::NameRef: return nameRef(static_cast<const NameRefExpr&>(e), scope, expected);
      case ExprKind::Member: return member(static_cast<const MemberExpr&>(e), scope);
      case ExprKind::Call: return call(static_cast<const CallExpr&>(e), scope);
      case ExprKind::Aggregate: return aggregate(static_cast<const AggregateExpr&>(e), scope);
      case ExprKind::TagTest:
      case ExprKind::AudienceTest: return friendTest(e, scope);
      case ExprKind::Unary: return unary(static_cast<const UnaryExpr&>(e), scope);
      case ExprKind::Binary: return binary(static_cast<const BinaryExpr&>(e), scope);
      case ExprKind::Logical: return logical(static_cast<const LogicalExpr&>(e), scope);
      case ExprKind::In: return in(static_cast<const InExpr&>(e), scope);
      case ExprKind::Between: return between(static_cast<const BetweenExpr&>(e), scope);
      case ExprKind::ListLit:
      case ExprKind::RangeLit: return done(e, TypeTable::kError);  // only under `in`
    }
    return TypeTable::kError;
  }

 private:
  TypeId done(const Expr& e, TypeId type, Ref ref = {}) {
    a_.record(e, type, ref);
    return type;
  }

  TypeId fail(const Expr& e) { return done(e, TypeTable::kError); }

  bool isError(TypeId t) const { return types_.isError(t); }

  // ------------------------------------------------------------ names

  // A string where an enum is expected names a value by name or label:
  // `line.area == "東京都"`.
  TypeId stringLit(const StringLitExpr& s, TypeId expected) {
    if (expected != kNoExpectation && types_.isEnum(expected)) {
      const EnumType& e = types_.enumType(expected);
      const int index = e.find(s.value);
      if (index >= 0) return done(s, expected, {RefKind::EnumValue, static_cast<std::uint32_t>(index)});
      std::vector<std::string> candidates = e.values;
      for (const std::string& label : e.labels) {
        if (!label.empty()) candidates.push_back(label);
      }
      Diagnostic& d = diags_.report(DiagId::UnknownEnumValue, s.range, s.value, e.name);
      a_.suggest(d, s.value, [&] { return candidates; });
      return fail(s);
    }
    return done(s, TypeTable::kString);
  }

  // Whether `e` takes its meaning from the other side of a comparison: a
  // bare enum value (`gold`) or a string that may be an enum label.
  bool takesContext(const Expr& e, const Scope& scope) const {
    if (as<StringLitExpr>(&e)) return true;
    const auto* n = as<NameRefExpr>(&e);
    return n != nullptr && !resolvesWithoutContext(n->name, scope);
  }

  bool resolvesWithoutContext(const std::string& name, const Scope& scope) const {
    if (name == "now" || name == "today" || name == scope.bindingName) return true;
    if (scope.rowEvent != kNone && p_.events[scope.rowEvent].findField(name) != kNone) return true;
    if (scope.triggerFieldsUnqualified && scope.triggerEvent != kNone &&
        p_.events[scope.triggerEvent].findField(name) != kNone) {
      return true;
    }
    return p_.findAttribute(name) != kNone || p_.findSegment(name) != kNone;
  }

  TypeId nameRef(const NameRefExpr& n, const Scope& scope, TypeId expected) {
    const std::string& name = n.name;
    if (scope.rowEvent != kNone) {
      const Event& row = p_.events[scope.rowEvent];
      if (const std::uint32_t f = row.findField(name); f != kNone) {
        return done(n, row.fields[f].type, {RefKind::RowField, scope.rowEvent, f});
      }
    }
    if (!scope.bindingName.empty() && name == scope.bindingName) {
      diags_.report(DiagId::WrongKind, n.range, name, fmt::format("the `{}` event", p_.events[scope.triggerEvent].name), "a value")
          .addHelp(fmt::format("use one of its fields, such as `{}.{}`", name,
                               p_.events[scope.triggerEvent].fields.empty() ? "field" : p_.events[scope.triggerEvent].fields[0].name));
      return fail(n);
    }
    if (scope.triggerFieldsUnqualified && scope.triggerEvent != kNone) {
      const Event& trigger = p_.events[scope.triggerEvent];
      if (const std::uint32_t f = trigger.findField(name); f != kNone) {
        return done(n, trigger.fields[f].type, {RefKind::TriggerField, scope.triggerEvent, f});
      }
    }
    if (name == "now") return done(n, TypeTable::kTime, {RefKind::Now});
    if (name == "today") return done(n, TypeTable::kDate, {RefKind::Today});
    if (expected != kNoExpectation && types_.isEnum(expected)) {
      const int index = types_.enumType(expected).find(name);
      if (index >= 0) return done(n, expected, {RefKind::EnumValue, static_cast<std::uint32_t>(index)});
    }
    if (const std::uint32_t attr = p_.findAttribute(name); attr != kNone) {
      if (scope.rowEvent != kNone) {
        diags_.report(DiagId::AttributeInWhere, n.range, name, p_.events[scope.rowEvent].name)
            .addHelp("test the friend's attributes outside the aggregate, joined with `and`");
        return fail(n);
      }
      if (!scope.friendData) return notFriendData(n);
      return done(n, p_.attributes[attr].type, {RefKind::Attribute, attr});
    }
    if (const std::uint32_t seg = p_.findSegment(name); seg != kNone) {
      if (scope.rowEvent != kNone) {
        diags_.report(DiagId::AttributeInWhere, n.range, name, p_.events[scope.rowEvent].name);
        return fail(n);
      }
      if (!scope.friendData) return notFriendData(n);
      if (scope.segment != kNone) {
        auto& refs = p_.segments[scope.segment].references;
        if (std::find(refs.begin(), refs.end(), seg) == refs.end()) refs.push_back(seg);
      }
      p_.segments[seg].used = true;
      return done(n, TypeTable::kBool, {RefKind::Segment, seg});
    }
    // A bare enum value with no context: fine when only one enum has it.
    if (expected == kNoExpectation || !types_.isEnum(expected)) {
      TypeId found = kNoExpectation;
      int index = -1;
      int matches = 0;
      for (TypeId id : types_.enumIds()) {
        const int i = types_.enumType(id).find(name);
        if (i >= 0) {
          found = id;
          index = i;
          ++matches;
        }
      }
      if (matches == 1) return done(n, found, {RefKind::EnumValue, static_cast<std::uint32_t>(index)});
    }
    return unknownName(n, scope, expected);
  }

  TypeId notFriendData(const NameRefExpr& n) {
    diags_.report(DiagId::WrongKind, n.range, n.name, "about a friend", "available here")
        .addHelp("test blocks and fixtures describe one friend; conditions here cannot read friend data");
    return fail(n);
  }

  TypeId unknownName(const NameRefExpr& n, const Scope& scope, TypeId expected) {
    const std::string& name = n.name;
    if (p_.findEvent(name) != kNone) {
      diags_.report(DiagId::WrongKind, n.range, name, "an event", "a value")
          .addHelp(fmt::format("ask about events with `exists({0})`, `count({0})` or `last({0}.field)`", name));
      return fail(n);
    }
    if (name == "line") {
      diags_.report(DiagId::WrongKind, n.range, name, "a module", "a value")
          .addHelp("use one of its attributes, such as `line.gender` or `line.age`");
      return fail(n);
    }
    const char* kind = p_.findMessage(name) != kNone    ? "a message"
                       : p_.findRichmenu(name) != kNone ? "a rich menu"
                       : p_.findScenario(name) != kNone ? "a scenario"
                       : p_.findCampaign(name) != kNone ? "a campaign"
                                                        : nullptr;
    if (kind != nullptr) {
      diags_.report(DiagId::WrongKind, n.range, name, kind, "a value");
      return fail(n);
    }
    if (scope.rowEvent != kNone && (expected == kNoExpectation || !types_.isEnum(expected))) {
      const Event& row = p_.events[scope.rowEvent];
      std::vector<std::string> fields;
      for (const Field& f : row.fields) fields.push_back(f.name);
      Diagnostic& d = diags_.report(DiagId::UnknownMember, n.range, fmt::format("event `{}`", row.name), "field", name);
      a_.suggest(d, name, [&] { return fields; });
      return fail(n);
    }
    if (expected != kNoExpectation && types_.isEnum(expected)) {
      const EnumType& e = types_.enumType(expected);
      Diagnostic& d = diags_.report(DiagId::UnknownEnumValue, n.range, name, e.name);
      a_.suggest(d, name, [&] { return e.values; });
      d.addHelp(fmt::format("the values of `{}` are {}", e.name, joinValues(e)));
      return fail(n);
    }
    Diagnostic& d = diags_.report(DiagId::UnknownName, n.range, name);
    a_.suggest(d, name, [&] {
      std::vector<std::string> candidates = a_.valueNames(scope);
      for (TypeId id : types_.enumIds()) {
        for (const std::string& v : types_.enumType(id).values) candidates.push_back(v);
      }
      return candidates;
    });
    return fail(n);
  }

  static std::string joinValues(const EnumType& e) {
    std::string out;
    const std::size_t shown = std::min<std::size_t>(e.values.size(), 8);
    for (std::size_t i = 0; i < shown; ++i) out += (i ? ", `" : "`") + e.values[i] + "`";
    if (shown < e.values.size()) out += ", ...";
    return out;
  }

  TypeId member(const MemberExpr& m, const Scope& scope) {
    const auto* object = as<NameRefExpr>(m.object.get());
    const std::string& field = m.member.text;
    if (object != nullptr) {
      const std::string& name = object->name;
      if (name == "line" && p_.findAttribute("line") == kNone) return lineMember(m, *object);
      if (!scope.bindingName.empty() && name == scope.bindingName) {
        return eventField(m, *object, scope.triggerEvent, RefKind::TriggerField, RefKind::Trigger);
      }
      if (scope.rowEvent != kNone && name == p_.events[scope.rowEvent].name) {
        return eventField(m, *object, scope.rowEvent, RefKind::RowField, RefKind::Event);
      }
      if (scope.triggerEvent != kNone && scope.triggerFieldsUnqualified && name == p_.events[scope.triggerEvent].name) {
        return eventField(m, *object, scope.triggerEvent, RefKind::TriggerField, RefKind::Trigger);
      }
      if (const std::uint32_t event = p_.findEvent(name); event != kNone && p_.findAttribute(name) == kNone) {
        diags_.report(DiagId::BadAggregate, m.range,
                      fmt::format("`{}.{}` is a field of past `{}` events; it can only be read through an aggregate", name, field, name))
            .addHelp(fmt::format("for example `last({0}.{1})`, `sum({0}.{1})` or `exists({0} where {1} == ...)`", name, field));
        a_.record(*object, TypeTable::kError, {RefKind::Event, event});
        return fail(m);
      }
    }
    const TypeId objectType = check(*m.object, scope, kNoExpectation);
    if (types_.isCatalog(objectType)) return catalogField(m, types_.catalogOf(objectType));
    if (!isError(objectType)) {
      // "`qty` is a value of type `int`, not something with fields"
      const std::string object = spelled(*m.object);
      diags_.report(DiagId::WrongKind, m.object->range, object.empty() ? "this" : object, "a value of type " + typeNameOf(objectType),
                    "something with fields")
          .addHelp(fmt::format("only events, the triggering event (`as e`) and catalog references have fields such as `.{}`", field));
    }
    return fail(m);
  }

  // `product.category`: a field of the catalog row the value refers to.
  TypeId catalogField(const MemberExpr& m, std::uint32_t catalog) {
    const Event& c = p_.catalogs[catalog];
    const std::uint32_t f = c.findField(m.member.text);
    if (f == kNone) {
      std::vector<std::string> names;
      for (const Field& field : c.fields) names.push_back(field.name);
      Diagnostic& d = diags_.report(DiagId::UnknownMember, m.member.range, fmt::format("catalog `{}`", c.name), "field", m.member.text);
      a_.suggest(d, m.member.text, [&] { return names; });
      return fail(m);
    }
    return done(m, c.fields[f].type, {RefKind::CatalogField, catalog, f});
  }

  TypeId lineMember(const MemberExpr& m, const NameRefExpr& object) {
    if (!a_.lineImported_) {
      diags_.report(DiagId::ModuleNotImported, m.range, "line." + m.member.text, "line")
          .addHelp("add `use line` at the top of the program");
      return fail(m);
    }
    a_.record(object, TypeTable::kError, {RefKind::Module});
    for (std::size_t i = 0; i < p_.lineAttributes.size(); ++i) {
      if (p_.lineAttributes[i].name == m.member.text) {
        return done(m, p_.lineAttributes[i].type, {RefKind::LineAttribute, static_cast<std::uint32_t>(i)});
      }
    }
    std::vector<std::string> names;
    for (const Attribute& attr : p_.lineAttributes) names.push_back(attr.name);
    Diagnostic& d = diags_.report(DiagId::UnknownMember, m.member.range, "module `line`", "attribute", m.member.text);
    a_.suggest(d, m.member.text, [&] { return names; });
    return fail(m);
  }

  TypeId eventField(const MemberExpr& m, const NameRefExpr& object, std::uint32_t eventIndex, RefKind fieldKind,
                    RefKind objectKind) {
    const Event& event = p_.events[eventIndex];
    a_.record(object, TypeTable::kError, {objectKind, eventIndex});
    const std::uint32_t f = event.findField(m.member.text);
    if (f == kNone) {
      std::vector<std::string> names;
      for (const Field& field : event.fields) names.push_back(field.name);
      Diagnostic& d = diags_.report(DiagId::UnknownMember, m.member.range, fmt::format("event `{}`", event.name), "field", m.member.text);
      a_.suggest(d, m.member.text, [&] { return names; });
      return fail(m);
    }
    return done(m, event.fields[f].type, {fieldKind, eventIndex, f});
  }

  // ---------------------------------------------------- friend predicates

  TypeId friendTest(const Expr& e, const Scope& scope) {
    if (scope.rowEvent != kNone) {
      diags_.report(DiagId::AttributeInWhere, e.range, e.kind == ExprKind::TagTest ? "tag" : "audience",
                    p_.events[scope.rowEvent].name);
      return fail(e);
    }
    if (const auto* t = as<TagTestExpr>(&e)) {
      a_.record(*t->tag, TypeTable::kString);
      a_.checkTag(*t->tag);
    }
    if (const auto* au = as<AudienceTestExpr>(&e)) {
      a_.record(*au->audience, TypeTable::kString);
      if (au->audience->value.empty()) {
        diags_.report(DiagId::TypeMismatch, au->audience->range, "an audience name", "an empty string");
      }
    }
    return done(e, TypeTable::kBool);
  }

  // ------------------------------------------------------------- calls

  TypeId call(const CallExpr& c, const Scope& scope) {
    const std::string& name = c.callee.text;
    const FunctionInfo* info = nullptr;
    for (const FunctionInfo& f : kFunctions) {
      if (name == f.name) info = &f;
    }
    if (info == nullptr) {
      if (p_.findMessage(name) != kNone) {
        diags_.report(DiagId::WrongKind, c.callee.range, name, "a message", "a function")
            .addHelp(fmt::format("send it with `send {}(...)`", name));
        return fail(c);
      }
      std::vector<std::string> names;
      for (const FunctionInfo& f : kFunctions) names.emplace_back(f.name);
      Diagnostic& d = diags_.report(DiagId::UnknownFunction, c.callee.range, name);
      a_.suggest(d, name, [&] { return names; });
      return fail(c);
    }
    const Ref ref{RefKind::Function, static_cast<std::uint32_t>(info->function)};
    if (info->function == Function::Param) return param(c, scope, ref);
    if (c.args.size() != 1) {
      diags_.report(DiagId::WrongArgumentCount, c.range, name, "1 argument", c.args.size());
      for (const ExprPtr& arg : c.args) check(*arg, scope, kNoExpectation);
      return done(c, TypeTable::kError, ref);
    }
    const Expr& arg = *c.args[0];
    switch (info->function) {
      case Function::Month:
      case Function::Day:
      case Function::Year:
      case Function::Weekday: return calendar(c, arg, scope, ref, {TypeTable::kDate, TypeTable::kTime}, TypeTable::kInt);
      case Function::Hour: return calendar(c, arg, scope, ref, {TypeTable::kTime}, TypeTable::kInt);
      case Function::Date: return calendar(c, arg, scope, ref, {TypeTable::kTime}, TypeTable::kDate);
      case Function::Age: return calendar(c, arg, scope, ref, {TypeTable::kDate}, TypeTable::kInt);
      case Function::Length: return calendar(c, arg, scope, ref, {TypeTable::kString}, TypeTable::kInt);
      case Function::Param: break;  // two arguments: param()
      case Function::Opened:
      case Function::Clicked:
        diags_.report(DiagId::NotMeasured, c.range, info->function == Function::Opened ? "opened" : "clicked",
                         info->function == Function::Opened ? "who opened a message" : "who tapped a link")
            .addHelp("nothing records it, so the condition selects nobody; LINE offers impression and click "
                     "retargeting audiences and per-request statistics instead");
        return messageStatus(c, arg, scope, ref);
      case Function::Received: return messageStatus(c, arg, scope, ref);
      case Function::Bucket: {
        const auto* seed = as<StringLitExpr>(&arg);
        if (seed == nullptr) {
          check(arg, scope, kNoExpectation);
          diags_.report(DiagId::NotLiteral, arg.range, "the seed of `bucket`", "string")
              .addHelp("a fixed seed keeps every friend in the same bucket forever: `bucket(\"pilot-2026\")`");
          return done(c, TypeTable::kError, ref);
        }
        a_.record(arg, TypeTable::kString);
        if (!scope.friendData) return done(c, TypeTable::kError, ref);
        return done(c, TypeTable::kPercent, ref);
      }
      case Function::Has: {
        const auto* attr = as<NameRefExpr>(&arg);
        const std::uint32_t index = attr ? p_.findAttribute(attr->name) : kNone;
        if (index == kNone) {
          check(arg, scope, kNoExpectation);
          diags_.report(DiagId::TypeMismatch, arg.range, "an attribute name", "something else")
              .addHelp("`has(birthday)` is true when the friend's birthday is known");
          return done(c, TypeTable::kError, ref);
        }
        check(arg, scope, kNoExpectation);
        return done(c, TypeTable::kBool, ref);
      }
    }
    return fail(c);
  }

  // `param(TEXT, KEY)`: KEY's value in TEXT of the form `k=v&k2=v2`. On a
  // postback event (`postback.param("q1")`, `p.param("q1")`), TEXT is its data.
  TypeId param(const CallExpr& c, const Scope& scope, Ref ref) {
    if (c.args.size() != 2) {
      diags_.report(DiagId::WrongArgumentCount, c.range, "param", "2 arguments", c.args.size())
          .addHelp("`param(data, \"q1\")`, or on a postback: `postback.param(\"q1\")`");
      for (const ExprPtr& arg : c.args) check(*arg, scope, kNoExpectation);
      return done(c, TypeTable::kError, ref);
    }
    bool ok = postbackData(*c.args[0], scope);
    if (!ok) {
      const TypeId text = check(*c.args[0], scope, kNoExpectation);
      ok = !isError(text) && text == TypeTable::kString;
      if (!isError(text) && !ok) {
        diags_.report(DiagId::TypeMismatch, c.args[0]->range, "string", typeNameOf(text))
            .addHelp("`param` reads `k=v&k2=v2` text, such as a postback's `data`");
      }
    }
    const TypeId key = check(*c.args[1], scope, kNoExpectation);
    if (!isError(key) && key != TypeTable::kString) {
      diags_.report(DiagId::TypeMismatch, c.args[1]->range, "string", typeNameOf(key));
      ok = false;
    }
    return done(c, ok && !isError(key) ? TypeTable::kString : TypeTable::kError, ref);
  }

  // A bare postback event standing for its data: the triggering event (by
  // its binding, or by name in a rule) or the event an aggregate is over.
  bool postbackData(const Expr& e, const Scope& scope) {
    const auto* name = as<NameRefExpr>(&e);
    const std::uint32_t postback = p_.findEvent("postback");
    if (name == nullptr || postback == kNone) return false;
    const std::uint32_t data = p_.events[postback].findField("data");
    if (scope.rowEvent == postback && name->name == "postback") {
      a_.record(e, TypeTable::kString, {RefKind::RowField, postback, data});
      return true;
    }
    const bool trigger = scope.triggerEvent == postback &&
                         ((!scope.bindingName.empty() && name->name == scope.bindingName) ||
                          (scope.triggerFieldsUnqualified && name->name == "postback"));
    if (trigger) a_.record(e, TypeTable::kString, {RefKind::TriggerField, postback, data});
    return trigger;
  }

  TypeId calendar(const CallExpr& c, const Expr& arg, const Scope& scope, Ref ref,
                  std::initializer_list<TypeId> accepted, TypeId result) {
    const TypeId t = check(arg, scope, kNoExpectation);
    if (isError(t)) return done(c, TypeTable::kError, ref);
    for (TypeId ok : accepted) {
      if (t == ok) return done(c, result, ref);
    }
    std::string wanted;
    for (TypeId ok : accepted) wanted += (wanted.empty() ? "" : " or ") + types_.name(ok);
    diags_.report(DiagId::TypeMismatch, arg.range, wanted, typeNameOf(t))
        .addHelp(fmt::format("`{}` takes a {}", c.callee.text, wanted));
    return done(c, TypeTable::kError, ref);
  }

  TypeId messageStatus(const CallExpr& c, const Expr& arg, const Scope& scope, Ref ref) {
    const auto* target = as<StringLitExpr>(&arg);
    if (target == nullptr) {
      check(arg, scope, kNoExpectation);
      diags_.report(DiagId::NotLiteral, arg.range, fmt::format("the argument of `{}`", c.callee.text), "string")
          .addHelp(fmt::format("name a message or campaign: `{}(\"spring_sale\")`", c.callee.text));
      return done(c, TypeTable::kError, ref);
    }
    if (const std::uint32_t m = p_.findMessage(target->value); m != kNone) {
      a_.record(arg, TypeTable::kString, {RefKind::Message, m});
    } else if (const std::uint32_t camp = p_.findCampaign(target->value); camp != kNone) {
      a_.record(arg, TypeTable::kString, {RefKind::Campaign, camp});
    } else {
      Diagnostic& d = diags_.report(DiagId::UnknownMessageOrCampaign, arg.range, target->value);
      a_.suggest(d, target->value, [&] {
        std::vector<std::string> names;
        for (const Message& m : p_.messages) names.push_back(m.name);
        for (const Campaign& cm : p_.campaigns) names.push_back(cm.name);
        return names;
      });
      return done(c, TypeTable::kError, ref);
    }
    if (scope.rowEvent != kNone) {
      diags_.report(DiagId::AttributeInWhere, c.range, c.callee.text, p_.events[scope.rowEvent].name);
      return done(c, TypeTable::kError, ref);
    }
    return done(c, TypeTable::kBool, ref);
  }

  // -------------------------------------------------------- aggregates

  TypeId aggregate(const AggregateExpr& agg, const Scope& scope) {
    const char* fn = aggregateFnName(agg.fn);
    if (scope.rowEvent != kNone) {
      diags_.report(DiagId::BadAggregate, agg.range, "aggregates cannot be nested inside `where`");
      return fail(agg);
    }
    // The source: `purchase` or `purchase.price`.
    const Expr* eventName = agg.source.get();
    const MemberExpr* fieldAccess = as<MemberExpr>(agg.source.get());
    if (fieldAccess != nullptr) eventName = fieldAccess->object.get();
    const auto* nameRef = as<NameRefExpr>(eventName);
    const std::uint32_t event = nameRef ? p_.findEvent(nameRef->name) : kNone;
    if (event == kNone) {
      if (nameRef == nullptr) {
        diags_.report(DiagId::BadAggregate, agg.source->range,
                      fmt::format("`{}` needs an event, such as `{}(purchase)`", fn, fn));
      } else {
        Diagnostic& d = diags_.report(DiagId::UnknownEvent, nameRef->range, nameRef->name);
        a_.suggest(d, nameRef->name, [&] {
          std::vector<std::string> names;
          for (const Event& e : p_.events) names.push_back(e.name);
          return names;
        });
      }
      return fail(agg);
    }
    a_.record(*eventName, TypeTable::kError, {RefKind::Event, event});
    const Event& ev = p_.events[event];
    TypeId fieldType = kNoExpectation;
    if (fieldAccess != nullptr) {
      const std::uint32_t f = ev.findField(fieldAccess->member.text);
      if (f == kNone) {
        std::vector<std::string> names;
        for (const Field& field : ev.fields) names.push_back(field.name);
        Diagnostic& d = diags_.report(DiagId::UnknownMember, fieldAccess->member.range,
                                      fmt::format("event `{}`", ev.name), "field", fieldAccess->member.text);
        a_.suggest(d, fieldAccess->member.text, [&] { return names; });
        return fail(agg);
      }
      fieldType = ev.fields[f].type;
      a_.record(*fieldAccess, fieldType, {RefKind::RowField, event, f});
    }

    if (agg.where) {
      Scope inner = scope;
      inner.rowEvent = event;
      a_.checkCondition(agg.where.get(), inner);
    }
    window(agg, scope);
    return done(agg, resultType(agg, ev, fieldType), {RefKind::Event, event});
  }

  void window(const AggregateExpr& agg, const Scope& scope) {
    if (agg.window.kind == Window::Kind::Within && agg.window.withinSeconds <= 0) {
      diags_.report(DiagId::BadDuration, agg.window.withinRange, "a `within` window");
    }
    if (agg.window.kind == Window::Kind::Since) {
      const TypeId t = check(*agg.window.since, scope, kNoExpectation);
      if (!isError(t) && t != TypeTable::kTime && t != TypeTable::kDate) {
        diags_.report(DiagId::TypeMismatch, agg.window.since->range, "a date or time", typeNameOf(t));
      }
    }
  }

  TypeId resultType(const AggregateExpr& agg, const Event& ev, TypeId fieldType) {
    const char* fn = aggregateFnName(agg.fn);
    switch (agg.fn) {
      case AggregateFn::Exists:
      case AggregateFn::Count:
        if (fieldType != kNoExpectation) {
          diags_.report(DiagId::BadAggregate, agg.source->range,
                        fmt::format("`{}` counts events, not values of a field", fn))
              .addHelp(fmt::format("write `{}({} where ...)` to restrict which events count", fn, ev.name));
          return TypeTable::kError;
        }
        return agg.fn == AggregateFn::Exists ? TypeTable::kBool : TypeTable::kInt;
      case AggregateFn::Sum:
        if (fieldType == kNoExpectation) return needField(agg, ev, "a number");
        if (fieldType != TypeTable::kInt && !isError(fieldType)) {
          diags_.report(DiagId::BadAggregate, agg.source->range,
                        fmt::format("`sum` adds numbers; `{}` is {}", spelled(*agg.source), typeNameOf(fieldType)));
          return TypeTable::kError;
        }
        return TypeTable::kInt;
      case AggregateFn::Min:
      case AggregateFn::Max:
        if (fieldType == kNoExpectation) return needField(agg, ev, "a value to compare");
        if (!types_.isOrdered(fieldType)) {
          diags_.report(DiagId::BadAggregate, agg.source->range,
                        fmt::format("`{}` needs values with an order; `{}` is {}", fn, spelled(*agg.source), typeNameOf(fieldType)));
          return TypeTable::kError;
        }
        return fieldType;
      case AggregateFn::Last:
        // `last(purchase)` is the time of the most recent purchase.
        return fieldType == kNoExpectation ? TypeTable::kTime : fieldType;
    }
    return TypeTable::kError;
  }

  TypeId needField(const AggregateExpr& agg, const Event& ev, const char* what) {
    const char* fn = aggregateFnName(agg.fn);
    Diagnostic& d = diags_.report(DiagId::BadAggregate, agg.source->range,
                                  fmt::format("`{}` needs a field holding {}", fn, what));
    for (const Field& f : ev.fields) {
      if (f.type == TypeTable::kInt) {
        d.addHelp(fmt::format("for example `{}({}.{})`", fn, ev.name, f.name));
        break;
      }
    }
    return TypeTable::kError;
  }

  // ------------------------------------------------------------ operators

  std::string typeNameOf(TypeId t) const { return a_.typeName(t); }

  TypeId unary(const UnaryExpr& u, const Scope& scope) {
    const TypeId t = check(*u.operand, scope, kNoExpectation);
    if (isError(t)) return fail(u);
    if (u.op == UnaryOp::Not) {
      if (t != TypeTable::kBool) {
        diags_.report(DiagId::BadUnaryOperand, u.range, "not", typeNameOf(t));
        return fail(u);
      }
      return done(u, TypeTable::kBool);
    }
    if (t != TypeTable::kInt && t != TypeTable::kDuration) {
      diags_.report(DiagId::BadUnaryOperand, u.range, "-", typeNameOf(t));
      return fail(u);
    }
    return done(u, t);
  }

  TypeId logical(const LogicalExpr& l, const Scope& scope) {
    bool ok = true;
    for (const ExprPtr& operand : l.operands) {
      const TypeId t = check(*operand, scope, TypeTable::kBool);
      if (!isError(t) && t != TypeTable::kBool) {
        diags_.report(DiagId::TypeMismatch, operand->range, "a condition (bool)", typeNameOf(t))
            .addHelp(fmt::format("`{}` joins conditions; compare the value first, as in `points > 0`",
                                 l.op == LogicalOp::And ? "and" : "or"));
        ok = false;
      }
      ok = ok && !isError(t);
    }
    return ok ? done(l, TypeTable::kBool) : fail(l);
  }

  // Checks both sides of a comparison, letting a side that needs context
  // (`gold`, `"東京都"`) take its type from the other.
  std::pair<TypeId, TypeId> checkPair(const Expr& lhs, const Expr& rhs, const Scope& scope) {
    if (takesContext(lhs, scope) && !takesContext(rhs, scope)) {
      const TypeId r = check(rhs, scope, kNoExpectation);
      return {checkWithContext(lhs, scope, r), r};
    }
    const TypeId l = check(lhs, scope, kNoExpectation);
    return {l, checkWithContext(rhs, scope, l)};
  }

  // When the other side failed, a side that needed its context (`female`
  // after a bad `line.gender`) is not reported again.
  TypeId checkWithContext(const Expr& e, const Scope& scope, TypeId context) {
    if (isError(context) && takesContext(e, scope) && as<NameRefExpr>(&e)) return fail(e);
    return check(e, scope, isError(context) ? kNoExpectation : context);
  }

  TypeId binary(const BinaryExpr& b, const Scope& scope) {
    const auto [l, r] = checkPair(*b.lhs, *b.rhs, scope);
    if (isError(l) || isError(r)) return fail(b);
    switch (b.op) {
      case BinaryOp::Add:
      case BinaryOp::Sub: return arithmetic(b, l, r);
      case BinaryOp::Eq:
      case BinaryOp::Ne: return equality(b, l, r);
      case BinaryOp::Lt:
      case BinaryOp::Le:
      case BinaryOp::Gt:
      case BinaryOp::Ge: return ordering(b, l, r, b.opRange);
      case BinaryOp::Contains:
      case BinaryOp::StartsWith:
      case BinaryOp::EndsWith:
      case BinaryOp::Matches: return stringOp(b, l, r);
    }
    return fail(b);
  }

  TypeId arithmetic(const BinaryExpr& b, TypeId l, TypeId r) {
    const bool add = b.op == BinaryOp::Add;
    const auto is = [](TypeId t, TypeId want) { return t == want; };
    if (is(l, TypeTable::kInt) && is(r, TypeTable::kInt)) return done(b, TypeTable::kInt);
    if (is(l, TypeTable::kDuration) && is(r, TypeTable::kDuration)) return done(b, TypeTable::kDuration);
    if (is(l, TypeTable::kPercent) && is(r, TypeTable::kPercent)) return done(b, TypeTable::kPercent);
    if ((is(l, TypeTable::kTime) && is(r, TypeTable::kDuration)) || (add && is(l, TypeTable::kDuration) && is(r, TypeTable::kTime))) {
      return done(b, TypeTable::kTime);
    }
    if ((is(l, TypeTable::kDate) && is(r, TypeTable::kDuration)) || (add && is(l, TypeTable::kDuration) && is(r, TypeTable::kDate))) {
      const Expr& duration = is(l, TypeTable::kDuration) ? *b.lhs : *b.rhs;
      if (const auto* lit = as<DurationLitExpr>(&duration); lit && lit->seconds % civil::kSecondsPerDay != 0) {
        diags_.report(DiagId::BadDateArithmetic, duration.range, civil::formatDuration(lit->seconds))
            .addHelp("use whole days (`7d`), or compare times: `now + 12h`");
        return fail(b);
      }
      return done(b, TypeTable::kDate);
    }
    if (!add && ((is(l, TypeTable::kDate) && is(r, TypeTable::kDate)) || (is(l, TypeTable::kTime) && is(r, TypeTable::kTime)))) {
      return done(b, TypeTable::kDuration);
    }
    Diagnostic& d = diags_.report(DiagId::BadOperands, b.opRange, add ? "+" : "-", typeNameOf(l), typeNameOf(r));
    if ((is(l, TypeTable::kDate) && is(r, TypeTable::kInt)) || (is(l, TypeTable::kTime) && is(r, TypeTable::kInt))) {
      d.addHelp("add a duration, such as `7d`");
    }
    return fail(b);
  }

  bool sameType(TypeId l, TypeId r) const { return types_.interchangeable(l, r); }

  TypeId equality(const BinaryExpr& b, TypeId l, TypeId r) {
    if (sameType(l, r)) return done(b, TypeTable::kBool);
    const auto* number = as<IntLitExpr>(b.rhs.get());
    if (l == TypeTable::kString && r == TypeTable::kInt && number != nullptr) {
      // `shop == 3` where `shop` is a string: the number is the mistake.
      const std::string name = b.lhs->kind == ExprKind::NameRef ? "`" + static_cast<const NameRefExpr&>(*b.lhs).name + "`" : "the left side";
      diags_.report(DiagId::IncomparableTypes, b.opRange, typeNameOf(l), typeNameOf(r))
          .addHelp(fmt::format("{} is a string: compare it with \"{}\"", name, number->value));
      return fail(b);
    }
    mismatch(b.opRange, l, r);
    return fail(b);
  }

  void mismatch(SourceRange where, TypeId l, TypeId r) {
    Diagnostic& d = diags_.report(DiagId::IncomparableTypes, where, typeNameOf(l), typeNameOf(r));
    if (types_.isEnum(l) && types_.isEnum(r)) {
      d.addHelp("values of different enums have no common order");
    } else if ((l == TypeTable::kDate && r == TypeTable::kTime) || (l == TypeTable::kTime && r == TypeTable::kDate)) {
      d.addHelp("compare a date with `date(time)`, or a time with a date and time literal such as `2026-12-01 10:00`");
    } else if (l == TypeTable::kPercent || r == TypeTable::kPercent) {
      d.addHelp("write percentages with `%`, as in `bucket(\"pilot\") < 10%`");
    } else if ((l == TypeTable::kInt && r == TypeTable::kString) || (l == TypeTable::kString && r == TypeTable::kInt)) {
      d.addHelp("numbers are written without quotes: `100`, not `\"100\"`");
    }
  }

  TypeId ordering(const Expr& e, TypeId l, TypeId r, SourceRange opRange) {
    if (!sameType(l, r)) {
      mismatch(opRange, l, r);
      return fail(e);
    }
    if (!types_.isOrdered(l)) {
      Diagnostic& d = diags_.report(DiagId::NotOrdered, opRange, types_.name(l));
      if (l == TypeTable::kString) d.addHelp("compare strings with `==`, `in`, `contains`, `starts_with` or `matches`");
      return fail(e);
    }
    return done(e, TypeTable::kBool);
  }

  TypeId stringOp(const BinaryExpr& b, TypeId l, TypeId r) {
    if (l != TypeTable::kString || r != TypeTable::kString) {
      diags_.report(DiagId::BadOperands, b.opRange, binaryOpSpelling(b.op), typeNameOf(l), typeNameOf(r));
      return fail(b);
    }
    if (b.op == BinaryOp::Matches) {
      const auto* pattern = as<StringLitExpr>(b.rhs.get());
      if (pattern == nullptr) {
        diags_.report(DiagId::NotLiteral, b.rhs->range, "the pattern of `matches`", "string");
        return fail(b);
      }
      RE2::Options options;
      options.set_log_errors(false);
      const RE2 regex(pattern->value, options);
      if (!regex.ok()) {
        diags_.report(DiagId::InvalidRegex, pattern->range, regex.error())
            .addHelp("patterns use RE2 syntax (no backreferences or lookaround)");
        return fail(b);
      }
    }
    return done(b, TypeTable::kBool);
  }

  TypeId in(const InExpr& in, const Scope& scope) {
    const TypeId v = check(*in.value, scope, kNoExpectation);
    if (const auto* list = as<ListLitExpr>(in.collection.get())) {
      bool ok = !isError(v);
      for (const ExprPtr& element : list->elements) {
        const TypeId t = check(*element, scope, isError(v) ? kNoExpectation : v);
        if (!isError(t) && !isError(v) && t != v) {
          diags_.report(DiagId::TypeMismatch, element->range, typeNameOf(v), typeNameOf(t))
              .addHelp("every element must have the type of the value on the left of `in`");
          ok = false;
        }
        ok = ok && !isError(t);
      }
      a_.record(*list, ok ? p_.types.listOf(v) : TypeTable::kError);
      return ok ? done(in, TypeTable::kBool) : fail(in);
    }
    const auto* range = as<RangeLitExpr>(in.collection.get());
    if (range == nullptr) return fail(in);
    const TypeId low = check(*range->low, scope, isError(v) ? kNoExpectation : v);
    const TypeId high = check(*range->high, scope, isError(v) ? kNoExpectation : v);
    if (isError(v) || isError(low) || isError(high)) return fail(in);
    if (ordering(*range, v, low, range->low->range) == TypeTable::kError ||
        ordering(*range, v, high, range->high->range) == TypeTable::kError) {
      return fail(in);
    }
    emptyRangeCheck(*range->low, *range->high, range->range);
    a_.record(*range, p_.types.listOf(v));
    return done(in, TypeTable::kBool);
  }

  void emptyRangeCheck(const Expr& low, const Expr& high, SourceRange where) {
    const auto* l = as<IntLitExpr>(&low);
    const auto* h = as<IntLitExpr>(&high);
    if (l && h && l->value > h->value) {
      diags_.report(DiagId::EmptyRange, where, l->value, h->value).addHelp("the lower bound comes first");
    }
    const auto* ld = as<DateLitExpr>(&low);
    const auto* hd = as<DateLitExpr>(&high);
    if (ld && hd && ld->days > hd->days) {
      diags_.report(DiagId::EmptyRange, where, civil::formatDate(ld->days), civil::formatDate(hd->days))
          .addHelp("the earlier date comes first");
    }
  }

  TypeId between(const BetweenExpr& b, const Scope& scope) {
    const TypeId v = check(*b.value, scope, kNoExpectation);
    const TypeId low = check(*b.low, scope, isError(v) ? kNoExpectation : v);
    const TypeId high = check(*b.high, scope, isError(v) ? kNoExpectation : v);
    if (isError(v) || isError(low) || isError(high)) return fail(b);
    if (ordering(b, v, low, b.low->range) == TypeTable::kError || ordering(b, v, high, b.high->range) == TypeTable::kError) {
      return fail(b);
    }
    emptyRangeCheck(*b.low, *b.high, b.range);
    return done(b, TypeTable::kBool);
  }

  Analyzer& a_;
  TypedProgram& p_;
  TypeTable& types_;
  DiagnosticEngine& diags_;
};

}  // namespace

TypeId Analyzer::check(const ast::Expr& e, const Scope& scope, TypeId expected) {
  ExprChecker checker(*this);
  return checker.check(e, scope, expected);
}

void Analyzer::checkCondition(const ast::Expr* e, const Scope& scope) {
  if (e == nullptr) return;
  const TypeId t = check(*e, scope, TypeTable::kBool);
  if (!p_.types.isError(t) && t != TypeTable::kBool) {
    diags_.report(DiagId::ConditionNotBool, e->range, typeName(t))
        .addHelp("compare the value, as in `points > 0` or `member_rank == gold`");
  }
}

void Analyzer::checkValue(const ast::Expr& e, const Scope& scope, TypeId expected, const char* what) {
  const TypeId t = check(e, scope, expected);
  if (p_.types.isError(t) || p_.types.isError(expected) || p_.types.interchangeable(t, expected)) return;
  diags_.report(DiagId::TypeMismatch, e.range, typeName(expected), typeName(t))
      .addHelp(fmt::format("{} is {}", what, typeName(expected)));
}

}  // namespace seg::sema
