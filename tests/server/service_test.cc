// segd end to end: each test starts the service on loopback ports (port 0),
// talks to it over HTTP as LINE, a shop's systems and an operator would,
// and stops it, also when the test fails (ServiceProcess kills it).
#include <gtest/gtest.h>

#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <regex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/store/store.h"
#include "tests/integration/cli.h"
#include "server/delivery/line_api.h"
#include "server/http/http_client.h"
#include "server/http/http_server.h"
#include "tests/tools/http_client.h"
#include "tests/tools/line_stand_in.h"
#include "tests/tools/openapi.h"
#include "tests/tools/service_process.h"
#include "tests/tools/webhook_load.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace seg::testing {
namespace {

const std::string kSecret = "test-channel-secret";

std::string sourcePath(const std::string& relative) { return std::string(SEG_SOURCE_DIR) + "/" + relative; }
std::string programPath() { return sourcePath("tests/data/service/shop.seg"); }

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string body(const std::string& events) {
  return R"({"destination":"U00000000000000000000000000000000","events":[)" + events + "]}";
}

std::string followEvent(const std::string& id, const std::string& user, std::int64_t millis = nowMillis()) {
  return fmt::format(R"({{"type":"follow","mode":"active","timestamp":{},"source":{{"type":"user","userId":"{}"}},)"
                     R"("webhookEventId":"{}","deliveryContext":{{"isRedelivery":false}},"replyToken":"rt-{}",)"
                     R"("follow":{{"isUnblocked":false}}}})",
                     millis, user, id, id);
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// What the store holds, read as segc's readers read it (no lock, beside
// the service or after it).
struct StoreView {
  std::unique_ptr<Store> store;
  explicit StoreView(const std::string& dir) {
    OpenOptions options;
    options.readOnly = true;
    store = Store::open(dir, nullptr, options);
  }
  const StoreState& state() const { return store->state(); }
  // Message events by friend, keyed by user id.
  std::map<std::string, std::size_t> messagesByUser() const {
    std::map<std::string, std::size_t> out;
    const EventLog* log = state().events("message");
    if (log == nullptr) return out;
    for (std::size_t row = 0; row < log->size(); ++row) ++out[state().friends().user(log->friendAt(row)).toString()];
    return out;
  }
};

// Polls until `done` holds (the loop acts within a second or so); false on timeout.
template <typename Done>
bool eventually(Done done, double seconds = 15) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

class Service : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / fmt::format("seg-service-{}-{}", ::getpid(),
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name())).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = dir_ + "/store";
  }
  void TearDown() override {
    service_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  ServiceProcess& start(ServiceOptions options = {}) {
    if (options.program.empty()) options.program = programPath();
    options.store = store_;
    if (options.secret == "test-channel-secret") options.secret = kSecret;
    service_ = std::make_unique<ServiceProcess>(options);
    EXPECT_TRUE(service_->start()) << service_->log();
    return *service_;
  }
  HttpResult postWebhook(const std::string& text, const std::string& secret = kSecret) {
    return http_.post(service_->webhookUrl(), text, "application/json; charset=utf-8",
                      {{"x-line-signature", lineSignature(secret, text)}});
  }
  json admin(const std::string& path, int expected = 200) {
    const HttpResult r = http_.get(service_->adminUrl() + path);
    EXPECT_EQ(r.status, expected) << path << ": " << r.body << r.error;
    return r.status == 0 ? json() : json::parse(r.body, nullptr, false);
  }
  json stats() { return admin("/v1/stats"); }
  // Everything taken has been acted on and everything planned made (a
  // follow waits in the inbox for its friend's profile first).
  // Twice, 100 ms apart: a read can fall between a unit of work's inbox
  // item marked done and the requests it planned (see the closing notes).
  // The shop's program in the test's folder (with its flex files), with or
  // without its quiet hours.
  std::string shopProgram(bool quietHours) {
    const std::string program = dir_ + "/shop.seg";
    std::string text = readFile(sourcePath("examples/shop/shop.seg"));
    if (!quietHours) text = std::regex_replace(text, std::regex("\n  quiet [^\n]*"), "");
    writeFile(program, text);
    fs::copy(sourcePath("examples/shop/flex"), dir_ + "/flex", fs::copy_options::recursive);
    return program;
  }
  // Options for `program` delivering to Prism behind `url`: LINE's slowest
  // limits eased so the test takes seconds, and no campaign held for the
  // quota (Prism answers it with its example: 500 of 1,000 left).
  ServiceOptions deliveringToPrism(const std::string& program, const std::string& url, const std::string& extraConfig = "") {
    ServiceOptions options;
    options.program = program;
    options.accessToken = "a-token";
    options.config = dir_ + "/segd.toml";
    writeFile(options.config, fmt::format("[delivery]\nenabled = true\napi_base = \"{0}\"\ndata_api_base = \"{0}\"\nhold_beyond_quota = false\n"
                                          "[delivery.rate_limits]\n\"POST /v2/bot/message/narrowcast\" = 50\n"
                                          "\"POST /v2/bot/audienceGroup/upload\" = 50\n\"PUT /v2/bot/audienceGroup/upload\" = 50\n{1}",
                                          url, extraConfig));
    return options;
  }
  bool allSent() {
    const auto once = [&] { return stats()["inbox"] == 0 && admin("/v1/outbox")["in_outbox"] == 0; };
    if (!once()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return once();
  }
  bool outboxHas(const std::string& path, const std::string& text) {
    const json out = admin("/v1/outbox?full=true&limit=10000");
    for (const json& r : out["requests"]) {
      if (r["path"] == path && r["request"].dump().find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::string metrics() { return http_.get(service_->adminUrl() + "/metrics").body; }
  // Signed bodies of distinct message events from 4 connections, as fast
  // as the service answers, while `interrupt` runs (it stops or kills it).
  template <typename Interrupt>
  LoadResult loadUntil(const std::string& prefix, std::uint64_t firstBody, Interrupt interrupt) {
    std::atomic<bool> stop{false};
    LoadResult load;
    std::thread generator([&] {
      LoadOptions o;
      o.url = service_->webhookUrl();
      o.secret = kSecret;
      o.threads = 4;
      o.idPrefix = prefix;
      o.firstBody = firstBody;
      o.stop = &stop;
      load = runWebhookLoad(o);
    });
    interrupt();
    stop = true;
    generator.join();
    return load;
  }

  std::string dir_, store_;
  std::unique_ptr<ServiceProcess> service_;
  HttpClient http_;
};

// ----------------------------------------------------------------- webhooks

// A LINE-shaped body of every event type (tests/data/webhooks, checked
// against LINE's webhook.yml when it is here), signed as LINE signs them:
// taken with the right secret, refused with a wrong one or none, and not
// taken twice when LINE redelivers.
TEST_F(Service, WebhooksOfEveryEventTypeSignedAsLineSignsThem) {
  start();
  const auto spec = openapi::lineOpenApiDirectory();
  if (!spec) std::cout << "LINE's OpenAPI files (../shared/line-openapi) are not here: bodies not checked against webhook.yml\n";
  std::set<std::string> ids;
  std::vector<std::string> bodies;
  for (const auto& entry : fs::directory_iterator(sourcePath("tests/data/webhooks"))) {
    if (entry.path().extension() != ".json") continue;
    bodies.push_back(readFile(entry.path().string()));
    const json parsed = json::parse(bodies.back());
    if (spec) {
      EXPECT_EQ(openapi::Spec::load({*spec + "/webhook.yml"}).checkSchema("CallbackRequest", parsed), "") << entry.path();
    }
    for (const json& e : parsed["events"]) ids.insert(e["webhookEventId"].get<std::string>());
  }
  ASSERT_GE(bodies.size(), 3u);
  for (const std::string& b : bodies) {
    EXPECT_EQ(postWebhook(b, "another-channels-secret").status, 401);
    EXPECT_EQ(http_.post(service_->webhookUrl(), b, "application/json").status, 401);  // unsigned
  }
  EXPECT_EQ(stats()["webhook_ids_remembered"], 0) << "a refused body changed the store";
  std::size_t accepted = 0;
  for (const std::string& b : bodies) {
    const HttpResult r = postWebhook(b);
    EXPECT_EQ(r.status, 200) << r.body;
    accepted += json::parse(r.body)["accepted"].get<std::size_t>();
  }
  EXPECT_GT(accepted, 0u);
  EXPECT_EQ(stats()["webhook_ids_remembered"], ids.size());
  std::size_t redelivered = 0;
  for (const std::string& b : bodies) {
    const HttpResult r = postWebhook(b);
    EXPECT_EQ(r.status, 200);
    redelivered += json::parse(r.body)["redelivered"].get<std::size_t>();
  }
  EXPECT_EQ(redelivered, ids.size());
  const json before = stats();
  EXPECT_TRUE(eventually([&] { return stats()["inbox"] == 0; }));
  EXPECT_EQ(stats()["events"], before["events"]);
  EXPECT_EQ(service_->stop(), 0);
}

// A follow is answered by its welcome, a text by its reply: in the outbox,
// durably, moments after the 200 (the metrics count both).
TEST_F(Service, FollowAndMessageAreActedOnAtOnce) {
  start();
  const std::string user = loadUserId(7);
  ASSERT_EQ(postWebhook(body(followEvent("f-1", user))).status, 200);
  EXPECT_TRUE(eventually([&] { return outboxHas("/v2/bot/message/push", "ようこそ"); })) << admin("/v1/outbox?full=true").dump(2);
  ASSERT_EQ(postWebhook(body(messageEventJson("m-1", user, "hello there", nowMillis(), "reply-token-1"))).status, 200);
  EXPECT_TRUE(eventually([&] { return outboxHas("/v2/bot/message/reply", "reply-token-1"); }));
  // The latencies are counted once the batch is durable, just after the
  // outbox shows the reply.
  std::string m;
  EXPECT_TRUE(eventually([&] {
    m = metrics();
    return m.find("seg_webhook_to_reply_seconds_count 1") != std::string::npos &&
           m.find(R"(seg_actions_total{action="replied",name="hello_back"} 1)") != std::string::npos;
  })) << m;
  EXPECT_NE(m.find(R"(seg_webhook_events_total{type="follow",outcome="accepted"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(seg_actions_total{action="replied",name="hello_back"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(seg_outbox_requests{standing="due"} 2)"), std::string::npos) << m;
  // A reply planned for the token: the sender takes it from the outbox.
  const json due = admin("/v1/outbox?standing=due&full=true");
  ASSERT_EQ(due["requests"].size(), 2u);
  EXPECT_EQ(service_->stop(), 0);
}

// ------------------------------------------------------------------- feeds

// EC and CRM data while the service runs: an EC cart_add starts the cart
// scenario; a bad record is named by line and field and changes nothing.
TEST_F(Service, FeedsGoThroughTheAutomation) {
  start();
  const std::string user = loadUserId(11);
  const std::string cart = fmt::format(R"({{"user_id":"{}","event":"cart_add","time":"2026-12-04T10:00:00+09:00","product":"化粧水","price":3200}})", user);
  HttpResult r = http_.post(service_->adminUrl() + "/v1/events", cart + "\n", "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["accepted"], 1);
  EXPECT_TRUE(eventually([&] { return outboxHas("/v2/bot/message/push", "カートを見ました"); }));
  // Counted just after the batch is durable.
  EXPECT_TRUE(eventually([&] { return metrics().find(R"(seg_actions_total{action="enrolled",name="cart_recovery"} 1)") != std::string::npos; }));
  const json before = stats();

  // Line 2 is bad: it is named; with ?strict=true nothing is taken.
  const std::string bad = fmt::format(R"({{"user_id":"{}","event":"cart_add","time":"2026-12-04T11:00:00+09:00","product":"x","price":"cheap"}})", user);
  r = http_.post(service_->adminUrl() + "/v1/events?strict=true", cart + "\n" + bad + "\n", "application/x-ndjson");
  EXPECT_EQ(r.status, 422) << r.body;
  json answer = json::parse(r.body);
  ASSERT_EQ(answer["errors"].size(), 1u);
  EXPECT_EQ(answer["errors"][0]["line"], 2);
  EXPECT_EQ(answer["errors"][0]["field"], "price");
  EXPECT_EQ(answer["accepted"], 0);
  // Without strict, as `segc import`: the bad record alone is left out.
  r = http_.post(service_->adminUrl() + "/v1/events", bad + "\n", "application/x-ndjson");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_TRUE(eventually([&] { return stats()["inbox"] == 0; }));
  EXPECT_EQ(stats()["events"], before["events"]);

  // Friends as CSV; the same content again is recognised.
  const std::string csv = fmt::format("user_id,points\n{},120\n{},5\n", user, loadUserId(12));
  r = http_.post(service_->adminUrl() + "/v1/friends", csv, "text/csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["accepted"], 2);
  r = http_.post(service_->adminUrl() + "/v1/friends", csv, "text/csv");
  EXPECT_EQ(json::parse(r.body)["already_imported"], true) << r.body;
  EXPECT_TRUE(eventually([&] { return stats()["friends"] == 2; }));
  const json carted = admin("/v1/segment?name=carted");
  EXPECT_EQ(carted["count"], 1);
  EXPECT_EQ(carted["user_ids"][0], user);
  EXPECT_EQ(service_->stop(), 0);
}

// A catalog feed (JSON lines or CSV): rows go straight to the store, a bad
// one is named by line; conditions on the rows see a price change at once.
TEST_F(Service, CatalogFeedUpdatesRowsConditionsRead) {
  const std::string program = dir_ + "/program.seg";
  writeFile(program, readFile(programPath()) + R"(
catalog item { id: string  name: string  price: int }
schema { event item_view(item: item) }
segment pricey_views = exists(item_view where item.price >= 3000)
)");
  ServiceOptions options;
  options.program = program;
  start(options);
  const std::string a = service_->adminUrl();
  HttpResult r = http_.post(a + "/v1/catalog?name=item",
                            R"({"id":"i-1","name":"美容液","price":4800})" "\n" R"({"id":"i-2","name":"乳液","price":"高い"})" "\n",
                            "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  json answer = json::parse(r.body);
  EXPECT_EQ(answer["accepted"], 1);
  ASSERT_EQ(answer["errors"].size(), 1u);
  EXPECT_EQ(answer["errors"][0]["line"], 2);
  r = http_.post(a + "/v1/catalog?name=itme", R"({"id":"i-3"})" "\n", "application/x-ndjson");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("did you mean `item`?"), std::string::npos) << r.body;
  const std::string view = fmt::format(R"({{"user_id":"{}","event":"item_view","time":"2026-12-04T10:00:00+09:00","item":"i-1"}})", loadUserId(21));
  ASSERT_EQ(http_.post(a + "/v1/events", view + "\n", "application/x-ndjson").status, 200);
  EXPECT_TRUE(eventually([&] { return admin("/v1/segment?name=pricey_views&ids=false")["count"] == 1; }));
  r = http_.post(a + "/v1/catalog?name=item", "id,name,price\ni-1,美容液,2800\n", "text/csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(admin("/v1/segment?name=pricey_views&ids=false")["count"], 0);
  EXPECT_EQ(stats()["catalogs"]["item"], 1);
  EXPECT_EQ(service_->stop(), 0);
}

// --------------------------------------------------------------- reload

TEST_F(Service, ReloadKeepsTheOldProgramOnAnyError) {
  const std::string program = dir_ + "/program.seg";
  const std::string good = readFile(programPath());
  writeFile(program, good);
  ServiceOptions options;
  options.program = program;
  start(options);
  const auto reload = [&](const std::string& text) {
    return http_.post(service_->adminUrl() + "/v1/program?name=new.seg", text, "text/plain");
  };
  // A program with an error: refused with its diagnostics, the old one goes on.
  HttpResult r = reload(good + "\nsegment broken = points >= \"many\"\n");
  EXPECT_EQ(r.status, 422) << r.body;
  json answer = json::parse(r.body);
  EXPECT_FALSE(answer["reloaded"]);
  EXPECT_FALSE(answer["diagnostics"].empty());
  EXPECT_NE(answer["text"].get<std::string>().find("new.seg:"), std::string::npos) << answer["text"];
  // A schema the store cannot take (a type changed): refused too.
  std::string retyped = good;
  retyped.replace(retyped.find("points: int"), 11, "points: string");
  r = reload(retyped);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(admin("/v1/program")["name"], program);
  EXPECT_EQ(postWebhook(body(followEvent("after-refusals", loadUserId(3)))).status, 200);
  EXPECT_TRUE(eventually([&] { return outboxHas("/v2/bot/message/push", "ようこそ"); }));

  // A good program that adds an attribute and a segment: swapped in.
  std::string grown = good;
  grown.replace(grown.find("points: int"), 11, "points: int\n  vip: bool");
  grown += "\nsegment vips = vip\n";
  r = reload(grown);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(admin("/v1/segment?name=vips")["count"], 0);
  EXPECT_EQ(admin("/v1/program")["name"], "new.seg");

  // SIGHUP reads the file again: broken, it changes nothing.
  writeFile(program, "segment oops = \n");
  service_->signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return service_->log().find("program not reloaded") != std::string::npos; }));
  EXPECT_EQ(admin("/v1/program")["name"], "new.seg");
  writeFile(program, good + "\nsegment from_file = points > 100\n");
  service_->signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return http_.get(service_->adminUrl() + "/v1/segment?name=from_file").status == 200; }));
  EXPECT_EQ(service_->stop(), 0);
}

// ------------------------------------------------------------- bad input

// Every endpoint answers bad input with the right status, and none of it
// changes the store.
TEST_F(Service, BadInputGetsItsStatusAndChangesNothing) {
  ServiceOptions options;
  options.adminToken = "s3cret-admin-token";
  start(options);
  const Headers auth = {{"Authorization", "Bearer s3cret-admin-token"}};
  const std::string a = service_->adminUrl();
  // The store at rest: the inbox empty and the loop's last batch committed
  // (two readings a tick apart agree).
  const auto settled = [&] {
    json last;
    for (int i = 0; i < 100; ++i) {
      json now = json::parse(http_.get(a + "/v1/stats", auth).body);
      now.erase("uptime_seconds");
      now.erase("now");  // the clock
      if (now == last && now["inbox"] == 0) return now;
      last = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    return last;
  };
  ASSERT_EQ(postWebhook(body(followEvent("f-0", loadUserId(1)))).status, 200);
  const json before = settled();

  const std::string good = body(followEvent("f-1", loadUserId(2)));
  const std::string absurd = body(
      R"({"type":"follow","mode":"active","timestamp":99999999999999999,"source":{"type":"user","userId":"U00000000000000000000000000000009"},)"
      R"("webhookEventId":"abs","deliveryContext":{"isRedelivery":false}})");
  struct Case {
    std::string what, method, url, body, contentType;
    Headers headers;
    int status;
  };
  const std::string hook = service_->webhookUrl();
  const std::vector<Case> cases = {
      {"webhook: GET", "GET", hook, "", "", {}, 405},
      {"webhook: unknown path", "POST", hook + "x", good, "application/json", {{"x-line-signature", lineSignature(kSecret, good)}}, 404},
      {"webhook: not JSON's content type", "POST", hook, good, "text/plain", {{"x-line-signature", lineSignature(kSecret, good)}}, 415},
      {"webhook: malformed JSON", "POST", hook, "{\"events\": [", "application/json", {{"x-line-signature", lineSignature(kSecret, "{\"events\": [")}}, 400},
      {"webhook: no events", "POST", hook, "{\"destination\":\"U\"}", "application/json", {{"x-line-signature", lineSignature(kSecret, "{\"destination\":\"U\"}")}}, 400},
      {"webhook: 2 MiB", "POST", hook, std::string(2 << 20, ' '), "application/json", {{"x-line-signature", "x"}}, 413},
      {"webhook: signature of another body", "POST", hook, good, "application/json", {{"x-line-signature", lineSignature(kSecret, good + " ")}}, 401},
      {"webhook: absurd timestamp", "POST", hook, absurd, "application/json", {{"x-line-signature", lineSignature(kSecret, absurd)}}, 400},
      {"admin: no token", "GET", a + "/v1/stats", "", "", {}, 401},
      {"admin: wrong token", "GET", a + "/v1/stats", "", "", {{"Authorization", "Bearer nope"}}, 401},
      {"admin: unknown path", "GET", a + "/v1/nothing", "", "", auth, 404},
      {"admin: segment without a name", "GET", a + "/v1/segment", "", "", auth, 400},
      {"admin: unknown segment", "GET", a + "/v1/segment?name=nope", "", "", auth, 404},
      {"admin: limit not a number", "GET", a + "/v1/segment?name=carted&limit=ten", "", "", auth, 400},
      {"admin: limit too large", "GET", a + "/v1/segment?name=carted&limit=99999999", "", "", auth, 400},
      {"admin: bad time", "GET", a + "/v1/segment?name=carted&at=yesterday-ish", "", "", auth, 400},
      {"admin: bad standing", "GET", a + "/v1/outbox?standing=lost", "", "", auth, 400},
      {"admin: unknown campaign", "GET", a + "/v1/campaign?name=nope", "", "", auth, 404},
      {"admin: confirm an unknown key", "POST", a + "/v1/outbox/confirm?key=nope", "", "", auth, 404},
      {"feeds: no token", "POST", a + "/v1/events", "{}\n", "application/x-ndjson", {}, 401},
      {"feeds: wrong content type", "POST", a + "/v1/events", "a,b\n", "text/csv", auth, 415},
      {"feeds: not JSON", "POST", a + "/v1/events", "{oops\n", "application/x-ndjson", auth, 422},
      {"feeds: strict not a bool", "POST", a + "/v1/friends?strict=maybe", "{}\n", "application/x-ndjson", auth, 400},
      {"feeds: GET", "GET", a + "/v1/friends", "", "", auth, 405},
      {"program: wrong content type", "POST", a + "/v1/program", "segment x = points > 1", "application/json", auth, 415},
      {"program: garbage", "POST", a + "/v1/program", std::string("\x01\x02\xff\xfe", 4), "text/plain", auth, 422},
  };
  for (const Case& c : cases) {
    Headers headers = c.headers;
    if (!c.contentType.empty()) headers.emplace_back("Content-Type", c.contentType);
    const HttpResult r = http_.request(c.method, c.url, c.body, headers);
    EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body << r.error;
    if (r.status >= 400 && r.status != 405) {
      EXPECT_TRUE(json::parse(r.body, nullptr, false).contains("error") || json::parse(r.body, nullptr, false).contains("errors"))
          << c.what << ": an error says what is wrong: " << r.body;
    }
  }
  // The probes need no token.
  EXPECT_EQ(http_.get(a + "/healthz").status, 200);
  EXPECT_EQ(http_.get(a + "/readyz").status, 200);
  EXPECT_EQ(settled(), before);
  EXPECT_EQ(service_->stop(), 0);
}

// Without a channel secret the service refuses to start, unless told it
// is a local trial; an admin API beyond loopback needs a token.
TEST_F(Service, RefusesToStartUnsafely) {
  CliRun run = shell(fmt::format("env -u LINE_CHANNEL_SECRET timeout 60 {} {} --store {} --listen 127.0.0.1:0 --admin 127.0.0.1:0 2>&1",
                                 quote(segdPath()), quote(programPath()), quote(store_)));
  EXPECT_NE(run.exit, 0);
  EXPECT_NE(run.out.find("LINE_CHANNEL_SECRET"), std::string::npos) << run.out;
  run = shell(fmt::format("env -u SEG_ADMIN_TOKEN LINE_CHANNEL_SECRET=x timeout 60 {} {} --store {} --listen 127.0.0.1:0 --admin 0.0.0.0:0 2>&1",
                          quote(segdPath()), quote(programPath()), quote(store_)));
  EXPECT_NE(run.exit, 0);
  EXPECT_NE(run.out.find("SEG_ADMIN_TOKEN"), std::string::npos) << run.out;
  ServiceOptions options;
  options.secret = "";
  options.allowUnsigned = true;
  start(options);
  EXPECT_EQ(http_.post(service_->webhookUrl(), body(followEvent("u-1", loadUserId(1))), "application/json").status, 200);
  EXPECT_EQ(service_->stop(), 0);
}

// ------------------------------------------------------------- durability

// Every event whose body got a 200 is in the store and acted on once; none
// twice (each event is its own friend's only message).
void expectEachAcknowledgedOnce(const std::string& store, const std::vector<std::string>& acknowledged,
                                const std::map<std::string, std::string>& userOf) {
  const StoreView view(store);
  EXPECT_TRUE(view.state().inbox().empty());
  const auto messages = view.messagesByUser();
  std::size_t missing = 0;
  for (const std::string& id : acknowledged) {
    if (!view.state().webhookSeen(id)) ++missing;
    const auto it = messages.find(userOf.at(id));
    if (it == messages.end()) ++missing;
  }
  EXPECT_EQ(missing, 0u) << "acknowledged events lost";
  std::size_t doubled = 0;
  for (const auto& [user, n] : messages) doubled += n > 1 ? 1 : 0;
  EXPECT_EQ(doubled, 0u) << "events applied twice";
}

std::map<std::string, std::string> usersOf(const std::vector<std::string>& ids) {
  // Ids are PREFIX-N-0 with one event a body: the N-th made-up friend.
  std::map<std::string, std::string> out;
  for (const std::string& id : ids) {
    const std::size_t a = id.find('-'), b = id.rfind('-');
    out[id] = loadUserId(std::stoull(id.substr(a + 1, b - a - 1)));
  }
  return out;
}

// SIGTERM under load: in-flight requests finish, the store is checkpointed,
// the exit is 0, and nothing acknowledged is lost.
TEST_F(Service, SigtermUnderLoadLosesNothing) {
  start();
  const LoadResult load = loadUntil("term", 0, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_EQ(service_->stop(), 0) << service_->log();
  });
  ASSERT_GT(load.acknowledged.size(), 0u);
  // What was left in the inbox is acted on at the next start.
  start();
  EXPECT_TRUE(eventually([&] { return stats()["inbox"] == 0; }));
  EXPECT_EQ(service_->stop(), 0);
  expectEachAcknowledgedOnce(store_, load.acknowledged, usersOf(load.acknowledged));
  std::cout << load.acknowledged.size() << " events acknowledged before SIGTERM\n";
}

// kill -9 at random moments under load, again and again: the store always
// opens, every acknowledged event is there once, and LINE's redeliveries
// of acknowledged events change nothing. SEG_SERVICE_KILLS sets the rounds
// (bench/serve_bench.sh runs many).
TEST_F(Service, KillNineUnderLoadLosesNothingAndDoublesNothing) {
  const int rounds = std::getenv("SEG_SERVICE_KILLS") ? std::atoi(std::getenv("SEG_SERVICE_KILLS")) : 6;
  std::mt19937 random(20261204);
  std::vector<std::string> acknowledged;
  std::uint64_t bodies = 0;
  for (int round = 0; round < rounds; ++round) {
    start();
    ASSERT_TRUE(service_->running()) << "the store did not open after a kill:\n" << service_->log();
    // Each round its own friends.
    const LoadResult load = loadUntil(fmt::format("k{}", round), static_cast<std::uint64_t>(round) * 100000000ull, [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 1200)(random)));
      service_->kill9();
    });
    acknowledged.insert(acknowledged.end(), load.acknowledged.begin(), load.acknowledged.end());
    bodies += load.bodies;
  }
  ASSERT_GT(acknowledged.size(), 0u);
  start();
  // LINE redelivers what it thinks failed: acknowledged ids come back.
  std::size_t redelivered = 0;
  for (std::size_t i = 0; i < acknowledged.size(); i += std::max<std::size_t>(1, acknowledged.size() / 50)) {
    const std::string id = acknowledged[i];
    const HttpResult r = postWebhook(body(messageEventJson(id, usersOf({id}).at(id), "hi", nowMillis(), "rt")));
    EXPECT_EQ(r.status, 200);
    redelivered += json::parse(r.body)["redelivered"].get<std::size_t>();
  }
  EXPECT_GT(redelivered, 0u);
  EXPECT_TRUE(eventually([&] { return stats()["inbox"] == 0; }, 60));
  EXPECT_EQ(service_->stop(), 0);
  expectEachAcknowledgedOnce(store_, acknowledged, usersOf(acknowledged));
  std::cout << rounds << " kills under load: " << bodies << " bodies sent, " << acknowledged.size()
            << " acknowledged, each in the store once\n";
}

// -------------------------------------------------------------- scheduler

// A campaign runs at its time with no request to prompt it.
TEST_F(Service, CampaignRunsAtItsTime) {
  const auto at = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) + 4;
  std::tm local{};
  const std::time_t jst = at + 9 * 3600;
  gmtime_r(&jst, &local);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &local);
  const std::string program = dir_ + "/program.seg";
  writeFile(program, readFile(programPath()) + fmt::format("\ncampaign flash {{\n  to everyone\n  at {}\n  send hello_back\n}}\n", when));
  ServiceOptions options;
  options.program = program;
  start(options);
  ASSERT_EQ(postWebhook(body(followEvent("f-1", loadUserId(5)))).status, 200);
  EXPECT_TRUE(eventually([&] { return outboxHas("/v2/bot/message/push", "こんにちは"); }, 20)) << admin("/v1/outbox?full=true").dump(2);
  const auto late = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) - at;
  std::cout << "the campaign was in the outbox " << late << " s after its time\n";
  EXPECT_EQ(service_->stop(), 0);
}

// ----------------------------------------------------- CLI beside the service

// While the service holds the store, segc refuses to write it (naming the
// service and its API) and still reads it.
TEST_F(Service, SegcWritesRefusedAndReadsServedWhileTheServiceHoldsTheStore) {
  start();
  ASSERT_EQ(postWebhook(body(followEvent("f-1", loadUserId(5)))).status, 200);
  EXPECT_TRUE(eventually([&] { return stats()["inbox"] == 0; }));
  const std::string friends = dir_ + "/friends.jsonl";
  writeFile(friends, fmt::format("{{\"user_id\":\"{}\",\"points\":3}}\n", loadUserId(5)));
  CliRun run = segc(fmt::format("import {} --store {} --friends {}", quote(programPath()), quote(store_), quote(friends)));
  EXPECT_NE(run.exit, 0);
  EXPECT_NE(run.out.find("segd"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find(service_->adminUrl()), std::string::npos) << run.out;
  run = segc(fmt::format("run {} --store {}", quote(programPath()), quote(store_)));
  EXPECT_NE(run.exit, 0);
  run = segc(fmt::format("eval {} --store {} --segment everyone --count", quote(programPath()), quote(store_)));
  EXPECT_EQ(run.exit, 0) << run.out;
  EXPECT_EQ(run.out, "1\n");
  EXPECT_EQ(service_->stop(), 0);
}

// `segc import --act`: the same through the CLI, for a store no service holds.
TEST_F(Service, SegcImportActStartsScenarios) {
  const std::string events = dir_ + "/events.jsonl";
  writeFile(events, fmt::format(R"({{"user_id":"{}","event":"cart_add","time":"2026-12-04T10:00:00+09:00","product":"化粧水","price":3200}})", loadUserId(9)) + "\n");
  CliRun run = segc(fmt::format("import {} --store {} --events {} --act", quote(programPath()), quote(store_), quote(events)));
  EXPECT_EQ(run.exit, 0) << run.out;
  EXPECT_NE(run.out.find("acted on 1 events"), std::string::npos) << run.out;
  run = segc(fmt::format("outbox {} --store {} --json", quote(programPath()), quote(store_)));
  EXPECT_NE(run.out.find("カートを見ました"), std::string::npos) << run.out;
  run = segc(fmt::format("import {} --store {} --events {} --act", quote(programPath()), quote(store_), quote(events)));
  EXPECT_NE(run.out.find("already imported"), std::string::npos) << run.out;
}

// --------------------------------------------------------------- delivery

std::string deliveryConfig(const std::string& dir, const LineStandIn& line, const std::string& extra = "") {
  const std::string path = dir + "/segd.toml";
  writeFile(path, fmt::format("[delivery]\nenabled = true\napi_base = \"{0}\"\ndata_api_base = \"{0}\"\n{1}\n", line.baseUrl(), extra));
  return path;
}

// Accepted pushes and replies by recipient ("to", or the reply token's
// user as the test names it) and message text.
std::map<std::string, int> acceptedTexts(const LineStandIn& line, const std::string& path) {
  std::map<std::string, int> out;
  for (const AcceptedRequest& a : line.accepted()) {
    if (a.path != path) continue;
    const std::string who = a.body.contains("to") ? a.body["to"].dump() : a.body.value("replyToken", "");
    for (const json& m : a.body["messages"]) ++out[who + " " + m.value("text", "")];
  }
  return out;
}

// seg serve delivers: a follow's welcome push and a text's reply reach
// LINE (a stand-in) at once, are recorded as done with LINE's request id,
// a refused reply token becomes a push, and a request LINE refuses for
// good is kept with LINE's answer, visible in the API and the metrics.
TEST_F(Service, DeliversToLineAndKeepsWhatLineRefused) {
  const std::string refused = loadUserId(9);
  StandInFaults faults;
  faults.refuseUser = refused;
  LineStandIn line("stand-in-token", faults);
  ServiceOptions options;
  options.accessToken = "stand-in-token";
  options.config = deliveryConfig(dir_, line);
  start(options);
  const std::string user = loadUserId(7);
  ASSERT_EQ(postWebhook(body(followEvent("f-1", user))).status, 200);
  EXPECT_TRUE(eventually([&] { return acceptedTexts(line, "/v2/bot/message/push")["\"" + user + "\" ようこそ!"] == 1; }))
      << line.journal();
  ASSERT_EQ(postWebhook(body(messageEventJson("m-1", user, "hello there", nowMillis(), "reply-token-1"))).status, 200);
  EXPECT_TRUE(eventually([&] { return acceptedTexts(line, "/v2/bot/message/reply")["reply-token-1 こんにちは"] == 1; }))
      << line.journal();
  // The same token again (LINE refuses a used one): the answer goes as a push.
  ASSERT_EQ(postWebhook(body(messageEventJson("m-2", user, "hello again", nowMillis(), "reply-token-1"))).status, 200);
  EXPECT_TRUE(eventually([&] { return acceptedTexts(line, "/v2/bot/message/push")["\"" + user + "\" こんにちは"] == 1; }))
      << line.journal();
  // LINE refuses a push for good: kept with its answer, not retried.
  ASSERT_EQ(postWebhook(body(followEvent("f-2", refused))).status, 200);
  json failed;
  EXPECT_TRUE(eventually([&] {
    failed = admin("/v1/outbox?standing=failed");
    return failed["failed"] == 1;
  })) << line.journal();
  ASSERT_EQ(failed["requests"].size(), 1u);
  EXPECT_EQ(failed["requests"][0]["line"]["status"], 400);
  EXPECT_NE(failed["requests"][0]["line"]["body"]["message"].get<std::string>().find("'to'"), std::string::npos);
  EXPECT_FALSE(failed["requests"][0]["line"].value("x-line-request-id", "").empty());
  EXPECT_TRUE(eventually([&] { return allSent(); })) << admin("/v1/outbox?full=true").dump(2);
  const std::string m = metrics();
  EXPECT_NE(m.find(R"(seg_delivery_requests_total{endpoint="POST /v2/bot/message/push",outcome="delivered"} 2)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(seg_delivery_requests_total{endpoint="POST /v2/bot/message/reply",outcome="reply_refused"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(seg_outbox_requests{standing="failed"} 1)"), std::string::npos) << m;
  EXPECT_EQ(line.rateLimitExceeded(), 0u);
  EXPECT_EQ(service_->stop(), 0);
  // segc shows the same, from the store.
  const CliRun listed = segc(fmt::format("outbox {} --store {} --failed", quote(programPath()), quote(store_)));
  EXPECT_EQ(listed.exit, 0) << listed.out;
  EXPECT_NE(listed.out.find("1 requests LINE refused"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("'to'"), std::string::npos) << listed.out;
}

// A campaign LINE's monthly quota would not cover is held, not sent (LINE
// would refuse it part way): by the account's target limit always, by the
// plan's free messages unless the policy allows paid ones. Once the quota
// covers it, it goes.
TEST_F(Service, ACampaignTheMonthsQuotaWouldNotCoverIsHeld) {
  StandInFaults faults;
  faults.monthlyLimit = 30;
  LineStandIn line("stand-in-token", faults);
  // Due two seconds after start, so the scheduler runs it.
  const std::time_t at = std::time(nullptr) + 2;
  char when[40];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S+00:00", std::gmtime(&at));
  const std::string program = dir_ + "/program.seg", paid = dir_ + "/paid.seg";
  const std::string text = readFile(programPath()) + fmt::format("campaign news {{ to everyone  at {}  send welcome }}\n", when);
  writeFile(program, text);
  writeFile(paid, text + "policy { beyond_quota send }\n");
  const CliRun gen = segc(fmt::format("gen {} --store {} --friends 50 --events 0 --seed 5", quote(program), quote(store_)));
  ASSERT_EQ(gen.exit, 0) << gen.out;
  ServiceOptions options;
  options.program = program;
  options.accessToken = "stand-in-token";
  options.config = deliveryConfig(dir_, line);
  const auto multicastTo = [&] {
    std::size_t n = 0;
    for (const AcceptedRequest& a : line.accepted()) n += a.path == "/v2/bot/message/multicast" ? a.body["to"].size() : 0;
    return n;
  };
  // The target limit (30) is below the audience (about 50): held, and said why.
  start(options);
  const std::size_t recipients = admin("/v1/campaign?name=news")["recipients"].get<std::size_t>();
  EXPECT_GT(recipients, 30u);
  EXPECT_EQ(stats()["line_quota"], json::parse(R"({"type":"limited","limit":30,"used":0})"));
  EXPECT_TRUE(eventually([&] { return metrics().find(R"(seg_campaigns_held_total{campaign="news"})") != std::string::npos; }));
  const HttpResult now = http_.post(service_->adminUrl() + "/v1/campaign?name=news", "", "application/json");
  EXPECT_EQ(now.status, 409) << now.body;
  EXPECT_NE(now.body.find("target limit of 30"), std::string::npos) << now.body;
  EXPECT_NE(service_->log().find("a campaign is held"), std::string::npos) << service_->log();
  EXPECT_EQ(multicastTo(), 0u);
  EXPECT_EQ(admin("/v1/outbox")["in_outbox"], 0);
  EXPECT_EQ(service_->stop(), 0);
  // No target limit, but the plan's 20 free messages, and no paid ones allowed: held.
  line.setFaults({});
  options.config = deliveryConfig(dir_, line, "free_messages = 20\n");
  start(options);
  const HttpResult free = http_.post(service_->adminUrl() + "/v1/campaign?name=news", "", "application/json");
  EXPECT_EQ(free.status, 409) << free.body;
  EXPECT_NE(free.body.find("beyond_quota send"), std::string::npos) << free.body;
  EXPECT_EQ(service_->stop(), 0);
  // Paid messages allowed: the held campaign goes at the next start, once.
  options.program = paid;
  start(options);
  EXPECT_TRUE(eventually([&] { return multicastTo() == recipients && allSent(); })) << line.journal();
  EXPECT_EQ(admin("/v1/outbox?standing=failed")["failed"], 0);
  EXPECT_EQ(service_->stop(), 0);
  EXPECT_EQ(multicastTo(), recipients);
}

// A friend's requests reach LINE in the order they were planned, even when
// LINE fails the first and it has to be made again: the welcome (a push)
// before the answer to the message that followed (a reply).
TEST_F(Service, AFriendsRequestsReachLineInTheOrderPlanned) {
  StandInFaults faults;
  faults.error500Before = 0.3;
  faults.seed = 11;
  LineStandIn line("stand-in-token", faults);
  ServiceOptions options;
  options.accessToken = "stand-in-token";
  options.config = deliveryConfig(dir_, line);
  start(options);
  const int friends = 20;
  for (int i = 0; i < friends; ++i) {
    const std::string user = loadUserId(2000 + i);
    ASSERT_EQ(postWebhook(body(followEvent(fmt::format("of-{}", i), user))).status, 200);
    ASSERT_EQ(postWebhook(body(messageEventJson(fmt::format("om-{}", i), user, "hello", nowMillis(), fmt::format("ort-{}", i)))).status, 200);
  }
  EXPECT_TRUE(eventually([&] { return allSent(); }, 60)) << admin("/v1/outbox?full=true").dump(2);
  EXPECT_EQ(service_->stop(), 0);
  // Where each friend's welcome and answer are among LINE's acceptances.
  const std::vector<AcceptedRequest> accepted = line.accepted();
  for (int i = 0; i < friends; ++i) {
    const std::string user = loadUserId(2000 + i), token = fmt::format("ort-{}", i);
    std::optional<std::size_t> welcome, answer;
    for (std::size_t n = 0; n < accepted.size(); ++n) {
      const json& b = accepted[n].body;
      if (accepted[n].path == "/v2/bot/message/push" && b["to"] == user && b["messages"][0]["text"] == "ようこそ!") welcome = n;
      const bool reply = accepted[n].path == "/v2/bot/message/reply" && b["replyToken"] == token;
      const bool push = accepted[n].path == "/v2/bot/message/push" && b["to"] == user && b["messages"][0]["text"] == "こんにちは";
      if (reply || push) answer = n;
    }
    ASSERT_TRUE(welcome && answer) << user << "\n" << line.journal();
    EXPECT_LT(*welcome, *answer) << user << ": the answer overtook the welcome\n" << line.journal();
  }
  EXPECT_GT(line.faultsAnswered(), 0u);
}

// What the sender puts on the wire: each header once (a JSON request
// carried Content-Type twice before aac5ad8), and an upload by file as a
// multipart form whose `file` part is the IDs, one a line, as text.
TEST(Delivery, RequestsGoOutAsLineDescribesThem) {
  std::mutex mutex;
  std::vector<http::Request> seen;
  http::Server server({}, http::routesUnder("/v2/", 1 << 20, [&](http::Request& r) {
    std::lock_guard lock(mutex);
    seen.push_back(r);
    http::Response ok;
    ok.body = R"({"audienceGroupId": 5})";
    return ok;
  }));
  server.start();
  service::DeliveryConfig config;
  config.apiBase = config.dataApiBase = fmt::format("http://127.0.0.1:{}", server.port());
  http::Client client(5);
  const send::Json hello = send::Json::array({{{"type", "text"}, {"text", "hi"}}});
  EXPECT_EQ(delivery::call(client, config, "t", send::push("k1", "U1", hello)).outcome, delivery::Outcome::Delivered);
  EXPECT_EQ(delivery::call(client, config, "t", send::createAudienceByFile("k2", "d", {"U1", "U2"})).outcome,
            delivery::Outcome::Delivered);
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 2u);
  const auto count = [](const http::Request& r, const std::string& name) {
    return std::count_if(r.headers.begin(), r.headers.end(), [&](const auto& h) { return h.first == name; });
  };
  EXPECT_EQ(count(seen[0], "content-type"), 1);
  EXPECT_EQ(seen[0].header("content-type"), "application/json");
  EXPECT_EQ(count(seen[0], "x-line-retry-key"), 1);
  EXPECT_EQ(seen[1].path, "/v2/bot/audienceGroup/upload/byFile");
  EXPECT_EQ(count(seen[1], "content-type"), 1);
  EXPECT_EQ(seen[1].header("content-type").rfind("multipart/form-data; boundary=", 0), 0u) << seen[1].header("content-type");
  EXPECT_NE(seen[1].body.find("filename=\"audience.txt\""), std::string::npos) << seen[1].body;
  EXPECT_NE(seen[1].body.find("Content-Type: text/plain\r\n\r\nU1\nU2\n\r\n"), std::string::npos) << seen[1].body;
}

// A follow is acted on once LINE has given the friend's profile, so the
// welcome greets them by name; a friend LINE has no profile for (or with
// profiles off) gets the fallback.
TEST_F(Service, AFollowIsWelcomedByTheNameInItsProfile) {
  const std::string unknown = loadUserId(8);
  StandInFaults faults;
  faults.unknownUser = unknown;
  LineStandIn line("stand-in-token", faults);
  const std::string user = loadUserId(7);
  const std::string displayName = "友だち" + user.substr(user.size() - 4);  // as the stand-in names them
  const std::string program = dir_ + "/program.seg";
  writeFile(program, std::regex_replace(readFile(programPath()), std::regex("text \"ようこそ!\""), "text \"{{name|お客様}}さん、ようこそ!\"") +
                         "segment greeted = name == \"" + displayName + "\"\n");
  ServiceOptions options;
  options.program = program;
  options.accessToken = "stand-in-token";
  options.config = deliveryConfig(dir_, line);
  start(options);
  const std::string named = "\"" + user + "\" " + displayName + "さん、ようこそ!";
  ASSERT_EQ(postWebhook(body(followEvent("f-1", user))).status, 200);
  ASSERT_EQ(postWebhook(body(followEvent("f-2", unknown))).status, 200);
  EXPECT_TRUE(eventually([&] { return allSent(); })) << line.journal();
  auto pushes = acceptedTexts(line, "/v2/bot/message/push");
  EXPECT_EQ(pushes[named], 1) << line.journal();
  EXPECT_EQ(pushes["\"" + unknown + "\" お客様さん、ようこそ!"], 1) << line.journal();
  EXPECT_NE(metrics().find(R"(seg_profiles_total{outcome="named"} 1)"), std::string::npos) << metrics();
  // Counted (and paced) as one endpoint, never by user ID.
  EXPECT_NE(metrics().find(R"(seg_delivery_requests_total{endpoint="GET /v2/bot/profile/{userId}",outcome="delivered"} 1)"), std::string::npos)
      << metrics();
  EXPECT_EQ(metrics().find(user), std::string::npos) << metrics();
  EXPECT_EQ(service_->stop(), 0);
  // The name is the friend's from now on.
  const CliRun greeted = segc(fmt::format("eval {} --store {} --segment greeted --ids", quote(program), quote(store_)));
  EXPECT_EQ(greeted.out, user + "\n") << greeted.out;
  // Profiles off: nothing asked, the fallback.
  options.config = deliveryConfig(dir_, line, "profile_wait_seconds = 0\n");
  start(options);
  const std::string third = loadUserId(6);
  ASSERT_EQ(postWebhook(body(followEvent("f-3", third))).status, 200);
  EXPECT_TRUE(eventually([&] { return allSent(); })) << line.journal();
  pushes = acceptedTexts(line, "/v2/bot/message/push");
  EXPECT_EQ(pushes["\"" + third + "\" お客様さん、ようこそ!"], 1) << line.journal();
  EXPECT_EQ(line.journal().find("GET /v2/bot/profile/" + third), std::string::npos) << line.journal();
  EXPECT_EQ(service_->stop(), 0);
}

// A campaign through LINE's demographic filter: its audience uploaded, its
// narrowcast accepted (202), then LINE asked about its progress until it
// succeeded; the outcome is kept in the store (also after a restart).
TEST_F(Service, NarrowcastProgressIsFollowedToItsEnd) {
  LineStandIn line;
  const std::string program = dir_ + "/program.seg";
  writeFile(program, readFile(programPath()) +
                         "\ncampaign women {\n  to everyone and line.gender == female\n  at 2030-01-01 10:00\n  send hello_back\n}\n");
  ServiceOptions options;
  options.program = program;
  options.accessToken = "stand-in-token";
  options.config = deliveryConfig(dir_, line);
  start(options);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(postWebhook(body(followEvent(fmt::format("nf-{}", i), loadUserId(300 + i)))).status, 200);
  EXPECT_TRUE(eventually([&] { return stats()["friends"] == 3; }));
  const HttpResult planned = http_.post(service_->adminUrl() + "/v1/campaign?name=women", "", "application/json");
  ASSERT_EQ(planned.status, 200) << planned.body;
  json narrowcasts;
  EXPECT_TRUE(eventually([&] {
    narrowcasts = admin("/v1/narrowcasts");
    return narrowcasts["narrowcasts"].size() == 1 && narrowcasts["narrowcasts"][0].contains("progress");
  }, 30)) << narrowcasts.dump(2) << line.journal();
  ASSERT_EQ(narrowcasts["narrowcasts"].size(), 1u);
  EXPECT_EQ(narrowcasts["narrowcasts"][0]["progress"]["phase"], "succeeded");
  EXPECT_FALSE(narrowcasts["narrowcasts"][0]["request_id"].get<std::string>().empty());
  EXPECT_NE(line.journal().find("GET /v2/bot/message/progress/narrowcast"), std::string::npos) << line.journal();
  EXPECT_NE(metrics().find(R"(seg_narrowcasts_completed_total{phase="succeeded"} 1)"), std::string::npos) << metrics();
  EXPECT_EQ(service_->stop(), 0);
  start(options);
  EXPECT_EQ(admin("/v1/narrowcasts")["narrowcasts"][0]["progress"]["phase"], "succeeded");
  EXPECT_EQ(service_->stop(), 0);
}

// Faults at LINE (500s before and after accepting, 429s, answers that
// never come) and kill -9 of the service while it sends, again and again:
// every friend gets the welcome once and the reply once (a repeat only
// ever with the same key), nothing is
// lost, and seg's own pace never exceeds LINE's limit (here 40 pushes/s).
TEST_F(Service, DeliveryUnderFaultsAndKillsSendsEachOnce) {
  const int kills = std::getenv("SEG_DELIVERY_KILLS") ? std::atoi(std::getenv("SEG_DELIVERY_KILLS")) : 5;
  const int friends = 120;
  StandInFaults faults;
  faults.error500Before = 0.1;
  faults.error500After = 0.1;
  faults.error429 = 0.05;
  faults.silentAfter = 0.05;
  faults.silence = std::chrono::milliseconds(2500);
  LineStandIn line("stand-in-token", faults, {{"POST /v2/bot/message/push", 40}});
  ServiceOptions options;
  options.accessToken = "stand-in-token";
  options.config = deliveryConfig(dir_, line, "timeout_seconds = 1\n[delivery.rate_limits]\n\"POST /v2/bot/message/push\" = 40\n");
  std::mt19937 random(42);
  int sent = 0;
  for (int round = 0; round <= kills; ++round) {
    start(options);
    ASSERT_TRUE(service_->running()) << service_->log();
    // Each round a share of the friends follow and talk.
    for (; sent < friends * (round + 1) / (kills + 1); ++sent) {
      const std::string user = loadUserId(1000 + sent);
      ASSERT_EQ(postWebhook(body(followEvent(fmt::format("f-{}", sent), user))).status, 200);
      ASSERT_EQ(postWebhook(body(messageEventJson(fmt::format("m-{}", sent), user, "hello", nowMillis(), fmt::format("rt-{}", sent)))).status, 200);
    }
    if (round < kills) {
      // While it sends: 40 pushes a second, retries after faults.
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 700)(random)));
      service_->kill9();
    }
  }
  EXPECT_TRUE(eventually([&] { return allSent(); }, 120)) << admin("/v1/outbox?full=true").dump(2);
  EXPECT_EQ(admin("/v1/outbox?standing=failed")["failed"], 0) << admin("/v1/outbox?standing=failed").dump(2);
  EXPECT_EQ(service_->stop(), 0);
  const auto pushes = acceptedTexts(line, "/v2/bot/message/push");
  const auto replies = acceptedTexts(line, "/v2/bot/message/reply");
  for (int i = 0; i < friends; ++i) {
    const std::string user = loadUserId(1000 + i);
    EXPECT_EQ(pushes.count("\"" + user + "\" ようこそ!") ? pushes.at("\"" + user + "\" ようこそ!") : 0, 1) << user;
    // The answer once: as the reply, or as a push when the token was refused.
    const std::string token = fmt::format("rt-{} こんにちは", i);
    const int answered = (replies.count(token) ? replies.at(token) : 0) +
                         (pushes.count("\"" + user + "\" こんにちは") ? pushes.at("\"" + user + "\" こんにちは") : 0);
    EXPECT_EQ(answered, 1) << user;
  }
  // (The stand-in answers a known retry key with 409, never a second
  // acceptance: what can go wrong is a repeat under a new key, or a reply
  // doubled by a push, which the counts per friend above catch.)
  EXPECT_EQ(line.rateLimitExceeded(), 0u) << "seg went faster than LINE's limit";
  std::cout << kills << " kills while sending: " << line.requestsSeen() << " requests seen by the stand-in, "
            << line.faultsAnswered() << " scripted faults, " << line.conflicts() << " retries answered 409, "
            << line.accepted().size() << " accepted\n";
}


// ------------------------------------------- against LINE's own description

namespace {

// A process of another program (Prism), killed when it goes out of scope.
class Child {
 public:
  explicit Child(std::vector<std::string> args, const std::string& logFile) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

 private:
  pid_t pid_ = -1;
};

unsigned short freePort() {
  http::ServerOptions options;
  http::Server probe(options, {});
  probe.start();
  const unsigned short port = probe.port();
  probe.stop(std::chrono::milliseconds(0));
  return port;
}

// LINE serves the Messaging API and the audience API at one address;
// Prism mocks one description each: this forwards by path.
class LineApiRouter {
 public:
  LineApiRouter(std::string messaging, std::string audience) : messaging_(std::move(messaging)), audience_(std::move(audience)) {
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, http::routesUnder("/v2/", 64 << 20, [this](http::Request& r) { return forward(r); }));
    server_->start();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", server_->port()); }
  std::size_t forwarded() const { return forwarded_; }
  std::map<std::string, std::size_t> byEndpoint() const {
    std::lock_guard lock(mutex_);
    return byEndpoint_;
  }

 private:
  http::Response forward(http::Request& r) {
    ++forwarded_;
    {
      std::lock_guard lock(mutex_);
      std::string path = r.path;
      if (path.rfind("/v2/bot/richmenu/alias/", 0) == 0) path = "/v2/bot/richmenu/alias/{id}";
      if (path.rfind("/v2/bot/user/", 0) == 0) path = "/v2/bot/user/{userId}/richmenu...";
      if (path.rfind("/v2/bot/profile/", 0) == 0) path = "/v2/bot/profile/{userId}";
      ++byEndpoint_[r.method + " " + path];
    }
    http::HeaderList headers;
    for (const auto& [name, value] : r.headers) {
      if (name == "authorization" || name == "content-type" || name == "x-line-retry-key") headers.emplace_back(name, value);
    }
    const std::string& base = r.path.rfind("/v2/bot/audienceGroup", 0) == 0 ? audience_ : messaging_;
    http::Client client(30);
    const http::ClientResponse answer = client.request(r.method, base + r.target, r.body, headers);
    http::Response out;
    out.status = answer.status == 0 ? 502 : answer.status;
    out.body = answer.body;
    out.contentType = answer.header("content-type").empty() ? "application/json" : answer.header("content-type");
    return out;
  }
  std::string messaging_, audience_;
  std::atomic<std::size_t> forwarded_{0};
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> byEndpoint_;
  std::unique_ptr<http::Server> server_;
};

std::string prismPath() {
  if (const char* p = std::getenv("SEG_PRISM")) return p;
  return sourcePath("build/npm/node_modules/.bin/prism");
}

}  // namespace

// Two Prism mocks, of LINE's messaging-api.yml and manage-audience.yml,
// behind one router; Prism logs every request that breaks its description.
class PrismLine {
 public:
  PrismLine(const std::string& spec, const std::string& dir)
      : dir_(dir),
        messagingPort_(freePort()),
        audiencePort_(freePort()),
        messaging_({prismPath(), "mock", "-h", "127.0.0.1", "-p", std::to_string(messagingPort_), spec + "/messaging-api.yml"}, dir + "/prism-messaging.log"),
        audience_({prismPath(), "mock", "-h", "127.0.0.1", "-p", std::to_string(audiencePort_), spec + "/manage-audience.yml"}, dir + "/prism-audience.log"),
        router_(fmt::format("http://127.0.0.1:{}", messagingPort_), fmt::format("http://127.0.0.1:{}", audiencePort_)) {}

  // Once both answer a request their descriptions allow.
  bool ready() {
    HttpClient probe(2);
    const Headers auth = {{"Authorization", "Bearer a-token"}};
    return eventually([&] {
      return probe.get(fmt::format("http://127.0.0.1:{}/v2/bot/message/quota", messagingPort_), auth).status == 200 &&
             probe.get(fmt::format("http://127.0.0.1:{}/v2/bot/audienceGroup/list?page=1", audiencePort_), auth).status == 200;
    }, 60);
  }
  LineApiRouter& router() { return router_; }
  std::string log() const { return readFile(dir_ + "/prism-messaging.log") + readFile(dir_ + "/prism-audience.log"); }
  std::vector<std::string> violations() const {
    std::vector<std::string> out;
    std::istringstream in(log());
    for (std::string l; std::getline(in, l);) {
      if (l.find("Violation") != std::string::npos || l.find("did not pass") != std::string::npos) out.push_back(l);
    }
    return out;
  }

 private:
  std::string dir_;
  unsigned short messagingPort_, audiencePort_;
  Child messaging_, audience_;
  LineApiRouter router_;
};

#define SKIP_WITHOUT_PRISM(spec)                                                                                        \
  const auto spec = openapi::lineOpenApiDirectory();                                                                    \
  if (!spec) GTEST_SKIP() << "LINE's OpenAPI files (../shared/line-openapi) are not here: not validated";              \
  if (!fs::exists(prismPath())) GTEST_SKIP() << "Prism (" << prismPath() << ") is not installed (./setup.sh test installs it): not validated"

// What the shop's program sends through seg serve — welcomes, replies, the
// day's rich menus (alias lookups, bulk links), a campaign as audience
// uploads and narrowcasts, one as multicasts — is made to Prism mocking
// LINE's own messaging-api.yml and manage-audience.yml: not one request
// breaks them (Prism answers a violation with 400/422, which seg would keep
// as failed, and logs it).
TEST_F(Service, WhatSegSendsPassesLinesOwnApiDescription) {
  SKIP_WITHOUT_PRISM(spec);
  PrismLine prism(*spec, dir_);
  ASSERT_TRUE(prism.ready()) << prism.log();
  LineApiRouter& line = prism.router();

  // The shop's program (without quiet hours, so it sends now) on a store of 3,000 friends.
  const std::string program = shopProgram(false);
  const CliRun gen = segc(fmt::format("gen {} --store {} --friends 3000 --events 30000 --seed 7", quote(program), quote(store_)));
  ASSERT_EQ(gen.exit, 0) << gen.out;
  start(deliveringToPrism(program, line.url()));
  for (int i = 0; i < 5; ++i) {
    const std::string user = loadUserId(5000 + i);
    ASSERT_EQ(postWebhook(body(followEvent(fmt::format("pf-{}", i), user))).status, 200);
    ASSERT_EQ(postWebhook(body(messageEventJson(fmt::format("pm-{}", i), user, "スキンケア", nowMillis(), fmt::format("prt-{}", i)))).status, 200);
  }
  for (const char* campaign : {"winter_sale", "points_expiry"}) {
    const HttpResult r = http_.post(service_->adminUrl() + "/v1/campaign?name=" + campaign, "", "application/json");
    EXPECT_TRUE(r.status == 200 || r.status == 409) << campaign << ": " << r.body;
  }
  EXPECT_TRUE(eventually([&] { return allSent(); }, 120)) << admin("/v1/outbox?full=true&limit=20").dump(2);
  const json failed = admin("/v1/outbox?standing=failed&full=true");
  EXPECT_EQ(failed["failed"], 0) << failed.dump(2);
  EXPECT_EQ(service_->stop(), 0);
  const std::vector<std::string> violations = prism.violations();
  for (const std::string& v : violations) ADD_FAILURE() << v;
  // Every kind the program makes went through.
  const auto made = line.byEndpoint();
  for (const char* endpoint : {"POST /v2/bot/message/push", "POST /v2/bot/message/reply", "POST /v2/bot/message/narrowcast",
                               "POST /v2/bot/audienceGroup/upload", "GET /v2/bot/richmenu/alias/{id}", "POST /v2/bot/richmenu/bulk/link",
                               "GET /v2/bot/message/quota", "GET /v2/bot/message/quota/consumption", "GET /v2/bot/profile/{userId}"}) {
    EXPECT_TRUE(made.contains(endpoint)) << endpoint << " was not made";
  }
  std::cout << line.forwarded() << " requests made to Prism (LINE's OpenAPI files), " << violations.size() << " violations:";
  for (const auto& [endpoint, n] : made) std::cout << " " << endpoint << " " << n << ";";
  std::cout << "\n";
}

// An audience larger than one JSON upload goes up as a file to api-data
// (multipart, one ID a line), and Prism finds it as manage-audience.yml
// describes it; the narrowcast then names the audience LINE created.
TEST_F(Service, LargeAudiencesGoUpAsFilesLineAccepts) {
  SKIP_WITHOUT_PRISM(spec);
  PrismLine prism(*spec, dir_);
  ASSERT_TRUE(prism.ready()) << prism.log();
  const std::string program = dir_ + "/big.seg";
  writeFile(program, "use line\nmessage hello = text \"こんにちは\"\n"
                     "campaign women { to line.gender == female  at 2026-12-01 10:00  send hello }\n");
  const CliRun gen = segc(fmt::format("gen {} --store {} --friends 12000 --events 0 --seed 3", quote(program), quote(store_)));
  ASSERT_EQ(gen.exit, 0) << gen.out;
  start(deliveringToPrism(program, prism.router().url()));
  const HttpResult r = http_.post(service_->adminUrl() + "/v1/campaign?name=women", "", "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(eventually([&] { return allSent(); }, 60)) << admin("/v1/outbox?full=true&limit=5").dump(2);
  EXPECT_EQ(admin("/v1/outbox?standing=failed")["failed"], 0) << admin("/v1/outbox?standing=failed&full=true").dump(2);
  EXPECT_EQ(service_->stop(), 0);
  for (const std::string& v : prism.violations()) ADD_FAILURE() << v;
  const auto made = prism.router().byEndpoint();
  EXPECT_EQ(made.count("POST /v2/bot/audienceGroup/upload/byFile") ? made.at("POST /v2/bot/audienceGroup/upload/byFile") : 0, 1u);
  EXPECT_FALSE(made.contains("POST /v2/bot/audienceGroup/upload"));
  EXPECT_EQ(made.count("POST /v2/bot/message/narrowcast") ? made.at("POST /v2/bot/message/narrowcast") : 0, 1u);
}

// A month of the shop through seg serve, on a simulated clock (a day a
// second), made to Prism mocking LINE's own API description: welcomes and
// their steps, replies (most outlive their token at this speed and go as
// pushes), cart reminders, day-by-day rich menus, the month's campaigns.
// Not one request breaks messaging-api.yml or manage-audience.yml.
TEST_F(Service, AMonthOfTheShopPassesLinesOwnApiDescription) {
  SKIP_WITHOUT_PRISM(spec);
  PrismLine prism(*spec, dir_);
  ASSERT_TRUE(prism.ready()) << prism.log();
  const std::string program = shopProgram(true);
  const std::int64_t first = 1795964400;  // 2026-11-25T00:00:00+09:00
  const std::int64_t end = first + 30 * 86400;
  const CliRun gen = segc(fmt::format("gen {} --store {} --friends 1000 --events 10000 --seed 9 --now 2026-11-25T00:00:00+09:00",
                                      quote(program), quote(store_)));
  ASSERT_EQ(gen.exit, 0) << gen.out;
  start(deliveringToPrism(program, prism.router().url(), "[clock]\nstart = \"2026-11-25T00:00:00+09:00\"\nspeed = 86400\n"));
  // Every simulated 6 hours: two friends follow, one writes, three cart
  // something and one buys, stamped with seg's simulated time.
  std::mt19937 random(3);
  std::int64_t next = first;
  int followers = 0;
  auto iso = [](std::int64_t t) {
    const std::time_t tt = t;
    char out[40];
    std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S+00:00", std::gmtime(&tt));
    return std::string(out);
  };
  for (std::int64_t now = first; now < end;) {
    now = stats()["now"].get<std::int64_t>();
    if (now < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    next += 6 * 3600;
    std::string webhooks;
    for (int k = 0; k < 2; ++k, ++followers) {
      webhooks += (webhooks.empty() ? "" : ",") + followEvent(fmt::format("mf-{}", followers), loadUserId(700000 + followers), now * 1000);
    }
    const std::string writer = loadUserId(700000 + std::uniform_int_distribution<int>(0, followers - 1)(random));
    webhooks += "," + messageEventJson(fmt::format("mm-{}", next), writer, "スキンケアについて", now * 1000, fmt::format("mrt-{}", next));
    ASSERT_EQ(postWebhook(body(webhooks)).status, 200);
    std::string feed;
    for (int k = 0; k < 4; ++k) {
      const std::string user = loadUserId(std::uniform_int_distribution<int>(0, 999)(random));
      feed += k < 3 ? fmt::format(R"({{"user_id":"{}","event":"cart_add","time":"{}","product":"化粧水","price":3200}})", user, iso(now))
                    : fmt::format(R"({{"user_id":"{}","event":"purchase","time":"{}","product":"化粧水","category":"skincare","price":3200}})", user, iso(now));
      feed += "\n";
    }
    const HttpResult fed = http_.post(service_->adminUrl() + "/v1/events", feed, "application/x-ndjson");
    ASSERT_EQ(fed.status, 200) << fed.body;
  }
  EXPECT_TRUE(eventually([&] { return allSent(); }, 120)) << admin("/v1/outbox?full=true&limit=20").dump(2);
  const json failed = admin("/v1/outbox?standing=failed&full=true&limit=5");
  EXPECT_EQ(failed["failed"], 0) << failed.dump(2);
  EXPECT_EQ(service_->stop(), 0);
  const std::vector<std::string> violations = prism.violations();
  for (const std::string& v : violations) ADD_FAILURE() << v;
  const auto made = prism.router().byEndpoint();
  for (const char* endpoint : {"POST /v2/bot/message/push", "POST /v2/bot/message/narrowcast", "POST /v2/bot/audienceGroup/upload",
                               "POST /v2/bot/richmenu/bulk/link", "GET /v2/bot/profile/{userId}"}) {
    EXPECT_TRUE(made.contains(endpoint)) << endpoint << " was not made";
  }
  std::cout << "a simulated month: " << prism.router().forwarded() << " requests made to Prism, " << violations.size() << " violations:";
  for (const auto& [endpoint, n] : made) std::cout << " " << endpoint << " " << n << ";";
  std::cout << "\n";
}

}  // namespace
}  // namespace seg::testing
