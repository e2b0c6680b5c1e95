// Regression tests for what a first real use of seg found (issue "Never the
// wrong friends, never a broken store"): each test is one numbered case,
// run through segc on programs and data written here. To see them fail on
// an older build: SEGC_UNDER_TEST=/path/to/old/segc seg_integration_tests.
#include <gtest/gtest.h>

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/integration/cli.h"

namespace fs = std::filesystem;

namespace seg {
namespace {

using Json = nlohmann::json;
using testing::quote;
using testing::segc;
using testing::segcWithEnv;

std::string user(int n) { return fmt::format("U{:032x}", n); }

class Trust : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / fmt::format("seg-trust-{}-{}", getpid(), counter_++)).string();
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    fs::create_directories(fs::path(path(name)).parent_path());
    std::ofstream(path(name), std::ios::binary) << text;
    return quote(path(name));
  }
  std::string store() const { return quote(path("store")); }
  // Every request of `segc outbox --json` at `at`, in the order handed out.
  std::vector<Json> outbox(const std::string& program, const std::string& at) const {
    const auto run = segc(fmt::format("outbox {} --store {} --at {} --json", program, store(), at));
    EXPECT_EQ(run.exit, 0) << run.out;
    std::vector<Json> out;
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line[0] == '{') out.push_back(Json::parse(line));
    }
    return out;
  }
  std::string webhookBody(const std::vector<Json>& events) const {
    return Json{{"destination", "U0c4cfb5e1d5e6b0e3f1f08a3ac0c7d2e"}, {"events", events}}.dump();
  }
  static Json event(const std::string& type, int n, std::int64_t ms, const std::string& id) {
    Json e = {{"type", type},
              {"mode", "active"},
              {"timestamp", ms},
              {"source", {{"type", "user"}, {"userId", user(n)}}},
              {"webhookEventId", id},
              {"deliveryContext", {{"isRedelivery", false}}}};
    if (type != "unfollow") e["replyToken"] = "token-" + id;
    return e;
  }

  std::string dir_;
  static inline int counter_ = 0;
};

// 2026-12-01T10:00:00+09:00 in epoch milliseconds.
constexpr std::int64_t kDec1 = 1764550800000LL + 365LL * 86400 * 1000;

// 1. A campaign's `to` is applied without `use line`.
TEST_F(Trust, CampaignToNarrowsWithoutUseLine) {
  const std::string program = write("p.seg", R"(
schema { member_rank: enum(regular, gold) }
message vip_sale = text "VIP sale"
campaign vip_only { to member_rank == gold at 2026-12-10 10:00 send vip_sale }
)");
  write("f.jsonl", fmt::format("{{\"user_id\":\"{}\",\"member_rank\":\"regular\"}}\n{{\"user_id\":\"{}\",\"member_rank\":\"gold\"}}\n"
                               "{{\"user_id\":\"{}\",\"member_rank\":\"regular\"}}\n",
                               user(1), user(2), user(3)));
  ASSERT_EQ(segc(fmt::format("import {} --store {} --friends {}", program, store(), quote(path("f.jsonl")))).exit, 0);
  const auto plan = segc(fmt::format("plan {} --store {} --campaign vip_only --json", program, store()));
  ASSERT_EQ(plan.exit, 0) << plan.out;
  const Json j = Json::parse(plan.out);
  EXPECT_EQ(j["recipients"], 1) << plan.out;
  ASSERT_EQ(j["requests"].size(), 1u);
  EXPECT_EQ(j["requests"][0]["body"]["to"], user(2));
}

// 2, 11. Flex placeholders are filled per friend (text, alt text, URLs,
// encoded where they sit in a URL); friends with different values get
// different requests; image URLs are encoded.
TEST_F(Trust, FlexAndImagesAreFilledPerFriendAndEncoded) {
  write("flex/card.json", R"({"type": "bubble",
    "hero": {"type": "image", "url": "https://example.com/img/{{photo}}"},
    "body": {"type": "box", "layout": "vertical", "contents": [
      {"type": "text", "text": "{{name|お客様}}さん、{{product}}はいかが?"},
      {"type": "button", "action": {"type": "uri", "label": "見る", "uri": "https://example.com/p?name={{product}}"}}]}})");
  const std::string program = write("p.seg", R"(
schema { photo: string }
message card(product: string) = flex "flex/card.json" alt "{{product}}のご案内"
message pic = image "https://example.com/画像 1.png"
message own = image "https://example.com/u/{{photo}}"
campaign c { to photo != "" at 2026-12-10 10:00 send card(product: "ふわ 泡&洗顔"), pic, own }
)");
  const auto check = segc("check " + program);
  ASSERT_EQ(check.exit, 0) << check.out;
  write("f.jsonl", fmt::format("{{\"user_id\":\"{}\",\"name\":\"花子\",\"photo\":\"a b.png\"}}\n"
                               "{{\"user_id\":\"{}\",\"photo\":\"c.png\"}}\n",
                               user(1), user(2)));
  ASSERT_EQ(segc(fmt::format("import {} --store {} --friends {}", program, store(), quote(path("f.jsonl")))).exit, 0);
  const auto plan = segc(fmt::format("plan {} --store {} --campaign c --json", program, store()));
  ASSERT_EQ(plan.exit, 0) << plan.out;
  const Json requests = Json::parse(plan.out)["requests"];
  ASSERT_EQ(requests.size(), 2u) << plan.out;  // two friends, two contents
  std::map<std::string, Json> byUser;
  for (const Json& r : requests) byUser[r["body"]["to"].get<std::string>()] = r["body"]["messages"];
  const Json& hanako = byUser.at(user(1));
  EXPECT_EQ(hanako[0]["altText"], "ふわ 泡&洗顔のご案内");
  EXPECT_EQ(hanako[0]["contents"]["body"]["contents"][0]["text"], "花子さん、ふわ 泡&洗顔はいかが?");
  EXPECT_EQ(hanako[0]["contents"]["hero"]["url"], "https://example.com/img/a%20b.png");
  EXPECT_EQ(hanako[0]["contents"]["body"]["contents"][1]["action"]["uri"],
            "https://example.com/p?name=%E3%81%B5%E3%82%8F%20%E6%B3%A1%26%E6%B4%97%E9%A1%94");
  EXPECT_EQ(byUser.at(user(2))[0]["contents"]["body"]["contents"][0]["text"], "お客様さん、ふわ 泡&洗顔はいかが?");
  EXPECT_EQ(hanako[1]["originalContentUrl"], "https://example.com/%E7%94%BB%E5%83%8F%201.png");
  // `image "{{url}}"`: filled per friend, encoded where it sits in the URL.
  EXPECT_EQ(hanako[2]["originalContentUrl"], "https://example.com/u/a%20b.png");
  EXPECT_EQ(hanako[2]["previewImageUrl"], "https://example.com/u/a%20b.png");
  EXPECT_EQ(byUser.at(user(2))[2]["originalContentUrl"], "https://example.com/u/c.png");
  EXPECT_EQ(plan.out.find("{{"), std::string::npos) << plan.out;  // nothing left unfilled
}

// 3. A LINE-filtered narrowcast records who was targeted, not received,
// and charges no cap.
TEST_F(Trust, FilteredNarrowcastIsNotReceived) {
  const std::string program = write("p.seg", R"(
use line
schema { points: int }
segment got = received("c")
message m = text "hello"
campaign c { to line.gender == female and points >= 0 at 2026-12-10 10:00 send m }
)");
  std::string friends;
  for (int n = 1; n <= 60; ++n) friends += fmt::format("{{\"user_id\":\"{}\",\"points\":{}}}\n", user(n), n);
  write("f.jsonl", friends);
  ASSERT_EQ(segc(fmt::format("import {} --store {} --friends {}", program, store(), quote(path("f.jsonl")))).exit, 0);
  ASSERT_EQ(segc(fmt::format("plan {} --store {} --campaign c --record", program, store())).exit, 0);
  const std::string at = "2026-12-10T10:00";
  std::vector<Json> due = outbox(program, at);
  ASSERT_EQ(due.size(), 1u);
  ASSERT_EQ(due[0]["path"], "/v2/bot/audienceGroup/upload");
  auto run = segc(fmt::format("outbox {} --store {} --at {} --confirm {} --response '{{\"audienceGroupId\": 77}}'", program,
                              store(), at, quote(due[0]["key"])));
  ASSERT_EQ(run.exit, 0) << run.out;
  due = outbox(program, at);
  ASSERT_EQ(due.size(), 1u);
  ASSERT_EQ(due[0]["path"], "/v2/bot/message/narrowcast");
  run = segc(fmt::format("outbox {} --store {} --at {} --confirm {}", program, store(), at, quote(due[0]["key"])));
  ASSERT_EQ(run.exit, 0) << run.out;
  const auto received = segc(fmt::format("eval {} --store {} --segment got --count --at {}", program, store(), at));
  EXPECT_EQ(received.out, "0\n") << received.out;
}

// 4. An uploaded audience is empty once LINE has deleted it (180 days).
TEST_F(Trust, AudiencesExpireAfter180Days) {
  const std::string program = write("p.seg", R"(
schema { points: int }
segment uploaded = audience "winter"
)");
  write("winter.csv", user(1) + "\n" + user(2) + "\n");
  ASSERT_EQ(segc(fmt::format("import {} --store {} --audience {}", program, store(), quote(path("winter.csv")))).exit, 0);
  const auto soon = std::time(nullptr) + 86400;
  const auto late = std::time(nullptr) + 181 * 86400;
  const auto at = [](std::time_t t) {
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S+00:00", std::gmtime(&t));
    return std::string(text);
  };
  const auto fresh = segc(fmt::format("eval {} --store {} --segment uploaded --count --at {}", program, store(), at(soon)));
  EXPECT_EQ(fresh.out, "2\n") << fresh.out;
  const auto expired = segc(fmt::format("eval {} --store {} --segment uploaded --count --at {}", program, store(), at(late)));
  EXPECT_NE(expired.out.find("0\n"), std::string::npos) << expired.out;
  EXPECT_NE(expired.out.find("deleted by LINE"), std::string::npos) << expired.out;
  const auto explain = segc(fmt::format("explain {} --store {} --segment uploaded --at {}", program, store(), at(late)));
  EXPECT_NE(explain.out.find("deleted by LINE"), std::string::npos) << explain.out;
}

// 6, 14. One rule for signatures: a secret from the environment is used by
// `segc webhook` too, and a signature without a secret is refused.
TEST_F(Trust, WebhookSignatureRulesAreTheSameEverywhere) {
  const std::string program = write("p.seg", "message hi = text \"hi\"\non follow { send hi }\n");
  const std::string body = write("body.json", webhookBody({event("follow", 1, kDec1, "E1")}));
  const auto unsigned_ = segcWithEnv("LINE_CHANNEL_SECRET=s3cret", fmt::format("webhook {} --store {} {}", program, store(), body));
  EXPECT_EQ(unsigned_.exit, 1) << unsigned_.out;
  EXPECT_NE(unsigned_.out.find("x-line-signature"), std::string::npos) << unsigned_.out;
  const auto stats = segc(fmt::format("stats --store {}", store()));
  EXPECT_NE(stats.out.find("friends     0"), std::string::npos) << stats.out;
  const auto noSecret = segc(fmt::format("webhook {} --store {} {} --signature AAAA", program, store(), body));
  EXPECT_EQ(noSecret.exit, 1) << noSecret.out;
  EXPECT_NE(noSecret.out.find("no channel secret"), std::string::npos) << noSecret.out;
  const auto importToo = segc(fmt::format("import {} --store {} --webhook {} --signature AAAA", program, store(), body));
  EXPECT_EQ(importToo.exit, 1) << importToo.out;
  EXPECT_NE(importToo.out.find("no channel secret"), std::string::npos) << importToo.out;
}

// 7. A campaign refused by min_reach has not run.
TEST_F(Trust, RefusedCampaignHasNotRun) {
  const std::string program = write("p.seg", R"(
schema { points: int }
message m = text "x"
campaign few { to points > 5 at 2026-12-10 10:00 send m }
policy { min_reach 100 }
)");
  write("f.jsonl", fmt::format("{{\"user_id\":\"{}\",\"points\":9}}\n", user(1)));
  ASSERT_EQ(segc(fmt::format("import {} --store {} --friends {}", program, store(), quote(path("f.jsonl")))).exit, 0);
  const auto first = segc(fmt::format("plan {} --store {} --campaign few --record", program, store()));
  EXPECT_EQ(first.exit, 1);
  EXPECT_NE(first.out.find("min_reach"), std::string::npos) << first.out;
  const auto second = segc(fmt::format("plan {} --store {} --campaign few --record", program, store()));
  EXPECT_EQ(second.out.find("already sent"), std::string::npos) << second.out;
  const auto sim = segc(fmt::format("simulate {} --store {} --from 2026-12-09 --to 2026-12-11", program, store()));
  ASSERT_EQ(sim.exit, 0) << sim.out;
  EXPECT_EQ(sim.out.find("ran at"), std::string::npos) << sim.out;
  EXPECT_NE(sim.out.find("not sent"), std::string::npos) << sim.out;
}

// 8, 12. Rich menu aliases are resolved to IDs before linking; an explicit
// `richmenu` action for a new friend is not undone by the menu rules; two
// replies go out in the order they ran.
TEST_F(Trust, MenusByAliasAndActionsInOrder) {
  const std::string program = write("p.seg", R"(
message a = text "A"
message b = text "B"
richmenu vip_menu = "vip"
richmenu standard = "standard"
menus { default -> standard }
on follow { richmenu vip_menu }
on message { reply a; reply b }
)");
  const std::string body = write(
      "body.json", webhookBody({event("follow", 1, kDec1, "E1"),
                                [] {
                                  Json m = event("message", 1, kDec1 + 1000, "E2");
                                  m["message"] = {{"type", "text"}, {"id", "1"}, {"text", "hello"}};
                                  return m;
                                }()}));
  const auto run = segc(fmt::format("webhook {} --store {} {} --at 2026-12-01T10:00:05", program, store(), body));
  ASSERT_EQ(run.exit, 0) << run.out;
  std::vector<Json> due = outbox(program, "2026-12-01T10:00:10");
  std::vector<std::string> paths;
  for (const Json& r : due) paths.push_back(r["method"].get<std::string>() + " " + r["path"].get<std::string>());
  // The alias is looked up first; the link waits for it; nothing unlinks the
  // action's menu; the reply comes before the push of the second message.
  EXPECT_EQ(paths, (std::vector<std::string>{"GET /v2/bot/richmenu/alias/vip", "POST /v2/bot/message/reply",
                                             "POST /v2/bot/message/push"}))
      << run.out;
  ASSERT_FALSE(due.empty());
  const std::string id = "richmenu-0123456789abcdef0123456789abcdef";
  const auto confirm = segc(fmt::format("outbox {} --store {} --at 2026-12-01T10:00:10 --confirm {} --response {}", program,
                                        store(), quote(due[0]["key"]), quote(R"({"richMenuAliasId":"vip","richMenuId":")" + id + "\"}")));
  ASSERT_EQ(confirm.exit, 0) << confirm.out;
  due = outbox(program, "2026-12-01T10:00:10");
  bool linked = false;
  for (const Json& r : due) linked = linked || r["path"] == fmt::format("/v2/bot/user/{}/richmenu/{}", user(1), id);
  EXPECT_TRUE(linked) << due.size();
}

// 13. Group and room events are not a friend's; standby events are
// recorded and never answered.
TEST_F(Trust, GroupsRoomsAndStandby) {
  const std::string program = write("p.seg", "message hi = text \"hi\"\non message { reply hi }\non follow { send hi }\n");
  Json group = event("message", 1, kDec1, "G1");
  group["source"] = {{"type", "group"}, {"groupId", "Ca56f94637c8c7b7a8e2f3c0b1d4e6f88"}, {"userId", user(1)}};
  group["message"] = {{"type", "text"}, {"id", "1"}, {"text", "hello"}};
  Json room = group;
  room["webhookEventId"] = "R1";
  room["source"] = {{"type", "room"}, {"roomId", "Ra8dbf4673c4c812cd491258042226c99"}, {"userId", user(1)}};
  Json standby = event("follow", 2, kDec1, "S1");
  standby["mode"] = "standby";
  standby.erase("replyToken");
  const std::string body = write("body.json", webhookBody({group, room, standby}));
  const auto run = segc(fmt::format("webhook {} --store {} {} --at 2026-12-01T10:00:05", program, store(), body));
  ASSERT_EQ(run.exit, 0) << run.out;
  EXPECT_TRUE(outbox(program, "2026-12-01T10:00:10").empty());
  const auto stats = segc(fmt::format("stats --store {}", store()));
  EXPECT_NE(stats.out.find("friends     1 (0 blocked)"), std::string::npos) << stats.out;  // the standby follow only
}

// 16. `expect not sent` without a time runs past every campaign; a failed
// expectation shows the value.
TEST_F(Trust, ProgramTestsNeverPassVacuously) {
  const std::string program = write("p.seg", R"(
schema { points: int }
message sale = text "sale"
campaign later { to points >= 0 at 2027-06-01 10:00 send sale }
test "the sale is not sent" {
  given friend { points: 3 }
  expect not sent sale
}
test "points" {
  given friend { points: 3 }
  expect points > 10
}
)");
  const auto run = segc("test " + program);
  EXPECT_EQ(run.exit, 1) << run.out;
  EXPECT_NE(run.out.find("test \"the sale is not sent\" ... FAILED"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("the value compared is 3"), std::string::npos) << run.out;
}

// 17, 18, 19. Schema changes: a field added to an event with rows; an enum
// value added and used in the same run; a program whose enum order differs
// is refused by readers as by writers.
TEST_F(Trust, SchemaChangesKeepTheStoreReadable) {
  const std::string v1 = write("v1.seg", "schema { rank: enum(regular, gold)\n event purchase(product: string) }\n"
                                         "segment all = exists(purchase)\n");
  write("e.jsonl", fmt::format("{{\"event\":\"purchase\",\"user_id\":\"{}\",\"time\":\"2026-11-01T10:00:00+09:00\",\"product\":\"x\"}}\n", user(1)));
  ASSERT_EQ(segc(fmt::format("import {} --store {} --events {}", v1, store(), quote(path("e.jsonl")))).exit, 0);
  const std::string v2 = write("v2.seg", "schema { rank: enum(regular, gold, platinum)\n event purchase(product: string, price: int) }\n"
                                         "segment all = exists(purchase)\nsegment top = rank == platinum\n"
                                         "segment priced = exists(purchase where price > 0)\n");
  write("f.jsonl", fmt::format("{{\"user_id\":\"{}\",\"rank\":\"platinum\"}}\n", user(1)));
  const auto imported = segc(fmt::format("import {} --store {} --friends {}", v2, store(), quote(path("f.jsonl"))));
  EXPECT_EQ(imported.exit, 0) << imported.out;
  const auto stats = segc(fmt::format("stats --store {}", store()));
  EXPECT_EQ(stats.exit, 0) << stats.out;
  EXPECT_EQ(segc(fmt::format("eval {} --store {} --segment top --count", v2, store())).out, "1\n");
  EXPECT_EQ(segc(fmt::format("eval {} --store {} --segment all --count", v2, store())).out, "1\n");
  EXPECT_EQ(segc(fmt::format("eval {} --store {} --segment priced --count", v2, store())).out, "0\n");  // missing in old rows
  const std::string reordered = write("v3.seg", "schema { rank: enum(gold, regular, platinum)\n event purchase(product: string) }\n"
                                                "segment top = rank == platinum\n");
  const auto eval = segc(fmt::format("eval {} --store {} --segment top --count", reordered, store()));
  const auto import = segc(fmt::format("import {} --store {} --friends {}", reordered, store(), quote(path("f.jsonl"))));
  EXPECT_EQ(eval.exit, 2) << eval.out;
  EXPECT_EQ(import.exit, 2) << import.out;
  EXPECT_NE(eval.out.find("reorders or drops"), std::string::npos) << eval.out;
  EXPECT_NE(import.out.find("reorders or drops"), std::string::npos) << import.out;
}

// 20. Follow and unfollow set state by their time, whatever the order they
// arrive in.
TEST_F(Trust, LaterEventWinsWhateverTheArrivalOrder) {
  // Blocked friends are never in a segment: `everyone` counts those who are not.
  const std::string program = write("p.seg", "message hi = text \"hi\"\nscenario welcome on follow { day 0: send hi }\n"
                                             "segment everyone = not tag \"none\"\n");
  write("e.jsonl", fmt::format("{{\"event\":\"follow\",\"user_id\":\"{0}\",\"time\":\"2026-11-02T10:00:00+09:00\"}}\n"
                               "{{\"event\":\"unfollow\",\"user_id\":\"{0}\",\"time\":\"2026-11-01T10:00:00+09:00\"}}\n",
                               user(1)));
  ASSERT_EQ(segc(fmt::format("import {} --store {} --events {}", program, store(), quote(path("e.jsonl")))).exit, 0);
  EXPECT_EQ(segc(fmt::format("eval {} --store {} --segment everyone --count", program, store())).out, "1\n");
  // A webhook unfollow, then a redelivered earlier follow: still blocked, no welcome.
  const std::string unfollow = write("u.json", webhookBody({event("unfollow", 2, kDec1 + 60000, "U2")}));
  Json follow = event("follow", 2, kDec1, "F2");
  follow["deliveryContext"]["isRedelivery"] = true;
  const std::string refollow = write("f.json", webhookBody({follow}));
  ASSERT_EQ(segc(fmt::format("webhook {} --store {} {} --at 2026-12-01T10:02", program, store(), unfollow)).exit, 0);
  ASSERT_EQ(segc(fmt::format("webhook {} --store {} {} --at 2026-12-01T10:03", program, store(), refollow)).exit, 0);
  EXPECT_EQ(segc(fmt::format("eval {} --store {} --segment everyone --count --at 2026-12-01T10:04", program, store())).out, "1\n");
  EXPECT_TRUE(outbox(program, "2026-12-02T10:00").empty());
}

// 20. State set by rule actions goes by the events' own times too: the
// older of two messages arriving last does not overwrite the newer one's
// attribute and tag (also across a checkpoint, which keeps the times).
TEST_F(Trust, RuleActionsFollowTheEventsTimeNotArrival) {
  const std::string program = write("p.seg", R"(
schema { stage: enum(none, cold, hot) }
segment hot = stage == hot
segment warm = tag "warm"
segment cold = stage == cold
on message where text contains "hot" { set stage = hot  tag "warm" }
on message where text contains "cold" { set stage = cold  untag "warm" }
)");
  const auto message = [&](const std::string& text, std::int64_t ms, const std::string& id) {
    Json e = event("message", 1, ms, id);
    e["message"] = {{"id", id}, {"type", "text"}, {"text", text}, {"quoteToken", "q"}};
    return e;
  };
  const std::string newer = write("newer.json", webhookBody({message("cold now", kDec1 + 60000, "M2")}));
  const std::string older = write("older.json", webhookBody({message("hot before", kDec1, "M1")}));
  const std::string oldest = write("oldest.json", webhookBody({message("hot long before", kDec1 - 60000, "M0")}));
  ASSERT_EQ(segc(fmt::format("webhook {} --store {} {} --at 2026-12-01T10:05", program, store(), newer)).exit, 0);
  ASSERT_EQ(segc(fmt::format("webhook {} --store {} {} --at 2026-12-01T10:06", program, store(), older)).exit, 0);
  const auto count = [&](const std::string& segment) {
    return segc(fmt::format("eval {} --store {} --segment {} --count --at 2026-12-01T10:07", program, store(), segment)).out;
  };
  EXPECT_EQ(count("cold"), "1\n");
  EXPECT_EQ(count("hot"), "0\n");
  EXPECT_EQ(count("warm"), "0\n");
  // Big enough imports checkpoint; `segc compact` is not a command, so the
  // store is checkpointed by a reopen for writing after enough log: here
  // simply by another webhook, then read again from the snapshot and log.
  ASSERT_EQ(segc(fmt::format("webhook {} --store {} {} --at 2026-12-01T10:08", program, store(), oldest)).exit, 0);
  EXPECT_EQ(count("cold"), "1\n");
  EXPECT_EQ(count("warm"), "0\n");
}

}  // namespace
}  // namespace seg
