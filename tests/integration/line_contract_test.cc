// What seg sends and receives, against LINE's own description of its API
// (../shared/line-openapi; the tests skip, saying so, when it is absent):
// every request the example programs make over a simulated fortnight, and
// LINE-shaped webhook bodies of every event type, read by seg.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "base/civil_time.h"
#include "base/timezone.h"
#include "runtime/api/runtime.h"
#include "runtime/automation/simulation.h"
#include "runtime/ingest/importer.h"
#include "runtime/jit/jit.h"
#include "runtime/synth/generator.h"
#include "tests/integration/cli.h"
#include "tests/tools/openapi.h"

namespace fs = std::filesystem;

namespace seg {
namespace {

using openapi::Json;

class LineContract : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto dir = openapi::lineOpenApiDirectory();
    if (!dir) GTEST_SKIP() << "LINE's OpenAPI files (../shared/line-openapi) are not here; the contract is not checked";
    dir_ = *dir;
  }
  openapi::Spec messaging() const {
    return openapi::Spec::load({dir_ + "/messaging-api.yml", dir_ + "/manage-audience.yml"});
  }
  std::string dir_;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The checker must be able to fail: broken requests are caught, following
// the discriminators to the concrete message, filter and component.
TEST_F(LineContract, TheCheckerCatchesBrokenRequests) {
  const openapi::Spec spec = messaging();
  const Json text = {{"type", "text"}, {"text", "hi"}};
  EXPECT_EQ(spec.checkRequest("POST", "/v2/bot/message/push", {}, {{"to", "U0"}, {"messages", {text}}}), "");
  const auto broken = [&](const Json& body) { return spec.checkRequest("POST", "/v2/bot/message/push", {}, body); };
  EXPECT_NE(broken({{"to", "U0"}, {"messages", {{{"type", "sticker"}, {"packageId", "1"}}}}}), "");  // no stickerId
  EXPECT_NE(broken({{"to", "U0"}, {"messages", {{{"type", "hologram"}}}}}), "");                    // no such type
  EXPECT_NE(broken({{"to", "U0"}, {"messages", {{{"type", "sticker"}, {"packageId", 1}, {"stickerId", 2}}}}}), "");  // numbers
  const Json box = {{"type", "box"}, {"contents", Json::array()}};  // no layout
  EXPECT_NE(broken({{"to", "U0"},
                    {"messages", {{{"type", "flex"}, {"altText", "a"}, {"contents", {{"type", "bubble"}, {"body", box}}}}}}}),
            "");
  const Json filter = {{"demographic", {{"type", "age"}, {"gte", "age_18"}}}};
  EXPECT_NE(spec.checkRequest("POST", "/v2/bot/message/narrowcast", {}, {{"messages", {text}}, {"filter", filter}}), "");
  EXPECT_NE(spec.checkRequest("POST", "/v2/bot/message/multicast", {}, {{"to", std::vector<std::string>(501, "U")}, {"messages", {text}}}), "");
  EXPECT_NE(spec.checkRequest("POST", "/v2/bot/message/push", {{"X-Line-Retry-Key", "not-a-uuid"}}, {{"to", "U0"}, {"messages", {text}}}), "");
  EXPECT_NE(spec.checkRequest("POST", "/v2/bot/message/pushh", {}, {{"to", "U0"}, {"messages", {text}}}), "");
  EXPECT_NE(openapi::lineLimits("POST", "/v2/bot/message/reply", {{"X-Line-Retry-Key", "x"}}, {{"messages", {text}}}), "");
  EXPECT_NE(openapi::lineLimits("POST", "/v2/bot/message/push", {}, {{"messages", {{{"type", "text"}, {"text", ""}}}}}), "");
}

// Each example program, over two simulated weeks on generated friends,
// with a stand-in for LINE that confirms everything: every request is one
// LINE's description accepts, within LINE's documented limits.
TEST_F(LineContract, ExampleProgramsSendOnlyWhatLineAccepts) {
  const openapi::Spec spec = messaging();
  for (const std::string name : {"shop/shop.seg", "design/design.seg"}) {
    const std::string path = std::string(SEG_SOURCE_DIR) + "/examples/" + name;
    auto program = CompiledProgram::fromText(path, readFile(path));
    const ir::Program& ir = program->ir();
    const TimeZone zone = *TimeZone::find(ir.timezone);
    const std::int64_t from = zone.toInstant(civil::daysFromCivil({2026, 11, 25}), 0);
    const std::int64_t to = zone.toInstant(civil::daysFromCivil({2026, 12, 9}), 0);
    StoreState state(ir.schema);
    GenerateOptions g;
    g.friends = 3000;
    g.events = 30000;
    g.seed = 7;
    g.now = from;
    generateInto(state, g);
    ActivityOptions activity;
    activity.from = from;
    activity.to = to;
    activity.seed = 7;
    activity.eventsPerDay = 300;
    activity.utcOffset = zone.offsetAt(from);
    const std::vector<Mutation> changes = generateActivity(state, activity);
    MemoryWriter writer(std::move(state));
    auto jit = makeJit();
    EngineOptions options;
    options.compiler = jit.get();
    AutomationEngine engine(ir, writer, options);
    // The design's campaign is due on 2026-12-01 like the shop's.
    std::map<std::string, std::size_t> byEndpoint;
    std::vector<std::string> problems;
    LineStandIn line;
    line.observe = [&](const HandOut& h) {
      const send::LineRequest& r = h.request;
      ++byEndpoint[r.endpoint()];
      for (const std::string& p : {spec.checkRequest(r.method, r.path, r.headers, r.body), openapi::lineLimits(r.method, r.path, r.headers, r.body)}) {
        if (!p.empty() && problems.size() < 10) problems.push_back(p + "\n  " + r.toJson().substr(0, 400));
      }
    };
    playActivity(engine, changes, from, to, line);
    EXPECT_TRUE(problems.empty()) << name << ":\n" << fmt::format("{}", fmt::join(problems, "\n"));
    EXPECT_GT(line.made(), 100u) << name;
    EXPECT_TRUE(byEndpoint.contains("POST /v2/bot/message/push")) << name;
    std::string endpoints;
    for (const auto& [endpoint, n] : byEndpoint) endpoints += fmt::format("  {} × {}\n", n, endpoint);
    std::cout << name << ": " << line.made() << " requests checked\n" << endpoints;
  }
}

// A LINE-shaped body of every webhook event type (tests/data/webhooks):
// each is valid against webhook.yml, and seg reads it without error,
// acting only on the events it uses.
TEST_F(LineContract, WebhookBodiesOfEveryEventType) {
  const openapi::Spec spec = openapi::Spec::load({dir_ + "/webhook.yml"});
  const std::string folder = std::string(SEG_SOURCE_DIR) + "/tests/data/webhooks";
  std::set<std::string> types;
  const std::string dir = (fs::temp_directory_path() / fmt::format("seg-contract-{}", getpid())).string();
  fs::remove_all(dir);
  const std::string program = std::string(SEG_SOURCE_DIR) + "/examples/shop/shop.seg";
  std::size_t bodies = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() != ".json") continue;
    ++bodies;
    const Json body = Json::parse(readFile(entry.path().string()));
    EXPECT_EQ(spec.checkSchema("CallbackRequest", body), "") << entry.path();
    for (const Json& e : body["events"]) types.insert(e["type"].get<std::string>());
    const auto run = testing::segc(fmt::format("webhook {} --store {} {} --at 2026-12-01T10:00:30", testing::quote(program),
                                               testing::quote(dir), testing::quote(entry.path().string())));
    EXPECT_EQ(run.exit, 0) << entry.path() << "\n" << run.out;
  }
  fs::remove_all(dir);
  EXPECT_GE(bodies, 1u);
  // Every event type webhook.yml defines has a body here.
  const Json mapping = Json::parse(R"(["message","unsend","follow","unfollow","join","leave","memberJoined","memberLeft",
    "postback","videoPlayComplete","beacon","accountLink","membership","module","activated","deactivated",
    "botSuspended","botResumed","delivery"])");
  for (const Json& t : mapping) EXPECT_TRUE(types.contains(t.get<std::string>())) << "no body for " << t;
}

}  // namespace
}  // namespace seg
