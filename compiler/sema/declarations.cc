// Collecting declarations: built-ins, `use` modules, the schema, and the
// names of everything the program declares.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "base/spelling.h"
#include "compiler/sema/analyzer.h"
#include "compiler/syntax/parser.h"
#include "stdlib/stdlib.h"

namespace seg::sema {

std::uint32_t Event::findField(const std::string& fieldName) const {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == fieldName) return static_cast<std::uint32_t>(i);
  }
  return kNone;
}

std::uint32_t TypedProgram::findAttribute(const std::string& name) const { return attributeIndex_.find(attributes, name); }
std::uint32_t TypedProgram::findEvent(const std::string& name) const { return eventIndex_.find(events, name); }
std::uint32_t TypedProgram::findCatalog(const std::string& name) const { return catalogIndex_.find(catalogs, name); }
std::uint32_t TypedProgram::findSegment(const std::string& name) const { return segmentIndex_.find(segments, name); }
std::uint32_t TypedProgram::findMessage(const std::string& name) const { return messageIndex_.find(messages, name); }
std::uint32_t TypedProgram::findRichmenu(const std::string& name) const { return richmenuIndex_.find(richmenus, name); }
std::uint32_t TypedProgram::findScenario(const std::string& name) const { return scenarioIndex_.find(scenarios, name); }
std::uint32_t TypedProgram::findCampaign(const std::string& name) const { return campaignIndex_.find(campaigns, name); }

const char* functionName(Function function) {
  switch (function) {
    case Function::Month: return "month";
    case Function::Day: return "day";
    case Function::Year: return "year";
    case Function::Weekday: return "weekday";
    case Function::Hour: return "hour";
    case Function::Date: return "date";
    case Function::Age: return "age";
    case Function::Received: return "received";
    case Function::Opened: return "opened";
    case Function::Clicked: return "clicked";
    case Function::Bucket: return "bucket";
    case Function::Has: return "has";
    case Function::Length: return "length";
    case Function::Param: return "param";
  }
  return "?";
}

void Analyzer::run() {
  const ast::Program& ast = p_.ast;
  baseDirectory_ = options_.baseDirectory;
  if (baseDirectory_.empty() && ast.file != kNoFile) {
    baseDirectory_ = std::filesystem::path(sources_.file(ast.file).path()).parent_path().string();
    if (baseDirectory_.empty()) baseDirectory_ = ".";
  }
  p_.exprType.assign(ast.exprCount, TypeTable::kError);
  p_.exprRef.assign(ast.exprCount, Ref{});

  declareBuiltins();
  importModules();
  collectCatalogs();
  collectSchema();
  collectDeclarations();

  // Once the error limit stops reporting, nothing more is checked: the
  // program cannot be used, and the rest would only cost time.
  for (void (Analyzer::*pass)() : {&Analyzer::checkSegments, &Analyzer::checkMessages, &Analyzer::checkRichmenus,
                                    &Analyzer::checkMenus, &Analyzer::checkScenarios, &Analyzer::checkRules,
                                    &Analyzer::checkCampaigns, &Analyzer::checkPolicy, &Analyzer::checkTests,
                                    &Analyzer::checkLineRules}) {
    (this->*pass)();
    if (diags_.limitReached()) return;
  }
  if (!diags_.hasErrors()) lint();
}

// Per-friend state every program has, and the events LINE's webhooks bring.
void Analyzer::declareBuiltins() {
  struct Builtin {
    const char* name;
    TypeId type;
    bool settable;
    bool derived;
  };
  const Builtin attributes[] = {
      {"name", TypeTable::kString, false, false},        // display name from the LINE profile
      {"score", TypeTable::kInt, false, false},          // changed with `score += n`
      {"followed_at", TypeTable::kTime, false, false},   // when the friend (last) followed
      {"friend_for", TypeTable::kDuration, false, true}, // now - followed_at
      {"inflow", TypeTable::kString, true, false},       // where the friend came from
      {"blocked", TypeTable::kBool, false, false},       // blocked friends never receive
  };
  for (const Builtin& b : attributes) {
    p_.attributes.push_back({b.name, b.type, AttributeOrigin::Builtin, b.settable, b.derived, {}});
    declared_[b.name] = {"a built-in attribute", {}};
  }
  const auto event = [&](const char* name, std::vector<Field> fields) {
    p_.events.push_back({name, std::move(fields), true, {}});
    declared_[name] = {"a built-in event", {}};
  };
  event("follow", {{"unblocked", TypeTable::kBool, {}}});
  event("unfollow", {});
  event("message", {{"text", TypeTable::kString, {}}});
  // A datetime picker's choice (LINE's params date, time "10:00", datetime).
  // Not named `time`: event records use that key for the event's time.
  event("postback", {{"data", TypeTable::kString, {}},
                     {"picked_date", TypeTable::kDate, {}},
                     {"picked_time", TypeTable::kString, {}},
                     {"picked_datetime", TypeTable::kTime, {}}});
  for (const char* reserved : {"now", "today", "line"}) declared_[reserved] = {"a built-in name", {}};
}

void Analyzer::importModules() {
  for (const ast::DeclPtr& d : p_.ast.decls) {
    const auto* use = ast::as<ast::UseDecl>(d.get());
    if (use == nullptr) continue;
    const auto module = stdlib::find(use->module.text);
    if (!module) {
      std::vector<std::string> names;
      for (const stdlib::Module& m : stdlib::modules()) names.emplace_back(m.name);
      Diagnostic& diag = diags_.report(DiagId::UnknownModule, use->module.range, use->module.text);
      if (auto match = closestMatch(use->module.text, names)) diag.addHelp(fmt::format("did you mean `{}`?", *match));
      continue;
    }
    if (lineImported_) continue;  // a second `use line` changes nothing
    const FileId file = sources_.add("<stdlib>/" + std::string(module->name) + ".seg", module->text);
    p_.lineAst = syntax::parseFile(sources_, file, diags_);
    lineImported_ = true;
    p_.usesLine = true;
    for (const ast::DeclPtr& ld : p_.lineAst.decls) {
      const auto* schema = ast::as<ast::SchemaDecl>(ld.get());
      if (schema == nullptr) continue;
      for (const ast::AttributeDecl& a : schema->attributes) {
        const TypeId type = resolveType(a.type, "line." + a.name.text, true);
        p_.lineAttributes.push_back({a.name.text, type, AttributeOrigin::Line, false, false, a.range});
      }
    }
  }
}

TypeId Analyzer::resolveType(const ast::TypeExpr& type, const std::string& owner, bool allowEnum) {
  if (type.kind == ast::TypeExpr::Kind::Named) {
    const TypeId id = TypeTable::primitive(type.name.text);
    // A catalog's rows, referred to by id (fields of events and attributes).
    if (const std::uint32_t c = p_.findCatalog(type.name.text); id == TypeTable::kError && allowEnum && c != kNone) {
      return p_.catalogTypes[c];
    }
    if (id == TypeTable::kError && !type.name.text.empty()) {
      Diagnostic& d = diags_.report(DiagId::UnknownType, type.name.range, type.name.text);
      if (auto match = closestMatch(type.name.text, TypeTable::primitiveNames())) {
        d.addHelp(fmt::format("did you mean `{}`?", *match));
      } else {
        d.addHelp("types are bool, int, string, date, time, duration, percent and enum(...)");
      }
    }
    return id;
  }
  if (!allowEnum) {
    diags_.report(DiagId::TypeMismatch, type.range, "a bool, int, string, date, time, duration or percent", "an enum")
        .addHelp("message parameters are plain values");
    return TypeTable::kError;
  }
  EnumType e;
  e.name = owner;
  e.range = type.range;
  for (const ast::EnumValueDecl& v : type.enumValues) {
    if (e.find(v.name.text) >= 0) {
      diags_.report(DiagId::Redeclared, v.name.range, v.name.text, fmt::format("a value of `{}`", owner));
      continue;
    }
    e.values.push_back(v.name.text);
    e.labels.push_back(v.label);
  }
  return p_.types.addEnum(std::move(e));
}

bool Analyzer::checkUnique(const ast::Name& name) {
  if (name.text.empty()) return false;
  const auto found = declared_.find(name.text);
  if (found == declared_.end()) {
    return true;
  }
  const auto& [kind, range] = found->second;
  if (!range.valid()) {
    diags_.report(DiagId::BuiltinRedeclared, name.range, name.text).addHelp(fmt::format("`{}` is {}; choose another name", name.text, kind));
  } else {
    diags_.report(DiagId::Redeclared, name.range, name.text, kind).addNote(range, "declared here");
  }
  return false;
}

// Before the schema: its fields may refer to a catalog (`product: product`).
void Analyzer::collectCatalogs() {
  for (const ast::DeclPtr& d : p_.ast.decls) {
    const auto* c = ast::as<ast::CatalogDecl>(d.get());
    if (c == nullptr || !checkUnique(c->name)) continue;
    declared_[c->name.text] = {"a catalog", c->name.range};
    Event catalog{c->name.text, {}, false, c->range};
    for (const ast::FieldDecl& f : c->fields) {
      if (catalog.findField(f.name.text) != kNone) {
        diags_.report(DiagId::Redeclared, f.name.range, f.name.text, fmt::format("a field of `{}`", c->name.text));
        continue;
      }
      catalog.fields.push_back({f.name.text, resolveType(f.type, c->name.text + "." + f.name.text, true), f.range});
    }
    const std::uint32_t id = catalog.findField("id");
    if (id == kNone || catalog.fields[id].type != TypeTable::kString) {
      diags_.report(DiagId::BadCatalog, c->name.range, fmt::format("catalog `{}` needs `id: string`, the key its rows are found by", c->name.text))
          .addHelp("events refer to a row by its id: a field `" + c->name.text + ": " + c->name.text + "` holds the id of one row");
    }
    p_.catalogs.push_back(std::move(catalog));
    p_.catalogTypes.push_back(p_.types.addCatalog(c->name.text, static_cast<std::uint32_t>(p_.catalogs.size() - 1)));
  }
}

void Analyzer::collectSchema() {
  for (const ast::DeclPtr& d : p_.ast.decls) {
    const auto* schema = ast::as<ast::SchemaDecl>(d.get());
    if (schema == nullptr) continue;
    for (const ast::AttributeDecl& a : schema->attributes) {
      if (!checkUnique(a.name)) continue;
      declared_[a.name.text] = {"an attribute", a.name.range};
      const TypeId type = resolveType(a.type, a.name.text, true);
      p_.attributes.push_back({a.name.text, type, AttributeOrigin::Schema, true, false, a.range});
    }
    for (const ast::EventDecl& e : schema->events) {
      if (!checkUnique(e.name)) continue;
      declared_[e.name.text] = {"an event", e.name.range};
      Event event{e.name.text, {}, false, e.range};
      for (const ast::FieldDecl& f : e.fields) {
        if (event.findField(f.name.text) != kNone) {
          diags_.report(DiagId::Redeclared, f.name.range, f.name.text, fmt::format("a field of `{}`", e.name.text));
          continue;
        }
        // Event records (JSONL, feeds) use these keys for themselves.
        for (const char* key : {"time", "event", "user_id", "userId"}) {
          if (f.name.text == key) {
            diags_.report(DiagId::ReservedFieldName, f.name.range, key, e.name.text, key)
                .addHelp(key == std::string_view("time") ? "the event's own time is already kept: give this field another name, such as `visited_at`"
                                                          : "give the field another name");
          }
        }
        event.fields.push_back({f.name.text, resolveType(f.type, e.name.text + "." + f.name.text, true), f.range});
      }
      p_.events.push_back(std::move(event));
    }
  }
}

void Analyzer::collectDeclarations() {
  const auto declare = [&](const ast::Name& name, const char* kind) {
    if (!checkUnique(name)) return false;
    declared_[name.text] = {kind, name.range};
    return true;
  };
  const ast::MenusDecl* menus = nullptr;
  for (const ast::DeclPtr& d : p_.ast.decls) {
    if (const auto* s = ast::as<ast::SegmentDecl>(d.get())) {
      if (declare(s->name, "a segment")) p_.segments.push_back({s->name.text, s, {}, false, false});
    } else if (const auto* m = ast::as<ast::MessageDecl>(d.get())) {
      if (declare(m->name, "a message")) p_.messages.push_back({m->name.text, m, {}, {}, false});
    } else if (const auto* r = ast::as<ast::RichmenuDecl>(d.get())) {
      if (declare(r->name, "a rich menu")) p_.richmenus.push_back({r->name.text, r->alias->value, r});
    } else if (const auto* sc = ast::as<ast::ScenarioDecl>(d.get())) {
      if (declare(sc->name, "a scenario")) p_.scenarios.push_back({sc->name.text, sc, {}});
    } else if (const auto* c = ast::as<ast::CampaignDecl>(d.get())) {
      if (declare(c->name, "a campaign")) p_.campaigns.push_back({c->name.text, c, {}, {}, {}});
    } else if (const auto* rule = ast::as<ast::RuleDecl>(d.get())) {
      p_.rules.push_back({rule, {}});
    } else if (const auto* t = ast::as<ast::TestDecl>(d.get())) {
      p_.tests.push_back({t->title->value, t});
    } else if (const auto* mn = ast::as<ast::MenusDecl>(d.get())) {
      if (menus != nullptr) {
        diags_.report(DiagId::DuplicateBlock, {mn->range.file, mn->range.begin, {mn->range.begin.line, mn->range.begin.column + 5}}, "menus")
            .addNote({menus->range.file, menus->range.begin, menus->range.begin}, "the first `menus` block is here");
      } else {
        menus = mn;
      }
    } else if (const auto* tags = ast::as<ast::TagsDecl>(d.get())) {
      for (const auto& t : tags->tags) {
        if (t->value.empty()) diags_.report(DiagId::EmptyTag, t->range);
        if (std::find(p_.declaredTags.begin(), p_.declaredTags.end(), t->value) == p_.declaredTags.end()) p_.declaredTags.push_back(t->value);
      }
    } else if (const auto* pol = ast::as<ast::PolicyDecl>(d.get())) {
      if (p_.policy.decl != nullptr) {
        diags_.report(DiagId::DuplicateBlock, {pol->range.file, pol->range.begin, {pol->range.begin.line, pol->range.begin.column + 6}}, "policy")
            .addNote({p_.policy.decl->range.file, p_.policy.decl->range.begin, p_.policy.decl->range.begin}, "the first `policy` block is here");
      } else {
        p_.policy.decl = pol;
      }
    }
  }
  if (menus != nullptr) {
    for (const ast::MenuRule& rule : menus->rules) p_.menus.push_back({rule.condition.get(), kNone, rule.range, &rule});
  }
}

std::vector<std::string> Analyzer::valueNames(const Scope& scope) const {
  std::vector<std::string> names = {"now", "today"};
  const auto addFields = [&](std::uint32_t event) {
    if (event == kNone) return;
    for (const Field& f : p_.events[event].fields) names.push_back(f.name);
  };
  addFields(scope.rowEvent);
  if (scope.triggerFieldsUnqualified) addFields(scope.triggerEvent);
  if (!scope.bindingName.empty()) names.push_back(scope.bindingName);
  if (scope.friendData && scope.rowEvent == kNone) {
    for (const Attribute& a : p_.attributes) names.push_back(a.name);
    for (const Segment& s : p_.segments) names.push_back(s.name);
  }
  return names;
}

TypedProgram analyze(ast::Program program, SourceManager& sources, DiagnosticEngine& diags,
                     const AnalyzeOptions& options) {
  TypedProgram out;
  out.ast = std::move(program);
  Analyzer analyzer(out, sources, diags, options);
  analyzer.run();
  return out;
}

}  // namespace seg::sema
