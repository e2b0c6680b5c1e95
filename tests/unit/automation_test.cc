// The automation engine: step timing, quiet hours, the cap, redeliveries,
// exits and re-entry, rich-menu diffs, campaign limits/splits/holdouts,
// narrowcast filters, request limits and the outbox across a crash.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "base/civil_time.h"
#include "base/timezone.h"
#include "runtime/api/runtime.h"
#include "runtime/automation/engine.h"
#include "runtime/send/line_requests.h"

namespace seg {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

UserId user(int n) { return *UserId::parse(fmt::format("U{:032x}", n)); }

std::int64_t at(int month, int day, int hour, int minute = 0) {
  return TimeZone::find("Asia/Tokyo")->toInstant(civil::daysFromCivil({2026, static_cast<std::uint32_t>(month), static_cast<std::uint32_t>(day)}),
                                                 hour * 3600 + minute * 60);
}

const char* kBase = R"(
schema {
  rank: enum(regular, gold)
  points: int
  birthday: date
  event cart_add(product: string)
  event purchase(product: string)
}
message a = text "A {{name}}"
message b = text "B"
message reminder(product: string) = text "「{{product}}」"
)";

struct World {
  explicit World(const std::string& rules, EngineOptions options = {})
      : program(CompiledProgram::fromText("t.seg", std::string(kBase) + rules)),
        writer(StoreState(program->ir().schema)),
        engine(program->ir(), writer, withTimeline(options)) {}

  static EngineOptions withTimeline(EngineOptions o) {
    o.keepTimeline = true;
    return o;
  }

  void follow(int n, std::int64_t t, const std::string& id = "") {
    InboundEvent e;
    Mutation m = Mutation::of(Mutation::Kind::Follow, user(n));
    m.time = t;
    e.changes.push_back(m);
    e.webhookEventId = id;
    engine.handle(e, t);
  }
  void event(int n, const std::string& name, const std::string& product, std::int64_t t) {
    InboundEvent e;
    Mutation m = Mutation::of(Mutation::Kind::AppendEvent, user(n));
    m.index = static_cast<std::uint32_t>(*program->ir().schema.event(name));
    m.time = t;
    m.fields = {Value::ofString(product)};
    e.changes.push_back(m);
    engine.handle(e, t);
  }
  void change(Mutation m, std::int64_t t) {
    InboundEvent e;
    e.changes.push_back(std::move(m));
    engine.handle(e, t);
  }
  void set(int n, const std::string& attribute, Value v, std::int64_t t) {
    Mutation m = Mutation::of(Mutation::Kind::SetAttribute, user(n));
    m.index = static_cast<std::uint32_t>(*program->ir().schema.attribute(attribute));
    m.value = std::move(v);
    change(std::move(m), t);
  }
  void tag(int n, const std::string& name, std::int64_t t) {
    Mutation m = Mutation::of(Mutation::Kind::Tag, user(n));
    m.name = name;
    m.on = true;
    change(std::move(m), t);
  }
  std::uint32_t id(int n) const { return *writer.state().friends().find(user(n)); }

  // "name@time" of every message sent to friend n, in order.
  std::vector<std::string> sent(int n) const {
    std::vector<std::string> out;
    const TimeZone zone = *TimeZone::find("Asia/Tokyo");
    for (const TimelineEntry& e : engine.timeline()) {
      if (e.kind == TimelineEntry::Kind::Sent && e.friendId == id(n)) {
        out.push_back(e.name + "@" + zone.formatInstant(e.time).substr(5, 11));
      }
    }
    return out;
  }
  std::size_t count(TimelineEntry::Kind kind) const {
    return static_cast<std::size_t>(std::count_if(engine.timeline().begin(), engine.timeline().end(),
                                                  [&](const TimelineEntry& e) { return e.kind == kind; }));
  }

  std::shared_ptr<const CompiledProgram> program;
  MemoryWriter writer;
  AutomationEngine engine;
};

TEST(AutomationTiming, CalendarDaysClocksAndElapsedTime) {
  World w(R"(
scenario s on follow {
  day 0 at 10:00: send a
  day 1 at 09:00: send b
  day 3:          send b
  after 100h:     send a
}
)");
  w.follow(1, at(11, 2, 9, 30));   // before 10:00: day 0's step runs that day
  w.follow(2, at(11, 2, 11, 15));  // after 10:00: day 0's step slips a day, day 1 waits for it
  w.engine.advanceTo(at(11, 30, 0));
  EXPECT_EQ(w.sent(1), (std::vector<std::string>{"a@11-02T10:00", "b@11-03T09:00", "b@11-05T09:30", "a@11-06T13:30"}));
  EXPECT_EQ(w.sent(2), (std::vector<std::string>{"a@11-03T10:00", "b@11-03T10:00", "b@11-05T11:15", "a@11-06T15:15"}));
  EXPECT_EQ(w.writer.state().automation().enrolmentCount(), 0u);  // completed
  EXPECT_EQ(w.count(TimelineEntry::Kind::Completed), 2u);
}

TEST(AutomationTiming, QuietHoursHoldAStepAndWhenIsDecidedAtSendTime) {
  World w(R"(
policy { quiet 22:00 .. 08:00 }
scenario s on follow {
  after 1h when not tag "stop": send a
}
scenario t on follow {
  after 2h: send b
}
)");
  w.follow(1, at(11, 2, 21, 30));
  w.follow(2, at(11, 2, 21, 30));
  w.tag(2, "stop", at(11, 3, 7, 0));  // after the step was due, before it could be sent
  w.engine.advanceTo(at(11, 4, 0));
  EXPECT_EQ(w.sent(1), (std::vector<std::string>{"a@11-03T08:00", "b@11-03T08:00"}));
  EXPECT_EQ(w.sent(2), (std::vector<std::string>{"b@11-03T08:00"}));
  EXPECT_EQ(w.engine.counters().stepsSkipped, 1u);
}

TEST(AutomationPolicy, CapSkipsAndRecordsTheSend) {
  World w(R"(
policy { cap 2 per 7d }
on cart_add { send b }
)");
  w.follow(1, at(11, 1, 12));
  for (int i = 0; i < 3; ++i) w.event(1, "cart_add", "x", at(11, 2, 12 + i));
  w.event(1, "cart_add", "x", at(11, 9, 13));  // a week later: allowed again
  EXPECT_EQ(w.sent(1), (std::vector<std::string>{"b@11-02T12:00", "b@11-02T13:00", "b@11-09T13:00"}));
  EXPECT_EQ(w.writer.state().automation().skipped().at("b"), 1u);
  EXPECT_EQ(w.count(TimelineEntry::Kind::Skipped), 1u);
}

TEST(AutomationEvents, RedeliveredEventsActOnce) {
  World w(R"(on follow { score += 5; send b })");
  w.follow(1, at(11, 1, 12), "evt-1");
  w.follow(1, at(11, 1, 12), "evt-1");
  EXPECT_EQ(w.writer.state().attribute("score")->get(w.id(1)), Value::ofInt(5));
  EXPECT_EQ(w.sent(1).size(), 1u);
  EXPECT_EQ(w.engine.counters().duplicates, 1u);
}

TEST(AutomationScenarios, ExitWhenUsesTheTriggerAndBlockingLeavesEverything) {
  World w(R"(
scenario cart on cart_add as e {
  exit when exists(purchase where product == e.product)
  after 1h: send reminder(product: e.product)
}
scenario other on follow { day 5: send a }
)");
  w.follow(1, at(11, 1, 10));
  w.follow(2, at(11, 1, 10));
  w.follow(3, at(11, 1, 10));
  w.event(1, "cart_add", "化粧水", at(11, 2, 12));
  w.event(2, "cart_add", "化粧水", at(11, 2, 12));
  w.event(1, "purchase", "化粧水", at(11, 2, 12, 30));  // the same product: leaves
  w.event(2, "purchase", "乳液", at(11, 2, 12, 30));    // another: stays
  w.change(Mutation::of(Mutation::Kind::Unfollow, user(3)), at(11, 2, 13));
  w.engine.advanceTo(at(11, 10, 0));
  EXPECT_EQ(w.sent(1), (std::vector<std::string>{"a@11-06T10:00"}));
  EXPECT_EQ(w.sent(2), (std::vector<std::string>{"reminder@11-02T13:00", "a@11-06T10:00"}));
  EXPECT_EQ(w.sent(3), std::vector<std::string>{});
  const TimelineEntry* reminder = nullptr;
  for (const TimelineEntry& e : w.engine.timeline()) {
    if (e.name == "reminder") reminder = &e;
  }
  ASSERT_NE(reminder, nullptr);
  EXPECT_EQ(Json::parse(reminder->detail)["text"], "「化粧水」");  // the cart's product, not the purchase's
}

// A friend without a name gets the fallback; escaped braces are sent as
// written, never filled.
TEST(AutomationMessages, PlaceholderFallbacksAndLiteralBraces) {
  World w(R"(
message greet = text "{{name|お客様}}さん \{\{name\}\}"
on follow { send greet }
)");
  w.set(2, "name", Value::ofString("花子"), at(11, 1, 9));
  w.follow(1, at(11, 1, 10));
  w.follow(2, at(11, 1, 10));
  std::map<std::uint32_t, std::string> texts;
  for (const TimelineEntry& e : w.engine.timeline()) {
    if (e.kind == TimelineEntry::Kind::Sent) texts[e.friendId] = Json::parse(e.detail)["text"];
  }
  EXPECT_EQ(texts[w.id(1)], "お客様さん {{name}}");
  EXPECT_EQ(texts[w.id(2)], "花子さん {{name}}");
}

TEST(AutomationScenarios, ReentryRules) {
  World w(R"(
scenario once on cart_add { reenter never
  after 1h: send a }
scenario open on cart_add { after 1h: send b }
scenario restart on purchase { reenter always
  after 1h: send reminder(product: "x") }
)");
  w.follow(1, at(11, 1, 10));
  w.event(1, "cart_add", "x", at(11, 2, 10));
  w.event(1, "cart_add", "x", at(11, 2, 10, 30));  // enrolled in both: neither restarts
  w.event(1, "purchase", "x", at(11, 2, 10));
  w.event(1, "purchase", "x", at(11, 2, 10, 45));  // `always`: restarts, one reminder at 11:45
  w.engine.advanceTo(at(11, 3, 0));
  w.event(1, "cart_add", "x", at(11, 3, 10));  // out of both now: `never` stays out, the default enters again
  w.engine.advanceTo(at(11, 4, 0));
  EXPECT_EQ(w.sent(1), (std::vector<std::string>{"a@11-02T11:00", "b@11-02T11:00", "reminder@11-02T11:45", "b@11-03T11:00"}));
}

TEST(AutomationMenus, BulkLinksInBatchesAndNeverRelinks) {
  World w(R"(
segment rich = points >= 100
richmenu gold_menu = "richmenu-0123456789abcdef0123456789abcdef"
richmenu standard = "richmenu-fedcba9876543210fedcba9876543210"
menus {
  rich    -> gold_menu
  default -> standard
}
)");
  std::vector<Mutation> changes;
  for (int n = 0; n < 1300; ++n) {
    Mutation m = Mutation::of(Mutation::Kind::SetAttribute, user(n));
    m.index = static_cast<std::uint32_t>(*w.program->ir().schema.attribute("points"));
    m.value = Value::ofInt(n < 1200 ? 500 : 0);
    changes.push_back(m);
  }
  w.writer.stage(changes);
  w.engine.recomputeMenus(at(11, 1, 0));
  std::vector<std::size_t> batch;
  for (const HandOut& h : w.engine.due(at(11, 1, 0))) {
    ASSERT_EQ(h.request.path, "/v2/bot/richmenu/bulk/link");
    EXPECT_EQ(h.request.body["richMenuId"], "richmenu-0123456789abcdef0123456789abcdef");
    batch.push_back(h.request.body["userIds"].size());
  }
  std::sort(batch.begin(), batch.end());
  EXPECT_EQ(batch, (std::vector<std::size_t>{200, 500, 500}));  // the 100 default friends need nothing
  const std::size_t planned = w.writer.state().automation().outbox().size();
  w.engine.recomputeMenus(at(11, 2, 0));
  EXPECT_EQ(w.writer.state().automation().outbox().size(), planned);  // nothing changed, nothing re-linked
  // One friend drops below: unlinked, so the account's default shows.
  w.set(5, "points", Value::ofInt(1), at(11, 2, 12));
  std::vector<std::string> paths;
  for (const HandOut& h : w.engine.due(at(11, 2, 12))) {
    if (h.request.method == "DELETE") paths.push_back(h.request.path);
  }
  EXPECT_EQ(paths, std::vector<std::string>{fmt::format("/v2/bot/user/{}/richmenu", user(5).toString())});
  EXPECT_EQ(w.engine.menuOf(w.id(5)), "standard");
  EXPECT_EQ(w.engine.menuOf(w.id(6)), "gold_menu");
}

const char* kCampaigns = R"(
use line
segment members = points >= 0
campaign big {
  to members
  at 2026-12-01 10:00
  limit 1000
  split { 45%: send a; 45%: send b; 10%: holdout }
}
campaign small {
  to points >= 1190
  at 2026-12-01 10:00
  send b
}
campaign narrow {
  to members and line.gender == female and line.age in 20..29 and (line.area in ["東京都", "jp_14"] or not line.os == ios) and line.friend_period >= 30d
  at 2026-12-01 10:00
  send b
}
policy { min_reach 20 }
)";

World& populated(World& w, int friends) {
  std::vector<Mutation> changes;
  for (int n = 0; n < friends; ++n) {
    Mutation m = Mutation::of(Mutation::Kind::SetAttribute, user(n));
    m.index = static_cast<std::uint32_t>(*w.program->ir().schema.attribute("points"));
    m.value = Value::ofInt(n);
    changes.push_back(m);
  }
  w.writer.stage(changes);
  return w;
}

TEST(AutomationCampaigns, LimitSplitAndHoldoutAreStable) {
  World w(kCampaigns);
  populated(w, 1200);
  const CampaignReport preview = w.engine.runCampaign("big", at(12, 1, 10), false);
  EXPECT_EQ(preview.audience, 1200u);
  EXPECT_EQ(preview.limited, 200u);
  ASSERT_EQ(preview.perArm.size(), 3u);
  EXPECT_EQ(preview.perArm[0] + preview.perArm[1] + preview.perArm[2], 1000u);
  EXPECT_NEAR(static_cast<double>(preview.perArm[2]), 100, 40);
  EXPECT_TRUE(w.writer.state().automation().outbox().empty());  // a preview records nothing
  std::set<std::string> recipients;
  for (const send::LineRequest& r : preview.requests) {
    EXPECT_EQ(r.path, "/v2/bot/message/multicast");
    EXPECT_LE(r.body["to"].size(), send::kMaxMulticast);
    EXPECT_EQ(r.header("X-Line-Retry-Key").size(), 36u);
    for (const auto& to : r.body["to"]) recipients.insert(to.get<std::string>());
  }
  EXPECT_EQ(recipients.size(), preview.recipients);
  const CampaignReport sent = w.engine.runCampaign("big", at(12, 1, 10), true);
  EXPECT_EQ(sent.perArm, preview.perArm);  // the same friends in the same arms
  ASSERT_EQ(sent.requests.size(), preview.requests.size());
  for (std::size_t i = 0; i < sent.requests.size(); ++i) EXPECT_EQ(sent.requests[i].toJson(), preview.requests[i].toJson());
  EXPECT_EQ(w.writer.state().audiences().at("seg:holdout:big").members.cardinality(), sent.holdout);
  EXPECT_TRUE(w.writer.state().automation().campaignRan("big"));
}

// Up to 10,000 IDs an audience goes up as JSON, in one request.
TEST(AutomationCampaigns, SmallAudiencesAreUploadedAsJson) {
  World w(kCampaigns);
  populated(w, 9000);
  const CampaignReport r = w.engine.runCampaign("narrow", at(12, 1, 10), true);
  ASSERT_TRUE(r.refused.empty()) << r.refused;
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[0].path, "/v2/bot/audienceGroup/upload");
  EXPECT_FALSE(send::isMultipart(r.requests[0]));
  EXPECT_EQ(r.requests[0].body["audiences"].size(), 9000u);
  EXPECT_EQ(r.requests[1].path, "/v2/bot/message/narrowcast");
}

TEST(AutomationCampaigns, FileUploadsAddToTheirAudienceByFile) {
  const std::vector<std::string> ids = {"U1", "U2"};
  const send::LineRequest create = send::createAudienceByFile("k0", std::string(200, 'd'), ids);
  EXPECT_EQ(create.body["description"].get<std::string>().size(), send::kMaxAudienceDescription);
  EXPECT_EQ(create.body["file"], "U1\nU2\n");
  send::LineRequest add = send::addToAudienceByFile("k1", send::audiencePlaceholder("k0"), ids);
  EXPECT_EQ(add.method, "PUT");
  const auto resolution = send::resolutionOf(create, R"({"audienceGroupId": 77})");
  ASSERT_TRUE(resolution);
  EXPECT_TRUE(send::fill(add, *resolution, "k0"));
  EXPECT_EQ(add.body["audienceGroupId"], 77);
  EXPECT_THROW(send::createAudienceByFile("k", "d", std::vector<std::string>(send::kMaxAudienceFile + 1, "U")), std::invalid_argument);
}

// A campaign the quota would not cover is held: nothing recorded, asked
// about again a minute later, and sent once the quota covers it.
// `set x += n` counts: a missing int counts as 0, and two in one unit of
// work both count; `-=` takes away.
TEST(AutomationRules, SetAddsToAnIntAndMissingCountsAsZero) {
  World w("on cart_add { set points += 2\n set points += 1 }\non purchase { set points -= 5 }\n");
  const auto points = [&](int n) {
    const AttributeColumn* column = w.writer.state().attribute("points");
    const auto id = w.writer.state().friends().find(user(n));
    return id ? column->get(*id) : Value::missing();
  };
  w.follow(1, at(11, 1, 9));
  EXPECT_EQ(points(1).kind, Value::Kind::Missing);
  w.event(1, "cart_add", "x", at(11, 1, 10));
  EXPECT_EQ(points(1).i, 3);
  EXPECT_EQ(points(1).kind, Value::Kind::Int);
  w.event(1, "cart_add", "x", at(11, 1, 11));
  EXPECT_EQ(points(1).i, 6);
  w.event(1, "purchase", "x", at(11, 1, 12));
  EXPECT_EQ(points(1).i, 1);
}

const char* kRecurring = R"(
segment members = points >= 0
campaign weekly {
  to members
  every monday at 12:00
  send a
}
campaign monthly {
  to members
  every month on day 31 at 10:00
  at 2026-12-01
  send b
}
campaign manual {
  to members
  send b
}
)";

TEST(AutomationCampaigns, RecurringOnesRunOncePerOccurrenceAndManualOnesOnlyWhenAsked) {
  World w(kRecurring);
  populated(w, 3);
  const TimeZone zone = *TimeZone::find("Asia/Tokyo");
  const auto ran = [&] {
    std::vector<std::string> out;
    for (const TimelineEntry& e : w.engine.timeline()) {
      if (e.kind == TimelineEntry::Kind::Campaign) out.push_back(e.name + "@" + zone.formatInstant(e.time).substr(0, 16));
    }
    return out;
  };
  w.engine.advanceTo(at(11, 30, 0));  // a Monday: 12:00 is still ahead
  for (std::int64_t t = at(11, 30, 0); t <= at(12, 31, 23); t += 7 * 3600) w.engine.advanceTo(t);
  const std::vector<std::string> expected = {
      "weekly@2026-11-30T12:00", "weekly@2026-12-07T12:00", "weekly@2026-12-14T12:00", "weekly@2026-12-21T12:00",
      "weekly@2026-12-28T12:00", "monthly@2026-12-31T10:00"};
  EXPECT_EQ(ran(), expected);
  // Each occurrence has requests of its own (a retry key reused a week
  // later would be refused by LINE as a repeat).
  std::set<std::string> keys;
  for (const auto& [key, entry] : w.writer.state().automation().outbox()) {
    keys.insert(send::LineRequest::fromJson(entry.request).header("X-Line-Retry-Key"));
  }
  EXPECT_EQ(keys.size(), w.writer.state().automation().outbox().size());
  EXPECT_GE(keys.size(), expected.size());
  // `manual` has neither `at` nor `every`: the scheduler leaves it alone
  // (it was once recorded as missed, due at 1970).
  EXPECT_EQ(w.writer.state().automation().campaignRecord("manual"), nullptr);
  EXPECT_TRUE(w.writer.state().automation().campaignRecord("weekly@" + std::to_string(at(12, 7, 12))));

  // Restarted: occurrences already recorded are not run again.
  AutomationEngine again(w.program->ir(), w.writer, World::withTimeline({}));
  again.advanceTo(at(12, 31, 23));
  std::size_t rerun = 0;
  for (const TimelineEntry& e : again.timeline()) rerun += e.kind == TimelineEntry::Kind::Campaign;
  EXPECT_EQ(rerun, 0u);
  // Down over Monday 12:00 (2027-01-04) and back an hour later: caught up.
  AutomationEngine later(w.program->ir(), w.writer, World::withTimeline({}));
  later.advanceTo(at(12, 28, 13) + 7 * 86400);
  std::vector<std::string> caughtUp;
  for (const TimelineEntry& e : later.timeline()) {
    if (e.kind == TimelineEntry::Kind::Campaign) caughtUp.push_back(e.name + "@" + zone.formatInstant(e.time).substr(0, 16));
  }
  EXPECT_EQ(caughtUp, std::vector<std::string>{"weekly@2027-01-04T13:00"});
}

const char* kDerivedTriggers = R"(
segment rich = points >= 100
segment carting = exists(cart_add, within 2d)
on birthday at 09:00 { send a }
on enter rich { send b }
on leave rich { tag "was_rich" }
on enter carting { tag "carting" }
on leave carting { untag "carting" }
)";

TEST(AutomationTriggers, BirthdaysAreGreetedOnTheirDayOnceEvenAcrossRestarts) {
  World w(kDerivedTriggers);
  const auto date = [](int y, int m, int d) {
    return Value::ofInt(civil::daysFromCivil({y, static_cast<std::uint32_t>(m), static_cast<std::uint32_t>(d)}));
  };
  w.engine.advanceTo(at(2, 27, 12));
  w.set(1, "birthday", date(1990, 12, 7), at(2, 27, 12));
  w.set(2, "birthday", date(2000, 2, 29), at(2, 27, 12));  // a leap day: Feb 28 in 2026
  w.set(3, "birthday", date(1990, 12, 8), at(2, 27, 12));
  w.engine.advanceTo(at(3, 1, 0));
  EXPECT_EQ(w.sent(2), std::vector<std::string>{"a@02-28T09:00"});
  w.engine.advanceTo(at(12, 7, 10));
  EXPECT_EQ(w.sent(1), std::vector<std::string>{"a@12-07T09:00"});
  EXPECT_TRUE(w.sent(3).empty());
  // Restarted the same day: the day's greetings are not sent again.
  AutomationEngine again(w.program->ir(), w.writer, World::withTimeline({}));
  again.advanceTo(at(12, 7, 11));
  EXPECT_EQ(std::count_if(again.timeline().begin(), again.timeline().end(),
                          [](const TimelineEntry& e) { return e.kind == TimelineEntry::Kind::Sent; }),
            0);
  // Down over the next 09:00 and back within the day: caught up.
  AutomationEngine later(w.program->ir(), w.writer, World::withTimeline({}));
  later.advanceTo(at(12, 8, 15));
  ASSERT_EQ(later.timeline().size(), 1u);
  EXPECT_EQ(later.timeline()[0].friendId, w.id(3));
  EXPECT_EQ(later.timeline()[0].time, at(12, 8, 15));
}

TEST(AutomationTriggers, EnteringAndLeavingASegmentFireOnceAndThoseAlreadyInAreNotGreeted) {
  World w(kDerivedTriggers);
  Mutation rich = Mutation::of(Mutation::Kind::SetAttribute, user(4));
  rich.index = static_cast<std::uint32_t>(*w.program->ir().schema.attribute("points"));
  rich.value = Value::ofInt(150);
  w.writer.stage({rich});
  w.writer.commit();
  w.engine.advanceTo(at(12, 1, 12));  // friend 4 is rich already: marked, not greeted
  w.set(5, "points", Value::ofInt(200), at(12, 1, 13));
  w.set(5, "points", Value::ofInt(300), at(12, 1, 14));  // still in: nothing more
  w.set(4, "points", Value::ofInt(10), at(12, 1, 15));
  EXPECT_TRUE(w.sent(4).empty());
  EXPECT_EQ(w.sent(5), std::vector<std::string>{"b@12-01T13:00"});
  const auto tagged = [&](int n, const std::string& tag) {
    const auto it = w.writer.state().tags().find(tag);
    return it != w.writer.state().tags().end() && it->second.contains(w.id(n));
  };
  EXPECT_TRUE(tagged(4, "was_rich"));
  EXPECT_FALSE(tagged(5, "was_rich"));
  // A condition on time: the cart's 2 days run out on their own, seen at
  // the next day start.
  w.event(6, "cart_add", "x", at(12, 2, 13));
  EXPECT_TRUE(tagged(6, "carting"));
  w.engine.advanceTo(at(12, 4, 1));
  EXPECT_TRUE(tagged(6, "carting"));  // 2 days end at 12-04 13:00
  w.engine.advanceTo(at(12, 5, 1));
  EXPECT_FALSE(tagged(6, "carting"));
}

TEST(AutomationCampaigns, HeldForTheQuotaUntilItCoversThem) {
  int asked = 0;
  bool covered = false, paidAllowed = true;
  EngineOptions options;
  options.quotaHold = [&](const CampaignReport& r, bool paid) {
    if (r.name == "big") ++asked;
    paidAllowed = paid;
    return covered ? std::string() : fmt::format("{} messages do not fit", r.recipients);
  };
  World w(kCampaigns, options);
  populated(w, 1200);
  const ir::CampaignIr* big = w.program->ir().automation.campaign("big");
  ASSERT_NE(big, nullptr);
  w.engine.advanceTo(*big->at);
  EXPECT_EQ(asked, 1);
  EXPECT_FALSE(paidAllowed);  // no `beyond_quota send` in the policy
  EXPECT_FALSE(w.writer.state().automation().campaignRan("big"));
  EXPECT_TRUE(w.writer.state().automation().outbox().empty());
  const CampaignReport now = w.engine.runCampaign("big", *big->at, true);
  EXPECT_EQ(now.held, fmt::format("{} messages do not fit", now.recipients));
  EXPECT_EQ(campaignReportJson(now, *TimeZone::find("Asia/Tokyo"), true)["recorded"], false);
  asked = 0;
  w.engine.advanceTo(*big->at + 30);
  EXPECT_EQ(asked, 0);  // not before a minute has passed
  covered = true;
  w.engine.advanceTo(*big->at + 61);
  EXPECT_EQ(asked, 1);
  EXPECT_TRUE(w.writer.state().automation().campaignRan("big"));
  EXPECT_FALSE(w.writer.state().automation().outbox().empty());
}

TEST(AutomationCampaigns, MinReachRefusesWithAReason) {
  World w(kCampaigns);
  populated(w, 1200);
  const CampaignReport r = w.engine.runCampaign("small", at(12, 1, 10), true);
  EXPECT_EQ(r.recipients, 0u);
  EXPECT_NE(r.refused.find("min_reach of 20"), std::string::npos) << r.refused;
  EXPECT_TRUE(w.writer.state().automation().outbox().empty());
}

TEST(AutomationCampaigns, LineConditionsBecomeANarrowcastFilterOverAnUpload) {
  World w(kCampaigns);
  populated(w, 12000);
  const CampaignReport r = w.engine.runCampaign("narrow", at(12, 1, 10), true);
  ASSERT_TRUE(r.refused.empty()) << r.refused;
  // More IDs than one JSON upload holds: one upload by file, then the narrowcast.
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[0].method, "POST");
  EXPECT_EQ(r.requests[0].path, "/v2/bot/audienceGroup/upload/byFile");
  EXPECT_TRUE(send::isMultipart(r.requests[0]));
  const std::string file = r.requests[0].body["file"].get<std::string>();
  EXPECT_EQ(std::count(file.begin(), file.end(), '\n'), 12000);
  EXPECT_EQ(file.substr(0, 34), user(0).toString() + "\n");
  const send::LineRequest& narrowcast = r.requests[1];
  EXPECT_EQ(narrowcast.path, "/v2/bot/message/narrowcast");
  const Json expected = Json::parse(R"({"type":"operator","and":[
    {"type":"gender","oneOf":["female"]},
    {"type":"age","gte":"age_20","lt":"age_30"},
    {"type":"operator","or":[{"type":"area","oneOf":["jp_13","jp_14"]},
                             {"type":"operator","not":{"type":"appType","oneOf":["ios"]}}]},
    {"type":"subscriptionPeriod","gte":"day_30"}]})");
  EXPECT_EQ(narrowcast.body["filter"]["demographic"], expected) << narrowcast.body.dump();
  // The narrowcast waits for its audience; confirming the upload fills the id in.
  auto keys = [&] {
    std::vector<std::string> out;
    for (const HandOut& h : w.engine.due(at(12, 1, 10))) out.push_back(h.key);
    return out;
  };
  EXPECT_EQ(keys(), std::vector<std::string>{r.requests[0].key});
  EXPECT_THROW(w.engine.confirm(r.requests[0].key, at(12, 1, 10), "not json"), EngineError);
  w.engine.confirm(r.requests[0].key, at(12, 1, 10), R"({"audienceGroupId": 4242})");
  const std::vector<HandOut> due = w.engine.due(at(12, 1, 10));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].request.body["recipient"]["audienceGroupId"], 4242);
}

// Without `use line` the whole `to` is seg's part; it was once left out,
// and the campaign went to everyone.
TEST(AutomationCampaigns, ToNarrowsTheAudienceWithoutUseLine) {
  World w(R"(
campaign vip_only {
  to rank == gold
  at 2026-12-10 10:00
  send b
}
)");
  for (int n = 0; n < 3; ++n) w.set(n, "rank", Value::ofInt(n == 1 ? 1 : 0), at(12, 1, 9));
  const CampaignReport r = w.engine.runCampaign("vip_only", at(12, 10, 10), false);
  EXPECT_EQ(r.audience, 1u);
  ASSERT_EQ(r.requests.size(), 1u);
  EXPECT_EQ(r.requests[0].path, "/v2/bot/message/push");
  EXPECT_EQ(r.requests[0].body["to"], user(1).toString());
}

// A message LINE would refuse for a friend (an empty text) is skipped,
// recorded, and sends nothing.
TEST(AutomationSends, EmptyTextIsSkippedAndRecorded) {
  World w(R"(
message hello = text "{{name}}"
message greet = text "{{name|お客様}}さん"
on follow { send hello, greet }
)");
  w.follow(1, at(11, 1, 10));
  std::vector<std::string> texts;
  for (const HandOut& h : w.engine.due(at(11, 1, 10))) {
    for (const auto& m : h.request.body["messages"]) texts.push_back(m["text"].get<std::string>());
  }
  EXPECT_EQ(texts, std::vector<std::string>{"お客様さん"});
  EXPECT_EQ(w.writer.state().automation().skipped().at("hello"), 1u);
}

// A reply whose token expired is never handed out: it becomes a push, or
// with `expired_reply drop` it is dropped and recorded.
TEST(AutomationSends, ExpiredRepliesBecomePushesOrAreDropped) {
  for (const bool drop : {false, true}) {
    World w(std::string("on message { reply b }\n") + (drop ? "policy { expired_reply drop }\n" : ""));
    InboundEvent e;
    Mutation m = Mutation::of(Mutation::Kind::AppendEvent, user(1));
    m.index = static_cast<std::uint32_t>(*w.program->ir().schema.event("message"));
    m.time = at(11, 1, 10);
    m.fields = {Value::ofString("hi")};
    e.changes.push_back(m);
    e.webhookEventId = "E1";
    e.replyToken = "token";
    w.engine.handle(e, at(11, 1, 10));
    ASSERT_EQ(w.engine.due(at(11, 1, 10)).size(), 1u);
    EXPECT_EQ(w.engine.due(at(11, 1, 10))[0].request.path, "/v2/bot/message/reply");
    EXPECT_TRUE(w.engine.due(at(11, 1, 10, 2)).empty());  // stale: not handed out
    w.engine.advanceTo(at(11, 1, 10, 2));
    const std::vector<HandOut> due = w.engine.due(at(11, 1, 10, 2));
    if (drop) {
      EXPECT_TRUE(due.empty());
      EXPECT_EQ(w.writer.state().automation().skipped().at("b"), 1u);
    } else {
      ASSERT_EQ(due.size(), 1u);
      EXPECT_EQ(due[0].request.path, "/v2/bot/message/push");
      EXPECT_EQ(due[0].request.body["to"], user(1).toString());
    }
  }
}

// Text is cut at LINE's 5,000 UTF-16 units, never inside a character.
TEST(AutomationSends, TextIsCutAsLineCountsIt) {
  World w("on cart_add { send reminder(product: product) }\n");
  std::string emoji;
  for (int i = 0; i < 3000; ++i) emoji += "😀";
  w.event(1, "cart_add", emoji, at(11, 1, 10));
  const std::vector<HandOut> due = w.engine.due(at(11, 1, 10));
  ASSERT_EQ(due.size(), 1u);
  const std::string text = due[0].request.body["messages"][0]["text"].get<std::string>();
  EXPECT_EQ(text, "「" + emoji.substr(0, 2499 * 4));  // 「 is 1 unit, each emoji 2
}

// A LINE-filtered narrowcast charges no cap and records friends as
// targeted, not received.
TEST(AutomationCampaigns, FilteredNarrowcastTargetsWithoutCharging) {
  std::string program = kCampaigns;
  program.replace(program.find("policy { min_reach 20 }"), 23, "policy { min_reach 20 cap 1 per 7d }");
  World w(program);
  populated(w, 200);
  const CampaignReport r = w.engine.runCampaign("narrow", at(12, 1, 10), true);
  ASSERT_TRUE(r.refused.empty()) << r.refused;
  EXPECT_EQ(w.writer.state().automation().chargesSince(w.id(5), 0), 0u);
  w.engine.confirm(r.requests[0].key, at(12, 1, 10), R"({"audienceGroupId": 1})");
  w.engine.confirm(r.requests[1].key, at(12, 1, 10));
  const MessageStatus& status = w.writer.state().messageStatus().at("narrow");
  EXPECT_EQ(status.byKind[static_cast<std::size_t>(MessageStatusKind::Received)].cardinality(), 0u);
  EXPECT_EQ(status.byKind[static_cast<std::size_t>(MessageStatusKind::Targeted)].cardinality(), 200u);
}

// An alias is looked up once; later links within the hour use its ID.
TEST(AutomationMenus, AliasesAreResolvedOnceAndReused) {
  World w(R"(
richmenu vip_menu = "vip"
on cart_add { richmenu vip_menu }
)");
  w.event(1, "cart_add", "x", at(11, 1, 10));
  std::vector<HandOut> due = w.engine.due(at(11, 1, 10));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].request.method, "GET");
  w.engine.confirm(due[0].key, at(11, 1, 10), R"({"richMenuAliasId":"vip","richMenuId":"richmenu-0123456789abcdef0123456789abcdef"})");
  w.event(2, "cart_add", "x", at(11, 1, 10, 30));
  due = w.engine.due(at(11, 1, 10, 30));
  ASSERT_EQ(due.size(), 2u);  // both links, no second lookup
  for (const HandOut& h : due) EXPECT_NE(h.request.path.find("/richmenu/richmenu-0123456789abcdef"), std::string::npos) << h.request.path;
}

// The outbox hands requests out in the order the actions ran, also after
// a snapshot.
TEST(AutomationOutbox, OrderSurvivesASnapshot) {
  const std::string dir = (fs::temp_directory_path() / fmt::format("seg-order-{}", getpid())).string();
  fs::remove_all(dir);
  auto program = CompiledProgram::fromText("t.seg", std::string(kBase) + "on message { reply a; reply b; reply reminder(product: \"z\") }\n");
  std::vector<std::string> before;
  {
    auto store = Store::open(dir, &program->ir().schema);
    StoreWriter writer(*store);
    AutomationEngine engine(program->ir(), writer);
    InboundEvent e;
    Mutation m = Mutation::of(Mutation::Kind::AppendEvent, user(1));
    m.index = static_cast<std::uint32_t>(*program->ir().schema.event("message"));
    m.time = at(11, 1, 10);
    m.fields = {Value::ofString("hi")};
    e.changes.push_back(m);
    e.replyToken = "t";
    engine.handle(e, at(11, 1, 10));
    for (const HandOut& h : engine.due(at(11, 1, 10))) before.push_back(h.request.path);
    store->checkpoint();
  }
  auto store = Store::open(dir, &program->ir().schema);
  StoreWriter writer(*store);
  AutomationEngine engine(program->ir(), writer);
  std::vector<std::string> after;
  for (const HandOut& h : engine.due(at(11, 1, 10))) after.push_back(h.request.path);
  EXPECT_EQ(before, (std::vector<std::string>{"/v2/bot/message/reply", "/v2/bot/message/push", "/v2/bot/message/push"}));
  EXPECT_EQ(after, before);
  fs::remove_all(dir);
}

TEST(LineRequests, LimitsAreEnforcedAndRetryKeysAreStable) {
  const Json one = Json::array({Json{{"type", "text"}, {"text", "x"}}});
  EXPECT_THROW(send::multicast("k", std::vector<std::string>(501, "U0"), one), std::invalid_argument);
  EXPECT_THROW(send::push("k", "U0", Json::array()), std::invalid_argument);
  Json six = Json::array();
  for (int i = 0; i < 6; ++i) six.push_back(one[0]);
  EXPECT_THROW(send::push("k", "U0", six), std::invalid_argument);
  EXPECT_EQ(send::retryKey("a"), send::retryKey("a"));
  EXPECT_NE(send::retryKey("a"), send::retryKey("b"));
  EXPECT_EQ(send::retryKey("a")[14], '4');  // a version-4 UUID layout
  EXPECT_TRUE(send::reply("k", "token", one, 0).header("X-Line-Retry-Key").empty());  // replies take none
  const send::LineRequest r = send::LineRequest::fromJson(send::push("k", "U0", one).toJson());
  EXPECT_EQ(r.body["to"], "U0");
  EXPECT_EQ(r.header("X-Line-Retry-Key"), send::retryKey("k"));
}

// A crash between planning and confirming re-hands the same requests with
// the same retry keys; a confirmed request is never handed out again.
TEST(AutomationOutbox, SurvivesACrashBetweenPlanAndConfirm) {
  const std::string dir = (fs::temp_directory_path() / fmt::format("seg-outbox-{}", getpid())).string();
  fs::remove_all(dir);
  auto program = CompiledProgram::fromText("t.seg", std::string(kBase) + kCampaigns);
  std::vector<std::pair<std::string, std::string>> handed;
  {
    auto store = Store::open(dir, &program->ir().schema);
    StoreWriter writer(*store);
    std::vector<Mutation> changes;
    for (int n = 0; n < 1200; ++n) {
      Mutation m = Mutation::of(Mutation::Kind::SetAttribute, user(n));
      m.index = static_cast<std::uint32_t>(*program->ir().schema.attribute("points"));
      m.value = Value::ofInt(n);
      changes.push_back(m);
    }
    store->commit(changes);
    AutomationEngine engine(program->ir(), writer);
    engine.runCampaign("big", at(12, 1, 10), true);
    for (const HandOut& h : engine.due(at(12, 1, 10))) handed.emplace_back(h.key, h.request.header("X-Line-Retry-Key"));
    ASSERT_FALSE(handed.empty());
  }  // "crash": nothing confirmed
  {
    auto store = Store::open(dir, &program->ir().schema);
    StoreWriter writer(*store);
    AutomationEngine engine(program->ir(), writer);
    std::vector<std::pair<std::string, std::string>> again;
    for (const HandOut& h : engine.due(at(12, 1, 10))) again.emplace_back(h.key, h.request.header("X-Line-Retry-Key"));
    EXPECT_EQ(again, handed);
    engine.confirm(handed[0].first, at(12, 1, 10, 1));
    EXPECT_THROW(engine.confirm(handed[0].first, at(12, 1, 10, 1)), EngineError);
  }
  auto store = Store::open(dir, &program->ir().schema);
  StoreWriter writer(*store);
  AutomationEngine engine(program->ir(), writer);
  EXPECT_EQ(engine.due(at(12, 1, 10)).size(), handed.size() - 1);
  EXPECT_TRUE(store->state().messageStatus().contains("big"));  // the confirmed batch was received
  fs::remove_all(dir);
}

}  // namespace
}  // namespace seg
