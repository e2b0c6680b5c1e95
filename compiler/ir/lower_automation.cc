// Lowering messages, scenarios, rules, menus, campaigns, the policy and
// tests to the automation IR (compiler/ir/automation.h).
#include "compiler/ir/lower_automation.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/ast/ast.h"
#include "base/civil_time.h"
#include "base/timezone.h"
#include "compiler/sema/flex_rules.h"
#include "compiler/sema/typed_program.h"
#include "compiler/syntax/literals.h"

namespace seg::ir {
namespace {

using namespace seg::ast;
using sema::RefKind;
using Json = nlohmann::ordered_json;

TriggerIr::Kind triggerKind(sema::TriggerKind kind) {
  switch (kind) {
    case sema::TriggerKind::Follow: return TriggerIr::Kind::Follow;
    case sema::TriggerKind::Unfollow: return TriggerIr::Kind::Unfollow;
    case sema::TriggerKind::Message: return TriggerIr::Kind::Message;
    case sema::TriggerKind::Postback: return TriggerIr::Kind::Postback;
    case sema::TriggerKind::Start: return TriggerIr::Kind::Start;
    case sema::TriggerKind::Event: return TriggerIr::Kind::Event;
    case sema::TriggerKind::Yearly: return TriggerIr::Kind::Yearly;
    case sema::TriggerKind::Enter: return TriggerIr::Kind::Enter;
    case sema::TriggerKind::Leave: return TriggerIr::Kind::Leave;
  }
  return TriggerIr::Kind::Start;
}


// `richmenu-` and 32 hex digits, as LINE's rich menu IDs look; anything
// else the checker accepted is an alias.
bool isRichMenuId(const std::string& text) {
  constexpr std::string_view kPrefix = "richmenu-";
  if (text.size() != kPrefix.size() + 32 || text.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  return std::all_of(text.begin() + kPrefix.size(), text.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// Turns the `line.*` conditions of a campaign into LINE's filter.demographic.
class DemographicBuilder {
 public:
  explicit DemographicBuilder(const sema::TypedProgram& typed) : typed_(typed) {}

  Json build(const Expr& e) const {
    if (const auto* l = as<LogicalExpr>(&e)) {
      Json operands = Json::array();
      for (const ExprPtr& operand : l->operands) operands.push_back(build(*operand));
      return {{"type", "operator"}, {l->op == LogicalOp::And ? "and" : "or", operands}};
    }
    if (const auto* u = as<UnaryExpr>(&e); u && u->op == UnaryOp::Not) return negate(build(*u->operand));
    const sema::Ref& ref = typed_.refOf(e);
    if (ref.kind == RefKind::Segment && e.kind == ExprKind::NameRef) return build(*typed_.segments[ref.index].decl->condition);
    if (const auto* b = as<BinaryExpr>(&e)) return comparison(*b);
    if (const auto* in = as<InExpr>(&e)) return membership(*in);
    if (const auto* between = as<BetweenExpr>(&e)) {
      return ageRange(intOf(*between->low), intOf(*between->high) + 1);
    }
    throw std::logic_error("a LINE condition the checker should have rejected");
  }

 private:
  static Json negate(Json inner) { return {{"type", "operator"}, {"not", std::move(inner)}}; }

  const sema::Attribute& attributeOf(const Expr& e) const {
    const sema::Ref& ref = typed_.refOf(e);
    if (ref.kind != RefKind::LineAttribute) throw std::logic_error("expected a line attribute");
    return typed_.lineAttributes[ref.index];
  }

  static std::string filterType(const std::string& attribute) {
    if (attribute == "os") return "appType";
    if (attribute == "friend_period") return "subscriptionPeriod";
    return attribute;  // gender, area, age
  }

  std::string enumValue(const sema::Attribute& attr, const Expr& value) const {
    return typed_.types.enumType(attr.type).values.at(typed_.refOf(value).index);
  }

  static std::int64_t intOf(const Expr& e) {
    if (const auto* i = as<IntLitExpr>(&e)) return i->value;
    if (const auto* d = as<DurationLitExpr>(&e)) return d->seconds;
    throw std::logic_error("expected a literal");
  }

  // Ages in [low, high), either side open when not given.
  static Json ageRange(std::optional<std::int64_t> low, std::optional<std::int64_t> high) {
    Json out = {{"type", "age"}};
    if (low) out["gte"] = fmt::format("age_{}", *low);
    if (high && *high <= 70) out["lt"] = fmt::format("age_{}", *high);
    return out;
  }

  Json comparison(const BinaryExpr& b) const {
    const sema::Attribute& attr = attributeOf(*b.lhs);
    if (attr.name == "age") {
      const std::int64_t v = intOf(*b.rhs);
      switch (b.op) {
        case BinaryOp::Ge: return ageRange(v, std::nullopt);
        case BinaryOp::Gt: return ageRange(v + 1, std::nullopt);
        case BinaryOp::Lt: return ageRange(std::nullopt, v);
        case BinaryOp::Le: return ageRange(std::nullopt, v + 1);
        default: break;
      }
      throw std::logic_error("unsupported age comparison");
    }
    if (attr.name == "friend_period") {
      const std::string days = fmt::format("day_{}", intOf(*b.rhs) / 86400);
      return {{"type", "subscriptionPeriod"}, {b.op == BinaryOp::Ge ? "gte" : "lt", days}};
    }
    Json oneOf = {{"type", filterType(attr.name)}, {"oneOf", Json::array({enumValue(attr, *b.rhs)})}};
    return b.op == BinaryOp::Ne ? negate(std::move(oneOf)) : oneOf;
  }

  Json membership(const InExpr& in) const {
    const sema::Attribute& attr = attributeOf(*in.value);
    Json out;
    if (const auto* range = as<RangeLitExpr>(in.collection.get())) {
      out = ageRange(intOf(*range->low), intOf(*range->high) + 1);
    } else {
      Json values = Json::array();
      for (const ExprPtr& element : as<ListLitExpr>(in.collection.get())->elements) {
        values.push_back(enumValue(attr, *element));
      }
      out = {{"type", filterType(attr.name)}, {"oneOf", values}};
    }
    return in.negated ? negate(std::move(out)) : out;
  }

  const sema::TypedProgram& typed_;
};

class AutomationLowerer {
 public:
  AutomationLowerer(Lowerer& lowerer, const sema::TypedProgram& typed, const SourceManager* sources)
      : lowerer_(lowerer), typed_(typed), sources_(sources), out_(lowerer.program().automation) {}

  void run() {
    for (const sema::Message& m : typed_.messages) out_.messages.push_back(message(m));
    for (const sema::Richmenu& r : typed_.richmenus) out_.richmenus.push_back({r.name, r.alias, !isRichMenuId(r.alias)});
    std::size_t menuRule = 0;
    for (const sema::MenuRule& rule : typed_.menus) {
      MenuRuleIr lowered;
      lowered.richmenu = rule.richmenu;
      if (rule.condition) lowered.segment = internalSegment(fmt::format("menu rule {}", ++menuRule), lower(*rule.condition));
      out_.menus.push_back(lowered);
    }
    for (const sema::Scenario& s : typed_.scenarios) out_.scenarios.push_back(scenario(s));
    for (const sema::Rule& r : typed_.rules) {
      RuleIr rule;
      rule.trigger = trigger(r.trigger);
      rule.label = "on " + triggerText(r.decl->trigger);
      if (r.decl->where) rule.where = lower(*r.decl->where);
      rule.actions = actions(r.decl->actions);
      out_.rules.push_back(std::move(rule));
    }
    for (const sema::Campaign& c : typed_.campaigns) out_.campaigns.push_back(campaign(c));
    const sema::Policy& p = typed_.policy;
    out_.policy = {p.quietFrom, p.quietTo, p.capCount, p.capPeriodSeconds, p.minReach, p.expiredReplyAsPush, p.sendBeyondQuota};
    for (const sema::Test& t : typed_.tests) out_.tests.push_back(test(t));
  }

 private:
  Program& program() { return lowerer_.program(); }
  NodeId lower(const Expr& e) { return lowerer_.lowerExpr(e); }

  std::uint32_t internalSegment(const std::string& name, NodeId root) {
    SegmentIr segment;
    segment.name = name;
    segment.root = root;
    segment.internal = true;
    program().segments.push_back(segment);
    return static_cast<std::uint32_t>(program().segments.size() - 1);
  }

  TriggerIr trigger(const sema::Trigger& t) {
    TriggerIr out{triggerKind(t.kind), t.event, ~0u, t.segment, t.atSecondsOfDay};
    // The schema's attributes leave derived ones out: its index, by name.
    if (t.attribute != sema::kNone) out.attribute = static_cast<std::uint32_t>(*program().schema.attribute(typed_.attributes[t.attribute].name));
    return out;
  }

  NodeId constantTrue() {
    Node n;
    n.op = Op::Const;
    n.type = ValueType::Bool;
    n.imm = 1;
    return program().add(n);
  }

  std::uint32_t attributeIndex(const std::string& name) {
    const auto index = program().schema.attribute(name);
    if (!index) throw std::logic_error("attribute missing from the lowered schema: " + name);
    return static_cast<std::uint32_t>(*index);
  }

  // The parts of a text with placeholders (found by the parser, or in a
  // flex file's strings); an escaped `\{\{` is text.
  Template textTemplate(const std::string& text, const std::vector<ast::Placeholder>& placeholders,
                        const sema::Message& m) {
    Template parts;
    std::size_t at = 0;
    const auto literal = [&](std::string piece) {
      if (piece.empty()) return;
      if (!parts.empty() && parts.back().kind == TemplatePart::Kind::Literal) {
        parts.back().text += piece;
      } else {
        parts.push_back({TemplatePart::Kind::Literal, std::move(piece), 0});
      }
    };
    for (const ast::Placeholder& placeholder : placeholders) {
      literal(text.substr(at, placeholder.offset - at));
      const std::string& name = placeholder.name;
      const std::string fallback = placeholder.fallback.value_or("");
      const auto param = std::find_if(m.params.begin(), m.params.end(), [&](const auto& p) { return p.name == name; });
      if (param != m.params.end()) {
        parts.push_back({TemplatePart::Kind::Param, fallback, static_cast<std::uint32_t>(param - m.params.begin())});
      } else if (program().schema.attribute(name)) {
        parts.push_back({TemplatePart::Kind::Attribute, fallback, attributeIndex(name)});
      } else {
        literal(text.substr(placeholder.offset, placeholder.length));
      }
      at = placeholder.offset + placeholder.length;
    }
    literal(text.substr(at));
    return parts;
  }

  Template textTemplate(const ast::StringLitExpr& literal, const sema::Message& m) {
    return textTemplate(literal.value, literal.placeholders, m);
  }

  // The strings of a flex container that hold placeholders.
  std::vector<FlexSlot> flexSlots(const std::string& container, const sema::Message& m) {
    std::vector<FlexSlot> slots;
    sema::forEachFlexString(nlohmann::json::parse(container),
                            [&](const std::string& pointer, const std::string& key, const std::string& text) {
                              const syntax::PlainPlaceholders found = syntax::findPlaceholders(text);
                              const bool url = sema::isUrlKey(key);
                              // URLs are kept as slots even without placeholders, to be encoded.
                              if (found.found.empty() && !url) return;
                              slots.push_back({pointer, textTemplate(text, found.found, m), url});
                            });
    return slots;
  }

  MessageIr message(const sema::Message& m) {
    MessageIr out;
    out.name = m.name;
    for (const sema::MessageParam& p : m.params) {
      out.params.push_back(p.name);
      out.paramTypes.push_back(ir::valueTypeOf(p.type, typed_.types));
    }
    const MessageBody& body = m.decl->body;
    switch (body.kind) {
      case MessageBody::Kind::Text:
        out.kind = MessageIr::Kind::Text;
        out.text = textTemplate(*body.text, m);
        break;
      case MessageBody::Kind::Flex:
        out.kind = MessageIr::Kind::Flex;
        out.flexContents = m.flexJson;
        out.flexSlots = flexSlots(m.flexJson, m);
        out.altText = textTemplate(*body.altText, m);
        break;
      case MessageBody::Kind::Image:
        out.kind = MessageIr::Kind::Image;
        out.imageUrl = textTemplate(*body.text, m);
        out.previewUrl = textTemplate(body.preview ? *body.preview : *body.text, m);
        break;
      case MessageBody::Kind::Sticker:
        out.kind = MessageIr::Kind::Sticker;
        out.packageId = body.packageId;
        out.stickerId = body.stickerId;
        break;
    }
    return out;
  }


  MessageCall call(const MessageRef& ref) {
    MessageCall out;
    out.message = typed_.findMessage(ref.name.text);
    if (out.message == sema::kNone) throw std::logic_error("unknown message after checking: " + ref.name.text);
    for (const sema::MessageParam& p : typed_.messages[out.message].params) {
      const auto arg = std::find_if(ref.args.begin(), ref.args.end(), [&](const NamedArg& a) { return a.name.text == p.name; });
      if (arg == ref.args.end()) {
        Node missing;
        missing.op = Op::Const;
        missing.flags = kMissing;
        out.args.push_back(program().add(missing));
      } else {
        out.args.push_back(lower(*arg->value));
      }
    }
    return out;
  }

  std::vector<MessageCall> calls(const std::vector<MessageRef>& refs) {
    std::vector<MessageCall> out;
    for (const MessageRef& ref : refs) out.push_back(call(ref));
    return out;
  }

  std::vector<ActionIr> actions(const ActionList& list) {
    std::vector<ActionIr> out;
    for (const ActionPtr& a : list) out.push_back(action(*a));
    return out;
  }

  ActionIr action(const Action& a) {
    ActionIr out;
    switch (a.kind) {
      case ActionKind::Send:
      case ActionKind::Reply:
        out.kind = a.kind == ActionKind::Send ? ActionIr::Kind::Send : ActionIr::Kind::Reply;
        out.messages = calls(a.messages);
        break;
      case ActionKind::Tag:
      case ActionKind::Untag:
        out.kind = a.kind == ActionKind::Tag ? ActionIr::Kind::Tag : ActionIr::Kind::Untag;
        out.tag = a.tag->value;
        break;
      case ActionKind::Score:
        out.kind = a.assignOp == AssignOp::Add        ? ActionIr::Kind::AddScore
                   : a.assignOp == AssignOp::Subtract ? ActionIr::Kind::SubtractScore
                                                    : ActionIr::Kind::SetScore;
        out.value = lower(*a.value);
        break;
      case ActionKind::Set: {
        out.kind = a.assignOp == AssignOp::Add        ? ActionIr::Kind::AddTo
                   : a.assignOp == AssignOp::Subtract ? ActionIr::Kind::SubtractFrom
                                                      : ActionIr::Kind::Set;
        out.target = attributeIndex(a.target.text);
        out.value = lower(*a.value);
        if (out.kind != ActionIr::Kind::Set) {
          Node current;
          current.op = Op::Attr;
          current.type = ValueType::Int;
          current.a = out.target;
          out.current = program().add(current);
        }
        break;
      }
      case ActionKind::Richmenu:
        out.kind = ActionIr::Kind::Richmenu;
        out.target = typed_.findRichmenu(a.target.text);
        break;
      case ActionKind::Start:
      case ActionKind::Stop:
        out.kind = a.kind == ActionKind::Start ? ActionIr::Kind::Start : ActionIr::Kind::Stop;
        out.target = typed_.findScenario(a.target.text);
        break;
      case ActionKind::If:
        out.kind = ActionIr::Kind::If;
        out.value = lower(*a.value);
        out.thenActions = actions(a.thenActions);
        out.elseActions = actions(a.elseActions);
        break;
    }
    return out;
  }

  ScenarioIr scenario(const sema::Scenario& s) {
    const ScenarioDecl& decl = *s.decl;
    ScenarioIr out;
    out.name = s.name;
    out.trigger = trigger(s.trigger);
    if (decl.where) out.where = lower(*decl.where);
    if (decl.per) out.per = lower(*decl.per);
    for (const ExprPtr& e : decl.exitWhen) out.exitWhen.push_back(lower(*e));
    if (decl.reentry.range.valid()) {
      switch (decl.reentry.kind) {
        case Reentry::Kind::Never: out.reentry.kind = ReentryIr::Kind::Never; break;
        case Reentry::Kind::Always: out.reentry.kind = ReentryIr::Kind::Always; break;
        case Reentry::Kind::After:
          out.reentry.kind = ReentryIr::Kind::After;
          out.reentry.afterSeconds = decl.reentry.afterSeconds;
          break;
      }
    }
    for (const Step& step : decl.steps) {
      StepIr lowered;
      lowered.calendar = step.timing.kind == StepTiming::Kind::Day;
      lowered.day = step.timing.day;
      lowered.at = step.timing.atSecondsOfDay;
      lowered.afterSeconds = step.timing.afterSeconds;
      lowered.label = lowered.calendar ? fmt::format("day {}", lowered.day) : "after " + civil::formatDuration(lowered.afterSeconds);
      if (lowered.at) lowered.label += " at " + civil::formatClock(*lowered.at);
      if (step.when) lowered.when = lower(*step.when);
      lowered.actions = actions(step.actions);
      out.steps.push_back(std::move(lowered));
    }
    return out;
  }

  std::int64_t instantOf(const Expr& e) {
    if (const auto* d = as<DateLitExpr>(&e)) return TimeZone::find(program().timezone)->toInstant(d->days, 0);
    return program().node(lower(e)).imm;
  }

  CampaignIr campaign(const sema::Campaign& c) {
    const CampaignDecl& decl = *c.decl;
    CampaignIr out;
    out.name = c.name;
    NodeId local;
    if (c.localConjuncts.empty()) {
      local = constantTrue();
    } else if (c.localConjuncts.size() == 1) {
      local = lower(*c.localConjuncts.front());
    } else {
      Node n;
      n.op = Op::And;
      for (const Expr* e : c.localConjuncts) n.args.push_back(lower(*e));
      local = program().add(n);
    }
    out.audience = internalSegment("campaign " + c.name, local);
    if (!c.lineConjuncts.empty()) {
      DemographicBuilder builder(typed_);
      Json filter;
      if (c.lineConjuncts.size() == 1) {
        filter = builder.build(*c.lineConjuncts.front());
      } else {
        Json operands = Json::array();
        for (const Expr* e : c.lineConjuncts) operands.push_back(builder.build(*e));
        filter = {{"type", "operator"}, {"and", operands}};
      }
      out.demographic = filter.dump();
    }
    if (decl.schedule) out.at = instantOf(*decl.schedule);
    out.every = c.every;
    out.limit = decl.limit;
    if (decl.split.empty()) {
      out.arms.push_back({10000, false, calls(decl.messages)});
    } else {
      for (const SplitArm& arm : decl.split) out.arms.push_back({arm.basisPoints, arm.holdout, calls(arm.messages)});
    }
    return out;
  }

  std::string where(const SourceRange& range) const {
    if (sources_ == nullptr || !range.valid()) return "";
    return fmt::format("{}:{}", sources_->file(range.file).path(), range.begin.line);
  }

  // The item's line as written, trimmed.
  std::string text(const SourceRange& range) const {
    if (sources_ == nullptr || !range.valid()) return "";
    std::string line(sources_->file(range.file).line(range.begin.line));
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t") + 1);
    return line;
  }

  TestIr test(const sema::Test& t) {
    TestIr out;
    out.title = t.decl->title ? t.decl->title->value : "";
    for (const TestItem& item : t.decl->items) {
      TestItemIr lowered;
      lowered.where = where(item.range);
      lowered.text = text(item.range);
      lowered.negated = item.negated;
      if (item.at) lowered.at = instantOf(*item.at);
      switch (item.kind) {
        case TestItem::Kind::GivenFriend:
          lowered.kind = TestItemIr::Kind::GivenFriend;
          for (const ObjectField& field : item.fields) {
            if (field.name.text == "tags") {
              for (const ExprPtr& tag : as<ListLitExpr>(field.value.get())->elements) {
                lowered.tags.push_back(as<StringLitExpr>(tag.get())->value);
              }
              continue;
            }
            lowered.values.emplace_back(attributeIndex(field.name.text), lower(*field.value));
          }
          break;
        case TestItem::Kind::GivenEvent: {
          lowered.kind = TestItemIr::Kind::GivenEvent;
          const sema::Trigger resolved = resolveTrigger(item.name.text);
          lowered.index = static_cast<std::uint32_t>(triggerKind(resolved.kind));
          lowered.event = resolved.event;
          const sema::Event& event = typed_.events.at(resolved.event);
          for (const ObjectField& field : item.fields) {
            lowered.values.emplace_back(event.findField(field.name.text), lower(*field.value));
          }
          break;
        }
        case TestItem::Kind::Clock: lowered.kind = TestItemIr::Kind::Clock; break;
        case TestItem::Kind::ExpectIn:
          lowered.kind = TestItemIr::Kind::ExpectIn;
          lowered.index = typed_.findSegment(item.name.text);
          break;
        case TestItem::Kind::ExpectMenu:
          lowered.kind = TestItemIr::Kind::ExpectMenu;
          lowered.index = typed_.findRichmenu(item.name.text);
          break;
        case TestItem::Kind::ExpectSent:
          lowered.kind = TestItemIr::Kind::ExpectSent;
          lowered.message = call(*item.message);
          lowered.explicitArgs = !item.message->args.empty();
          break;
        case TestItem::Kind::ExpectCondition:
          lowered.kind = TestItemIr::Kind::ExpectCondition;
          lowered.condition = lower(*item.condition);
          break;
      }
      out.items.push_back(std::move(lowered));
    }
    return out;
  }

  // The trigger a `given <event>` names: built-in trigger words first.
  sema::Trigger resolveTrigger(const std::string& name) const {
    sema::Trigger t;
    t.event = typed_.findEvent(name);
    if (name == "follow") t.kind = sema::TriggerKind::Follow;
    else if (name == "unfollow") t.kind = sema::TriggerKind::Unfollow;
    else if (name == "message") t.kind = sema::TriggerKind::Message;
    else if (name == "postback") t.kind = sema::TriggerKind::Postback;
    else t.kind = sema::TriggerKind::Event;
    return t;
  }

  Lowerer& lowerer_;
  const sema::TypedProgram& typed_;
  const SourceManager* sources_;
  Automation& out_;
};

}  // namespace

void lowerAutomation(Lowerer& lowerer, const sema::TypedProgram& typed, const SourceManager* sources) {
  AutomationLowerer(lowerer, typed, sources).run();
}

}  // namespace seg::ir
