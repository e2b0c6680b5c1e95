#include "tests/tools/line_stand_in.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "server/http/http_server.h"

namespace seg::testing {
namespace {

using Clock = std::chrono::steady_clock;

// "METHOD /path" with the ids in the path left out, as LINE counts limits.
std::string endpointOf(const std::string& method, const std::string& path) {
  std::string p = path;
  if (p.rfind("/v2/bot/user/", 0) == 0) {
    p = p.find("/richmenu/") != std::string::npos ? "/v2/bot/user/{userId}/richmenu/{richMenuId}" : "/v2/bot/user/{userId}/richmenu";
  } else if (p.rfind("/v2/bot/richmenu/alias/", 0) == 0) {
    p = "/v2/bot/richmenu/alias/{richMenuAliasId}";
  } else if (p.rfind("/v2/bot/profile/", 0) == 0) {
    p = "/v2/bot/profile/{userId}";
  }
  return method + " " + p;
}

// LINE's figures (Messaging API reference, "Rate limits").
double publishedLimit(const std::string& endpoint) {
  if (endpoint == "POST /v2/bot/message/multicast") return 200;
  if (endpoint == "POST /v2/bot/message/narrowcast" || endpoint == "POST /v2/bot/message/broadcast") return 60.0 / 3600;
  if (endpoint.find("/v2/bot/audienceGroup/upload") != std::string::npos) return 1;
  return 2000;
}

// A multipart/form-data body as a JSON object of its fields (values as
// text); discarded when it is not one.
nlohmann::json formFields(const std::string& contentType, const std::string& body) {
  const auto at = contentType.find("boundary=");
  if (contentType.rfind("multipart/form-data", 0) != 0 || at == std::string::npos) return nlohmann::json::value_t::discarded;
  std::string boundary = contentType.substr(at + 9);
  if (boundary.size() >= 2 && boundary.front() == '"') boundary = boundary.substr(1, boundary.size() - 2);
  const std::string delimiter = "--" + boundary;
  nlohmann::json fields = nlohmann::json::object();
  std::size_t pos = body.find(delimiter);
  while (pos != std::string::npos) {
    pos += delimiter.size();
    if (body.compare(pos, 2, "--") == 0) return fields;  // the closing delimiter
    const std::size_t headersEnd = body.find("\r\n\r\n", pos);
    const std::size_t next = body.find("\r\n" + delimiter, pos);
    if (headersEnd == std::string::npos || next == std::string::npos || headersEnd > next) break;
    const std::string headers = body.substr(pos, headersEnd - pos);
    const auto nameAt = headers.find("name=\"");
    if (nameAt == std::string::npos) break;
    const std::string name = headers.substr(nameAt + 6, headers.find('"', nameAt + 6) - nameAt - 6);
    fields[name] = body.substr(headersEnd + 4, next - headersEnd - 4);
    pos = next + 2;
  }
  return nlohmann::json::value_t::discarded;
}

// What LINE refuses in an upload by file (manage-audience.yml).
std::string fileUploadProblem(const std::string& method, const nlohmann::json& form) {
  if (!form.contains("file")) return "The file is required";
  const std::string& file = form["file"].get_ref<const std::string&>();
  const auto lines = std::count(file.begin(), file.end(), '\n') + (file.empty() || file.back() == '\n' ? 0 : 1);
  if (lines == 0 || lines > 1500000) return "The number of IDs in the file must be 1 to 1,500,000";
  const std::string description = form.value("description", "");
  if (std::count_if(description.begin(), description.end(), [](char c) { return (c & 0xC0) != 0x80; }) > 120) {
    return "The description must be at most 120 characters";
  }
  if (method == "PUT" && form.value("audienceGroupId", "").find_first_not_of("0123456789") != std::string::npos) {
    return "The audienceGroupId is invalid";
  }
  return "";
}

http::Response lineError(int status, const std::string& message) {
  http::Response r;
  r.status = status;
  r.body = nlohmann::json{{"message", message}}.dump();
  return r;
}

}  // namespace

struct LineStandIn::Impl {
  LineStandIn& self;
  std::string token;
  std::map<std::string, double> limits;
  mutable std::mutex mutex;
  StandInFaults faults;
  std::mt19937_64 random;
  std::map<std::string, Clock::time_point> arrival;  // a token bucket per endpoint
  std::vector<AcceptedRequest> accepted;
  std::map<std::string, std::string> keys;  // retry key -> request id
  std::set<std::string> usedReplyTokens;
  std::vector<std::string> journal;
  std::uint64_t nextId = 1, nextAudience = 1000;
  std::int64_t messagesUsed = 0;  // this month's, as LINE counts: a message a recipient of a push or multicast
  std::unique_ptr<http::Server> server;

  Impl(LineStandIn& s, std::string t, StandInFaults f, std::map<std::string, double> l)
      : self(s), token(std::move(t)), limits(std::move(l)), faults(f), random(f.seed) {}

  double limitOf(const std::string& endpoint) const {
    const auto it = limits.find(endpoint);
    return it == limits.end() ? publishedLimit(endpoint) : it->second;
  }

  // A bucket of a second's worth (at least one request, and 100 ms of
  // tolerance for the network's jitter).
  bool withinLimit(const std::string& endpoint) {
    const double perSecond = limitOf(endpoint);
    const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / perSecond));
    const double size = std::max(1.0, perSecond);
    const auto tolerance = std::max<Clock::duration>(interval * static_cast<long>(size - 1), std::chrono::milliseconds(100));
    const auto now = Clock::now();
    Clock::time_point& tat = arrival[endpoint];
    if (now < tat - tolerance) return false;
    tat = std::max(tat, now) + interval;
    return true;
  }

  bool roll(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(random) < p; }

  http::Response handle(http::Request& r) {
    ++self.seen_;
    const std::string endpoint = endpointOf(r.method, r.path);
    http::Response out = answer(r, endpoint);
    std::lock_guard lock(mutex);
    journal.push_back(fmt::format("{} {} {}", out.status, r.method, r.path));
    return out;
  }

  http::Response answer(http::Request& r, const std::string& endpoint) {
    if (r.path == "/v2/oauth/accessToken") return issueToken(r);
    if (r.header("authorization") != "Bearer " + token) return lineError(401, "Authentication failed. Confirm that the access token in the authorization header is valid.");
    std::unique_lock lock(mutex);
    if (!withinLimit(endpoint)) {
      ++self.overLimit_;
      return lineError(429, "The API rate limit has been exceeded. Try again later.");
    }
    if (roll(faults.error500Before)) {
      ++self.faulted_;
      return lineError(500, "Internal server error (scripted, not accepted)");
    }
    if (roll(faults.error429)) {
      ++self.faulted_;
      return lineError(429, "The API rate limit has been exceeded. Try again later.");
    }
    const std::string requestId = fmt::format("standin-{:08}", nextId++);
    const std::string key = r.header("x-line-retry-key");
    if (!key.empty()) {
      const auto it = keys.find(key);
      if (it != keys.end()) {
        ++self.conflicts_;
        http::Response c = lineError(409, "The retry key is already accepted");
        c.headers = {{"x-line-request-id", requestId}, {"x-line-accepted-request-id", it->second}};
        return c;
      }
    }
    const bool byFile = r.path == "/v2/bot/audienceGroup/upload/byFile";
    nlohmann::json body = byFile ? formFields(r.header("content-type"), r.body)
                                 : nlohmann::json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
    if (body.is_discarded()) return lineError(400, "The request body has 1 error(s)");
    if (byFile) {
      if (const std::string problem = fileUploadProblem(r.method, body); !problem.empty()) return lineError(400, problem);
    }
    http::Response ok;
    ok.status = 200;
    ok.body = "{}";
    if (r.path == "/v2/bot/message/reply") {
      const std::string replyToken = body.value("replyToken", "");
      if (replyToken.empty() || !usedReplyTokens.insert(replyToken).second) return lineError(400, "Invalid reply token");
      ok.body = R"({"sentMessages":[{"id":"1","quoteToken":"q"}]})";
    } else if (r.path == "/v2/bot/message/push" || r.path == "/v2/bot/message/multicast") {
      if (!body.contains("to") || !body.contains("messages") || body["messages"].empty() || body["messages"].size() > 5) {
        return lineError(400, "The request body has 1 error(s)");
      }
      if (!faults.refuseUser.empty() && body["to"] == faults.refuseUser) {
        http::Response refused = lineError(400, "The property, 'to', in the request body is invalid (line: -, column: -)");
        refused.headers = {{"x-line-request-id", requestId}};
        return refused;
      }
      const std::int64_t recipients = body["to"].is_array() ? static_cast<std::int64_t>(body["to"].size()) : 1;
      if (faults.monthlyLimit > 0 && messagesUsed + recipients > faults.monthlyLimit) {
        return lineError(429, "You have reached your monthly limit.");
      }
      messagesUsed += recipients;
      if (r.path == "/v2/bot/message/push") ok.body = R"({"sentMessages":[{"id":"1","quoteToken":"q"}]})";
    } else if (r.path == "/v2/bot/message/quota") {
      ok.body = faults.monthlyLimit > 0 ? nlohmann::json{{"type", "limited"}, {"value", faults.monthlyLimit}}.dump() : R"({"type":"none"})";
    } else if (r.path == "/v2/bot/message/quota/consumption") {
      ok.body = nlohmann::json{{"totalUsage", messagesUsed}}.dump();
    } else if (r.path == "/v2/bot/message/narrowcast") {
      ok.status = 202;
    } else if (r.path == "/v2/bot/message/progress/narrowcast") {
      ok.body = R"({"phase":"succeeded","successCount":1,"failureCount":0,"targetCount":1,"acceptedTime":"2026-12-04T00:00:00.000Z","completedTime":"2026-12-04T00:00:01.000Z"})";
    } else if (r.path == "/v2/bot/audienceGroup/upload" || byFile) {
      ok.status = 202;
      if (r.method == "POST") {
        ok.body = nlohmann::json{{"audienceGroupId", nextAudience++}, {"createRoute", "MESSAGING_API"}, {"type", "UPLOAD"},
                                 {"description", body.value("description", "")}, {"created", 1796086800},
                                 {"permission", "READ_WRITE"}, {"expireTimestamp", 1796086800 + 15552000}, {"isIfaAudience", false}}
                      .dump();
      }
    } else if (r.path.rfind("/v2/bot/richmenu/alias/", 0) == 0) {
      const std::string alias = r.path.substr(r.path.rfind('/') + 1);
      ok.body = nlohmann::json{{"richMenuAliasId", alias}, {"richMenuId", fmt::format("richmenu-{:032x}", std::hash<std::string>{}(alias))}}.dump();
    } else if (r.path == "/v2/bot/richmenu/bulk/link" || r.path == "/v2/bot/richmenu/bulk/unlink") {
      ok.status = 202;
    } else if (r.path.rfind("/v2/bot/profile/", 0) == 0) {
      const std::string user = r.path.substr(r.path.rfind('/') + 1);
      if (user == faults.unknownUser) return lineError(404, "Not found");
      ok.body = nlohmann::json{{"userId", user}, {"displayName", "友だち" + user.substr(user.size() > 4 ? user.size() - 4 : 0)}}.dump();
    }
    // Accepted: remembered before any scripted trouble with the answer.
    if (!key.empty()) keys[key] = requestId;
    accepted.push_back({r.method, r.path, key, requestId, body});
    ok.headers = {{"x-line-request-id", requestId}};
    if (roll(faults.error500After)) {
      ++self.faulted_;
      return lineError(500, "Internal server error (scripted, after accepting)");
    }
    if (roll(faults.silentAfter)) {
      ++self.faulted_;
      const auto silence = faults.silence;
      lock.unlock();
      std::this_thread::sleep_for(silence);  // the client gives up first
    }
    return ok;
  }

  http::Response issueToken(http::Request& r) {
    if (r.body.find("grant_type=client_credentials") == std::string::npos || r.body.find("client_secret=") == std::string::npos) {
      http::Response bad;
      bad.status = 400;
      bad.body = R"({"error":"invalid_request","error_description":"some parameters missed or invalid"})";
      return bad;
    }
    http::Response ok;
    ok.body = nlohmann::json{{"access_token", token}, {"expires_in", 2592000}, {"token_type", "Bearer"}}.dump();
    return ok;
  }
};

LineStandIn::LineStandIn(std::string token, StandInFaults faults, std::map<std::string, double> limits)
    : impl_(std::make_unique<Impl>(*this, std::move(token), faults, std::move(limits))) {
  http::ServerOptions options;
  options.handlerThreads = 32;
  options.maxConnections = 1024;
  const auto handle = [this](http::Request& r) { return impl_->handle(r); };
  // Files of up to 1.5M IDs to api-data; LINE's 2 MB elsewhere (413 above).
  std::vector<http::Route> routes = http::routesUnder("/v2/bot/audienceGroup/upload/byFile", 64 << 20, handle);
  for (http::Route& r : http::routesUnder("/v2/", 2 << 20, handle)) routes.push_back(std::move(r));
  impl_->server = std::make_unique<http::Server>(options, std::move(routes));
  impl_->server->start();
}

LineStandIn::~LineStandIn() { impl_->server->stop(std::chrono::milliseconds(100)); }

std::string LineStandIn::baseUrl() const { return fmt::format("http://127.0.0.1:{}", impl_->server->port()); }

void LineStandIn::setFaults(StandInFaults faults) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults = faults;
  impl_->random.seed(faults.seed);
}

std::vector<AcceptedRequest> LineStandIn::accepted() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->accepted;
}

std::string LineStandIn::journal() const {
  std::lock_guard lock(impl_->mutex);
  std::string out;
  for (const std::string& line : impl_->journal) out += line + "\n";
  return out;
}

}  // namespace seg::testing
