// The seg abstract syntax tree.
//
// Built by compiler/syntax from the parse tree; nothing here knows ANTLR.
// Every node carries the source range it came from. Expressions carry a
// dense id so later phases can keep side tables (types, bindings) without
// touching the tree, as cel-cpp's checker does.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/source/source.h"

namespace seg::ast {

struct Name {
  std::string text;
  SourceRange range;
};

// ------------------------------------------------------------------ types

struct EnumValueDecl {
  Name name;
  std::string label;  // `jp_13 = "東京都"`: "" when none
  SourceRange labelRange;
};

struct TypeExpr {
  enum class Kind : std::uint8_t { Named, Enum };
  Kind kind = Kind::Named;
  Name name;                              // Named: `int`, `date`, ...
  std::vector<EnumValueDecl> enumValues;  // Enum: in declaration (= rank) order
  SourceRange range;
};

// ------------------------------------------------------------ expressions

enum class ExprKind : std::uint8_t {
#define EXPR_KIND(Name) Name,
#include "compiler/ast/expr_kinds.def"
};
const char* exprKindName(ExprKind kind);

using ExprId = std::uint32_t;

struct Expr {
  Expr(ExprKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  const ExprKind kind;
  SourceRange range;
  ExprId id = 0;  // assigned by the builder, unique within a Program
};
using ExprPtr = std::unique_ptr<Expr>;

// Checked downcast helpers: `as<CallExpr>(e)` returns nullptr on mismatch.
template <typename T>
T* as(Expr* e) {
  return e && e->kind == T::kKind ? static_cast<T*>(e) : nullptr;
}
template <typename T>
const T* as(const Expr* e) {
  return e && e->kind == T::kKind ? static_cast<const T*>(e) : nullptr;
}

#define SEG_EXPR(Name) \
  static constexpr ExprKind kKind = ExprKind::Name; \
  explicit Name##Expr(SourceRange r) : Expr(kKind, r) {}

struct IntLitExpr : Expr {
  SEG_EXPR(IntLit)
  std::int64_t value = 0;
};

// `10%`, `2.5%`: stored in basis points (1% = 100) so arithmetic is exact.
struct PercentLitExpr : Expr {
  SEG_EXPR(PercentLit)
  std::int64_t basisPoints = 0;
};

// `{{name}}` inside a string, with its exact source range.
struct Placeholder {
  std::string name;  // may be dotted: `e.product`
  SourceRange range;
  // `{{name|お客様}}`: said instead when the value is missing or empty.
  std::optional<std::string> fallback;
  // Where the `{{...}}` sits in the decoded string value, in bytes.
  std::size_t offset = 0, length = 0;
};

struct StringLitExpr : Expr {
  SEG_EXPR(StringLit)
  std::string value;  // escapes decoded, UTF-8
  std::vector<Placeholder> placeholders;
};

struct BoolLitExpr : Expr {
  SEG_EXPR(BoolLit)
  bool value = false;
};

// A calendar date, as days since 1970-01-01.
struct DateLitExpr : Expr {
  SEG_EXPR(DateLit)
  std::int32_t days = 0;
};

// A wall-clock date and time. Without an explicit offset it is read in the
// policy timezone.
struct DateTimeLitExpr : Expr {
  SEG_EXPR(DateTimeLit)
  std::int32_t days = 0;
  std::int32_t secondsOfDay = 0;
  std::optional<std::int32_t> utcOffsetSeconds;
};

// A time of day such as `10:00`, in seconds after midnight.
struct ClockLitExpr : Expr {
  SEG_EXPR(ClockLit)
  std::int32_t secondsOfDay = 0;
};

// `15m`, `24h`, `30d`, in seconds.
struct DurationLitExpr : Expr {
  SEG_EXPR(DurationLit)
  std::int64_t seconds = 0;
};

struct ListLitExpr : Expr {
  SEG_EXPR(ListLit)
  std::vector<ExprPtr> elements;
};

// `20..29`: both ends included.
struct RangeLitExpr : Expr {
  SEG_EXPR(RangeLit)
  ExprPtr low;
  ExprPtr high;
};

struct NameRefExpr : Expr {
  SEG_EXPR(NameRef)
  std::string name;
};

// `e.product`, `line.gender`, `purchase.price`.
struct MemberExpr : Expr {
  SEG_EXPR(Member)
  ExprPtr object;
  Name member;
};

// `month(birthday)`, `received("spring_sale")`, `bucket("pilot")`.
struct CallExpr : Expr {
  SEG_EXPR(Call)
  Name callee;
  std::vector<ExprPtr> args;
};

enum class AggregateFn : std::uint8_t { Exists, Count, Sum, Min, Max, Last };
const char* aggregateFnName(AggregateFn fn);

struct Window {
  enum class Kind : std::uint8_t { None, Within, Since };
  Kind kind = Kind::None;
  std::int64_t withinSeconds = 0;  // Within
  SourceRange withinRange;         // Within: the duration literal
  ExprPtr since;                   // Since
};

// `count(view where category == "diet", within 30d)`.
struct AggregateExpr : Expr {
  SEG_EXPR(Aggregate)
  AggregateFn fn = AggregateFn::Exists;
  ExprPtr source;  // event name, or event.field for sum/min/max/last
  ExprPtr where;   // may be null
  Window window;
};

struct TagTestExpr : Expr {
  SEG_EXPR(TagTest)
  std::unique_ptr<StringLitExpr> tag;
};

struct AudienceTestExpr : Expr {
  SEG_EXPR(AudienceTest)
  std::unique_ptr<StringLitExpr> audience;
};

enum class UnaryOp : std::uint8_t { Not, Negate };

struct UnaryExpr : Expr {
  SEG_EXPR(Unary)
  UnaryOp op = UnaryOp::Not;
  ExprPtr operand;
};

enum class BinaryOp : std::uint8_t {
  Add, Sub, Eq, Ne, Lt, Le, Gt, Ge, Contains, StartsWith, EndsWith, Matches
};
const char* binaryOpSpelling(BinaryOp op);

struct BinaryExpr : Expr {
  SEG_EXPR(Binary)
  BinaryOp op = BinaryOp::Eq;
  SourceRange opRange;
  ExprPtr lhs;
  ExprPtr rhs;
};

enum class LogicalOp : std::uint8_t { And, Or };

// `a and b and c`: chains are flattened, so long chains never nest deeply.
struct LogicalExpr : Expr {
  SEG_EXPR(Logical)
  LogicalOp op = LogicalOp::And;
  std::vector<ExprPtr> operands;
};

// `x in [a, b]`, `x not in 20..29`.
struct InExpr : Expr {
  SEG_EXPR(In)
  bool negated = false;
  ExprPtr value;
  ExprPtr collection;  // ListLitExpr or RangeLitExpr
};

struct BetweenExpr : Expr {
  SEG_EXPR(Between)
  ExprPtr value;
  ExprPtr low;
  ExprPtr high;
};

#undef SEG_EXPR

// --------------------------------------------------------------- actions

enum class ActionKind : std::uint8_t {
#define ACTION_KIND(Name, Keyword) Name,
#include "compiler/ast/action_kinds.def"
};
const char* actionKeyword(ActionKind kind);

struct NamedArg {
  Name name;
  ExprPtr value;
};

// `welcome` or `reminder(product: e.product)`.
struct MessageRef {
  Name name;
  std::vector<NamedArg> args;
  SourceRange range;
};

struct Action;
using ActionPtr = std::unique_ptr<Action>;
using ActionList = std::vector<ActionPtr>;

enum class AssignOp : std::uint8_t { Add, Subtract, Assign };

struct Action {
  ActionKind kind = ActionKind::Send;
  SourceRange range;
  std::vector<MessageRef> messages;         // Send, Reply
  std::unique_ptr<StringLitExpr> tag;       // Tag, Untag
  AssignOp assignOp = AssignOp::Add;           // Score; Set (`=` unless `+=`, `-=`)
  Name target;                              // Set: attribute; Richmenu/Start/Stop: name
  ExprPtr value;                            // Score, Set; If: condition
  ActionList thenActions;                   // If
  ActionList elseActions;                   // If (an `else if` is one nested If)
};

// ----------------------------------------------------------- declarations

enum class DeclKind : std::uint8_t {
#define DECL_KIND(Name, Keyword) Name,
#include "compiler/ast/decl_kinds.def"
};
const char* declKeyword(DeclKind kind);

struct Decl {
  Decl(DeclKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~Decl() = default;
  Decl(const Decl&) = delete;
  Decl& operator=(const Decl&) = delete;

  const DeclKind kind;
  SourceRange range;
};
using DeclPtr = std::unique_ptr<Decl>;

template <typename T>
T* as(Decl* d) {
  return d && d->kind == T::kKind ? static_cast<T*>(d) : nullptr;
}
template <typename T>
const T* as(const Decl* d) {
  return d && d->kind == T::kKind ? static_cast<const T*>(d) : nullptr;
}

#define SEG_DECL(Name) \
  static constexpr DeclKind kKind = DeclKind::Name; \
  explicit Name##Decl(SourceRange r) : Decl(kKind, r) {}

struct UseDecl : Decl {
  SEG_DECL(Use)
  Name module;
};

struct AttributeDecl {
  Name name;
  TypeExpr type;
  SourceRange range;
};

struct FieldDecl {
  Name name;
  TypeExpr type;
  SourceRange range;
};

struct EventDecl {
  Name name;
  std::vector<FieldDecl> fields;
  SourceRange range;
};

struct SchemaDecl : Decl {
  SEG_DECL(Schema)
  std::vector<AttributeDecl> attributes;
  std::vector<EventDecl> events;
};

struct CatalogDecl : Decl {
  SEG_DECL(Catalog)
  Name name;
  std::vector<FieldDecl> fields;
};

struct SegmentDecl : Decl {
  SEG_DECL(Segment)
  Name name;
  ExprPtr condition;
};

struct MessageBody {
  enum class Kind : std::uint8_t { Text, Flex, Image, Sticker };
  Kind kind = Kind::Text;
  std::unique_ptr<StringLitExpr> text;     // Text: body; Flex: file path; Image: URL
  std::unique_ptr<StringLitExpr> altText;  // Flex
  std::unique_ptr<StringLitExpr> preview;  // Image (optional)
  std::int64_t packageId = 0;              // Sticker
  std::int64_t stickerId = 0;              // Sticker
  SourceRange range;
};
const char* messageKindName(MessageBody::Kind kind);

struct ParamDecl {
  Name name;
  TypeExpr type;
  SourceRange range;
};

struct MessageDecl : Decl {
  SEG_DECL(Message)
  Name name;
  std::vector<ParamDecl> params;
  MessageBody body;
};

struct RichmenuDecl : Decl {
  SEG_DECL(Richmenu)
  Name name;
  std::unique_ptr<StringLitExpr> alias;
};

struct MenuRule {
  ExprPtr condition;  // null for `default`
  Name menu;
  SourceRange range;
};

struct MenusDecl : Decl {
  SEG_DECL(Menus)
  std::vector<MenuRule> rules;
};

struct Trigger {
  enum class Change : std::uint8_t { None, Enter, Leave };
  // follow, unfollow, message, postback, start, an event, a date attribute
  // (with `at`), or a segment (`enter` / `leave`)
  Name name;
  Change change = Change::None;
  std::optional<std::int32_t> atSecondsOfDay;  // `on birthday at 09:00`
  SourceRange atRange;
};
// "cart_add", "birthday at 09:00", "enter vip"
std::string triggerText(const Trigger& trigger);

struct StepTiming {
  enum class Kind : std::uint8_t { Day, After };
  Kind kind = Kind::Day;
  std::int64_t day = 0;                      // Day
  std::optional<std::int32_t> atSecondsOfDay;  // Day: `at HH:MM`
  SourceRange atRange;
  std::int64_t afterSeconds = 0;             // After
  SourceRange range;
};

struct Step {
  StepTiming timing;
  ExprPtr when;  // may be null
  ActionList actions;
  SourceRange range;
};

struct Reentry {
  enum class Kind : std::uint8_t { Never, Always, After };
  Kind kind = Kind::Never;
  std::int64_t afterSeconds = 0;
  SourceRange range;  // invalid when not written (default)
};

struct ScenarioDecl : Decl {
  SEG_DECL(Scenario)
  Name name;
  Trigger trigger;
  ExprPtr where;                 // may be null
  std::optional<Name> binding;   // `as e`
  ExprPtr per;                   // `per e.product`: one enrolment per value; may be null
  std::vector<ExprPtr> exitWhen;
  Reentry reentry;
  std::vector<Step> steps;
};

struct RuleDecl : Decl {
  SEG_DECL(Rule)
  Trigger trigger;
  ExprPtr where;  // may be null
  ActionList actions;
};

struct SplitArm {
  std::int64_t basisPoints = 0;
  SourceRange shareRange;
  bool holdout = false;
  std::vector<MessageRef> messages;
  SourceRange range;
};

// `every UNIT [on day N] at HH:MM`: a campaign that runs at each occurrence.
struct Recurrence {
  Name unit;                            // day, month, monday ... sunday
  std::optional<std::int64_t> dayOfMonth;  // `on day N`
  SourceRange dayRange;
  std::int32_t atSecondsOfDay = 0;
  SourceRange range;
};

struct CampaignDecl : Decl {
  SEG_DECL(Campaign)
  Name name;
  ExprPtr audience;                        // `to`
  std::unique_ptr<Expr> schedule;          // `at`: DateLit or DateTimeLit
  std::optional<Recurrence> every;         // `every ...`
  std::optional<std::int64_t> limit;
  SourceRange limitRange;
  std::vector<SplitArm> split;             // empty when `send` is used
  std::vector<MessageRef> messages;        // `send` without a split
  std::vector<SourceRange> duplicateItems; // items written twice (reported by sema)
};

struct TagsDecl : Decl {
  SEG_DECL(Tags)
  std::vector<std::unique_ptr<StringLitExpr>> tags;
};

struct PolicyDecl : Decl {
  SEG_DECL(Policy)
  std::unique_ptr<StringLitExpr> timezone;
  std::optional<std::int32_t> quietFrom;  // seconds of day
  std::optional<std::int32_t> quietTo;
  SourceRange quietRange;
  std::optional<std::int64_t> capCount;
  std::int64_t capPeriodSeconds = 0;
  SourceRange capRange;
  std::optional<std::int64_t> minReach;
  SourceRange minReachRange;
  std::optional<Name> expiredReply;  // `push` or `drop`
  std::optional<Name> beyondQuota;   // `hold` or `send`
  std::vector<SourceRange> duplicateItems;
};

struct ObjectField {
  Name name;
  ExprPtr value;
};

struct TestItem {
  enum class Kind : std::uint8_t { GivenFriend, GivenEvent, Clock, ExpectIn, ExpectMenu, ExpectSent, ExpectCondition };
  Kind kind = Kind::GivenFriend;
  SourceRange range;
  Name name;                         // GivenEvent: trigger; ExpectIn: segment; ExpectMenu: menu
  std::vector<ObjectField> fields;   // GivenFriend, GivenEvent
  std::unique_ptr<Expr> at;          // GivenEvent, Clock, ExpectSent: time literal (may be null)
  bool negated = false;              // ExpectIn, ExpectSent
  std::optional<MessageRef> message; // ExpectSent
  ExprPtr condition;                 // ExpectCondition
};

struct TestDecl : Decl {
  SEG_DECL(Test)
  std::unique_ptr<StringLitExpr> title;
  std::vector<TestItem> items;
};

#undef SEG_DECL

struct Program {
  FileId file = kNoFile;
  std::vector<DeclPtr> decls;
  ExprId exprCount = 0;  // ids are 0 .. exprCount-1
};

}  // namespace seg::ast
