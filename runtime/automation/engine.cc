#include "runtime/automation/engine.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "base/civil_time.h"
#include "runtime/send/message_render.h"

namespace seg {
namespace {

using ir::ActionIr;
using ir::TriggerIr;
using Kind = TimelineEntry::Kind;

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kCampaignGrace = kScheduleGrace;
constexpr std::int64_t kQuotaHoldRetry = 60;
// Distinct texts a narrowcast campaign may have: each needs its own upload.
constexpr std::size_t kMaxNarrowcastVariants = 10;

bool stepSends(const std::vector<ActionIr>& actions) {
  for (const ActionIr& a : actions) {
    if (a.kind == ActionIr::Kind::Send) return true;
    if (a.kind == ActionIr::Kind::If && (stepSends(a.thenActions) || stepSends(a.elseActions))) return true;
  }
  return false;
}

std::vector<std::string> messageNames(const ir::Automation& automation, const std::vector<ir::MessageCall>& calls) {
  std::vector<std::string> out;
  for (const ir::MessageCall& c : calls) out.push_back(automation.messages[c.message].name);
  return out;
}

Value valueOf(const Val& v, ir::ValueType type) {
  if (!v.present) return Value::missing();
  if (type == ir::ValueType::String) return Value::ofString(std::string(v.s));
  if (type == ir::ValueType::Bool) return Value::ofBool(v.i != 0);
  return Value::ofInt(v.i);
}

}  // namespace

const char* timelineKindName(TimelineEntry::Kind kind) {
  switch (kind) {
    case Kind::Sent: return "sent";
    case Kind::Replied: return "replied";
    case Kind::Held: return "held";
    case Kind::Skipped: return "skipped";
    case Kind::Enrolled: return "enrolled";
    case Kind::Exited: return "exited";
    case Kind::Completed: return "completed";
    case Kind::StepSkipped: return "step skipped";
    case Kind::Menu: return "menu";
    case Kind::Campaign: return "campaign";
    case Kind::Refused: return "refused";
  }
  return "?";
}

// One unit of work for one friend: who, when, why, and what it may use.
struct AutomationEngine::Run {
  std::uint32_t friendId = 0;
  std::int64_t now = 0;
  // The time that orders the attributes and tags the actions set: the
  // event's own time for a rule (LINE's events arrive out of order), the
  // step's due time for a scenario.
  std::int64_t stateTime = 0;
  const TriggerEvent* trigger = nullptr;
  std::string source;    // for the timeline
  std::string identity;  // for outbox keys: the same work gives the same keys
  std::string replyToken;
  std::int64_t replyExpires = 0;  // when LINE stops accepting the token
  int requests = 0;
};

AutomationEngine::AutomationEngine(const ir::Program& program, StateWriter& writer, EngineOptions options)
    : program_(program),
      automation_(program.automation),
      writer_(writer),
      options_(options),
      zone_(*TimeZone::find(program.timezone)),
      evaluator_(std::make_unique<SegmentEvaluator>(program, writer.state(), options.compiler, options.threads)),
      renderer_(program.automation) {
  planDerivedTriggers();
}

AutomationEngine::~AutomationEngine() = default;

// ------------------------------------------------------------------ basics

void AutomationEngine::stage(Mutation m) { writer_.stage({std::move(m)}); }

void AutomationEngine::commit() {
  writer_.commit();
  menuByAction_.clear();
}

void AutomationEngine::note(TimelineEntry entry) {
  if (options_.keepTimeline) timeline_.push_back(std::move(entry));
}

std::string AutomationEngine::userOf(std::uint32_t friendId) const {
  return state().friends().user(friendId).toString();
}

// Keys sort by time, so the outbox lists requests in the order they were meant.
std::string AutomationEngine::outboxKey(std::int64_t time, const std::string& identity) const {
  return fmt::format("{}/{}", zone_.formatInstant(time), identity);
}

std::string AutomationEngine::format(const Val& v, ir::ValueType type, const ir::ColumnSpec* column) const {
  if (!v.present) return "";
  switch (type) {
    case ir::ValueType::String: return std::string(v.s);
    case ir::ValueType::Bool: return v.i != 0 ? "true" : "false";
    case ir::ValueType::Date: return civil::formatDate(static_cast<std::int32_t>(v.i));
    case ir::ValueType::Time: return zone_.formatInstant(v.i);
    case ir::ValueType::Duration: return civil::formatDuration(v.i);
    case ir::ValueType::Percent: return civil::formatPercent(v.i);
    case ir::ValueType::Enum:
      if (column != nullptr && v.i >= 0 && static_cast<std::size_t>(v.i) < column->enumValues.size()) {
        const std::size_t rank = static_cast<std::size_t>(v.i);
        return rank < column->enumLabels.size() && !column->enumLabels[rank].empty() ? column->enumLabels[rank]
                                                                                      : column->enumValues[rank];
      }
      return std::to_string(v.i);
    case ir::ValueType::Int: return std::to_string(v.i);
  }
  return std::to_string(v.i);
}

RenderedCalls AutomationEngine::renderCalls(const std::vector<ir::MessageCall>& calls, std::uint32_t friendId,
                                            const TriggerEvent* trigger, std::int64_t now) const {
  const Interpreter interpreter(evaluator_->bound(), EvalTime::at(now, zone_));
  RenderedCalls out;
  for (const ir::MessageCall& call : calls) {
    const ir::MessageIr& message = automation_.messages[call.message];
    send::RenderInput input;
    for (std::size_t i = 0; i < call.args.size(); ++i) {
      input.args.push_back(format(interpreter.value(call.args[i], friendId, trigger), message.paramTypes[i], nullptr));
    }
    input.attribute = [&](std::uint32_t attribute) {
      const ir::ColumnSpec& column = program_.schema.attributes[attribute];
      return format(attributeValue(attribute, friendId), column.type, &column);
    };
    send::Rendered rendered = renderer_.render(call.message, input);
    if (!rendered.unsendable.empty()) {
      out.skipped.emplace_back(message.name, std::move(rendered.unsendable));
      continue;
    }
    out.messages.push_back(std::move(rendered.message));
    out.names.push_back(message.name);
  }
  return out;
}

void AutomationEngine::recordSkipped(const UserId& user, const std::string& name, std::int64_t now,
                                     const std::string& why) {
  Mutation skipped = Mutation::of(Mutation::Kind::SendSkipped, user);
  skipped.name = name;
  skipped.time = now;
  skipped.value = Value::ofString(why);
  stage(std::move(skipped));
}

std::string AutomationEngine::putInOutbox(send::LineRequest request, std::int64_t now, std::int64_t notBefore,
                                          std::vector<UserId> users, std::vector<std::string> carries) {
  Mutation m = Mutation::of(Mutation::Kind::OutboxAdd);
  m.name = request.key;
  m.time = now;
  m.index = static_cast<std::uint32_t>(std::max<std::int64_t>(0, notBefore - now));
  m.value = Value::ofString(request.toJson());
  m.users = std::move(users);
  m.on = request.expiresAt != 0;
  for (std::string& c : carries) m.fields.push_back(Value::ofString(std::move(c)));
  ++counters_.requestsByPath[request.endpoint()];
  stage(std::move(m));
  return request.key;
}

std::string AutomationEngine::richMenuIdFor(const ir::RichmenuIr& menu, std::int64_t now, std::vector<std::string>& after) {
  // An alias may be pointed at another menu: its ID is looked up again after this.
  constexpr std::int64_t kAliasFreshSeconds = 3600;
  if (!menu.alias) return menu.richMenuId;
  const ResolvedAlias* resolved = state().automation().alias(menu.richMenuId);
  if (resolved != nullptr && now - resolved->resolvedAt < kAliasFreshSeconds) return resolved->richMenuId;
  auto& key = aliasLookups_[menu.richMenuId];
  if (key.empty() || !state().automation().outbox().contains(key)) {
    key = outboxKey(now, "richmenu-alias/" + menu.richMenuId);
    putInOutbox(send::lookupAlias(key, menu.richMenuId), now, now, {}, {});
  }
  after.push_back(key);
  return send::aliasPlaceholder(menu.richMenuId);
}

void AutomationEngine::expireReplies(std::int64_t now) {
  const AutomationState& a = state().automation();
  while (!a.expiring().empty() && a.expiring().begin()->first <= now) {
    const std::string key = a.expiring().begin()->second;
    if (a.outbox().at(key).triedAt != 0) {
      // Handed to LINE before a crash, its answer never recorded: LINE may
      // have made it, so no push doubles it.
      Mutation done = Mutation::of(Mutation::Kind::OutboxDone);
      done.name = key;
      done.time = now;
      done.value = Value::ofString("the reply token expired after the reply went to LINE; taken as made");
      stage(std::move(done));
      commit();
      continue;
    }
    retireReply(key, now, "the reply token expired");
  }
}

void AutomationEngine::retireReply(const std::string& key, std::int64_t now, const std::string& why) {
  const auto it = state().automation().outbox().find(key);
  if (it == state().automation().outbox().end()) throw EngineError(fmt::format("no request `{}` waits in the outbox", key));
  const OutboxEntry entry = it->second;
  const send::LineRequest reply = send::LineRequest::fromJson(entry.request);
  if (reply.path != "/v2/bot/message/reply") throw EngineError(fmt::format("`{}` is not a reply", key));
  Mutation done = Mutation::of(Mutation::Kind::OutboxDone);
  done.name = key;
  done.time = now;
  done.value = Value::ofString(why);
  stage(std::move(done));
  const UserId user = entry.users.empty() ? UserId() : entry.users.front();
  const std::optional<std::uint32_t> friendId = state().friends().find(user);
  const std::string names = fmt::format("{}", fmt::join(entry.carries, ", "));
  if (automation_.policy.expiredReplyAsPush && !entry.users.empty() && friendId && !state().blocked().contains(*friendId)) {
    // Still an answer to the friend: not held by quiet hours, not capped.
    putInOutbox(send::push(key + "/as-push", user.toString(), reply.body.at("messages")), now, now, entry.users, entry.carries);
    note({now, *friendId, Kind::Sent, names, "a reply: " + why, "sent as a push"});
  } else {
    for (const std::string& name : entry.carries) recordSkipped(user, name, now, why);
    note({now, friendId.value_or(~0u), Kind::Skipped, names, "a reply: " + why, "dropped (expired_reply drop)"});
  }
  commit();
}

// ------------------------------------------------------------------ timing

bool AutomationEngine::inQuietHours(std::int64_t t) const {
  const ir::PolicyIr& p = automation_.policy;
  if (!p.quietFrom || !p.quietTo) return false;
  const std::int32_t s = zone_.localSecondsOfDay(t);
  if (*p.quietFrom < *p.quietTo) return s >= *p.quietFrom && s < *p.quietTo;
  return s >= *p.quietFrom || s < *p.quietTo;  // overnight
}

std::int64_t AutomationEngine::quietEnd(std::int64_t t) const {
  const std::int32_t to = *automation_.policy.quietTo;
  const std::int32_t day = zone_.localDay(t);
  const std::int64_t sameDay = zone_.toInstant(day, to);
  return sameDay > t ? sameDay : zone_.toInstant(day + 1, to);
}

std::int64_t AutomationEngine::nextDayStart(std::int64_t t) const { return zone_.toInstant(zone_.localDay(t) + 1, 0); }

// `day N at HH:MM` is calendar day N after the day of enrolment, in the
// policy time zone; day 0's step slips to the next day when the friend
// enrolled after HH:MM. `day N` without a clock keeps the enrolment's time
// of day. `after D` is D after enrolment. A step is never due before the
// one before it.
std::int64_t AutomationEngine::stepDue(const ir::ScenarioIr& scenario, std::size_t step, std::int64_t enrolledAt,
                                       std::int64_t previousDue) const {
  const ir::StepIr& s = scenario.steps[step];
  std::int64_t due;
  if (!s.calendar) {
    due = enrolledAt + s.afterSeconds;
  } else {
    const std::int32_t day0 = zone_.localDay(enrolledAt);
    const std::int32_t day = day0 + static_cast<std::int32_t>(s.day);
    if (s.at) {
      due = zone_.toInstant(day, *s.at);
      if (s.day == 0 && due < enrolledAt) due = zone_.toInstant(day0 + 1, *s.at);
    } else {
      due = zone_.toInstant(day, zone_.localSecondsOfDay(enrolledAt));
    }
  }
  return std::max(due, previousDue);
}

// ----------------------------------------------------------------- actions

class AutomationEngine::Actions {
 public:
  Actions(AutomationEngine& engine, Run& run)
      : e_(engine), run_(run), interpreter_(engine.evaluator_->bound(), EvalTime::at(run.now, engine.zone_)) {}

  void perform(const std::vector<ActionIr>& actions) {
    for (const ActionIr& a : actions) perform(a);
  }

 private:
  Mutation forFriend(Mutation::Kind kind) const {
    Mutation m = Mutation::of(kind, e_.state().friends().user(run_.friendId));
    m.time = run_.now;
    return m;
  }

  std::size_t storeAttribute(const std::string& name) const {
    return *e_.state().schema().attribute(name);
  }

  void perform(const ActionIr& a) {
    switch (a.kind) {
      case ActionIr::Kind::Send: send(a.messages, false); break;
      case ActionIr::Kind::Reply: send(a.messages, true); break;
      case ActionIr::Kind::Tag:
      case ActionIr::Kind::Untag: {
        Mutation m = forFriend(Mutation::Kind::Tag);
        m.time = run_.stateTime;
        m.name = a.tag;
        m.on = a.kind == ActionIr::Kind::Tag;
        e_.stage(std::move(m));
        break;
      }
      case ActionIr::Kind::AddScore:
      case ActionIr::Kind::SubtractScore: {
        const Val v = interpreter_.value(a.value, run_.friendId, run_.trigger);
        if (!v.present) break;
        Mutation m = forFriend(Mutation::Kind::AddScore);
        m.value = Value::ofInt(a.kind == ActionIr::Kind::AddScore ? v.i : -v.i);
        e_.stage(std::move(m));
        break;
      }
      case ActionIr::Kind::SetScore: set(storeAttribute("score"), a.value, ir::ValueType::Int); break;
      case ActionIr::Kind::Set: {
        const ir::ColumnSpec& column = e_.program_.schema.attributes[a.target];
        set(storeAttribute(column.name), a.value, column.type);
        break;
      }
      case ActionIr::Kind::AddTo:
      case ActionIr::Kind::SubtractFrom: {
        const Val v = interpreter_.value(a.value, run_.friendId, run_.trigger);
        if (!v.present) break;  // adding nothing leaves it as it is
        const Val current = interpreter_.value(a.current, run_.friendId, run_.trigger);
        Mutation m = forFriend(Mutation::Kind::SetAttribute);
        m.time = run_.stateTime;
        m.index = static_cast<std::uint32_t>(storeAttribute(e_.program_.schema.attributes[a.target].name));
        m.value = Value::ofInt((current.present ? current.i : 0) + (a.kind == ActionIr::Kind::AddTo ? v.i : -v.i));
        e_.stage(std::move(m));
        break;
      }
      case ActionIr::Kind::Richmenu: linkMenu(a.target); break;
      case ActionIr::Kind::Start: e_.startScenario(a.target, run_.friendId, nullptr, run_.now, run_.source); break;
      case ActionIr::Kind::Stop: {
        e_.leaveScenario(a.target, run_.friendId, run_.now, Kind::Exited, run_.source);
        break;
      }
      case ActionIr::Kind::If:
        perform(interpreter_.test(a.value, run_.friendId, run_.trigger) ? a.thenActions : a.elseActions);
        break;
    }
  }

  void set(std::size_t storeAttribute, ir::NodeId value, ir::ValueType type) {
    Mutation m = forFriend(Mutation::Kind::SetAttribute);
    m.time = run_.stateTime;
    m.index = static_cast<std::uint32_t>(storeAttribute);
    m.value = valueOf(interpreter_.value(value, run_.friendId, run_.trigger), type);
    e_.stage(std::move(m));
  }

  void linkMenu(std::uint32_t menu) {
    const ir::RichmenuIr& richmenu = e_.automation_.richmenus[menu];
    const AutomationState& a = e_.state().automation();
    e_.menuByAction_.insert(run_.friendId);
    if (a.linkedMenu(run_.friendId) == richmenu.name) return;  // already on it
    const std::string user = e_.userOf(run_.friendId);
    std::vector<std::string> after;
    const std::string key = nextKey("menu");
    const std::string richMenuId = e_.richMenuIdFor(richmenu, run_.now, after);
    send::LineRequest link = send::linkMenu(key, user, richMenuId);
    link.after = std::move(after);
    e_.putInOutbox(std::move(link), run_.now, run_.now, {e_.state().friends().user(run_.friendId)}, {});
    Mutation m = forFriend(Mutation::Kind::MenuLink);
    m.name = richmenu.name;
    m.value = Value::ofString(a.rulesMenu(run_.friendId));
    e_.stage(std::move(m));
    ++e_.counters_.menuChanges;
    e_.note({run_.now, run_.friendId, Kind::Menu, richmenu.name, run_.source, "linked by an action"});
  }

  std::string nextKey(const char* what) {
    return e_.outboxKey(run_.now, fmt::format("{}/{}/{}", run_.identity, what, run_.requests++));
  }

  void send(const std::vector<ir::MessageCall>& calls, bool asReply) {
    const StoreState& state = e_.state();
    const std::string joined = fmt::format("{}", fmt::join(messageNames(e_.automation_, calls), ", "));
    if (state.blocked().contains(run_.friendId)) {
      e_.note({run_.now, run_.friendId, Kind::Skipped, joined, run_.source, "the friend blocked the account"});
      return;
    }
    const RenderedCalls rendered = e_.renderCalls(calls, run_.friendId, run_.trigger, run_.now);
    const UserId& user = state.friends().user(run_.friendId);
    for (const auto& [name, why] : rendered.skipped) {
      e_.recordSkipped(user, name, run_.now, why);
      e_.note({run_.now, run_.friendId, Kind::Skipped, name, run_.source, why});
    }
    if (rendered.messages.empty()) return;
    const std::vector<std::string>& names = rendered.names;
    // A reply answers the friend at once: not held, not capped. A token is
    // good for one reply; later replies to the same event are pushes.
    if (asReply && !run_.replyToken.empty()) {
      const auto parts = send::batches(rendered.messages, send::kMaxMessages);
      e_.putInOutbox(send::reply(nextKey("reply"), std::exchange(run_.replyToken, ""), send::Json(parts.front()), run_.replyExpires),
                     run_.now, run_.now, {user}, names);
      for (std::size_t i = 0; i < rendered.messages.size(); ++i) {
        e_.note({run_.now, run_.friendId, Kind::Replied, names[i], run_.source, rendered.messages[i].dump()});
      }
      e_.counters_.messagesSent += rendered.messages.size();
      if (parts.size() == 1) return;
      // More than five messages: the rest go as pushes, after the reply.
      RenderedCalls rest;
      for (std::size_t i = send::kMaxMessages; i < rendered.messages.size(); ++i) {
        rest.messages.push_back(rendered.messages[i]);
        rest.names.push_back(names[i]);
      }
      return push(rest, user, joined);
    }
    push(rendered, user, joined);
  }

  void push(const RenderedCalls& rendered, const UserId& user, const std::string& joined) {
    const std::vector<std::string>& names = rendered.names;
    std::int64_t at = run_.now;
    if (e_.inQuietHours(at)) {
      at = e_.quietEnd(at);
      ++e_.counters_.heldByQuietHours;
      e_.note({run_.now, run_.friendId, Kind::Held, joined, run_.source, "quiet hours: until " + e_.zone_.formatInstant(at)});
    }
    if (e_.capped(run_.friendId, at)) {
      for (const std::string& name : names) e_.recordSkipped(user, name, run_.now, "cap");
      ++e_.counters_.skippedByCap;
      e_.note({at, run_.friendId, Kind::Skipped, joined, run_.source, "frequency cap"});
      return;
    }
    Mutation charge = forFriend(Mutation::Kind::CapCharge);
    charge.time = at;
    e_.stage(std::move(charge));
    for (const auto& part : send::batches(rendered.messages, send::kMaxMessages)) {
      e_.putInOutbox(send::push(nextKey("push"), user.toString(), send::Json(part)), run_.now, at, {user}, names);
    }
    for (std::size_t i = 0; i < rendered.messages.size(); ++i) {
      e_.note({at, run_.friendId, Kind::Sent, names[i], run_.source, rendered.messages[i].dump()});
    }
    e_.counters_.messagesSent += rendered.messages.size();
  }

  AutomationEngine& e_;
  Run& run_;
  Interpreter interpreter_;
};

bool AutomationEngine::capped(std::uint32_t friendId, std::int64_t at) const {
  const ir::PolicyIr& p = automation_.policy;
  if (!p.capCount) return false;
  return state().automation().chargesSince(friendId, at - p.capPeriodSeconds + 1) >= static_cast<std::size_t>(*p.capCount);
}

Val AutomationEngine::attributeValue(std::uint32_t attribute, std::uint32_t friendId) const {
  const AttributeColumn& column = evaluator_->bound().attribute(attribute);
  if (!column.has(friendId)) return {};
  if (column.spec().type == ir::ValueType::String) return {true, 0, column.dict().at(column.codeAt(friendId))};
  return {true, column.intAt(friendId), {}};
}

bool AutomationEngine::test(ir::NodeId condition, std::uint32_t friendId, std::int64_t now) const {
  return Interpreter(evaluator_->bound(), EvalTime::at(now, zone_)).test(condition, friendId);
}

std::string AutomationEngine::describe(ir::NodeId value, std::uint32_t friendId, std::int64_t now) const {
  const Val v = Interpreter(evaluator_->bound(), EvalTime::at(now, zone_)).value(value, friendId, nullptr);
  if (!v.present) return "missing";
  const ir::Node& n = program_.node(value);
  const ir::ColumnSpec* column = n.op == ir::Op::Attr ? &program_.schema.attributes[n.a] : nullptr;
  const std::string text = format(v, n.type, column);
  return n.type == ir::ValueType::String || n.type == ir::ValueType::Enum ? "`" + text + "`" : text;
}

std::string AutomationEngine::menuOf(std::uint32_t friendId) const {
  const AutomationState& a = state().automation();
  return a.linkedMenu(friendId).empty() ? a.rulesMenu(friendId) : a.linkedMenu(friendId);
}

// --------------------------------------------------------------- scenarios

std::string AutomationEngine::enrolmentName(const ir::ScenarioIr& s, std::uint32_t friendId, const TriggerEvent* trigger,
                                           std::int64_t now) const {
  if (s.per == ir::kNoNode) return s.name;
  const Interpreter interpreter(evaluator_->bound(), EvalTime::at(now, zone_));
  return s.name + "#" + format(interpreter.value(s.per, friendId, trigger), program_.node(s.per).type, nullptr);
}

const ir::ScenarioIr* AutomationEngine::scenarioOfEnrolment(const std::string& name) const {
  return automation_.scenario(name.substr(0, name.find('#')));
}

void AutomationEngine::startScenario(std::uint32_t scenario, std::uint32_t friendId, const TriggerEvent* trigger,
                                     std::int64_t now, const std::string& source) {
  const ir::ScenarioIr& s = automation_.scenarios[scenario];
  if (s.steps.empty() || state().blocked().contains(friendId)) return;
  const AutomationState& a = state().automation();
  const std::string name = enrolmentName(s, friendId, trigger, now);
  const std::optional<std::uint32_t> id = a.scenarioId(name);
  const bool enrolled = id && a.enrolment(friendId, *id) != nullptr;
  const std::optional<std::int64_t> last = id ? a.lastEnrolled(friendId, *id) : std::nullopt;
  switch (s.reentry.kind) {
    case ir::ReentryIr::Kind::WhileEnrolled:
      if (enrolled) return;
      break;
    case ir::ReentryIr::Kind::Never:
      if (last) return;
      break;
    case ir::ReentryIr::Kind::Always: break;
    case ir::ReentryIr::Kind::After:
      if (last && now - *last < s.reentry.afterSeconds) return;
      break;
  }
  if (s.where != ir::kNoNode) {
    const Interpreter interpreter(evaluator_->bound(), EvalTime::at(now, zone_));
    if (!interpreter.test(s.where, friendId, trigger)) return;
  }
  Mutation m = Mutation::of(Mutation::Kind::ScenarioEnrol, state().friends().user(friendId));
  m.name = name;
  m.time = now;
  m.value = Value::ofInt(stepDue(s, 0, now, now));
  if (trigger != nullptr) {
    m.index = static_cast<std::uint32_t>(*state().schema().event(program_.schema.events[trigger->event].name)) + 1;
    m.fields = trigger->fields;
  }
  stage(std::move(m));
  ++counters_.enrolments;
  note({now, friendId, Kind::Enrolled, s.name, source, name == s.name ? "" : name});
}

void AutomationEngine::leaveEnrolment(std::uint32_t id, std::uint32_t friendId, std::int64_t now, TimelineEntry::Kind why,
                                      const std::string& source) {
  if (state().automation().enrolment(friendId, id) == nullptr) return;
  const std::string name = state().automation().scenarioName(id);
  const ir::ScenarioIr* s = scenarioOfEnrolment(name);
  Mutation m = Mutation::of(Mutation::Kind::ScenarioLeave, state().friends().user(friendId));
  m.name = name;
  m.time = now;
  stage(std::move(m));
  if (why == Kind::Exited) ++counters_.exits;
  note({now, friendId, why, s != nullptr ? s->name : name, source, s != nullptr && name == s->name ? "" : name});
}

void AutomationEngine::leaveScenario(std::uint32_t scenario, std::uint32_t friendId, std::int64_t now,
                                     TimelineEntry::Kind why, const std::string& source) {
  const ir::ScenarioIr& s = automation_.scenarios[scenario];
  for (std::uint32_t id : state().automation().enrolmentsOf(friendId)) {
    if (scenarioOfEnrolment(state().automation().scenarioName(id)) == &s) leaveEnrolment(id, friendId, now, why, source);
  }
}

// The trigger an enrolment remembers, for `e.field` in later steps.
static std::optional<TriggerEvent> triggerOf(const Enrolment& e, const StoreState& state, const ir::Program& program) {
  if (e.triggerEvent == kNoTriggerEvent || e.triggerEvent >= state.schema().events.size()) return std::nullopt;
  const auto irEvent = program.schema.event(state.schema().events[e.triggerEvent].name);
  if (!irEvent) return std::nullopt;
  return TriggerEvent{static_cast<std::uint32_t>(*irEvent), e.triggerFields};
}

bool AutomationEngine::checkExits(std::uint32_t friendId, std::int64_t now, const std::string& source) {
  bool left = false;
  const Interpreter interpreter(evaluator_->bound(), EvalTime::at(now, zone_));
  for (std::uint32_t id : state().automation().enrolmentsOf(friendId)) {
    const ir::ScenarioIr* s = scenarioOfEnrolment(state().automation().scenarioName(id));
    if (s == nullptr) continue;
    const Enrolment* e = state().automation().enrolment(friendId, id);
    const std::optional<TriggerEvent> trigger = triggerOf(*e, state(), program_);
    for (ir::NodeId condition : s->exitWhen) {
      if (interpreter.test(condition, friendId, trigger ? &*trigger : nullptr)) {
        leaveEnrolment(id, friendId, now, Kind::Exited, source.empty() ? "exit when" : source);
        left = true;
        break;
      }
    }
  }
  return left;
}

void AutomationEngine::runStep(std::uint32_t friendId, std::uint32_t id, std::int64_t due) {
  const AutomationState& a = state().automation();
  const std::string name = a.scenarioName(id);
  const Enrolment* e = a.enrolment(friendId, id);
  if (e == nullptr || e->dueAt != due) return;
  const ir::ScenarioIr* s = scenarioOfEnrolment(name);
  const UserId user = state().friends().user(friendId);
  if (s == nullptr || e->nextStep >= s->steps.size()) {
    // The program no longer has this scenario (or step): the friend leaves it.
    Mutation leave = Mutation::of(Mutation::Kind::ScenarioLeave, user);
    leave.name = name;
    leave.time = due;
    stage(std::move(leave));
    commit();
    return;
  }
  const std::size_t index = e->nextStep;
  const ir::StepIr& step = s->steps[index];
  const std::string source = fmt::format("scenario {} ({})", name, step.label);
  if (state().blocked().contains(friendId)) {
    leaveEnrolment(id, friendId, due, Kind::Exited, "the friend blocked the account");
    commit();
    return;
  }
  if (checkExits(friendId, due, source)) {
    commit();
    return;
  }
  if (inQuietHours(due) && stepSends(step.actions)) {
    // Held whole, so `when` is still decided when it actually runs.
    Mutation hold = Mutation::of(Mutation::Kind::ScenarioStep, user);
    hold.name = name;
    hold.index = static_cast<std::uint32_t>(index);
    hold.value = Value::ofInt(quietEnd(due));
    stage(std::move(hold));
    ++counters_.heldByQuietHours;
    note({due, friendId, Kind::Held, name, source, "quiet hours: until " + zone_.formatInstant(quietEnd(due))});
    commit();
    return;
  }
  const std::int64_t enrolledAt = e->enrolledAt;
  const std::optional<TriggerEvent> trigger = triggerOf(*e, state(), program_);
  const Interpreter interpreter(evaluator_->bound(), EvalTime::at(due, zone_));
  if (step.when != ir::kNoNode && !interpreter.test(step.when, friendId, trigger ? &*trigger : nullptr)) {
    ++counters_.stepsSkipped;
    note({due, friendId, Kind::StepSkipped, name, source, "`when` was false"});
  } else {
    ++counters_.stepsRun;
    Run run;
    run.friendId = friendId;
    run.now = due;
    run.stateTime = due;
    run.trigger = trigger ? &*trigger : nullptr;
    run.source = source;
    run.identity = fmt::format("{}/{}/{}/{}", user.toString(), name, enrolledAt, index);
    Actions(*this, run).perform(step.actions);
  }
  // The actions may have stopped or restarted this scenario.
  const Enrolment* still = state().automation().enrolment(friendId, id);
  if (still != nullptr && still->enrolledAt == enrolledAt && still->nextStep == index) {
    if (index + 1 < s->steps.size()) {
      Mutation next = Mutation::of(Mutation::Kind::ScenarioStep, user);
      next.name = name;
      next.index = static_cast<std::uint32_t>(index + 1);
      next.value = Value::ofInt(stepDue(*s, index + 1, enrolledAt, due));
      stage(std::move(next));
    } else {
      leaveEnrolment(id, friendId, due, Kind::Completed, source);
    }
  }
  checkSegmentChanges(friendId, due);
  recomputeMenu(friendId, due);
  commit();
}

// ------------------------------------------------------------------ events

std::string encodeInbound(const InboundEvent& event) {
  std::string out;
  BinaryWriter writer(out);
  writer.bytes(event.webhookEventId);
  writer.bytes(event.replyToken);
  writer.u8(event.standby ? 1 : 0);
  writer.varint(event.changes.size());
  for (const Mutation& m : event.changes) m.encode(writer);
  return out;
}

InboundEvent decodeInbound(std::string_view bytes) {
  BinaryReader reader(bytes);
  InboundEvent event;
  event.webhookEventId = reader.bytes();
  event.replyToken = reader.bytes();
  event.standby = reader.u8() != 0;
  const std::size_t n = reader.count(1);
  for (std::size_t i = 0; i < n; ++i) event.changes.push_back(Mutation::decode(reader));
  if (!reader.done()) throw CorruptData("trailing bytes after an inbox event");
  return event;
}

bool AutomationEngine::handle(const InboundEvent& event, std::int64_t now) {
  advanceTo(now);
  const bool fromInbox = event.inboxItem.has_value();
  if (!event.webhookEventId.empty() && !fromInbox && state().webhookSeen(event.webhookEventId)) {
    ++counters_.duplicates;
    return false;
  }
  ++counters_.events;
  std::vector<Mutation> changes = event.changes;
  if (!event.webhookEventId.empty() && !fromInbox) {
    Mutation seen = Mutation::of(Mutation::Kind::WebhookSeen);
    seen.name = event.webhookEventId;
    seen.time = now;
    changes.push_back(std::move(seen));
  }
  if (fromInbox) {
    Mutation done = Mutation::of(Mutation::Kind::InboxDone);
    done.value = Value::ofInt(static_cast<std::int64_t>(*event.inboxItem));
    changes.push_back(std::move(done));
  }
  writer_.stage(changes);
  if (event.standby) {
    // Another channel answers this friend: record, never act.
    commit();
    return true;
  }
  for (std::size_t i = 0; i < event.changes.size(); ++i) {
    const Mutation& change = event.changes[i];
    if (change.kind == Mutation::Kind::WebhookSeen || change.kind == Mutation::Kind::AudienceAdd) continue;
    const std::optional<std::uint32_t> friendId = state().friends().find(change.user);
    if (!friendId) continue;
    // Actions happen when seg takes the event; its own time only orders the
    // state it sets (an event stamped in the future moves no clock).
    onEvent(*friendId, change, event, now);
  }
  commit();
  advanceTo(now);  // steps due at once (`day 0`)
  return true;
}

void AutomationEngine::onEvent(std::uint32_t friendId, const Mutation& change, const InboundEvent& event,
                               std::int64_t now) {
  TriggerIr::Kind kind;
  std::optional<std::size_t> irEvent;
  switch (change.kind) {
    case Mutation::Kind::Follow:
      kind = TriggerIr::Kind::Follow;
      irEvent = program_.schema.event("follow");
      break;
    case Mutation::Kind::Unfollow:
      kind = TriggerIr::Kind::Unfollow;
      irEvent = program_.schema.event("unfollow");
      break;
    case Mutation::Kind::AppendEvent: {
      const std::string& name = state().schema().events.at(change.index).name;
      irEvent = program_.schema.event(name);
      kind = name == "message" ? TriggerIr::Kind::Message : name == "postback" ? TriggerIr::Kind::Postback : TriggerIr::Kind::Event;
      break;
    }
    default:
      // Data changed (an attribute, a tag...): exits, segment triggers and menus may follow.
      checkExits(friendId, now, "");
      checkSegmentChanges(friendId, now);
      recomputeMenu(friendId, now);
      return;
  }
  const TriggerEvent trigger{irEvent ? static_cast<std::uint32_t>(*irEvent) : 0u, change.fields};
  const TriggerEvent* bound = irEvent ? &trigger : nullptr;
  const auto matches = [&](const ir::TriggerIr& t) {
    return t.kind == kind && (kind != TriggerIr::Kind::Event || (irEvent && t.event == *irEvent));
  };
  if (kind == TriggerIr::Kind::Unfollow) {
    for (std::uint32_t id : state().automation().enrolmentsOf(friendId)) {
      if (scenarioOfEnrolment(state().automation().scenarioName(id)) != nullptr) {
        leaveEnrolment(id, friendId, now, Kind::Exited, "the friend blocked the account");
      }
    }
  }
  const Interpreter interpreter(evaluator_->bound(), EvalTime::at(now, zone_));
  std::string replyToken = event.replyToken;
  const std::string eventIdentity =
      event.webhookEventId.empty() ? fmt::format("{}/{}", userOf(friendId), change.time) : event.webhookEventId;
  for (std::size_t r = 0; r < automation_.rules.size(); ++r) {
    const ir::RuleIr& rule = automation_.rules[r];
    if (!matches(rule.trigger)) continue;
    if (rule.where != ir::kNoNode && !interpreter.test(rule.where, friendId, bound)) continue;
    Run run;
    run.friendId = friendId;
    run.now = now;
    run.stateTime = change.time != 0 ? change.time : now;
    run.trigger = bound;
    run.source = "rule " + rule.label;
    run.identity = fmt::format("{}/rule{}", eventIdentity, r);
    run.replyToken = std::exchange(replyToken, "");
    const std::int64_t received = event.receivedAt != 0 ? std::min(event.receivedAt, now) : now;
    run.replyExpires = std::min(received + send::kReplyTokenSeconds, change.time + send::kReplyTokenEventSeconds);
    Actions(*this, run).perform(rule.actions);
    if (!run.replyToken.empty()) replyToken = run.replyToken;  // unused: the next rule may reply
  }
  for (std::size_t s = 0; s < automation_.scenarios.size(); ++s) {
    if (matches(automation_.scenarios[s].trigger)) {
      startScenario(static_cast<std::uint32_t>(s), friendId, bound, now, "on " + (irEvent ? program_.schema.events[*irEvent].name : std::string("event")));
    }
  }
  checkExits(friendId, now, "");
  checkSegmentChanges(friendId, now);
  recomputeMenu(friendId, now);
}

void AutomationEngine::fire(std::uint32_t friendId, std::int64_t now, const std::function<bool(const ir::TriggerIr&)>& matches,
                            const std::string& why, const std::string& identity) {
  const Interpreter interpreter(evaluator_->bound(), EvalTime::at(now, zone_));
  for (std::size_t r = 0; r < automation_.rules.size(); ++r) {
    const ir::RuleIr& rule = automation_.rules[r];
    if (!matches(rule.trigger)) continue;
    if (rule.where != ir::kNoNode && !interpreter.test(rule.where, friendId)) continue;
    Run run;
    run.friendId = friendId;
    run.now = now;
    run.stateTime = now;
    run.source = "rule " + rule.label;
    run.identity = fmt::format("{}/{}/rule{}", userOf(friendId), identity, r);
    Actions(*this, run).perform(rule.actions);
  }
  for (std::size_t s = 0; s < automation_.scenarios.size(); ++s) {
    if (matches(automation_.scenarios[s].trigger)) startScenario(static_cast<std::uint32_t>(s), friendId, nullptr, now, why);
  }
}

// ------------------------------------------------------------------- clock

std::optional<std::int64_t> AutomationEngine::nextDue() const {
  std::optional<std::int64_t> next;
  const auto consider = [&](std::int64_t t) { next = next ? std::min(*next, t) : t; };
  const AutomationState& a = state().automation();
  if (!a.timers().empty()) consider(a.timers().begin()->due);
  if (!a.expiring().empty()) consider(a.expiring().begin()->first);
  if ((!automation_.menus.empty() || !watchedSegments_.empty()) && clock_ != 0) consider(nextDayStart(clock_));
  for (const ir::CampaignIr& c : automation_.campaigns) {
    if (const auto due = campaignDue(c)) consider(*due);
  }
  for (const YearlyJob& job : yearly_) {
    if (const auto due = pendingOf(job.key, job.daily, std::nullopt)) consider(*due);
  }
  return next;
}

std::string campaignRecordName(const ir::CampaignIr& c, std::int64_t occurrence) {
  return c.every ? fmt::format("{}@{}", c.name, occurrence) : c.name;
}

std::optional<std::int64_t> AutomationEngine::pendingOccurrence(const ir::CampaignIr& c) const {
  if (!c.every) {
    const AutomationState& a = state().automation();
    if (!c.at || a.campaignRecord(c.name) != nullptr) return std::nullopt;
    return c.at;
  }
  return pendingOf(c.name, *c.every, c.at);
}

std::optional<std::int64_t> AutomationEngine::pendingOf(const std::string& key, const Recurrence& every,
                                                        std::optional<std::int64_t> notBefore) const {
  // From when the engine's clock started; after a restart (it ran before),
  // from the occurrence after its last, at most a day back. Never before
  // `notBefore`.
  if (firstClock_ == 0) return std::nullopt;
  auto [it, fresh] = nextOccurrence_.try_emplace(key, 0);
  if (fresh) {
    std::int64_t from = firstClock_;
    if (const std::optional<std::int64_t> last = lastOccurrence(key)) from = std::max(*last + 1, firstClock_ - kCampaignGrace);
    it->second = every.firstAtOrAfter(std::max(from, notBefore.value_or(civil::kFirstInstant)), zone_);
  }
  while (state().automation().campaignRecord(fmt::format("{}@{}", key, it->second)) != nullptr) {
    it->second = every.firstAtOrAfter(it->second + 1, zone_);
  }
  return it->second;
}

std::optional<std::int64_t> AutomationEngine::lastOccurrence(const std::string& key) const {
  const std::map<std::string, CampaignRecord>& records = state().automation().campaignRecords();
  const std::string prefix = key + "@";
  std::optional<std::int64_t> last;
  for (auto it = records.lower_bound(prefix); it != records.end() && it->first.starts_with(prefix); ++it) {
    const std::string digits = it->first.substr(prefix.size());
    std::int64_t occurrence = 0;
    if (std::from_chars(digits.data(), digits.data() + digits.size(), occurrence).ec == std::errc()) {
      last = std::max(last.value_or(occurrence), occurrence);
    }
  }
  return last;
}

std::optional<std::int64_t> AutomationEngine::campaignDue(const ir::CampaignIr& c) const {
  const std::optional<std::int64_t> occurrence = pendingOccurrence(c);
  if (!occurrence) return std::nullopt;
  const auto held = heldUntil_.find(c.name);
  return held == heldUntil_.end() ? *occurrence : std::max(*occurrence, held->second);
}

void AutomationEngine::advanceTo(std::int64_t now) {
  if (clock_ == 0) {
    // Started: everyone's menu is brought up to date once, in bulk.
    clock_ = now;
    firstClock_ = now;
    recomputeMenus(now);
    baselineWatchedSegments(now);
  }
  expireReplies(now);
  const bool hasDayWork = !automation_.menus.empty() || !watchedSegments_.empty();
  while (true) {
    const std::set<Timer>& timers = state().automation().timers();
    std::optional<std::int64_t> next;
    enum class What { Timer, Day, Campaign, Yearly } what = What::Timer;
    const YearlyJob* yearly = nullptr;
    if (!timers.empty() && timers.begin()->due <= now) next = timers.begin()->due;
    const std::int64_t day = nextDayStart(clock_);
    if (hasDayWork && day <= now && (!next || day < *next)) {
      next = day;
      what = What::Day;
    }
    for (const ir::CampaignIr& c : automation_.campaigns) {
      const std::optional<std::int64_t> due = campaignDue(c);
      if (due && *due <= now && (!next || *due < *next)) {
        next = due;
        what = What::Campaign;
      }
    }
    for (const YearlyJob& job : yearly_) {
      const std::optional<std::int64_t> due = pendingOf(job.key, job.daily, std::nullopt);
      if (due && *due <= now && (!next || *due < *next)) {
        next = due;
        what = What::Yearly;
        yearly = &job;
      }
    }
    if (!next) break;
    clock_ = std::max(clock_, *next);
    switch (what) {
      case What::Timer: {
        const Timer t = *timers.begin();
        const Enrolment* before = state().automation().enrolment(t.friendId, t.scenario);
        const std::uint32_t step = before != nullptr ? before->nextStep : ~0u;
        runStep(t.friendId, t.scenario, t.due);
        const Enrolment* after = state().automation().enrolment(t.friendId, t.scenario);
        const bool moved = after == nullptr ? !state().automation().timers().contains(t)
                                            : after->nextStep != step || after->dueAt != t.due;
        if (!moved) {
          // A timer the step did not move (its scenario state is gone):
          // the enrolment ends rather than the clock stopping here.
          Mutation leave = Mutation::of(Mutation::Kind::ScenarioLeave, state().friends().user(t.friendId));
          leave.name = state().automation().scenarioName(t.scenario);
          leave.time = t.due;
          stage(std::move(leave));
          commit();
        }
        break;
      }
      case What::Day:
        clock_ = day;
        recomputeMenus(day);
        checkSegmentChanges(day);
        break;
      case What::Campaign: runDueCampaigns(clock_); break;
      case What::Yearly: runYearly(*yearly, *next, clock_); break;
    }
  }
  clock_ = std::max(clock_, now);
}

void AutomationEngine::runDueCampaigns(std::int64_t now) {
  for (const ir::CampaignIr& c : automation_.campaigns) {
    const std::optional<std::int64_t> due = campaignDue(c);
    if (!due || *due > now) continue;
    const std::int64_t occurrence = *pendingOccurrence(c);
    std::string refused;
    if (now - occurrence > kCampaignGrace) {
      refused = heldUntil_.contains(c.name)
                    ? fmt::format("held a day past its time ({}) for LINE's monthly quota, and not sent", zone_.formatInstant(occurrence))
                    : fmt::format("missed: it was due at {} and found a day later", zone_.formatInstant(occurrence));
    } else {
      const CampaignReport report = runCampaign(c.name, now, true, occurrence);
      if (!report.held.empty()) {
        if (!heldUntil_.contains(c.name)) note({now, ~0u, Kind::Held, c.name, "campaign " + c.name, report.held});
        heldUntil_[c.name] = now + kQuotaHoldRetry;
        continue;
      }
      refused = report.refused;
    }
    heldUntil_.erase(c.name);
    if (refused.empty()) continue;
    // Not sent, but dealt with: the scheduler does not try it again (`segc
    // plan --record` still can).
    Mutation record = Mutation::of(Mutation::Kind::CampaignRan);
    record.name = campaignRecordName(c, occurrence);
    record.time = now;
    record.value = Value::ofString(refused);
    stage(std::move(record));
    commit();
    note({now, ~0u, Kind::Refused, c.name, "campaign " + c.name, refused});
  }
}

// ------------------------------------------------------------------- menus

std::optional<std::uint32_t> AutomationEngine::desiredMenu(std::uint32_t friendId, std::int64_t now) const {
  const Interpreter interpreter(evaluator_->bound(), EvalTime::at(now, zone_));
  for (std::size_t r = 0; r < automation_.menus.size(); ++r) {
    const ir::MenuRuleIr& rule = automation_.menus[r];
    if (rule.segment == ~0u || interpreter.test(program_.segments[rule.segment].root, friendId)) {
      return static_cast<std::uint32_t>(r);
    }
  }
  return std::nullopt;
}

void AutomationEngine::recomputeMenu(std::uint32_t friendId, std::int64_t now) {
  if (automation_.menus.empty() || state().blocked().contains(friendId)) return;
  const std::optional<std::uint32_t> rule = desiredMenu(friendId, now);
  if (!rule) return;
  const ir::MenuRuleIr& r = automation_.menus[*rule];
  const ir::RichmenuIr& menu = automation_.richmenus[r.richmenu];
  const AutomationState& a = state().automation();
  if (a.rulesMenu(friendId) == menu.name) return;  // the rules' answer did not change
  const bool accountDefault = r.segment == ~0u && options_.defaultMenuAccountWide;
  const std::string target = accountDefault ? "" : menu.name;
  const UserId user = state().friends().user(friendId);
  Mutation m = Mutation::of(Mutation::Kind::MenuLink, user);
  m.value = Value::ofString(menu.name);
  if (menuByAction_.contains(friendId)) {
    // A `richmenu` action chose this friend's menu in this unit of work:
    // the rules' answer is noted, the action's menu stays.
    m.name = a.linkedMenu(friendId);
    stage(std::move(m));
    return;
  }
  if (a.linkedMenu(friendId) != target) {
    const std::string key = outboxKey(now, fmt::format("{}/menu", user.toString()));
    send::LineRequest request = send::unlinkMenu(key, user.toString());
    if (!accountDefault) {
      std::vector<std::string> after;
      const std::string richMenuId = richMenuIdFor(menu, now, after);
      request = send::linkMenu(key, user.toString(), richMenuId);
      request.after = std::move(after);
    }
    putInOutbox(std::move(request), now, now, {user}, {});
    ++counters_.menuChanges;
    note({now, friendId, Kind::Menu, menu.name, "menus", accountDefault ? "unlinked: the account's default" : "linked"});
  }
  m.name = target;
  stage(std::move(m));
}

void AutomationEngine::recomputeMenus(std::int64_t now) {
  if (automation_.menus.empty()) return;
  const BoundProgram& bound = evaluator_->bound();
  Bitmap remaining = bound.universe();
  std::vector<Mutation> changes;
  std::map<std::uint32_t, std::vector<std::string>> links;  // rich menu -> users
  std::vector<std::string> unlinks;
  const AutomationState& a = state().automation();
  for (const ir::MenuRuleIr& rule : automation_.menus) {
    Bitmap members = remaining;
    if (rule.segment != ~0u) members = evaluator_->evaluate(program_.segments[rule.segment].name, now, Engine::Auto).friends & remaining;
    remaining = remaining - members;
    const ir::RichmenuIr& menu = automation_.richmenus[rule.richmenu];
    const bool accountDefault = rule.segment == ~0u && options_.defaultMenuAccountWide;
    const std::string target = accountDefault ? "" : menu.name;
    for (std::uint32_t id : members.toVector()) {
      if (a.rulesMenu(id) == menu.name) continue;
      const UserId& user = state().friends().user(id);
      if (a.linkedMenu(id) != target) {
        if (accountDefault) {
          unlinks.push_back(user.toString());
        } else {
          links[rule.richmenu].push_back(user.toString());
        }
        note({now, id, Kind::Menu, menu.name, "menus (day start)", accountDefault ? "unlinked" : "linked"});
      }
      Mutation m = Mutation::of(Mutation::Kind::MenuLink, user);
      m.name = target;
      m.value = Value::ofString(menu.name);
      changes.push_back(std::move(m));
    }
  }
  if (changes.empty()) return;
  writer_.stage(std::move(changes));
  const std::string day = civil::formatDate(zone_.localDay(now));
  for (const auto& [richmenu, users] : links) {
    const ir::RichmenuIr& menu = automation_.richmenus[richmenu];
    std::vector<std::string> after;
    const std::string richMenuId = richMenuIdFor(menu, now, after);
    std::size_t part = 0;
    for (const auto& batch : send::batches(users, send::kMaxBulkMenu)) {
      const std::string key = outboxKey(now, fmt::format("menus/{}/link/{}/{}", day, menu.name, part++));
      send::LineRequest request = send::bulkLinkMenu(key, richMenuId, batch);
      request.after = after;
      putInOutbox(std::move(request), now, now, {}, {});
      counters_.menuChanges += batch.size();
    }
  }
  std::size_t part = 0;
  for (const auto& batch : send::batches(unlinks, send::kMaxBulkMenu)) {
    putInOutbox(send::bulkUnlinkMenu(outboxKey(now, fmt::format("menus/{}/unlink/{}", day, part++)), batch), now, now, {}, {});
    counters_.menuChanges += batch.size();
  }
  commit();
}

// --------------------------------------------------------------- campaigns

CampaignReport AutomationEngine::runCampaign(const std::string& name, std::int64_t now, bool record,
                                            std::optional<std::int64_t> occurrence) {
  const ir::CampaignIr* c = automation_.campaign(name);
  if (c == nullptr) throw EngineError(fmt::format("no campaign `{}` in the program", name));
  CampaignReport report;
  report.name = name;
  report.at = now;
  report.occurrence = c->every ? occurrence.value_or(now) : c->at.value_or(now);
  report.demographic = c->demographic;
  const StoreState& s = state();
  Bitmap audience = evaluator_->evaluate(program_.segments[c->audience].name, now, Engine::Auto).friends - s.blocked();
  std::vector<std::uint32_t> ids = audience.toVector();
  report.audience = ids.size();
  const auto rank = [&](const std::string& seed, std::uint32_t id) {
    return Interpreter::bucketOf(seed, s.friends().user(id));
  };
  // `limit`: a stable random subset (LINE applies it after its filter).
  const bool lineFilter = !c->demographic.empty();
  if (c->limit && !lineFilter && ids.size() > static_cast<std::size_t>(*c->limit)) {
    const std::string seed = "limit:" + name;
    std::vector<std::pair<std::int64_t, std::uint32_t>> ranked;
    for (std::uint32_t id : ids) ranked.emplace_back(rank(seed, id), id);
    std::nth_element(ranked.begin(), ranked.begin() + *c->limit, ranked.end());
    ranked.resize(static_cast<std::size_t>(*c->limit));
    report.limited = ids.size() - ranked.size();
    ids.clear();
    for (const auto& [r, id] : ranked) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
  }
  // `split`: each friend's arm by a stable bucket of the campaign.
  std::vector<std::vector<std::uint32_t>> arms(c->arms.size());
  const std::string splitSeed = "split:" + name;
  for (std::uint32_t id : ids) {
    const std::int64_t bucket = c->arms.size() == 1 ? 0 : rank(splitSeed, id);
    std::int64_t upTo = 0;
    for (std::size_t a = 0; a < c->arms.size(); ++a) {
      upTo += c->arms[a].basisPoints;
      if (bucket < upTo || a + 1 == c->arms.size()) {
        arms[a].push_back(id);
        break;
      }
    }
  }
  std::vector<Mutation> changes;
  std::uint64_t reach = 0;
  for (std::size_t a = 0; a < arms.size(); ++a) {
    if (c->arms[a].holdout) {
      report.holdout += arms[a].size();
    } else {
      reach += arms[a].size();
    }
  }
  const std::optional<std::int64_t> minReach = automation_.policy.minReach;
  if (minReach && reach < static_cast<std::uint64_t>(*minReach)) {
    report.refused = fmt::format("campaign `{}` would reach {} friends, below the policy's min_reach of {}: nothing was sent",
                                 name, reach, *minReach);
  }
  std::int64_t at = now;
  if (inQuietHours(now)) {
    at = quietEnd(now);
    report.heldUntil = at;
  }
  const ir::PolicyIr& policy = automation_.policy;
  // Planned requests go to the outbox only once the whole campaign is planned.
  struct Planned {
    send::LineRequest request;
    std::int64_t notBefore;
    std::vector<UserId> users;
    std::vector<std::string> carries;
  };
  std::vector<Planned> planned;
  for (std::size_t a = 0; a < arms.size() && report.refused.empty(); ++a) {
    report.perArm.push_back(arms[a].size());
    if (c->arms[a].holdout) {
      Mutation holdout = Mutation::of(Mutation::Kind::AudienceAdd);
      holdout.name = "seg:holdout:" + name;
      holdout.time = now;
      for (std::uint32_t id : arms[a]) holdout.users.push_back(s.friends().user(id));
      changes.push_back(std::move(holdout));
      continue;
    }
    // Group friends by what they would receive: one request per distinct content.
    std::map<std::string, std::vector<std::uint32_t>> byContent;
    std::map<std::string, send::Json> contents;
    for (std::uint32_t id : arms[a]) {
      if (policy.capCount &&
          s.automation().chargesSince(id, at - policy.capPeriodSeconds + 1) >= static_cast<std::size_t>(*policy.capCount)) {
        ++report.capped;
        Mutation skipped = Mutation::of(Mutation::Kind::SendSkipped, s.friends().user(id));
        skipped.name = name;
        skipped.time = now;
        skipped.value = Value::ofString("cap");
        changes.push_back(std::move(skipped));
        continue;
      }
      const RenderedCalls rendered = renderCalls(c->arms[a].messages, id, nullptr, now);
      for (const auto& [message, why] : rendered.skipped) {
        Mutation skipped = Mutation::of(Mutation::Kind::SendSkipped, s.friends().user(id));
        skipped.name = message;
        skipped.time = now;
        skipped.value = Value::ofString(why);
        changes.push_back(std::move(skipped));
        ++report.unsendable;
      }
      if (rendered.messages.empty()) continue;
      // Through LINE's filter, seg cannot know who receives it: the cap
      // counts only sends seg knows reach the friend (docs/automation.md).
      if (!lineFilter) {
        Mutation charge = Mutation::of(Mutation::Kind::CapCharge, s.friends().user(id));
        charge.time = at;
        changes.push_back(std::move(charge));
      }
      send::Json messages = send::Json(rendered.messages);
      std::string text = messages.dump();
      byContent[text].push_back(id);
      contents.emplace(std::move(text), std::move(messages));
      ++report.recipients;
    }
    std::vector<std::string> carries = messageNames(automation_, c->arms[a].messages);
    carries.push_back(name);
    const bool narrow = lineFilter || arms[a].size() > options_.narrowcastThreshold;
    if (narrow && byContent.size() > kMaxNarrowcastVariants) {
      report.refused = fmt::format(
          "campaign `{}` goes through LINE's narrowcast but its messages differ for {} groups of friends "
          "(placeholders such as {{{{name}}}}); narrowcast sends one message to everyone",
          name, byContent.size());
      break;
    }
    report.narrowcast = report.narrowcast || narrow;
    std::size_t variant = 0;
    for (const auto& [text, members] : byContent) {
      std::vector<std::string> users;
      std::vector<UserId> userIds;
      for (std::uint32_t id : members) {
        users.push_back(s.friends().user(id).toString());
        userIds.push_back(s.friends().user(id));
      }
      const std::string base = fmt::format("campaign/{}/{}/arm{}/{}", name, report.occurrence, a, variant++);
      if (!narrow) {
        std::size_t part = 0;
        for (const auto& batch : send::batches(users, send::kMaxMulticast)) {
          std::vector<UserId> batchIds(userIds.begin() + static_cast<std::ptrdiff_t>(part * send::kMaxMulticast),
                                       userIds.begin() + static_cast<std::ptrdiff_t>(part * send::kMaxMulticast + batch.size()));
          const std::string key = outboxKey(now, fmt::format("{}/multicast/{}", base, part++));
          // A multicast to one friend is a push.
          report.requests.push_back(batch.size() == 1 ? send::push(key, batch[0], contents[text])
                                                      : send::multicast(key, batch, contents[text]));
          planned.push_back({report.requests.back(), at, std::move(batchIds), carries});
        }
        continue;
      }
      // An audience of the local part, then one narrowcast over it. More
      // IDs than one JSON upload holds go as files: one request for up to
      // 1.5M, where JSON would take one a second for 150 of them.
      const bool byFile = users.size() > send::kMaxAudienceUpload;
      const auto uploads = send::batches(users, byFile ? send::kMaxAudienceFile : send::kMaxAudienceUpload);
      const std::string createKey = outboxKey(now, base + "/audience/0");
      std::vector<std::string> uploadKeys;
      for (std::size_t u = 0; u < uploads.size(); ++u) {
        const std::string description = fmt::format("seg {} {}", name, a);
        if (u == 0) {
          report.requests.push_back(byFile ? send::createAudienceByFile(createKey, description, uploads[u])
                                           : send::createAudience(createKey, description, uploads[u]));
        } else {
          const std::string key = outboxKey(now, fmt::format("{}/audience/{}", base, u));
          const std::string id = send::audiencePlaceholder(createKey);
          report.requests.push_back(byFile ? send::addToAudienceByFile(key, id, uploads[u]) : send::addToAudience(key, id, uploads[u]));
          report.requests.back().after.push_back(createKey);
        }
        uploadKeys.push_back(report.requests.back().key);
        planned.push_back({report.requests.back(), now, {}, {}});
      }
      std::int64_t limit = 0;
      if (c->limit && lineFilter) limit = std::max<std::int64_t>(1, *c->limit * c->arms[a].basisPoints / 10000);
      report.requests.push_back(send::narrowcast(outboxKey(now, base + "/narrowcast"), send::audiencePlaceholder(createKey),
                                                 contents[text], c->demographic, limit));
      report.requests.back().after = uploadKeys;
      planned.push_back({report.requests.back(), at, std::move(userIds), carries});
    }
  }
  if (!report.refused.empty()) {
    // A refused campaign has not run: nothing is recorded here (the
    // scheduler records that it dealt with it, see runDueCampaigns).
    report.requests.clear();
    return report;
  }
  if (!record) return report;
  if (options_.quotaHold) {
    report.held = options_.quotaHold(report, automation_.policy.sendBeyondQuota);
    if (!report.held.empty()) {
      report.requests.clear();
      return report;
    }
  }
  Mutation ran = Mutation::of(Mutation::Kind::CampaignRan);
  ran.name = campaignRecordName(*c, report.occurrence);
  ran.time = now;
  changes.push_back(std::move(ran));
  writer_.stage(std::move(changes));
  for (Planned& p : planned) putInOutbox(std::move(p.request), now, p.notBefore, std::move(p.users), std::move(p.carries));
  counters_.messagesSent += report.recipients;
  counters_.skippedByCap += report.capped;
  if (report.heldUntil != 0) ++counters_.heldByQuietHours;
  note({at, ~0u, Kind::Campaign, name, "campaign " + name,
        fmt::format("{} recipients, {} held out, {} capped, {} requests", report.recipients, report.holdout, report.capped,
                    report.requests.size())});
  if (options_.keepTimeline) {
    for (std::size_t a = 0; a < arms.size(); ++a) {
      if (c->arms[a].holdout) continue;
      for (std::uint32_t id : arms[a]) {
        for (const std::string& message : messageNames(automation_, c->arms[a].messages)) {
          note({at, id, Kind::Sent, message, "campaign " + name, ""});
        }
      }
    }
  }
  commit();
  return report;
}

// ------------------------------------------------------------------ outbox

nlohmann::ordered_json campaignReportJson(const CampaignReport& r, const TimeZone& zone, bool recorded) {
  nlohmann::ordered_json out = {{"campaign", r.name},         {"at", zone.formatInstant(r.at)},
                                {"audience", r.audience},     {"limited", r.limited},
                                {"holdout", r.holdout},       {"capped", r.capped},
                                {"recipients", r.recipients}, {"narrowcast", r.narrowcast},
                                {"recorded", recorded && r.refused.empty() && r.held.empty()}};
  if (!r.refused.empty()) out["refused"] = r.refused;
  if (!r.held.empty()) out["held"] = r.held;
  nlohmann::ordered_json requests = nlohmann::ordered_json::array();
  for (const send::LineRequest& request : r.requests) requests.push_back(nlohmann::ordered_json::parse(request.toJson()));
  out["requests"] = requests;
  return out;
}

OutboxStanding standingOf(const OutboxEntry& entry, const send::LineRequest& request,
                          const std::map<std::string, OutboxEntry>& outbox, std::int64_t now) {
  if (entry.expiresAt != 0 && entry.expiresAt <= now) return OutboxStanding::Expired;
  if (entry.notBefore > now) return OutboxStanding::Held;
  const bool waiting = std::any_of(request.after.begin(), request.after.end(), [&](const std::string& k) { return outbox.contains(k); });
  return waiting ? OutboxStanding::Waiting : OutboxStanding::Due;
}

const char* standingName(OutboxStanding standing) {
  switch (standing) {
    case OutboxStanding::Due: return "due";
    case OutboxStanding::Held: return "held";
    case OutboxStanding::Waiting: return "waiting";
    case OutboxStanding::Expired: return "expired";
  }
  return "?";
}

std::vector<HandOut> AutomationEngine::due(std::int64_t now) const {
  struct Ready {
    const std::string* key;
    const OutboxEntry* entry;
  };
  std::vector<Ready> ready;
  const auto& outbox = state().automation().outbox();
  for (const auto& [key, entry] : outbox) {
    // Cheap tests first: most of a big outbox is held or expired, or due.
    if (entry.notBefore > now || (entry.expiresAt != 0 && entry.expiresAt <= now)) continue;
    ready.push_back({&key, &entry});
  }
  // In the order the actions that planned them ran.
  std::sort(ready.begin(), ready.end(), [](const Ready& a, const Ready& b) {
    return std::tie(a.entry->notBefore, a.entry->sequence) < std::tie(b.entry->notBefore, b.entry->sequence);
  });
  std::vector<HandOut> out;
  for (const Ready& r : ready) {
    send::LineRequest request = send::LineRequest::fromJson(r.entry->request);
    if (standingOf(*r.entry, request, outbox, now) == OutboxStanding::Due) {
      out.push_back({*r.key, r.entry->notBefore, std::move(request), r.entry->triedAt,
                     r.entry->users.size() == 1 ? r.entry->users[0].toString() : ""});
    }
  }
  return out;
}

void AutomationEngine::markTried(const std::vector<HandOut>& handOuts, std::int64_t now) {
  bool any = false;
  for (const HandOut& h : handOuts) {
    if (h.triedAt != 0) continue;
    Mutation m = Mutation::of(Mutation::Kind::OutboxTried);
    m.name = h.key;
    m.time = now;
    stage(std::move(m));
    any = true;
  }
  if (any) commit();
}

void AutomationEngine::confirm(const std::string& key, std::int64_t now, const std::string& response,
                               const std::string& lineRequestId) {
  const auto& outbox = state().automation().outbox();
  const auto it = outbox.find(key);
  if (it == outbox.end()) throw EngineError(fmt::format("no request `{}` waits in the outbox (already confirmed?)", key));
  const OutboxEntry entry = it->second;
  const send::LineRequest request = send::LineRequest::fromJson(entry.request);
  std::optional<send::Resolution> resolution;
  try {
    resolution = send::resolutionOf(request, response);
  } catch (const std::invalid_argument& e) {
    throw EngineError(fmt::format("cannot confirm `{}`: {}", key, e.what()));
  }
  if (resolution) {
    if (request.method == "GET") {
      // A rich menu alias: its ID is remembered for later links.
      Mutation alias = Mutation::of(Mutation::Kind::RichMenuAlias);
      alias.name = request.path.substr(request.path.rfind('/') + 1);
      alias.value = Value::ofString(resolution->value.get<std::string>());
      alias.time = now;
      stage(std::move(alias));
    }
    for (const auto& [otherKey, other] : outbox) {
      if (other.request.find(key) == std::string::npos) continue;  // cheap: only dependents name the key
      send::LineRequest dependent = send::LineRequest::fromJson(other.request);
      if (std::find(dependent.after.begin(), dependent.after.end(), key) == dependent.after.end()) continue;
      send::fill(dependent, *resolution, key);
      Mutation update = Mutation::of(Mutation::Kind::OutboxAdd);
      update.name = otherKey;
      update.time = other.plannedAt;
      update.index = static_cast<std::uint32_t>(other.notBefore - other.plannedAt);
      update.value = Value::ofString(dependent.toJson());
      update.users = other.users;
      update.on = dependent.expiresAt != 0;
      for (const std::string& c : other.carries) update.fields.push_back(Value::ofString(c));
      stage(std::move(update));
    }
  }
  // Through a LINE-side filter only some of those targeted receive it.
  const bool filtered = request.path == "/v2/bot/message/narrowcast" && request.body.contains("filter");
  std::vector<Mutation> changes;
  for (const UserId& user : entry.users) {
    for (const std::string& carried : entry.carries) {
      Mutation status = Mutation::of(Mutation::Kind::MessageStatus, user);
      status.name = carried;
      status.status = filtered ? MessageStatusKind::Targeted : MessageStatusKind::Received;
      status.time = now;
      changes.push_back(std::move(status));
    }
  }
  Mutation done = Mutation::of(Mutation::Kind::OutboxDone);
  done.name = key;
  done.time = now;
  done.on = true;
  done.value = Value::ofString(lineRequestId);
  changes.push_back(std::move(done));
  writer_.stage(std::move(changes));
  commit();
}

void AutomationEngine::recordNarrowcastOutcome(const std::string& key, std::int64_t now, const std::string& progress) {
  if (!state().automation().narrowcasts().contains(key)) throw EngineError(fmt::format("no narrowcast `{}` is watched", key));
  Mutation m = Mutation::of(Mutation::Kind::NarrowcastOutcome);
  m.name = key;
  m.time = now;
  m.value = Value::ofString(progress);
  stage(std::move(m));
  commit();
}

void AutomationEngine::fail(const std::string& key, std::int64_t now, const std::string& failure) {
  const auto& outbox = state().automation().outbox();
  if (!outbox.contains(key)) throw EngineError(fmt::format("no request `{}` waits in the outbox", key));
  std::vector<std::string> failing{key};
  // Requests that wait for it (a narrowcast for its upload) cannot go either.
  for (std::size_t i = 0; i < failing.size(); ++i) {
    for (const auto& [otherKey, other] : outbox) {
      if (other.request.find(failing[i]) == std::string::npos) continue;
      const send::LineRequest dependent = send::LineRequest::fromJson(other.request);
      if (std::find(dependent.after.begin(), dependent.after.end(), failing[i]) == dependent.after.end()) continue;
      if (std::find(failing.begin(), failing.end(), otherKey) == failing.end()) failing.push_back(otherKey);
    }
  }
  for (const std::string& k : failing) {
    Mutation m = Mutation::of(Mutation::Kind::OutboxFailed);
    m.name = k;
    m.time = now;
    m.value = Value::ofString(k == key ? failure : nlohmann::json{{"waited_for", key}}.dump());
    stage(std::move(m));
  }
  commit();
}

}  // namespace seg
