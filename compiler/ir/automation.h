// The automation IR: messages, scenarios, rules, rich-menu rules, campaigns,
// the policy and tests, lowered from the typed program so the runtime
// (runtime/automation, runtime/send) needs nothing from the compiler's
// front end. Conditions and values are expression nodes of the same
// ir::Program; the audience of a campaign and each menu condition are also
// internal segments, so the batch evaluators (index plan + JIT) answer them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/recurrence.h"
#include "compiler/ir/schema.h"

namespace seg::ir {

using NodeId = std::uint32_t;

// A piece of a text template: literal text, a parameter of the message or
// a friend attribute (`{{name}}`).
struct TemplatePart {
  enum class Kind : std::uint8_t { Literal, Param, Attribute };
  Kind kind = Kind::Literal;
  std::string text;         // Literal; Param, Attribute: said when the value is empty
  std::uint32_t index = 0;  // Param: parameter; Attribute: IR attribute
};

using Template = std::vector<TemplatePart>;

// A string of a flex container that holds placeholders: where it is (a
// JSON pointer such as "/body/contents/0/text") and what it says.
struct FlexSlot {
  std::string pointer;
  Template parts;
  // A URL (`url`, `uri`, `previewUrl`...): filled values are encoded.
  bool url = false;
};

struct MessageIr {
  enum class Kind : std::uint8_t { Text, Flex, Image, Sticker };
  std::string name;
  Kind kind = Kind::Text;
  Template text;                   // Text
  std::string flexContents;        // Flex: the container, minified JSON, placeholders as written
  std::vector<FlexSlot> flexSlots;  // Flex: its strings with placeholders
  Template altText;                // Flex
  Template imageUrl, previewUrl;   // Image (preview defaults to the image)
  std::int64_t packageId = 0, stickerId = 0;  // Sticker
  std::vector<std::string> params;
  std::vector<ValueType> paramTypes;
};

// `reminder(product: e.product)`: arguments in parameter order.
struct MessageCall {
  std::uint32_t message = 0;
  std::vector<NodeId> args;
};

struct ActionIr {
  enum class Kind : std::uint8_t { Send, Reply, Tag, Untag, AddScore, SubtractScore, SetScore, Set, AddTo, SubtractFrom, Richmenu, Start, Stop, If };
  Kind kind = Kind::Send;
  std::vector<MessageCall> messages;  // Send, Reply
  std::string tag;                    // Tag, Untag
  NodeId value = 0;                   // scores, Set: the value; If: the condition
  std::uint32_t target = 0;           // Set, AddTo, SubtractFrom: IR attribute; Richmenu: menu; Start/Stop: scenario
  NodeId current = 0;                 // AddTo, SubtractFrom: the attribute's value (missing counts as 0)
  std::vector<ActionIr> thenActions, elseActions;  // If
};

struct TriggerIr {
  // Yearly: a date attribute's month and day, at a local time, each year;
  // Enter / Leave: a friend coming into or going out of a segment.
  enum class Kind : std::uint8_t { Follow, Unfollow, Message, Postback, Start, Event, Yearly, Enter, Leave };
  Kind kind = Kind::Start;
  std::uint32_t event = ~0u;      // IR event (built-in or schema); none for the others
  std::uint32_t attribute = ~0u;  // Yearly: a date attribute
  std::uint32_t segment = ~0u;    // Enter, Leave
  std::int32_t atSecondsOfDay = 0;  // Yearly
};

struct StepIr {
  // `day N [at HH:MM]`: calendar days in the policy time zone from the day
  // of enrolment; `after D`: elapsed time from enrolment.
  bool calendar = true;
  std::int64_t day = 0;
  std::optional<std::int32_t> at;  // seconds of day
  std::int64_t afterSeconds = 0;
  NodeId when = ~0u;  // none: always
  std::vector<ActionIr> actions;
  std::string label;  // "day 1 at 10:00", for timelines
};

struct ReentryIr {
  // WhileEnrolled (the default): a friend may enter again once out;
  // Never: once ever; Always: a new trigger restarts; After: once the
  // last entry is this old.
  enum class Kind : std::uint8_t { WhileEnrolled, Never, Always, After };
  Kind kind = Kind::WhileEnrolled;
  std::int64_t afterSeconds = 0;
};

struct ScenarioIr {
  std::string name;
  TriggerIr trigger;
  NodeId where = ~0u;
  std::vector<NodeId> exitWhen;
  ReentryIr reentry;
  std::vector<StepIr> steps;
  // `per e.product`: enrolments are kept per value, as "NAME#VALUE".
  NodeId per = ~0u;
};

struct RuleIr {
  TriggerIr trigger;
  NodeId where = ~0u;
  std::vector<ActionIr> actions;
  std::string label;  // "on follow", for timelines
};

struct RichmenuIr {
  std::string name;
  std::string richMenuId;  // as written: a rich menu ID (`richmenu-...`) or an alias
  // An alias must be resolved to an ID through LINE's alias API before
  // a link request can be made.
  bool alias = false;
};

struct MenuRuleIr {
  std::uint32_t segment = ~0u;  // internal segment of the condition; none: default
  std::uint32_t richmenu = 0;
};

struct SplitArmIr {
  std::int64_t basisPoints = 0;
  bool holdout = false;
  std::vector<MessageCall> messages;
};

struct CampaignIr {
  std::string name;
  std::uint32_t audience = 0;  // internal segment: the local part of `to`
  // LINE's part as filter.demographic JSON ("" when none).
  std::string demographic;
  // `at` alone: once then; with `every`: not before it. Neither: only when
  // asked (`segc plan --record`, the admin API).
  std::optional<std::int64_t> at;  // unix seconds
  std::optional<Recurrence> every;
  std::optional<std::int64_t> limit;
  std::vector<SplitArmIr> arms;  // one arm of 100% when there is no split
};

struct PolicyIr {
  std::optional<std::int32_t> quietFrom, quietTo;  // seconds of day
  std::optional<std::int64_t> capCount;
  std::int64_t capPeriodSeconds = 0;
  std::optional<std::int64_t> minReach;
  // `expired_reply push` (the default) or `drop`: what happens to a reply
  // whose token LINE no longer accepts.
  bool expiredReplyAsPush = true;
  // `beyond_quota hold` (the default) or `send`: whether a campaign that
  // LINE's monthly quota would not cover waits or goes as paid messages.
  bool sendBeyondQuota = false;
};

struct TestItemIr {
  enum class Kind : std::uint8_t { GivenFriend, GivenEvent, Clock, ExpectIn, ExpectMenu, ExpectSent, ExpectCondition };
  Kind kind = Kind::GivenFriend;
  std::string where;  // file:line, for failures
  std::optional<std::int64_t> at;
  // GivenFriend: attribute values; GivenEvent: field values (IR indexes).
  std::vector<std::pair<std::uint32_t, NodeId>> values;
  std::uint32_t index = 0;  // GivenEvent: trigger kind (TriggerIr::Kind); ExpectIn: segment; ExpectMenu: menu
  std::uint32_t event = ~0u;  // GivenEvent: IR event
  bool negated = false;
  std::optional<MessageCall> message;  // ExpectSent
  bool explicitArgs = false;           // ExpectSent: arguments given, so compared
  std::vector<std::string> tags;       // GivenFriend
  NodeId condition = ~0u;  // ExpectCondition
  std::string text;        // the item as written, for reports
};

struct TestIr {
  std::string title;
  std::vector<TestItemIr> items;
};

struct Automation {
  std::vector<MessageIr> messages;
  std::vector<RichmenuIr> richmenus;
  std::vector<MenuRuleIr> menus;
  std::vector<ScenarioIr> scenarios;
  std::vector<RuleIr> rules;
  std::vector<CampaignIr> campaigns;
  PolicyIr policy;
  std::vector<TestIr> tests;

  const ScenarioIr* scenario(const std::string& name) const;
  const CampaignIr* campaign(const std::string& name) const;
  const MessageIr* message(const std::string& name) const;
};

}  // namespace seg::ir
