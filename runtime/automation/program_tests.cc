#include "runtime/automation/program_tests.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/civil_time.h"
#include "base/timezone.h"
#include "runtime/automation/engine.h"

namespace seg {
namespace {

using Item = ir::TestItemIr;

constexpr std::int64_t kPlayOut = 90 * 86400;
// A scenario still waiting this long after the test's last time never ends.
constexpr std::int64_t kLongestPlayOut = 5 * 366 * 86400;

// A test's values are literals (sema checks them): constants in the IR.
Value constant(const ir::Program& p, ir::NodeId id) {
  const ir::Node& n = p.node(id);
  if (n.op == ir::Op::Neg && n.args.size() == 1) {
    const Value inner = constant(p, n.args[0]);
    return inner.isMissing() ? inner : Value::ofInt(-inner.i);
  }
  if (n.op != ir::Op::Const || (n.flags & ir::kMissing)) return Value::missing();
  if (n.type == ir::ValueType::String) return Value::ofString(p.strings[n.a]);
  if (n.type == ir::ValueType::Bool) return Value::ofBool(n.imm != 0);
  return Value::ofInt(n.imm);
}

class TestRun {
 public:
  TestRun(const ir::Program& program, const ir::TestIr& test, std::size_t number)
      : program_(program),
        test_(test),
        zone_(*TimeZone::find(program.timezone)),
        writer_(StoreState(program.schema)),
        engine_(program, writer_, options()),
        user_(*UserId::parse(fmt::format("U{:032x}", number + 1))) {
    result_.title = test.title;
  }

  ProgramTestResult run() {
    std::optional<std::int64_t> first, last;
    for (const Item& item : test_.items) {
      if (!item.at) continue;
      first = std::min(first.value_or(*item.at), *item.at);
      last = std::max(last.value_or(*item.at), *item.at);
    }
    now_ = first.value_or(zone_.toInstant(civil::daysFromCivil({2026, 1, 1}), 12 * 3600));
    horizon_ = last.value_or(now_) + kPlayOut;
    // The clock starts with the first item that needs it (see givenFriend).
    for (const Item& item : test_.items) step(item);
    return result_;
  }

 private:
  static EngineOptions options() {
    EngineOptions o;
    o.keepTimeline = true;
    return o;
  }

  void fail(const Item& item, const std::string& what) {
    result_.failures.push_back(fmt::format("{}: `{}`: {}", item.where, item.text, what));
  }

  std::optional<std::uint32_t> friendId() const { return engine_.state().friends().find(user_); }

  // Moves the test's clock; false (with a failure) if it would go back.
  bool moveTo(const Item& item, std::int64_t t) {
    if (t < engine_.clock()) {
      fail(item, fmt::format("the test already ran to {}; give its items in time order", zone_.formatInstant(engine_.clock())));
      return false;
    }
    now_ = t;
    engine_.advanceTo(t);
    return true;
  }

  void step(const Item& item) {
    if (item.kind != Item::Kind::GivenFriend && engine_.clock() == 0) engine_.advanceTo(now_);
    switch (item.kind) {
      case Item::Kind::GivenFriend: givenFriend(item); break;
      case Item::Kind::GivenEvent: givenEvent(item); break;
      case Item::Kind::Clock: moveTo(item, *item.at); break;
      case Item::Kind::ExpectIn: {
        const auto id = friendId();
        const bool in = id && engine_.test(program_.segments[item.index].root, *id, now_);
        if (in == item.negated) {
          fail(item, fmt::format("the friend is {}in `{}` at {}", in ? "" : "not ", program_.segments[item.index].name,
                                 zone_.formatInstant(now_)));
        }
        break;
      }
      case Item::Kind::ExpectMenu: {
        const auto id = friendId();
        const std::string& expected = program_.automation.richmenus[item.index].name;
        const std::string menu = id ? engine_.menuOf(*id) : "";
        if (menu != expected) fail(item, fmt::format("the friend's menu is {}", menu.empty() ? "none" : "`" + menu + "`"));
        break;
      }
      case Item::Kind::ExpectSent: expectSent(item); break;
      case Item::Kind::ExpectCondition: {
        const auto id = friendId();
        if (!id) {
          fail(item, "there is no friend yet (`given friend {...}` first)");
        } else if (!engine_.test(item.condition, *id, now_)) {
          fail(item, fmt::format("false at {}{}", zone_.formatInstant(now_), actualValues(item.condition, *id)));
        }
        break;
      }
    }
  }

  void givenFriend(const Item& item) {
    InboundEvent event;
    event.changes.push_back(Mutation::of(Mutation::Kind::AddFriend, user_));
    for (const auto& [attribute, node] : item.values) {
      Mutation m = Mutation::of(Mutation::Kind::SetAttribute, user_);
      m.index = attribute;
      m.value = constant(program_, node);
      m.time = now_;
      event.changes.push_back(std::move(m));
    }
    for (const std::string& tag : item.tags) {
      Mutation m = Mutation::of(Mutation::Kind::Tag, user_);
      m.name = tag;
      m.on = true;
      event.changes.push_back(std::move(m));
    }
    if (engine_.clock() == 0) {
      // Before the clock starts, a given friend is the starting point: in
      // the store when the engine starts (a yearly trigger due earlier that
      // day finds them; `on enter` takes them as already in).
      writer_.stage(event.changes);
      writer_.commit();
      return;
    }
    engine_.handle(event, now_);
  }

  void givenEvent(const Item& item) {
    if (item.at && !moveTo(item, *item.at)) return;
    Mutation m;
    switch (static_cast<ir::TriggerIr::Kind>(item.index)) {
      case ir::TriggerIr::Kind::Follow: m = Mutation::of(Mutation::Kind::Follow, user_); break;
      case ir::TriggerIr::Kind::Unfollow: m = Mutation::of(Mutation::Kind::Unfollow, user_); break;
      default: {
        m = Mutation::of(Mutation::Kind::AppendEvent, user_);
        m.index = item.event;
        m.fields.assign(program_.schema.events[item.event].fields.size(), Value::missing());
        for (const auto& [field, node] : item.values) m.fields.at(field) = constant(program_, node);
        break;
      }
    }
    m.time = now_;
    InboundEvent event;
    event.changes.push_back(std::move(m));
    event.webhookEventId = fmt::format("test-{}", ++events_);
    event.replyToken = fmt::format("reply-token-{}", events_);
    engine_.handle(event, now_);
  }

  // ": `points` is 5" for the sides of a comparison that are not constants.
  std::string actualValues(ir::NodeId condition, std::uint32_t friendId) const {
    const ir::Node& n = program_.node(condition);
    const bool comparison = n.op == ir::Op::Eq || n.op == ir::Op::Ne || n.op == ir::Op::Lt || n.op == ir::Op::Le ||
                            n.op == ir::Op::Gt || n.op == ir::Op::Ge || n.op == ir::Op::InList || n.op == ir::Op::InRange ||
                            n.op == ir::Op::Contains || n.op == ir::Op::StartsWith || n.op == ir::Op::EndsWith;
    if (!comparison || n.args.empty()) return "";
    const ir::NodeId side = n.args[0];
    if (program_.node(side).op == ir::Op::Const) return "";
    return fmt::format(": the value compared is {}", engine_.describe(side, friendId, now_));
  }

  // Runs the engine until nothing the test can reach is left: past every
  // campaign and every scenario step still waiting (an expectation without
  // a time must not pass just because the clock stopped short).
  bool playOut(const Item& item) {
    std::int64_t until = std::max(now_, horizon_);
    for (const ir::CampaignIr& c : program_.automation.campaigns) until = std::max(until, c.at.value_or(until));
    engine_.advanceTo(until);
    const std::int64_t limit = until + kLongestPlayOut;
    const auto& timers = engine_.state().automation().timers();
    while (!timers.empty()) {
      const std::int64_t due = timers.begin()->due;
      if (due > limit) {
        fail(item, fmt::format("never reached: a scenario step still waits for {}", zone_.formatInstant(due)));
        return false;
      }
      engine_.advanceTo(std::max(due, engine_.clock()));
    }
    return true;
  }

  void expectSent(const Item& item) {
    if (item.at) {
      engine_.advanceTo(std::max(now_, *item.at));
    } else if (!playOut(item)) {
      return;
    }
    const auto id = friendId();
    const ir::MessageIr& message = program_.automation.messages[item.message->message];
    std::string expectedText;
    if (item.explicitArgs && id) {
      const RenderedCalls rendered = engine_.renderCalls({*item.message}, *id, nullptr, now_);
      if (!rendered.messages.empty()) expectedText = rendered.messages.front().dump();
    }
    std::vector<std::string> seen;
    bool found = false;
    for (const TimelineEntry& e : engine_.timeline()) {
      if (!id || e.friendId != *id || (e.kind != TimelineEntry::Kind::Sent && e.kind != TimelineEntry::Kind::Replied)) continue;
      seen.push_back(fmt::format("{} at {}", e.name, zone_.formatInstant(e.time)));
      if (e.name != message.name || (item.at && e.time != *item.at)) continue;
      if (!expectedText.empty() && e.detail != expectedText) {
        seen.back() += " (" + e.detail + ")";
        continue;
      }
      found = true;
    }
    if (found == !item.negated) return;
    const std::string sent = seen.empty() ? "nothing was sent to the friend" : "sent: " + fmt::format("{}", fmt::join(seen, ", "));
    fail(item, item.negated ? "it was sent; " + sent : "not sent; " + sent);
  }

  const ir::Program& program_;
  const ir::TestIr& test_;
  TimeZone zone_;
  MemoryWriter writer_;
  AutomationEngine engine_;
  UserId user_;
  std::int64_t now_ = 0, horizon_ = 0;
  int events_ = 0;
  ProgramTestResult result_;
};

}  // namespace

std::vector<ProgramTestResult> runProgramTests(const ir::Program& program) {
  std::vector<ProgramTestResult> results;
  for (std::size_t i = 0; i < program.automation.tests.size(); ++i) {
    results.push_back(TestRun(program, program.automation.tests[i], i).run());
  }
  return results;
}

}  // namespace seg
