#include <gtest/gtest.h>

#include <set>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "compiler/ir/schema.h"
#include "compiler/sema/sema.h"
#include "compiler/syntax/parser.h"
#include "runtime/store/store.h"
#include "runtime/store/wal.h"

namespace fs = std::filesystem;

namespace seg {
namespace {

ir::Schema schemaOf(const std::string& text) {
  SourceManager sources;
  DiagnosticEngine diags;
  const FileId file = sources.add("t.seg", text);
  sema::TypedProgram program = sema::analyze(syntax::parseFile(sources, file, diags), sources, diags);
  EXPECT_FALSE(diags.hasErrors());
  return ir::lowerSchema(program);
}

const char* kProgram = R"(
schema {
  member_rank: enum(bronze, silver, gold)
  points: int
  pref: string
  event purchase(product: string, price: int)
}
)";

UserId user(int n) { return *UserId::parse(fmt::format("U{:032x}", n)); }

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / fmt::format("seg-store-{}-{}", getpid(), counter_++)).string();
    schema_ = schemaOf(kProgram);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Mutation set(int friendNumber, const std::string& attribute, Value value) {
    Mutation m;
    m.kind = Mutation::Kind::SetAttribute;
    m.user = user(friendNumber);
    m.index = static_cast<std::uint32_t>(*schema_.attribute(attribute));
    m.value = std::move(value);
    return m;
  }
  Mutation purchase(int friendNumber, std::int64_t time, const std::string& product, std::int64_t price) {
    Mutation m;
    m.kind = Mutation::Kind::AppendEvent;
    m.user = user(friendNumber);
    m.index = static_cast<std::uint32_t>(*schema_.event("purchase"));
    m.time = time;
    m.fields = {Value::ofString(product), Value::ofInt(price)};
    return m;
  }

  std::string dir_;
  ir::Schema schema_;
  static inline int counter_ = 0;
};

TEST_F(StoreTest, CommittedChangesSurviveReopening) {
  {
    auto store = Store::open(dir_, &schema_);
    store->commit({set(1, "points", Value::ofInt(120)), set(2, "points", Value::ofInt(-5)),
                   set(1, "member_rank", Value::ofInt(2)), set(2, "pref", Value::ofString("東京都"))});
    store->commit({purchase(1, 1000, "化粧水", 3200), purchase(2, 500, "乳液", 1800), purchase(1, 700, "x", 1)});
  }
  auto store = Store::open(dir_, &schema_);
  const StoreState& s = store->state();
  EXPECT_EQ(store->recovery().replayedTransactions, 2u);
  ASSERT_EQ(s.friendCount(), 2u);
  const std::uint32_t one = *s.friends().find(user(1));
  EXPECT_EQ(s.attribute("points")->get(one), Value::ofInt(120));
  EXPECT_EQ(s.attribute("points")->compare(Compare::Lt, 0).toVector(),
            std::vector<std::uint32_t>{*s.friends().find(user(2))});
  EXPECT_EQ(s.attribute("member_rank")->valueBitmap(2)->toVector(), std::vector<std::uint32_t>{one});
  const EventLog& log = *s.events("purchase");
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log.timeAt(0), 500);  // kept in time order
  EXPECT_EQ(log.timeAt(1), 700);
  EXPECT_EQ(log.timeAt(2), 1000);
  // One friend's events, newest first, through the chain.
  const std::uint32_t newest = log.latestOf(one);
  EXPECT_EQ(log.timeAt(newest), 1000);
  EXPECT_EQ(log.timeAt(log.previousOf(newest)), 700);
  EXPECT_EQ(log.previousOf(log.previousOf(newest)), kNoRow);
  EXPECT_EQ(log.field(0).get(newest), Value::ofString("化粧水"));
}

TEST_F(StoreTest, CheckpointThenLogTail) {
  {
    auto store = Store::open(dir_, &schema_);
    store->commit({set(1, "points", Value::ofInt(1))});
    store->checkpoint();
    EXPECT_EQ(store->walBytes(), 0u);
    store->commit({set(1, "points", Value::ofInt(2)), set(3, "points", Value::ofInt(3))});
  }
  auto store = Store::open(dir_, &schema_);
  EXPECT_EQ(store->recovery().replayedTransactions, 1u);
  EXPECT_EQ(store->state().attribute("points")->get(0), Value::ofInt(2));
  EXPECT_EQ(store->state().friendCount(), 2u);
}

TEST_F(StoreTest, TornTailIsCutAndLaterWritesFollowTheLastGoodFrame) {
  {
    auto store = Store::open(dir_, &schema_);
    store->commit({set(1, "points", Value::ofInt(10))});
    store->commit({set(2, "points", Value::ofInt(20))});
  }
  const std::string wal = dir_ + "/wal.log";
  fs::resize_file(wal, fs::file_size(wal) - 3);  // a crash in the middle of the second frame
  {
    auto store = Store::open(dir_, &schema_);
    EXPECT_TRUE(store->recovery().tornTailCut);
    EXPECT_EQ(store->state().friendCount(), 1u);
    store->commit({set(3, "points", Value::ofInt(30))});
  }
  auto store = Store::open(dir_, &schema_);
  EXPECT_FALSE(store->recovery().tornTailCut);
  EXPECT_EQ(store->state().friendCount(), 2u);
}

TEST_F(StoreTest, UnfinishedTransactionIsIgnoredOnRestart) {
  { Store::open(dir_, &schema_)->commit({set(1, "points", Value::ofInt(1))}); }
  // A large transaction whose last frame never reached the disk.
  WalFrame frame;
  frame.transaction = 2;
  frame.flags = 0;
  BinaryWriter out(frame.payload);
  set(2, "points", Value::ofInt(2)).encode(out);
  std::ofstream(dir_ + "/wal.log", std::ios::app | std::ios::binary) << encodeFrame(frame);
  auto store = Store::open(dir_, &schema_);
  EXPECT_EQ(store->recovery().discardedTransactions, 1u);
  EXPECT_EQ(store->state().friendCount(), 1u);
}

TEST_F(StoreTest, SchemaGrowsButDoesNotChangeTypes) {
  { Store::open(dir_, &schema_)->commit({set(1, "points", Value::ofInt(1))}); }
  const ir::Schema grown = schemaOf(std::string(kProgram).replace(std::string(kProgram).find("pref: string"), 12,
                                                                     "pref: string\n  newsletter: bool"));
  {
    auto store = Store::open(dir_, &grown);
    EXPECT_TRUE(store->state().attribute("newsletter") != nullptr);
    EXPECT_EQ(store->state().attribute("points")->get(0), Value::ofInt(1));
  }
  const ir::Schema changed = schemaOf(std::string(kProgram).replace(std::string(kProgram).find("points: int"), 11,
                                                                       "points: string"));
  EXPECT_THROW(Store::open(dir_, &changed), StoreError);
  const ir::Schema reordered = schemaOf(std::string(kProgram).replace(std::string(kProgram).find("bronze, silver"), 14,
                                                                         "silver, bronze"));
  EXPECT_THROW(Store::open(dir_, &reordered), StoreError);
}

TEST_F(StoreTest, DamagedSnapshotIsAnErrorNotACrash) {
  { Store::open(dir_, &schema_)->commit({set(1, "points", Value::ofInt(1))}); }
  { Store::open(dir_, &schema_)->checkpoint(); }
  std::fstream file(dir_ + "/snapshot.seg", std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(40);
  file.put('\x7f');
  file.close();
  EXPECT_THROW(Store::open(dir_, &schema_), StoreError);
}

TEST_F(StoreTest, SecondWriterIsRefused) {
  auto first = Store::open(dir_, &schema_);
  EXPECT_THROW(Store::open(dir_, &schema_), StoreError);
}

TEST_F(StoreTest, FollowUnfollowTagsAudiencesAndScore) {
  auto store = Store::open(dir_, &schema_);
  Mutation follow = Mutation::of(Mutation::Kind::Follow);
  follow.user = user(1);
  follow.time = 100;
  Mutation unfollow = Mutation::of(Mutation::Kind::Unfollow);
  unfollow.user = user(2);
  unfollow.time = 200;
  Mutation tag = Mutation::of(Mutation::Kind::Tag);
  tag.user = user(1);
  tag.name = "VIP";
  tag.on = true;
  Mutation score = Mutation::of(Mutation::Kind::AddScore);
  score.user = user(1);
  score.value = Value::ofInt(5);
  Mutation audience = Mutation::of(Mutation::Kind::AudienceAdd);
  audience.name = "winter";
  audience.time = 50;
  audience.users = {user(2), user(3), user(2)};
  store->commit({follow, unfollow, tag, score, score, audience});
  const StoreState& s = store->state();
  EXPECT_EQ(s.blocked().toVector(), std::vector<std::uint32_t>{1});
  EXPECT_EQ(s.tags().at("VIP").toVector(), std::vector<std::uint32_t>{0});
  EXPECT_EQ(s.attribute("score")->get(0), Value::ofInt(10));
  EXPECT_EQ(s.attribute("followed_at")->get(0), Value::ofInt(100));
  EXPECT_EQ(s.audiences().at("winter").members.toVector(), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(s.events("follow")->size(), 1u);
  EXPECT_EQ(s.events("unfollow")->size(), 1u);
}


Mutation automation(Mutation::Kind kind, int friendNumber, const std::string& name, std::int64_t time) {
  Mutation m = Mutation::of(kind);
  m.user = user(friendNumber);
  m.name = name;
  m.time = time;
  return m;
}

// Scenario enrolments, timers, cap charges, menus, the outbox and campaigns
// are store state: they survive a restart from the log and from a snapshot.
TEST_F(StoreTest, AutomationStateSurvivesLogReplayAndSnapshots) {
  using Kind = Mutation::Kind;
  Mutation enrol = automation(Kind::ScenarioEnrol, 1, "welcome", 100);
  enrol.value = Value::ofInt(500);
  enrol.index = 1;  // trigger: event 0
  enrol.fields = {Value::ofString("化粧水"), Value::ofInt(3200)};
  Mutation enrolTwo = automation(Kind::ScenarioEnrol, 2, "welcome", 100);
  enrolTwo.value = Value::ofInt(300);
  Mutation step = automation(Kind::ScenarioStep, 1, "welcome", 500);
  step.index = 1;
  step.value = Value::ofInt(900);
  Mutation menu = automation(Kind::MenuLink, 1, "gold", 0);
  menu.value = Value::ofString("gold");
  Mutation outbox = automation(Kind::OutboxAdd, 0, "key-1", 50);
  outbox.user = UserId{};
  outbox.index = 25;
  outbox.value = Value::ofString("{\"method\":\"POST\"}");
  outbox.users = {user(1), user(2)};
  outbox.fields = {Value::ofString("welcome_1")};
  Mutation outboxTwo = outbox;
  outboxTwo.name = "key-2";
  std::vector<Mutation> changes = {enrol, enrolTwo, step, menu, outbox, outboxTwo,
                                   automation(Kind::OutboxDone, 0, "key-2", 60),
                                   automation(Kind::CampaignRan, 0, "winter_sale", 70)};
  for (std::int64_t t : {10, 30, 20}) changes.push_back(automation(Kind::CapCharge, 1, "", t));
  auto check = [&](const StoreState& s) {
    const AutomationState& a = s.automation();
    const std::uint32_t one = *s.friends().find(user(1)), two = *s.friends().find(user(2));
    const std::uint32_t welcome = *a.scenarioId("welcome");
    ASSERT_NE(a.enrolment(one, welcome), nullptr);
    EXPECT_EQ(a.enrolment(one, welcome)->nextStep, 1u);
    EXPECT_EQ(a.enrolment(one, welcome)->dueAt, 900);
    EXPECT_EQ(a.enrolment(one, welcome)->triggerEvent, 0u);
    EXPECT_EQ(a.enrolment(one, welcome)->triggerFields[0], Value::ofString("化粧水"));
    // Timers come out by due time, whatever the order of enrolment.
    std::vector<Timer> timers(a.timers().begin(), a.timers().end());
    EXPECT_EQ(timers, (std::vector<Timer>{{300, two, welcome}, {900, one, welcome}}));
    EXPECT_EQ(a.chargesSince(one, 20), 2u);
    EXPECT_EQ(a.chargesSince(two, 0), 0u);
    EXPECT_EQ(a.linkedMenu(one), "gold");
    EXPECT_EQ(a.linkedMenu(two), "");
    ASSERT_EQ(a.outbox().size(), 1u);
    EXPECT_EQ(a.outbox().at("key-1").notBefore, 75);
    EXPECT_EQ(a.outbox().at("key-1").users.size(), 2u);
    EXPECT_EQ(a.outbox().at("key-1").carries, std::vector<std::string>{"welcome_1"});
    EXPECT_EQ(a.campaignRan("winter_sale"), std::optional<std::int64_t>(70));
    EXPECT_EQ(a.lastEnrolled(two, welcome), std::optional<std::int64_t>(100));
  };
  {
    auto store = Store::open(dir_, &schema_);
    store->commit(changes);
    check(store->state());
  }
  {
    auto store = Store::open(dir_, &schema_);  // from the log
    check(store->state());
    store->checkpoint();
  }
  auto store = Store::open(dir_, &schema_);  // from the snapshot
  EXPECT_EQ(store->recovery().replayedTransactions, 0u);
  check(store->state());
  Mutation leave = automation(Mutation::Kind::ScenarioLeave, 1, "welcome", 1000);
  store->commit({leave});
  EXPECT_EQ(store->state().automation().timers().size(), 1u);
  EXPECT_EQ(store->state().automation().enrolmentsOf(0).size(), 0u);
}

}  // namespace
}  // namespace seg

// The friend table indexes by the hash's low bits; IDs that differ only in
// their last bytes (imports, tests, synthetic data) must still spread, or
// lookups degrade to scans.
TEST(UserIdHash, SequentialIdsSpreadOverLowBits) {
  for (const char* pattern : {"U{:032x}", "U{:016x}0000000000000000", "U0000000000000000{:016x}"}) {
    std::set<std::uint64_t> buckets;
    for (int n = 0; n < 65536; ++n) buckets.insert(seg::UserId::parse(fmt::format(fmt::runtime(pattern), n))->hash() & 0xFFFF);
    // 65536 random draws into 65536 buckets fill about 63% of them.
    EXPECT_GT(buckets.size(), 40000u) << pattern;
  }
}

namespace seg {
namespace {

std::string fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A change the store cannot apply is refused before anything is logged: a
// failed command leaves the log as it was.
TEST_F(StoreTest, RefusedChangeWritesNothing) {
  auto store = Store::open(dir_, &schema_);
  store->commit({set(1, "points", Value::ofInt(1))});
  const std::string before = fileBytes(dir_ + "/wal.log");
  EXPECT_THROW(store->commit({set(2, "points", Value::ofInt(2)), set(2, "member_rank", Value::ofInt(7))}), StoreError);
  EXPECT_EQ(fileBytes(dir_ + "/wal.log"), before);
  EXPECT_EQ(store->state().friendCount(), 1u);
  store->commit({set(3, "points", Value::ofInt(3))});  // the store is still usable
  EXPECT_EQ(store->state().friendCount(), 2u);
}

// A field added to an event that has rows: old rows have it missing, and
// the store reopens (it once wrote a snapshot it could not read).
TEST_F(StoreTest, FieldAddedToAnEventWithRows) {
  {
    auto store = Store::open(dir_, &schema_);
    store->commit({purchase(1, 1000, "x", 10)});
  }
  const ir::Schema grown = schemaOf(R"(
schema {
  member_rank: enum(bronze, silver, gold, platinum)
  points: int
  pref: string
  event purchase(product: string, price: int, coupon: string)
}
)");
  {
    auto store = Store::open(dir_, &grown);
    const EventLog& log = *store->state().events("purchase");
    ASSERT_EQ(log.fieldCount(), 3u);
    EXPECT_TRUE(log.field(2).get(0).isMissing());
    Mutation m = Mutation::of(Mutation::Kind::SetAttribute, user(1));
    m.index = static_cast<std::uint32_t>(*grown.attribute("member_rank"));
    m.value = Value::ofInt(3);  // the new enum value, usable at once
    store->commit({m});
  }
  auto store = Store::open(dir_, &grown);
  EXPECT_EQ(store->state().attribute("member_rank")->get(0), Value::ofInt(3));
  EXPECT_EQ(store->state().events("purchase")->size(), 1u);
}

// Catalog rows: put, replaced by id, kept through the log and a
// checkpoint; a catalog added to a store that has none, and a field added
// to it later, read as missing in rows written before.
TEST_F(StoreTest, CatalogRowsSurviveTheLogACheckpointAndAGrowingCatalog) {
  {
    auto store = Store::open(dir_, &schema_);
    store->commit({purchase(1, 1000, "x", 10)});
  }
  const ir::Schema withCatalog = schemaOf(std::string(R"(
catalog product { id: string  name: string  price: int }
)") + kProgram);
  const auto row = [&](const ir::Schema& schema, std::vector<Value> fields) {
    Mutation m = Mutation::of(Mutation::Kind::CatalogPut);
    m.index = static_cast<std::uint32_t>(*schema.catalog("product"));
    m.fields = std::move(fields);
    return m;
  };
  const auto price = [](const Store& store, const std::string& id) {
    const std::vector<Value>* r = store.state().catalog(*store.state().schema().catalog("product")).find(id);
    return r == nullptr ? Value::missing() : (*r)[2];
  };
  {
    auto store = Store::open(dir_, &withCatalog);
    store->commit({row(withCatalog, {Value::ofString("sku-1"), Value::ofString("化粧水"), Value::ofInt(3200)}),
                   row(withCatalog, {Value::ofString("sku-2"), Value::ofString("乳液"), Value::ofInt(2800)})});
    store->commit({row(withCatalog, {Value::ofString("sku-1"), Value::ofString("化粧水"), Value::ofInt(2900)})});
    // A row without its id, or with a value of the wrong type, is refused whole.
    EXPECT_THROW(store->commit({row(withCatalog, {Value::missing(), Value::ofString("?"), Value::ofInt(1)})}), StoreError);
    EXPECT_THROW(store->commit({row(withCatalog, {Value::ofString("sku-3"), Value::ofInt(1), Value::ofInt(1)})}), StoreError);
  }
  {
    auto store = Store::open(dir_, &withCatalog);  // from the log
    EXPECT_EQ(price(*store, "sku-1"), Value::ofInt(2900));
    EXPECT_EQ(price(*store, "sku-2"), Value::ofInt(2800));
    EXPECT_EQ(price(*store, "sku-3"), Value::missing());
    store->checkpoint();
  }
  const ir::Schema grown = schemaOf(std::string(R"(
catalog product { id: string  name: string  price: int  in_stock: bool }
)") + kProgram);
  auto store = Store::open(dir_, &grown);  // from the snapshot
  EXPECT_EQ(price(*store, "sku-1"), Value::ofInt(2900));
  const CatalogTable& table = store->state().catalog(*grown.catalog("product"));
  EXPECT_EQ(table.size(), 2u);
  const std::vector<Value>* sku2 = table.find("sku-2");
  ASSERT_NE(sku2, nullptr);
  EXPECT_LT(sku2->size(), 4u);  // written before `in_stock`: missing
  store->commit({row(grown, {Value::ofString("sku-2"), Value::ofString("乳液"), Value::ofInt(2800), Value::ofBool(false)})});
  EXPECT_EQ((*table.find("sku-2"))[3], Value::ofBool(false));
}

// Follow and unfollow decide by their time, in any arrival order.
// Attributes and tags set by events (a time on the change) go by that
// time, in the log and across a checkpoint; an import (no time) always applies.
TEST_F(StoreTest, TimedChangesFollowTimeNotArrival) {
  const auto points = [&](std::int64_t value, std::int64_t t) {
    Mutation m = set(1, "points", Value::ofInt(value));
    m.time = t;
    return m;
  };
  const auto tag = [](bool on, std::int64_t t) {
    Mutation m = Mutation::of(Mutation::Kind::Tag, user(1));
    m.name = "warm";
    m.on = on;
    m.time = t;
    return m;
  };
  const auto read = [&](Store& store) {
    const StoreState& s = store.state();
    const std::uint32_t id = *s.friends().find(user(1));
    const auto it = s.tags().find("warm");
    return std::pair{s.attribute("points")->get(id), it != s.tags().end() && it->second.contains(id)};
  };
  {
    auto store = Store::open(dir_, &schema_);
    store->commit({points(2, 200), tag(false, 200)});
    store->commit({points(1, 100), tag(true, 100)});  // older, arriving later: left out
    EXPECT_EQ(read(*store), std::pair(Value::ofInt(2), false));
  }
  {
    auto store = Store::open(dir_, &schema_);  // from the log
    EXPECT_EQ(read(*store), std::pair(Value::ofInt(2), false));
    store->checkpoint();
  }
  auto store = Store::open(dir_, &schema_);  // from the snapshot
  store->commit({points(0, 50), tag(true, 50)});
  EXPECT_EQ(read(*store), std::pair(Value::ofInt(2), false));
  store->commit({set(1, "points", Value::ofInt(7))});  // an import
  EXPECT_EQ(read(*store).first, Value::ofInt(7));
}

TEST_F(StoreTest, FollowStateFollowsTimeNotArrival) {
  const auto follow = [](int n, std::int64_t t) {
    Mutation m = Mutation::of(Mutation::Kind::Follow, user(n));
    m.time = t;
    return m;
  };
  const auto unfollow = [](int n, std::int64_t t) {
    Mutation m = Mutation::of(Mutation::Kind::Unfollow, user(n));
    m.time = t;
    return m;
  };
  {
    auto store = Store::open(dir_, &schema_);
    store->commit({follow(1, 200), unfollow(1, 100)});                   // a late, older unfollow
    store->commit({unfollow(2, 300), follow(2, 100), follow(2, 200)});   // redelivered older follows
    store->commit({follow(3, 100), unfollow(3, 100)});                   // a tie: the unfollow counts
  }
  auto store = Store::open(dir_, &schema_);
  const StoreState& s = store->state();
  const auto blocked = [&](int n) { return s.blocked().contains(*s.friends().find(user(n))); };
  EXPECT_FALSE(blocked(1));
  EXPECT_TRUE(blocked(2));
  EXPECT_TRUE(blocked(3));
  EXPECT_EQ(s.attribute("followed_at")->get(*s.friends().find(user(2))), Value::ofInt(200));
}

// An upload under the name of an audience LINE deleted starts a new one.
TEST_F(StoreTest, ReuploadAfterExpiryIsANewAudience) {
  const auto upload = [](int n, std::int64_t t) {
    Mutation m = Mutation::of(Mutation::Kind::AudienceAdd);
    m.name = "winter";
    m.time = t;
    m.users = {user(n)};
    return m;
  };
  auto store = Store::open(dir_, &schema_);
  store->commit({upload(1, 1000)});
  store->commit({upload(2, 1000 + 86400)});  // added while alive: same audience
  EXPECT_EQ(store->state().audiences().at("winter").members.cardinality(), 2u);
  store->commit({upload(3, 1000 + kAudienceLifetimeSeconds)});
  const Audience& a = store->state().audiences().at("winter");
  EXPECT_EQ(a.members.cardinality(), 1u);
  EXPECT_EQ(a.createdAt, 1000 + kAudienceLifetimeSeconds);
}

}  // namespace
}  // namespace seg

namespace seg {
namespace {

void appendFrame(const std::string& dir, std::uint64_t transaction, bool last, const std::vector<Mutation>& changes) {
  WalFrame frame;
  frame.transaction = transaction;
  frame.flags = last ? kWalLastFrame : 0;
  BinaryWriter out(frame.payload);
  for (const Mutation& m : changes) m.encode(out);
  std::ofstream(dir + "/wal.log", std::ios::app | std::ios::binary) << encodeFrame(frame);
}

// A transaction left unfinished by a crash keeps its number: the next one
// takes another, so a reopen never merges the orphan frames into it (they
// once were, and a redelivered webhook event counted twice).
TEST_F(StoreTest, AnUnfinishedTransactionsNumberIsNeverReused) {
  {
    auto store = Store::open(dir_, &schema_);
    store->commit({set(1, "points", Value::ofInt(1))});
    auto transaction = store->begin();
    transaction->add(purchase(2, 1000, "orphan", 1));
    transaction->stage();  // logged, then the process dies before end()
  }
  {
    auto store = Store::open(dir_, &schema_);
    EXPECT_EQ(store->recovery().discardedTransactions, 1u);
    EXPECT_EQ(store->state().events("purchase")->size(), 0u);
    store->commit({purchase(3, 2000, "acknowledged", 2)});
  }
  auto store = Store::open(dir_, &schema_);
  const EventLog& log = *store->state().events("purchase");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log.field(0).get(0), Value::ofString("acknowledged"));
}

// A frame numbered out of sequence (2^64-1, crafted with a valid checksum)
// is where the log ends: it is cut, numbers do not wrap, and what is
// committed after it survives a reopen.
TEST_F(StoreTest, AFrameOutOfSequenceEndsTheLog) {
  { Store::open(dir_, &schema_)->commit({set(1, "points", Value::ofInt(1))}); }
  appendFrame(dir_, UINT64_MAX, true, {set(9, "points", Value::ofInt(9))});
  {
    auto store = Store::open(dir_, &schema_);
    EXPECT_TRUE(store->recovery().tornTailCut);
    EXPECT_NE(store->recovery().tailReason.find("out of sequence"), std::string::npos) << store->recovery().tailReason;
    EXPECT_EQ(store->state().friendCount(), 1u);
    store->commit({set(2, "points", Value::ofInt(2))});
  }
  auto store = Store::open(dir_, &schema_);
  EXPECT_EQ(store->state().friendCount(), 2u);
  EXPECT_TRUE(store->state().friends().find(user(2)).has_value());
}

// A checksummed frame whose changes do not fit the schema also ends the
// log, instead of leaving a store that will not open.
TEST_F(StoreTest, AFrameThatDoesNotApplyEndsTheLog) {
  { Store::open(dir_, &schema_)->commit({set(1, "points", Value::ofInt(1))}); }
  appendFrame(dir_, 2, true, {set(5, "member_rank", Value::ofInt(17))});
  auto store = Store::open(dir_, &schema_);
  EXPECT_TRUE(store->recovery().tornTailCut);
  EXPECT_EQ(store->state().friendCount(), 1u);
}

// Webhook ids are forgotten by when seg received them: one event stamped
// far in the future no longer makes a checkpoint forget every other id.
TEST_F(StoreTest, WebhookIdsAreKeptByReceipt) {
  const auto seen = [](const std::string& id, std::int64_t received) {
    Mutation m = Mutation::of(Mutation::Kind::WebhookSeen);
    m.name = id;
    m.time = received;
    return m;
  };
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  {
    auto store = Store::open(dir_, &schema_);
    store->commit({seen("old", now - 40 * 86400), seen("recent", now - 3600), seen("fresh", now)});
    store->checkpoint();
  }
  auto store = Store::open(dir_, &schema_);
  EXPECT_FALSE(store->state().webhookSeen("old"));
  EXPECT_TRUE(store->state().webhookSeen("recent"));
  EXPECT_TRUE(store->state().webhookSeen("fresh"));
}

}  // namespace
}  // namespace seg
