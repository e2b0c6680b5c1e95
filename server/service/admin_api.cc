// The admin API (JSON) and the operator's endpoints, on the admin listener.
// Reads run on the request's thread under the store's read lock; anything
// that changes the store runs on the automation loop (Core::onLoop).
#include <openssl/crypto.h>

#include <charconv>

#include <fmt/format.h>

#include "compiler/ir/planner.h"
#include "runtime/ingest/values.h"
#include "server/service/core.h"

namespace seg::service {
namespace {

constexpr std::size_t kMaxPage = 10000;

std::optional<std::size_t> sizeParam(const http::Request& r, const std::string& name, std::size_t otherwise,
                                     std::string& error) {
  const std::string text = r.param(name);
  if (text.empty()) return otherwise;
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    error = fmt::format("`{}` is a whole number, not `{}`", name, text);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> boolParam(const http::Request& r, const std::string& name, std::string& error) {
  const std::string text = r.param(name, "false");
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  error = fmt::format("`{}` is true or false, not `{}`", name, text);
  return std::nullopt;
}

http::Response badRequest(const std::string& error) { return http::Response::error(400, error); }

std::string namesOf(const std::vector<std::string>& names) {
  return names.empty() ? "" : fmt::format(" (there are: {})", fmt::join(names, ", "));
}

}  // namespace

std::optional<http::Response> Service::Core::refuseUnauthorized(const http::Request& request) const {
  if (config.adminToken.empty()) return std::nullopt;
  const std::string given = request.header("authorization");
  const std::string expected = "Bearer " + config.adminToken;
  if (given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0) return std::nullopt;
  http::Response r = http::Response::error(401, given.empty() ? "this API needs `Authorization: Bearer TOKEN`" : "the token is wrong");
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::optional<std::int64_t> Service::Core::instantParam(const http::Request& request, std::string& error) const {
  const std::string at = request.param("at");
  if (at.empty()) return now();
  std::string why;
  const auto zone = TimeZone::find(timezoneName);
  auto instant = instantFromText(at, *zone, why);
  if (!instant) error = "at: " + why;
  return instant;
}

// Requests LINE refused for good, with its answer (under the store's read lock).
http::Response Service::Core::failedRequests(const http::Request& r, std::size_t limit, bool full) {
  const auto& failed = store->state().automation().failed();
  const std::string after = r.param("after"), path = r.param("path");
  nlohmann::json requests = nlohmann::json::array();
  std::optional<std::string> next;
  for (auto it = after.empty() ? failed.begin() : failed.upper_bound(after); it != failed.end(); ++it) {
    const send::LineRequest request = send::LineRequest::fromJson(it->second.entry.request);
    if (!path.empty() && path != request.path) continue;
    if (requests.size() == limit) {
      next = requests.back()["key"].get<std::string>();
      break;
    }
    nlohmann::json one = {{"key", it->first},
                          {"standing", "failed"},
                          {"method", request.method},
                          {"path", request.path},
                          {"recipients", it->second.entry.users.size()},
                          {"planned_at", running->zone->formatInstant(it->second.entry.plannedAt)},
                          {"failed_at", running->zone->formatInstant(it->second.failedAt)},
                          {"line", nlohmann::json::parse(it->second.failure, nullptr, false)}};
    if (full) one["request"] = nlohmann::json::parse(it->second.entry.request);
    requests.push_back(std::move(one));
  }
  return jsonResponse(200, {{"requests", requests}, {"failed", failed.size()}, {"next", next ? nlohmann::json(*next) : nlohmann::json(nullptr)}});
}

std::vector<http::Route> Service::Core::adminRoutes() {
  std::vector<http::Route> routes;
  // Every route but the probes needs the token when there is one.
  const auto add = [&](std::string method, std::string path, std::size_t maxBody, std::function<http::Response(http::Request&)> handle,
                       bool guarded = true) {
    http::Route route;
    route.method = std::move(method);
    route.path = std::move(path);
    route.maxBodyBytes = maxBody;
    route.handle = [this, guarded, handle = std::move(handle)](http::Request& r) {
      if (guarded) {
        if (auto refused = refuseUnauthorized(r)) return *refused;
      }
      http::Response response = handle(r);
      // ?pretty=true: indented, for people reading it in a terminal.
      if (r.param("pretty") == "true" && response.contentType == "application/json") {
        const auto parsed = nlohmann::ordered_json::parse(response.body, nullptr, false);
        if (!parsed.is_discarded()) response.body = parsed.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      }
      return response;
    };
    routes.push_back(std::move(route));
  };

  add("GET", "/healthz", 0, [this](http::Request&) {
    if (failed) return http::Response::error(500, "the service stopped working (see its log)");
    return jsonResponse(200, {{"status", "ok"}});
  }, false);
  add("GET", "/readyz", 0, [this](http::Request&) {
    if (ready) return jsonResponse(200, {{"status", "ready"}});
    return http::Response::error(503, stopping ? "stopping" : failed ? "failed (see the log)" : "opening the store");
  }, false);
  add("GET", "/metrics", 0, [this](http::Request&) {
    return http::Response::text(200, metrics.text(), "text/plain; version=0.0.4; charset=utf-8");
  });

  // GET /v1/segment?name=S[&at=T][&limit=N][&after=USER][&ids=false]
  add("GET", "/v1/segment", 0, [this](http::Request& r) {
    if (!ready) return http::Response::error(503, "not ready");
    std::string error;
    const std::string name = r.param("name");
    if (name.empty()) return badRequest("name the segment: /v1/segment?name=SEGMENT");
    const auto at = instantParam(r, error);
    const auto limit = sizeParam(r, "limit", 1000, error);
    const auto ids = r.param("ids").empty() ? std::optional<bool>(true) : boolParam(r, "ids", error);
    if (!at || !limit || !ids) return badRequest(error);
    if (*limit > kMaxPage) return badRequest(fmt::format("limit is at most {}; page with `after`", kMaxPage));
    std::lock_guard guard(queryMutex);
    const ir::SegmentIr* segment = running->program->program.segment(name);
    if (segment == nullptr || segment->internal) {
      std::vector<std::string> names;
      for (const ir::SegmentIr& s : running->program->program.segments) {
        if (!s.internal) names.push_back(s.name);
      }
      return http::Response::error(404, fmt::format("no segment `{}`{}", name, namesOf(names)));
    }
    auto lock = store->readLock();
    const StoreState& state = store->state();
    std::uint32_t after = 0;
    bool hasAfter = false;
    if (const std::string a = r.param("after"); !a.empty()) {
      const auto user = UserId::parse(a);
      const auto id = user ? state.friends().find(*user) : std::nullopt;
      if (!id) return badRequest(fmt::format("after: `{}` is not a friend in the store", a));
      after = *id;
      hasAfter = true;
    }
    EvaluationResult result;
    try {
      result = running->queries->evaluate(name, *at, Engine::Auto);
    } catch (const SegmentError& e) {
      return http::Response::error(422, e.what());
    }
    const double seconds = result.planSeconds + result.compileSeconds + result.runSeconds;
    metrics.observe("seg_segment_evaluation_seconds", {{"segment", name}}, seconds);
    nlohmann::ordered_json out = {{"segment", name},
                                  {"at", running->zone->formatInstant(*at)},
                                  {"count", result.friends.cardinality()},
                                  {"friends", state.friendCount()},
                                  {"engine", engineName(result.engineUsed)},
                                  {"milliseconds", seconds * 1000}};
    if (!result.warning.empty()) out["warning"] = result.warning;
    if (*ids) {
      nlohmann::json users = nlohmann::json::array();
      std::optional<std::uint32_t> last;
      bool more = false;
      result.friends.forEach([&](std::uint32_t id) {
        if (hasAfter && id <= after) return true;
        if (users.size() == *limit) {
          more = true;
          return false;
        }
        users.push_back(state.friends().user(id).toString());
        last = id;
        return true;
      });
      out["user_ids"] = std::move(users);
      out["next"] = more && last ? nlohmann::json(state.friends().user(*last).toString()) : nlohmann::json(nullptr);
    }
    return jsonResponse(200, out);
  });

  // GET /v1/explain?segment=S[&at=T]
  add("GET", "/v1/explain", 0, [this](http::Request& r) {
    if (!ready) return http::Response::error(503, "not ready");
    std::string error;
    const std::string name = r.param("segment");
    if (name.empty()) return badRequest("name the segment: /v1/explain?segment=SEGMENT");
    const auto at = instantParam(r, error);
    if (!at) return badRequest(error);
    std::lock_guard guard(queryMutex);
    if (running->program->program.segment(name) == nullptr) return http::Response::error(404, fmt::format("no segment `{}`", name));
    auto lock = store->readLock();
    try {
      const EvaluationResult result = running->queries->evaluate(name, *at, Engine::Auto, true);
      const std::uint64_t friends = store->state().friendCount();
      return jsonResponse(200, {{"segment", name},
                                {"at", running->zone->formatInstant(*at)},
                                {"reach", result.friends.cardinality()},
                                {"friends", friends},
                                {"engine", engineName(result.engineUsed)},
                                {"milliseconds", (result.planSeconds + result.compileSeconds + result.runSeconds) * 1000},
                                {"plan", ir::explainPlan(result.plan, friends, &result.runs)}});
    } catch (const SegmentError& e) {
      return http::Response::error(422, e.what());
    }
  });

  // GET /v1/campaign?name=C[&at=T]: the plan, changing nothing.
  // POST /v1/campaign?name=C: plan it now and put it in the outbox.
  const auto campaign = [this](http::Request& r, bool record) {
    if (!ready) return http::Response::error(503, "not ready");
    std::string error;
    const std::string name = r.param("name");
    if (name.empty()) return badRequest("name the campaign: /v1/campaign?name=CAMPAIGN");
    if (record && !r.param("at").empty()) return badRequest("a campaign is recorded as of now; `at` is for previews");
    std::optional<std::int64_t> at;
    if (!r.param("at").empty()) {
      at = instantParam(r, error);
      if (!at) return badRequest(error);
    }
    return onLoop<http::Response>([&](Running& run) {
      const ir::CampaignIr* c = run.program->program.automation.campaign(name);
      if (c == nullptr) {
        std::vector<std::string> names;
        for (const ir::CampaignIr& k : run.program->program.automation.campaigns) names.push_back(k.name);
        return http::Response::error(404, fmt::format("no campaign `{}`{}", name, namesOf(names)));
      }
      if (record && store->state().automation().campaignRan(name)) {
        return http::Response::error(409, fmt::format("campaign `{}` was sent already (at {}); it is sent once", name,
                                                      run.zone->formatInstant(*store->state().automation().campaignRan(name))));
      }
      const CampaignReport report = run.engine->runCampaign(name, record ? now() : at.value_or(c->at.value_or(now())), record);
      if (record) writer->flush();
      const int status = !report.refused.empty() ? 422 : !report.held.empty() ? 409 : 200;
      return jsonResponse(status, campaignReportJson(report, *run.zone, record));
    });
  };
  add("GET", "/v1/campaign", 0, [campaign](http::Request& r) { return campaign(r, false); });
  add("POST", "/v1/campaign", 0, [campaign](http::Request& r) { return campaign(r, true); });

  // GET /v1/outbox[?standing=due|held|waiting|expired|failed][&path=/v2/bot/...][&limit=N][&after=KEY][&full=true]
  add("GET", "/v1/outbox", 0, [this](http::Request& r) {
    if (!ready) return http::Response::error(503, "not ready");
    std::string error;
    const auto limit = sizeParam(r, "limit", 100, error);
    const auto full = boolParam(r, "full", error);
    if (!limit || !full) return badRequest(error);
    if (*limit > kMaxPage) return badRequest(fmt::format("limit is at most {}; page with `after`", kMaxPage));
    const std::string wanted = r.param("standing");
    if (!wanted.empty() && wanted != "due" && wanted != "held" && wanted != "waiting" && wanted != "expired" && wanted != "failed") {
      return badRequest(fmt::format("standing is due, held, waiting, expired or failed, not `{}`", wanted));
    }
    const std::string after = r.param("after");
    const std::string path = r.param("path");
    const std::int64_t t = now();
    auto lock = store->readLock();
    if (wanted == "failed") return failedRequests(r, *limit, *full);
    const auto& outbox = store->state().automation().outbox();
    nlohmann::json requests = nlohmann::json::array();
    std::optional<std::string> next;
    for (auto it = after.empty() ? outbox.begin() : outbox.upper_bound(after); it != outbox.end(); ++it) {
      const send::LineRequest request = send::LineRequest::fromJson(it->second.request);
      const char* standing = standingName(standingOf(it->second, request, outbox, t));
      if ((!wanted.empty() && wanted != standing) || (!path.empty() && path != request.path)) continue;
      if (requests.size() == *limit) {
        next = requests.back()["key"].get<std::string>();  // the page ends after it
        break;
      }
      nlohmann::json one = {{"key", it->first},
                            {"standing", standing},
                            {"method", request.method},
                            {"path", request.path},
                            {"recipients", it->second.users.size()},
                            {"planned_at", running->zone->formatInstant(it->second.plannedAt)}};
      if (it->second.notBefore > t) one["not_before"] = running->zone->formatInstant(it->second.notBefore);
      if (it->second.expiresAt != 0) one["expires_at"] = running->zone->formatInstant(it->second.expiresAt);
      if (!request.after.empty()) one["after"] = request.after;
      if (*full) one["request"] = nlohmann::json::parse(it->second.request);
      requests.push_back(std::move(one));
    }
    return jsonResponse(200, {{"requests", requests}, {"in_outbox", outbox.size()},
                              {"failed", store->state().automation().failed().size()},
                              {"next", next ? nlohmann::json(*next) : nlohmann::json(nullptr)}});
  });

  // GET /v1/narrowcasts: those LINE accepted, under way or done (the last
  // 1,000), with LINE's progress.
  add("GET", "/v1/narrowcasts", 0, [this](http::Request&) {
    if (!ready) return http::Response::error(503, "not ready");
    auto lock = store->readLock();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [key, w] : store->state().automation().narrowcasts()) {
      nlohmann::json one = {{"key", key}, {"request_id", w.requestId}, {"accepted_at", running->zone->formatInstant(w.acceptedAt)}};
      if (w.outcome.empty()) {
        one["phase"] = "under way";
      } else {
        one["progress"] = nlohmann::json::parse(w.outcome, nullptr, false);
        one["completed_at"] = running->zone->formatInstant(w.completedAt);
      }
      list.push_back(std::move(one));
    }
    return jsonResponse(200, {{"narrowcasts", list}});
  });

  // POST /v1/outbox/confirm?key=K, body: LINE's response (if any). Until
  // seg delivers by itself, whatever made the call says it was made.
  add("POST", "/v1/outbox/confirm", 1 << 20, [this](http::Request& r) {
    if (!ready) return http::Response::error(503, "not ready");
    const std::string key = r.param("key");
    if (key.empty()) return badRequest("name the request: /v1/outbox/confirm?key=KEY");
    if (!r.body.empty() && mediaType(r) != "application/json") return http::Response::error(415, "the body is LINE's response, application/json");
    return onLoop<http::Response>([&](Running& run) {
      try {
        run.engine->confirm(key, now(), r.body);
        writer->flush();
      } catch (const EngineError& e) {
        return http::Response::error(404, e.what());
      }
      return jsonResponse(200, {{"confirmed", key}});
    });
  });

  add("GET", "/v1/stats", 0, [this](http::Request&) {
    if (!ready) return http::Response::error(503, "not ready");
    std::lock_guard guard(queryMutex);
    auto lock = store->readLock();
    const StoreState& state = store->state();
    nlohmann::json events = nlohmann::json::object();
    for (std::size_t i = 0; i < state.schema().events.size(); ++i) events[state.schema().events[i].name] = state.events(i).size();
    nlohmann::json catalogs = nlohmann::json::object();  // rows, by catalog
    for (std::size_t i = 0; i < state.schema().catalogs.size(); ++i) catalogs[state.schema().catalogs[i].name] = state.catalog(i).size();
    return jsonResponse(200, {{"program", running->program->name},
                              {"store", config.store},
                              {"uptime_seconds", std::chrono::duration<double>(SteadyClock::now() - started).count()},
                              {"now", now()},  // seg's time (simulated with [clock])
                              {"friends", state.friendCount()},
                              {"events", events},
                              {"catalogs", catalogs},
                              {"inbox", state.inbox().size()},
                              {"outbox", state.automation().outbox().size()},
                              {"webhook_ids_remembered", state.webhookSeenCount()},
                              {"log_bytes", store->walBytes()},
                              {"line_quota", quota ? quota->json() : nlohmann::json(nullptr)}});
  });

  // GET /v1/program: what runs. POST /v1/program (the .seg text): checked,
  // bound to the store and swapped in; on any error the old one goes on.
  add("GET", "/v1/program", 0, [this](http::Request&) {
    std::lock_guard guard(queryMutex);
    if (!running || !running->program) return http::Response::error(503, "not ready");
    const ServiceProgram& p = *running->program;
    return jsonResponse(200, {{"name", p.name}, {"timezone", p.program.timezone}, {"segments", p.program.segments.size()},
                              {"scenarios", p.program.automation.scenarios.size()}, {"campaigns", p.program.automation.campaigns.size()}});
  });
  add("POST", "/v1/program", SourceManager::kMaxSourceBytes, [this](http::Request& r) {
    if (!ready) return http::Response::error(503, "not ready");
    const std::string type = mediaType(r);
    if (type != "text/plain" && type != "application/octet-stream" && type != "text/x-seg") {
      return http::Response::error(415, "the body is the program's text: text/plain");
    }
    const std::string name = r.param("name", "posted.seg");
    CompileOutcome compiled = compileProgram(name, r.body);
    nlohmann::json diagnostics = compiled.diagnostics;
    const ReloadOutcome outcome = reload(std::move(compiled));
    nlohmann::json body = {{"reloaded", outcome.reloaded}, {"diagnostics", diagnostics}, {"text", outcome.diagnostics}};
    if (!outcome.reloaded) {
      body["error"] = outcome.error;
      log.warning("program not reloaded", {{"reason", outcome.error}});
      return jsonResponse(422, body);
    }
    return jsonResponse(200, body);
  });
  return routes;
}

}  // namespace seg::service
