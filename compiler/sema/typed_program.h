// The result of semantic analysis: a fully resolved, typed program.
//
// Like cel-cpp's checked AST, the tree itself is unchanged; side tables keyed
// by expression id give every expression its type and every name the
// declaration it denotes. The tables of declarations (attributes, events,
// segments, ...) are what later phases consume.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/recurrence.h"
#include "compiler/ast/ast.h"
#include "compiler/sema/types.h"

namespace seg::sema {

inline constexpr std::uint32_t kNone = ~std::uint32_t{0};

enum class AttributeOrigin : std::uint8_t { Schema, Builtin, Line };

struct Attribute {
  std::string name;
  TypeId type = TypeTable::kError;
  AttributeOrigin origin = AttributeOrigin::Schema;
  bool settable = true;  // `set` may change it (schema attributes only)
  bool derived = false;  // computed at evaluation (`friend_for`)
  SourceRange range;     // invalid for built-ins
};

struct Field {
  std::string name;
  TypeId type = TypeTable::kError;
  SourceRange range;
};

struct Event {
  std::string name;
  std::vector<Field> fields;
  bool builtin = false;  // follow, unfollow, message, postback
  SourceRange range;

  std::uint32_t findField(const std::string& fieldName) const;
};

// Functions callable in expressions.
enum class Function : std::uint8_t {
  Month, Day, Year, Weekday, Hour, Date, Age, Received, Opened, Clicked, Bucket, Has, Length, Param,
};
const char* functionName(Function function);

// What a name (or member access, call or aggregate source) denotes.
enum class RefKind : std::uint8_t {
  None,
  Attribute,     // index: attribute
  LineAttribute, // index: line attribute
  Segment,       // index: segment
  EnumValue,     // index: value position; the enum is the expression's type
  RowField,      // index: event, sub: field: a field of the event being aggregated
  TriggerField,  // index: event, sub: field: a field of the event that triggered the rule or scenario
  CatalogField,  // index: catalog, sub: field: a field of the catalog row a value refers to
  Trigger,       // index: event: the `as e` binding itself
  Event,         // index: event: an aggregate's source
  Param,         // index: parameter of the enclosing message
  Module,        // `line`
  Now,
  Today,
  Function,      // index: Function
  Message,       // index: message (received/opened/clicked argument)
  Campaign,      // index: campaign (received/opened/clicked argument)
};

struct Ref {
  RefKind kind = RefKind::None;
  std::uint32_t index = kNone;
  std::uint32_t sub = kNone;
};

struct Segment {
  std::string name;
  const ast::SegmentDecl* decl = nullptr;
  std::vector<std::uint32_t> references;  // segments used directly
  bool usesLine = false;                  // depends on `line.*`, directly or through references
  bool usesFriendData = false;            // reads attributes, tags, events... seg holds
  bool used = false;
};

struct MessageParam {
  std::string name;
  TypeId type = TypeTable::kError;
  SourceRange range;
};

struct Message {
  std::string name;
  const ast::MessageDecl* decl = nullptr;
  std::vector<MessageParam> params;
  std::string flexJson;  // flex messages: the container, minified
  bool used = false;
};

struct Richmenu {
  std::string name;
  std::string alias;  // LINE rich menu alias or ID
  const ast::RichmenuDecl* decl = nullptr;
};

struct MenuRule {
  const ast::Expr* condition = nullptr;  // null: `default`
  std::uint32_t richmenu = kNone;
  SourceRange range;
  const ast::MenuRule* decl = nullptr;
};

// Yearly: a date attribute's day each year (`on birthday at 09:00`);
// Enter / Leave: a friend coming into or out of a segment.
enum class TriggerKind : std::uint8_t { Follow, Unfollow, Message, Postback, Start, Event, Yearly, Enter, Leave };

struct Trigger {
  TriggerKind kind = TriggerKind::Start;
  std::uint32_t event = kNone;      // the event (built-in or schema); kNone for the others
  std::uint32_t attribute = kNone;  // Yearly
  std::uint32_t segment = kNone;    // Enter, Leave
  std::int32_t atSecondsOfDay = 0;  // Yearly
};

struct Scenario {
  std::string name;
  const ast::ScenarioDecl* decl = nullptr;
  Trigger trigger;
};

struct Rule {
  const ast::RuleDecl* decl = nullptr;
  Trigger trigger;
};

// The LINE-side part of a campaign audience, as LINE's demographic filter
// understands it. Each conjunct is one `line.*` condition tree (and/or/not
// of LINE predicates only).
struct Campaign {
  std::string name;
  const ast::CampaignDecl* decl = nullptr;
  std::vector<const ast::Expr*> lineConjuncts;   // applied by LINE
  std::vector<const ast::Expr*> localConjuncts;  // evaluated by seg
  std::optional<seg::Recurrence> every;          // `every ...`, when valid
};

struct Policy {
  std::string timezone = "Asia/Tokyo";
  std::optional<std::int32_t> quietFrom;  // seconds of day
  std::optional<std::int32_t> quietTo;
  std::optional<std::int64_t> capCount;
  std::int64_t capPeriodSeconds = 0;
  std::optional<std::int64_t> minReach;
  bool expiredReplyAsPush = true;
  bool sendBeyondQuota = false;
  const ast::PolicyDecl* decl = nullptr;
};

struct Test {
  std::string title;
  const ast::TestDecl* decl = nullptr;
};

// Finds an item of a vector by name through a hash index (the first of
// equal names, as a scan would), kept up as items are appended. Programs
// of hundreds of thousands of declarations resolve names in linear time.
class NameIndex {
 public:
  template <typename T>
  std::uint32_t find(const std::vector<T>& items, const std::string& name) const {
    if (indexed_ > items.size()) reset();
    for (; indexed_ < items.size(); ++indexed_) map_.emplace(items[indexed_].name, static_cast<std::uint32_t>(indexed_));
    const auto it = map_.find(name);
    return it == map_.end() ? kNone : it->second;
  }

 private:
  void reset() const {
    map_.clear();
    indexed_ = 0;
  }
  mutable std::unordered_map<std::string, std::uint32_t> map_;
  mutable std::size_t indexed_ = 0;
};

struct TypedProgram {
  ast::Program ast;      // the checked tree (owned)
  ast::Program lineAst;  // stdlib/line.seg when `use line` (owned)
  TypeTable types;
  std::vector<TypeId> exprType;  // by ExprId
  std::vector<Ref> exprRef;      // by ExprId

  std::vector<Attribute> attributes;      // built-ins first, then the schema's
  std::vector<Attribute> lineAttributes;  // `line.*`, when imported
  std::vector<Event> events;              // built-in events first
  // `catalog product { id: string ... }`: tables events refer to by id
  // (an Event's shape: a name and typed fields).
  std::vector<Event> catalogs;
  std::vector<TypeId> catalogTypes;  // by catalog
  // `tags { ... }`: the tags the program declares (none: any tag goes).
  std::vector<std::string> declaredTags;
  std::vector<Segment> segments;
  std::vector<std::uint32_t> segmentOrder;  // every segment after those it uses
  std::vector<Message> messages;
  std::vector<Richmenu> richmenus;
  std::vector<MenuRule> menus;
  std::vector<Scenario> scenarios;
  std::vector<Rule> rules;
  std::vector<Campaign> campaigns;
  Policy policy;
  std::vector<Test> tests;
  bool usesLine = false;

  TypeId typeOf(const ast::Expr& e) const { return exprType.at(e.id); }
  const Ref& refOf(const ast::Expr& e) const { return exprRef.at(e.id); }

  std::uint32_t findAttribute(const std::string& name) const;
  std::uint32_t findEvent(const std::string& name) const;
  std::uint32_t findCatalog(const std::string& name) const;
  std::uint32_t findSegment(const std::string& name) const;
  std::uint32_t findMessage(const std::string& name) const;
  std::uint32_t findRichmenu(const std::string& name) const;
  std::uint32_t findScenario(const std::string& name) const;
  std::uint32_t findCampaign(const std::string& name) const;

 private:
  NameIndex catalogIndex_;
  NameIndex attributeIndex_, eventIndex_, segmentIndex_, messageIndex_, richmenuIndex_, scenarioIndex_, campaignIndex_;
};

}  // namespace seg::sema
