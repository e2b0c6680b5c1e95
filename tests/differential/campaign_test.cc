// Random campaigns over random worlds: the friends a campaign plans to
// reach are exactly its `to` segment's members (as the interpreter, the
// reference semantics, selects them), minus blocked friends, minus `limit`,
// the holdout and the frequency cap, computed here independently of the
// engine — with and without `use line` and a LINE-side filter. Every
// rendered message (texts and flex) is filled: no `{{` is left. And when
// LINE's OpenAPI files are present, every request is one LINE accepts.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include <fmt/format.h>

#include "base/timezone.h"
#include "runtime/api/runtime.h"
#include "runtime/automation/engine.h"
#include "runtime/exec/segment_evaluator.h"
#include "runtime/jit/jit.h"
#include "tests/differential/world.h"
#include "tests/tools/openapi.h"

namespace fs = std::filesystem;

namespace seg::difftest {
namespace {

constexpr const char* kFlex = R"({"type": "bubble",
  "hero": {"type": "image", "url": "https://example.com/shop/{{pref|none}}.png"},
  "body": {"type": "box", "layout": "vertical", "contents": [
    {"type": "text", "text": "{{name|お客様}}さん、{{item}}のご案内"},
    {"type": "button", "action": {"type": "uri", "label": "見る", "uri": "https://example.com/p?i={{item}}&p={{pref|none}}"}}]}})";

constexpr const char* kMessages = R"(
message plain = text "セールのお知らせ"
message greet = text "{{name|お客様}}さん、{{pref|どこか}}のセールです"
message item(item: string) = text "「{{item}}」はいかが?"
message card(item: string) = flex "flex/card.json" alt "{{item}}のご案内"
)";

struct Arm {
  int basisPoints;
  bool holdout;
  std::string sends;
};

struct Campaign {
  std::string name;
  std::string segment;    // the world's segment it goes to
  bool skipStopped = false;
  bool lineFilter = false;
  std::optional<int> limit;
  std::vector<Arm> arms;  // one arm of 100% when there is no split

  std::string source(const std::string& at) const {
    std::string to = segment + (skipStopped ? " and not tag \"配信停止\"" : "") + (lineFilter ? " and line.gender == female" : "");
    std::string out = fmt::format("campaign {} {{\n  to {}\n  at {}\n", name, to, at);
    if (limit) out += fmt::format("  limit {}\n", *limit);
    if (arms.size() == 1) return out + "  send " + arms[0].sends + "\n}\n";
    out += "  split {";
    for (std::size_t a = 0; a < arms.size(); ++a) {
      out += fmt::format(" {}%: {}{}", arms[a].basisPoints / 100, arms[a].holdout ? "holdout" : "send " + arms[a].sends,
                         a + 1 < arms.size() ? ";" : "");
    }
    return out + " }\n}\n";
  }
  // seg's part of `to`, as a segment the interpreter evaluates.
  std::string oracleSegment() const {
    return fmt::format("segment expect_{} = {}{}\n", name, segment, skipStopped ? " and not tag \"配信停止\"" : "");
  }
};

Campaign randomCampaign(std::mt19937_64& random, const World& world, int index, bool useLine) {
  const auto pick = [&](int n) { return static_cast<int>(random() % static_cast<std::uint64_t>(n)); };
  const char* sends[] = {"plain", "greet", "item(item: \"化粧水 & 乳液\")", "card(item: \"リップ\")", "greet, card(item: \"乳液\")"};
  Campaign c;
  c.name = fmt::format("c{}", index);
  c.segment = world.segments[static_cast<std::size_t>(pick(static_cast<int>(world.segments.size())))].first;
  c.skipStopped = pick(2) == 0;
  c.lineFilter = useLine && pick(2) == 0;
  if (pick(3) == 0) c.limit = 1 + pick(60);
  switch (pick(3)) {
    case 0: c.arms = {{10000, false, sends[pick(5)]}}; break;
    case 1: c.arms = {{5000, false, sends[pick(5)]}, {4000, false, sends[pick(5)]}, {1000, true, ""}}; break;
    default: c.arms = {{7000, false, sends[pick(5)]}, {3000, true, ""}}; break;
  }
  return c;
}

// The user IDs the requests of a plan reach: multicast and push recipients,
// or the IDs of the uploaded audience a narrowcast goes to.
std::set<std::string> reached(const CampaignReport& report) {
  std::set<std::string> out;
  for (const send::LineRequest& r : report.requests) {
    if (r.path == "/v2/bot/message/push") out.insert(r.body["to"].get<std::string>());
    if (r.path == "/v2/bot/message/multicast") {
      for (const auto& to : r.body["to"]) out.insert(to.get<std::string>());
    }
    if (r.path == "/v2/bot/audienceGroup/upload") {
      for (const auto& a : r.body["audiences"]) out.insert(a["id"].get<std::string>());
    }
  }
  return out;
}

TEST(DifferentialCampaigns, PlannedRecipientsAreExactlyTheAudience) {
  const std::string dir = (fs::temp_directory_path() / fmt::format("seg-campaigns-{}", getpid())).string();
  fs::create_directories(dir + "/flex");
  std::ofstream(dir + "/flex/card.json") << kFlex;
  std::optional<openapi::Spec> spec;
  if (const auto line = openapi::lineOpenApiDirectory()) {
    spec = openapi::Spec::load({*line + "/messaging-api.yml", *line + "/manage-audience.yml"});
  } else {
    std::cout << "LINE's OpenAPI files are absent: requests are not checked against them\n";
  }
  auto jit = makeJit();
  ASSERT_TRUE(jit);
  const int worlds = std::getenv("SEG_DIFF_CAMPAIGN_WORLDS") ? std::atoi(std::getenv("SEG_DIFF_CAMPAIGN_WORLDS")) : 24;
  std::size_t campaigns = 0, refused = 0, narrowcasts = 0, capped = 0, nonEmpty = 0, requestsChecked = 0;
  for (int w = 0; w < worlds; ++w) {
    const World world = makeWorld(5000 + static_cast<std::uint64_t>(w), 150, 12);
    std::mt19937_64 random(static_cast<std::uint64_t>(w));
    const bool useLine = w % 2 == 0;
    const bool capping = w % 3 == 0;
    const TimeZone zone = *TimeZone::find("Asia/Tokyo");
    const auto at = [&](std::int64_t t) { return zone.formatInstant(t).substr(0, 16).replace(10, 1, " "); };
    std::vector<Campaign> planned;
    for (int c = 0; c < 4; ++c) planned.push_back(randomCampaign(random, world, c, useLine));
    std::string text = (useLine ? "use line\n" : "") + world.program() + kMessages;
    // A campaign two days earlier charges the cap of those it reaches.
    text += fmt::format("campaign warm {{\n  to {}\n  at {}\n  send plain\n}}\n", world.segments[0].first, at(world.now - 2 * 86400));
    for (const Campaign& c : planned) text += c.source(at(world.now)) + c.oracleSegment();
    if (capping) text += "policy { cap 1 per 7d }\n";
    const std::string path = dir + "/world.seg";
    std::ofstream(path) << text;
    std::shared_ptr<const CompiledProgram> program;
    try {
      program = CompiledProgram::fromText(path, text);
    } catch (const std::exception& e) {
      FAIL() << "the generated program does not compile: " << e.what() << "\n" << text;
    }
    StoreState state(program->ir().schema);
    state.apply(world.data);
    MemoryWriter writer(std::move(state));
    EngineOptions options;
    options.compiler = jit.get();
    // Some worlds send large audiences as an upload and a narrowcast.
    options.narrowcastThreshold = w % 4 == 1 ? 20 : 100000;
    AutomationEngine engine(program->ir(), writer, options);
    engine.runCampaign("warm", world.now - 2 * 86400, true);
    const StoreState& s = writer.state();
    SegmentEvaluator oracle(program->ir(), s, nullptr);
    for (const Campaign& c : planned) {
      ++campaigns;
      const CampaignReport report = engine.runCampaign(c.name, world.now, false);
      const std::string where = fmt::format("world {} (seed {}), campaign:\n{}", w, world.seed, c.source(at(world.now)));
      if (!report.refused.empty()) {
        ++refused;
        EXPECT_NE(report.refused.find("narrowcast"), std::string::npos) << report.refused << "\n" << where;
        EXPECT_TRUE(report.requests.empty());
        continue;
      }
      // The oracle: seg's part by the interpreter, blocked friends out...
      std::vector<std::uint32_t> ids = oracle.evaluate("expect_" + c.name, world.now, Engine::Interpreter).friends.toVector();
      std::erase_if(ids, [&](std::uint32_t id) { return s.blocked().contains(id); });
      // ... `limit` as the N lowest buckets (LINE applies it after its filter)...
      if (c.limit && !c.lineFilter && ids.size() > static_cast<std::size_t>(*c.limit)) {
        std::sort(ids.begin(), ids.end(), [&](std::uint32_t a, std::uint32_t b) {
          const auto ka = std::make_pair(Interpreter::bucketOf("limit:" + c.name, s.friends().user(a)), a);
          const auto kb = std::make_pair(Interpreter::bucketOf("limit:" + c.name, s.friends().user(b)), b);
          return ka < kb;
        });
        ids.resize(static_cast<std::size_t>(*c.limit));
      }
      // ... each friend's arm by bucket, the holdout out, the capped out.
      std::set<std::string> expected;
      for (std::uint32_t id : ids) {
        std::size_t arm = 0;
        if (c.arms.size() > 1) {
          const std::int64_t bucket = Interpreter::bucketOf("split:" + c.name, s.friends().user(id));
          std::int64_t upTo = 0;
          for (arm = 0; arm + 1 < c.arms.size(); ++arm) {
            upTo += c.arms[arm].basisPoints;
            if (bucket < upTo) break;
          }
        }
        if (c.arms[arm].holdout) continue;
        if (capping && s.automation().chargesSince(id, world.now - 7 * 86400 + 1) >= 1) {
          ++capped;
          continue;
        }
        expected.insert(s.friends().user(id).toString());
      }
      const std::set<std::string> actual = reached(report);
      EXPECT_EQ(actual, expected) << where << "planned " << actual.size() << ", expected " << expected.size();
      EXPECT_EQ(report.recipients, expected.size()) << where;
      nonEmpty += expected.empty() ? 0 : 1;
      narrowcasts += report.narrowcast ? 1 : 0;
      for (const send::LineRequest& r : report.requests) {
        const std::string json = r.toJson();
        EXPECT_EQ(json.find("{{name"), std::string::npos) << json.substr(0, 300);
        EXPECT_EQ(json.find("{{pref"), std::string::npos) << json.substr(0, 300);
        EXPECT_EQ(json.find("{{item"), std::string::npos) << json.substr(0, 300);
        if (!spec) continue;
        ++requestsChecked;
        // A narrowcast carries a placeholder for its audience until the upload is confirmed.
        send::LineRequest sendable = r;
        if (!r.after.empty()) send::fill(sendable, {send::audiencePlaceholder(r.after.front()), 1234}, r.after.front());
        EXPECT_EQ(spec->checkRequest(sendable.method, sendable.path, sendable.headers, sendable.body), "") << where;
        EXPECT_EQ(openapi::lineLimits(sendable.method, sendable.path, sendable.headers, sendable.body), "") << where;
      }
    }
  }
  fs::remove_all(dir);
  std::cout << campaigns << " campaigns: " << nonEmpty << " reaching someone, " << narrowcasts << " as narrowcasts, "
            << refused << " refused, " << capped << " friends capped, " << requestsChecked << " requests checked against LINE's API\n";
  EXPECT_GE(nonEmpty * 2, campaigns) << "most generated campaigns reach nobody";
  EXPECT_GT(narrowcasts, 0u);
  EXPECT_GT(capped, 0u);
}

}  // namespace
}  // namespace seg::difftest
