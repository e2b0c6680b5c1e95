// segc test, plan, outbox and simulate end to end on the shop example: a
// failing test is reported with its place and fails the run; a campaign is
// previewed, recorded once, handed out and confirmed; mistakes get a clear
// error and the right exit code.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/integration/cli.h"

namespace fs = std::filesystem;

namespace seg {
namespace {

using testing::quote;
using testing::segc;

const std::string kShopDir = std::string(SEG_SOURCE_DIR) + "/examples/shop";
const std::string kShop = kShopDir + "/shop.seg";

class AutomationCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / fmt::format("seg-automation-cli-{}-{}", getpid(), counter_++)).string();
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string store() const { return dir_ + "/store"; }

  void generate() {
    const auto run = segc(fmt::format("gen {} --store {} --friends 30000 --events 100000 --seed 3 --now 2026-11-30T12:00",
                                      quote(kShop), quote(store())));
    ASSERT_EQ(run.exit, 0) << run.out;
  }

  std::string dir_;
  static inline int counter_ = 0;
};

TEST_F(AutomationCli, ProgramTestsPassAndAFailureSaysWhere) {
  std::ifstream in(kShop);
  std::stringstream text;
  text << in.rdbuf();
  std::string program = text.str();
  std::size_t tests = 0;
  for (std::size_t at = program.find("\ntest \""); at != std::string::npos; at = program.find("\ntest \"", at + 1)) ++tests;
  const auto ok = segc("test " + quote(kShop));
  EXPECT_EQ(ok.exit, 0) << ok.out;
  EXPECT_NE(ok.out.find(fmt::format("{} passed, 0 failed", tests)), std::string::npos) << ok.out;

  const std::string right = "expect sent intro at 2026-11-02 10:00";
  const std::size_t at = program.find(right);
  const auto line = 1 + std::count(program.begin(), program.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  program.replace(at, right.size(), "expect sent intro at 2026-11-02 11:00");
  fs::copy(kShopDir + "/flex", dir_ + "/flex", fs::copy_options::recursive);
  std::ofstream(dir_ + "/shop.seg") << program;
  const auto failed = segc("test " + quote(dir_ + "/shop.seg"));
  EXPECT_EQ(failed.exit, 1);
  EXPECT_NE(failed.out.find(fmt::format("shop.seg:{}: `expect sent intro at 2026-11-02 11:00`: not sent; sent: welcome at "
                                        "2026-11-01T09:00:00+09:00, intro at 2026-11-02T10:00:00+09:00",
                                        line)),
            std::string::npos)
      << failed.out;
  EXPECT_NE(failed.out.find(fmt::format("{} passed, 1 failed", tests - 1)), std::string::npos) << failed.out;
}

TEST_F(AutomationCli, CampaignIsPreviewedRecordedOnceHandedOutAndConfirmed) {
  generate();
  const std::string base = fmt::format("{} --store {}", quote(kShop), quote(store()));
  const auto preview = segc("plan " + base + " --campaign points_expiry --json");
  ASSERT_EQ(preview.exit, 0) << preview.out;
  const auto plan = nlohmann::json::parse(preview.out);
  EXPECT_FALSE(plan["recorded"].get<bool>());
  EXPECT_GT(plan["recipients"].get<int>(), 100);
  for (const auto& r : plan["requests"]) {
    if (r["path"] == "/v2/bot/message/multicast") {
      EXPECT_LE(r["body"]["to"].size(), 500u);
      EXPECT_GE(r["body"]["to"].size(), 2u);
    } else {
      EXPECT_EQ(r["path"], "/v2/bot/message/push");  // one friend with this text
    }
    // Placeholders filled in per friend: name and points.
    const std::string text = r["body"]["messages"][0]["text"].get<std::string>();
    EXPECT_NE(text.find("ポイントがまもなく失効します"), std::string::npos) << text;
    EXPECT_EQ(text.find("{{"), std::string::npos) << text;
  }
  // Nothing recorded by a preview.
  EXPECT_NE(segc("outbox " + base + " --at 2026-12-20T12:00").out.find("0 requests due"), std::string::npos);

  const auto recorded = segc("plan " + base + " --campaign points_expiry --record");
  ASSERT_EQ(recorded.exit, 0) << recorded.out;
  EXPECT_NE(recorded.out.find("recorded"), std::string::npos);
  const auto again = segc("plan " + base + " --campaign points_expiry --record");
  EXPECT_EQ(again.exit, 1);
  EXPECT_NE(again.out.find("was already sent"), std::string::npos) << again.out;

  const auto due = segc("outbox " + base + " --at 2026-12-20T12:00 --json");
  ASSERT_EQ(due.exit, 0) << due.out;
  std::istringstream lines(due.out);
  std::string first;
  std::getline(lines, first);
  const auto request = nlohmann::json::parse(first);
  const auto confirmed = segc("outbox " + base + " --at 2026-12-20T12:00 --confirm " + quote(request["key"].get<std::string>()));
  EXPECT_EQ(confirmed.exit, 0) << confirmed.out;
  const auto twice = segc("outbox " + base + " --at 2026-12-20T12:00 --confirm " + quote(request["key"].get<std::string>()));
  EXPECT_EQ(twice.exit, 2);
  EXPECT_NE(twice.out.find("no request"), std::string::npos) << twice.out;
  const auto rest = segc("outbox " + base + " --at 2026-12-20T12:00 --json");
  EXPECT_EQ(rest.out.find(request["key"].get<std::string>()), std::string::npos);
}

// Webhook events act once: rules reply, scenarios start, a redelivery does
// nothing, and a wrong signature is refused before anything is read.
TEST_F(AutomationCli, WebhookEventsRunTheRulesOnce) {
  generate();
  const std::string base = fmt::format("{} --store {}", quote(kShop), quote(store()));
  const std::string body = quote(std::string(SEG_SOURCE_DIR) + "/tests/data/webhook_body.json");
  const auto forged = segc("webhook " + base + " " + body + " --channel-secret s3cret --signature AAAA");
  EXPECT_EQ(forged.exit, 1);
  EXPECT_NE(forged.out.find("the signature does not match"), std::string::npos) << forged.out;
  const std::string at = " --at 2025-12-01T10:05:10";  // just after the events, in Tokyo
  const auto first = segc("webhook " + base + " " + body + at);
  ASSERT_EQ(first.exit, 0) << first.out;
  EXPECT_NE(first.out.find("4 events acted on, 0 already seen"), std::string::npos) << first.out;
  const auto again = segc("webhook " + base + " " + body + at);
  EXPECT_NE(again.out.find("0 events acted on, 6 already seen"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("(0 new)"), std::string::npos) << again.out;
  // The events are of 2025-12-01 10:00-10:05 (Tokyo).
  const auto due = segc("outbox " + base + " --at 2025-12-01T10:05:30 --json");
  // The text message mentioning skincare is answered with the reply token
  // LINE gave, while the token is good (a minute).
  EXPECT_NE(due.out.find(R"("replyToken":"757913772c4646b784d4b7ce46d12671")"), std::string::npos) << due.out;
  EXPECT_NE(due.out.find("スキンケア特集はこちら"), std::string::npos);
  // The follow starts the welcome series: its day-0 push.
  EXPECT_NE(due.out.find(R"("to":"U4af4980629a1b2c3d4e5f60718293a4b")"), std::string::npos);
  // Later steps of the series run when `segc run` reaches their time.
  EXPECT_EQ(due.out.find("人気のスキンケアをご紹介します"), std::string::npos);
  // A stale token is never handed out.
  const auto stale = segc("outbox " + base + " --at 2025-12-01T10:06:30 --json");
  EXPECT_EQ(stale.out.find("757913772c4646b784d4b7ce46d12671"), std::string::npos) << stale.out;
  const auto run = segc("run " + base + " --until 2026-12-20T00:00");
  EXPECT_EQ(run.exit, 0) << run.out;
  EXPECT_NE(run.out.find("steps run"), std::string::npos) << run.out;
  const auto later = segc("outbox " + base + " --at 2026-12-20T00:00 --json");
  EXPECT_NE(later.out.find("人気のスキンケアをご紹介します"), std::string::npos) << later.out;
  // The reply not made in time went out as a push (policy `expired_reply push`).
  EXPECT_EQ(later.out.find("757913772c4646b784d4b7ce46d12671"), std::string::npos) << later.out;
  EXPECT_NE(later.out.find("/rule1/reply/0/as-push"), std::string::npos) << later.out;
}

// The built-in `message` event can be named in conditions like any event
// (it was E0011, a reserved word): every engine finds the friend who wrote.
TEST_F(AutomationCli, MessagesCanBeCountedInSegments) {
  generate();
  const std::string program = dir_ + "/shop.seg";
  std::ifstream in(kShop);
  std::stringstream text;
  text << in.rdbuf() << "\nsegment asked_skincare = exists(message where text contains \"スキンケア\", within 1d)\n"
       << "segment wrote = count(message, within 1d) >= 1\n";
  std::ofstream(program) << text.str();
  std::filesystem::copy(std::filesystem::path(kShop).parent_path() / "flex", dir_ + "/flex", std::filesystem::copy_options::recursive);
  const std::string base = fmt::format("{} --store {}", quote(program), quote(store()));
  const std::string body = quote(std::string(SEG_SOURCE_DIR) + "/tests/data/webhook_body.json");
  ASSERT_EQ(segc("webhook " + base + " " + body + " --at 2025-12-01T10:05:10").exit, 0);
  std::set<std::string> wroteByEngine;
  for (const char* engine : {"interp", "bitmap", "jit"}) {
    const auto asked = segc(fmt::format("eval {} --segment asked_skincare --at 2025-12-01T10:06 --engine {} --ids", base, engine));
    EXPECT_EQ(asked.out, "U4af4980629a1b2c3d4e5f60718293a4b\n") << engine << ": " << asked.out;
    const auto wrote = segc(fmt::format("eval {} --segment wrote --at 2025-12-01T10:06 --engine {} --ids", base, engine));
    EXPECT_EQ(wrote.exit, 0) << wrote.out;
    wroteByEngine.insert(wrote.out);
    EXPECT_NE(wrote.out.find("U4af4980629a1b2c3d4e5f60718293a4b"), std::string::npos) << engine << ": " << wrote.out;
    // The other friend who wrote (a sticker) blocked the account after: out.
    EXPECT_EQ(wrote.out.find("Ubbd4f124aee5113e1f0c3b2a9d8e7f61"), std::string::npos) << engine << ": " << wrote.out;
  }
  EXPECT_EQ(wroteByEngine.size(), 1u) << "the engines disagree";
}

// Survey answers (`k=v&k2=v2` postback data) and a datetime picker's
// choice (LINE's postback.params) reach every engine; a picked date that is
// no date is refused where it is, the rest of the body taken.
TEST_F(AutomationCli, PostbackAnswersAndPickerChoicesReachEveryEngine) {
  const std::string program = dir_ + "/p.seg";
  std::ofstream(program) << R"(
schema { visit_on: date }
segment dry = exists(postback where param(data, "q1") == "dry", within 1d)
segment answered = exists(postback where postback.param("survey") == "skin")
segment picked_day = exists(postback where picked_date == 2026-12-24)
segment picked_time = exists(postback where picked_time == "10:30")
segment picked_moment = exists(postback where picked_datetime == 2026-12-25 09:00)
on postback where postback.param("action") == "reserve" { set visit_on = picked_date }
segment reserved = visit_on == 2026-12-24
)";
  const auto event = [](int n, const std::string& data, const nlohmann::json& params) {
    nlohmann::json e = {{"type", "postback"}, {"mode", "active"}, {"timestamp", 1796086800000LL + n},
                        {"source", {{"type", "user"}, {"userId", fmt::format("U{:032x}", n)}}},
                        {"webhookEventId", fmt::format("E{}", n)}, {"deliveryContext", {{"isRedelivery", false}}},
                        {"replyToken", fmt::format("t{}", n)}, {"postback", {{"data", data}}}};
    if (!params.is_null()) e["postback"]["params"] = params;
    return e;
  };
  const nlohmann::json body = {{"destination", "U0"},
                               {"events",
                                {event(1, "survey=skin&q1=dry", nullptr), event(2, "survey=skin&q1=oily&q2=", nullptr),
                                 event(3, "action=reserve", {{"date", "2026-12-24"}}), event(4, "pick", {{"time", "10:30"}}),
                                 event(5, "pick", {{"datetime", "2026-12-25T09:00"}}),
                                 event(6, "action=reserve", {{"date", "2026-02-30"}})}}};
  std::ofstream(dir_ + "/body.json") << body.dump(1);
  const std::string base = fmt::format("{} --store {}", quote(program), quote(store()));
  const auto took = segc(fmt::format("webhook {} {} --at 2026-12-01T10:00:30", base, quote(dir_ + "/body.json")));
  EXPECT_EQ(took.exit, 1) << took.out;
  EXPECT_NE(took.out.find("events[5].postback.params.date"), std::string::npos) << took.out;
  EXPECT_NE(took.out.find("5 events acted on"), std::string::npos) << took.out;
  const std::map<std::string, std::string> expected = {
      {"dry", fmt::format("U{:032x}\n", 1)},          {"answered", fmt::format("U{:032x}\nU{:032x}\n", 1, 2)},
      {"picked_day", fmt::format("U{:032x}\n", 3)},   {"picked_time", fmt::format("U{:032x}\n", 4)},
      {"picked_moment", fmt::format("U{:032x}\n", 5)}, {"reserved", fmt::format("U{:032x}\n", 3)}};
  for (const char* engine : {"interp", "bitmap", "jit"}) {
    for (const auto& [segment, ids] : expected) {
      const auto run = segc(fmt::format("eval {} --segment {} --at 2026-12-01T10:01 --engine {} --ids", base, segment, engine));
      EXPECT_EQ(run.out, ids) << segment << " by " << engine;
    }
  }
}

// A catalog: rows imported from JSONL and CSV (bad ones refused where they
// are), conditions on the products events refer to, the same friends from
// every engine, a price change taking effect, and a reminder filled from
// the catalog.
TEST_F(AutomationCli, CatalogConditionsAndMessagesReadTheProductsRows) {
  const std::string program = dir_ + "/c.seg";
  std::ofstream(program) << R"(
catalog product { id: string  name: string  price: int  category: string  in_stock: bool }
schema {
  event view(product: product)
  event cart_add(product: product)
  event purchase(product: product)
}
segment skincare_fans = count(view where product.category == "skincare", within 30d) >= 2
segment carted_in_stock = exists(cart_add where product.in_stock)
segment carted_cheap = exists(cart_add where product.price < 3000)
segment carted_sku1 = exists(cart_add where product == "sku-1")
message reminder(name: string, price: int) = text "「{{name}}」¥{{price}}"
scenario cart_recovery on cart_add as e per e.product {
  exit when exists(purchase where product == e.product)
  after 1h: send reminder(name: e.product.name, price: e.product.price)
}
)";
  std::ofstream(dir_ + "/product.jsonl")
      << R"({"id": "sku-1", "name": "化粧水", "price": 3200, "category": "skincare", "in_stock": true})" "\n"
      << R"({"id": "sku-2", "name": "リップ", "price": 1800, "category": "makeup", "in_stock": false})" "\n"
      << R"({"id": "sku-3", "name": "美容液", "price": "高い"})" "\n"
      << R"({"name": "no id"})" "\n"
      << R"({"id": "sku-4", "categry": "skincare"})" "\n";
  std::ofstream(dir_ + "/more.csv") << "id,name,price,category,in_stock\nsku-5,乳液,2800,skincare,true\n";
  const auto user = [](int n) { return fmt::format("U{:032x}", n); };
  std::ofstream(dir_ + "/events.jsonl")
      << fmt::format(R"({{"event": "view", "user_id": "{}", "time": "2026-12-01T09:00:00+09:00", "product": "sku-1"}})", user(1)) << "\n"
      << fmt::format(R"({{"event": "view", "user_id": "{}", "time": "2026-12-01T09:10:00+09:00", "product": "sku-5"}})", user(1)) << "\n"
      << fmt::format(R"({{"event": "view", "user_id": "{}", "time": "2026-12-01T09:00:00+09:00", "product": "sku-1"}})", user(2)) << "\n"
      << fmt::format(R"({{"event": "view", "user_id": "{}", "time": "2026-12-01T09:10:00+09:00", "product": "sku-2"}})", user(2)) << "\n"
      << fmt::format(R"({{"event": "cart_add", "user_id": "{}", "time": "2026-12-01T10:00:00+09:00", "product": "sku-1"}})", user(3)) << "\n"
      << fmt::format(R"({{"event": "cart_add", "user_id": "{}", "time": "2026-12-01T10:00:00+09:00", "product": "sku-2"}})", user(4)) << "\n"
      << fmt::format(R"({{"event": "cart_add", "user_id": "{}", "time": "2026-12-01T10:00:00+09:00", "product": "sku-9"}})", user(5)) << "\n";
  const std::string base = fmt::format("{} --store {}", quote(program), quote(store()));
  const auto rows = segc(fmt::format("import {} --catalog {} --catalog {}", base, quote(dir_ + "/product.jsonl"), quote(dir_ + "/more.csv")));
  EXPECT_NE(rows.out.find("product.jsonl: 5 records, 2 imported, 3 skipped"), std::string::npos) << rows.out;
  EXPECT_NE(rows.out.find("product.jsonl:3: error: field `price`: expected a whole number"), std::string::npos) << rows.out;
  EXPECT_NE(rows.out.find("product.jsonl:4: error: field `id`: missing"), std::string::npos) << rows.out;
  EXPECT_NE(rows.out.find("product.jsonl:5: error: field `categry`: catalog `product` has no such field; did you mean `category`?"),
            std::string::npos)
      << rows.out;
  EXPECT_NE(rows.out.find("more.csv: 1 records, 1 imported"), std::string::npos) << rows.out;
  const auto stats = segc(fmt::format("stats --store {}", quote(store())));
  EXPECT_NE(stats.out.find("catalog     product                 3 rows"), std::string::npos) << stats.out;
  ASSERT_EQ(segc(fmt::format("import {} --act --events {}", base, quote(dir_ + "/events.jsonl"))).exit, 0);
  const auto friends = [&](const std::string& segment, const char* engine) {
    return segc(fmt::format("eval {} --segment {} --at 2026-12-01T10:30 --engine {} --ids", base, segment, engine)).out;
  };
  for (const char* engine : {"interp", "bitmap", "jit"}) {
    EXPECT_EQ(friends("skincare_fans", engine), user(1) + "\n") << engine;
    EXPECT_EQ(friends("carted_in_stock", engine), user(3) + "\n") << engine;
    EXPECT_EQ(friends("carted_cheap", engine), user(4) + "\n") << engine;
    EXPECT_EQ(friends("carted_sku1", engine), user(3) + "\n") << engine;
  }
  // A price drop is a row given again: conditions see the new price.
  std::ofstream(dir_ + "/drop.jsonl") << R"({"id": "sku-1", "name": "化粧水", "price": 2500, "category": "skincare", "in_stock": true})" "\n";
  ASSERT_EQ(segc(fmt::format("import {} --catalog {}", base, quote(dir_ + "/drop.jsonl"))).exit, 0);
  EXPECT_EQ(friends("carted_cheap", "interp"), user(3) + "\n" + user(4) + "\n");
  // The reminders an hour after the carts were taken (now) are filled from
  // the rows.
  const std::string later = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr) + 2 * 3600));
  ASSERT_EQ(segc(fmt::format("run {} --until {}", base, later)).exit, 0);
  const auto outbox = segc(fmt::format("outbox {} --at {} --json", base, later));
  EXPECT_NE(outbox.out.find("「化粧水」¥2500"), std::string::npos) << outbox.out;
  EXPECT_NE(outbox.out.find("「リップ」¥1800"), std::string::npos) << outbox.out;
}

TEST_F(AutomationCli, MistakesAreClearErrors) {
  generate();
  const std::string base = fmt::format("{} --store {}", quote(kShop), quote(store()));
  const auto unknown = segc("plan " + base + " --campaign winter");
  EXPECT_EQ(unknown.exit, 2);
  EXPECT_NE(unknown.out.find("no campaign `winter`"), std::string::npos) << unknown.out;
  const auto badTime = segc("simulate " + quote(kShop) + " --from 2026-13-01 --to 2026-12-01");
  EXPECT_EQ(badTime.exit, 2);
  EXPECT_NE(badTime.out.find("--from"), std::string::npos) << badTime.out;
  const auto backwards = segc("simulate " + quote(kShop) + " --from 2026-12-01 --to 2026-11-01");
  EXPECT_EQ(backwards.exit, 2);
}

TEST_F(AutomationCli, SimulationRunsTheShopForAWeek) {
  const auto run = segc("simulate " + quote(kShop) + " --from 2026-11-25 --to 2026-12-02 --friends 5000 --history-events 50000 --timeline " +
                        quote(dir_ + "/timeline.jsonl"));
  ASSERT_EQ(run.exit, 0) << run.out;
  EXPECT_NE(run.out.find("campaign winter_sale      ran at 2026-12-01T10:00:00+09:00"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("POST /v2/bot/message/narrowcast"), std::string::npos) << run.out;
  std::ifstream timeline(dir_ + "/timeline.jsonl");
  std::string line;
  std::size_t sent = 0;
  while (std::getline(timeline, line)) sent += nlohmann::json::parse(line)["what"] == "sent" ? 1 : 0;
  EXPECT_GT(sent, 100u);
}

}  // namespace
}  // namespace seg
