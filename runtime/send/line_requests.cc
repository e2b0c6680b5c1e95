#include "runtime/send/line_requests.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <xxhash.h>

namespace seg::send {
namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kMultipart = "multipart/form-data";
constexpr const char* kUploadPath = "/v2/bot/audienceGroup/upload";
constexpr const char* kUploadByFilePath = "/v2/bot/audienceGroup/upload/byFile";
constexpr std::string_view kAliasPath = "/v2/bot/richmenu/alias/";

LineRequest request(std::string key, const char* method, std::string path, Json body, const char* contentType = kJson) {
  LineRequest r;
  r.key = std::move(key);
  r.method = method;
  r.path = std::move(path);
  if (!body.is_null()) r.headers.emplace_back("Content-Type", contentType);
  r.body = std::move(body);
  return r;
}

// Requests LINE deduplicates by `X-Line-Retry-Key`.
LineRequest retryable(std::string key, std::string path, Json body) {
  LineRequest r = request(std::move(key), "POST", std::move(path), std::move(body));
  r.headers.emplace_back("X-Line-Retry-Key", retryKey(r.key));
  return r;
}

void checkMessages(const Json& messages) {
  if (!messages.is_array() || messages.empty() || messages.size() > kMaxMessages) {
    throw std::invalid_argument(fmt::format("a LINE request carries 1 to {} messages, not {}", kMaxMessages, messages.size()));
  }
}

// Audience group ids are numbers; until an upload is confirmed, a placeholder string.
Json audienceGroupIdJson(const std::string& id) {
  if (!id.empty() && std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::stoll(id);
  return id;
}

Json audienceIds(const std::vector<std::string>& ids) {
  Json out = Json::array();
  for (const std::string& id : ids) out.push_back({{"id", id}});
  return out;
}

}  // namespace

std::string LineRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

std::string LineRequest::endpoint() const {
  if (path.rfind(kAliasPath, 0) == 0) return method + " /v2/bot/richmenu/alias/{richMenuAliasId}";
  if (path.rfind("/v2/bot/profile/", 0) == 0) return method + " /v2/bot/profile/{userId}";
  if (path.rfind("/v2/bot/user/", 0) == 0) {
    return method + (path.find("/richmenu/") != std::string::npos ? " /v2/bot/user/{userId}/richmenu/{richMenuId}"
                                                                 : " /v2/bot/user/{userId}/richmenu");
  }
  return method + " " + path;
}

std::string LineRequest::toJson() const {
  Json out = {{"key", key}, {"method", method}, {"path", path}};
  Json h = Json::object();
  for (const auto& [k, v] : headers) h[k] = v;
  out["headers"] = h;
  if (!body.is_null()) out["body"] = body;
  if (!after.empty()) out["after"] = after;
  if (expiresAt != 0) out["expires"] = expiresAt;
  return out.dump();
}

LineRequest LineRequest::fromJson(std::string_view text) {
  const Json in = Json::parse(text);
  LineRequest r;
  r.key = in.at("key").get<std::string>();
  r.method = in.at("method").get<std::string>();
  r.path = in.at("path").get<std::string>();
  for (const auto& [k, v] : in.at("headers").items()) r.headers.emplace_back(k, v.get<std::string>());
  if (in.contains("body")) r.body = in["body"];
  if (in.contains("after")) r.after = in["after"].get<std::vector<std::string>>();
  if (in.contains("expires")) r.expiresAt = in["expires"].get<std::int64_t>();
  return r;
}

std::string retryKey(std::string_view identity) {
  const XXH128_hash_t h = XXH3_128bits(identity.data(), identity.size());
  std::uint64_t hi = h.high64, lo = h.low64;
  hi = (hi & ~0xF000ull) | 0x4000ull;                      // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48,
                     lo & 0xFFFFFFFFFFFFull);
}

LineRequest push(std::string key, const std::string& to, Json messages) {
  checkMessages(messages);
  return retryable(std::move(key), "/v2/bot/message/push", {{"to", to}, {"messages", std::move(messages)}});
}

LineRequest multicast(std::string key, const std::vector<std::string>& to, Json messages) {
  checkMessages(messages);
  if (to.empty() || to.size() > kMaxMulticast) {
    throw std::invalid_argument(fmt::format("a multicast goes to 1 to {} friends, not {}", kMaxMulticast, to.size()));
  }
  return retryable(std::move(key), "/v2/bot/message/multicast", {{"to", to}, {"messages", std::move(messages)}});
}

LineRequest reply(std::string key, const std::string& replyToken, Json messages, std::int64_t expiresAt) {
  checkMessages(messages);
  // Replies take no retry key: a reply token is good for one use only.
  LineRequest r = request(std::move(key), "POST", "/v2/bot/message/reply",
                          {{"replyToken", replyToken}, {"messages", std::move(messages)}});
  r.expiresAt = expiresAt;
  return r;
}

LineRequest narrowcast(std::string key, const std::string& audienceGroupId, Json messages,
                       const std::string& demographic, std::int64_t limit) {
  checkMessages(messages);
  Json body = {{"messages", std::move(messages)}};
  body["recipient"] = {{"type", "audience"}, {"audienceGroupId", audienceGroupIdJson(audienceGroupId)}};
  if (!demographic.empty()) body["filter"] = {{"demographic", Json::parse(demographic)}};
  if (limit > 0) body["limit"] = {{"max", limit}};
  return retryable(std::move(key), "/v2/bot/message/narrowcast", std::move(body));
}

namespace {

std::string shortened(const std::string& description) {
  return description.substr(0, std::min(description.size(), kMaxAudienceDescription));
}

void checkUploadSize(const std::vector<std::string>& ids, std::size_t most) {
  if (ids.size() > most) throw std::invalid_argument(fmt::format("an audience upload holds at most {} IDs, not {}", most, ids.size()));
}

// A text file with one user ID a line, as LINE takes it.
std::string idFile(const std::vector<std::string>& ids) {
  std::string out;
  out.reserve(ids.size() * 34);
  for (const std::string& id : ids) {
    out += id;
    out += '\n';
  }
  return out;
}

}  // namespace

LineRequest createAudience(std::string key, const std::string& description, const std::vector<std::string>& ids) {
  checkUploadSize(ids, kMaxAudienceUpload);
  return request(std::move(key), "POST", kUploadPath,
                 {{"description", shortened(description)}, {"isIfaAudience", false}, {"audiences", audienceIds(ids)}});
}

LineRequest addToAudience(std::string key, const std::string& audienceGroupId, const std::vector<std::string>& ids) {
  checkUploadSize(ids, kMaxAudienceUpload);
  return request(std::move(key), "PUT", kUploadPath,
                 {{"audienceGroupId", audienceGroupIdJson(audienceGroupId)}, {"audiences", audienceIds(ids)}});
}

LineRequest createAudienceByFile(std::string key, const std::string& description, const std::vector<std::string>& ids) {
  checkUploadSize(ids, kMaxAudienceFile);
  return request(std::move(key), "POST", kUploadByFilePath,
                 {{"description", shortened(description)}, {"isIfaAudience", false}, {"file", idFile(ids)}}, kMultipart);
}

LineRequest addToAudienceByFile(std::string key, const std::string& audienceGroupId, const std::vector<std::string>& ids) {
  checkUploadSize(ids, kMaxAudienceFile);
  return request(std::move(key), "PUT", kUploadByFilePath,
                 {{"audienceGroupId", audienceGroupIdJson(audienceGroupId)}, {"file", idFile(ids)}}, kMultipart);
}

bool isMultipart(const LineRequest& request) { return request.header("Content-Type") == kMultipart; }

bool createsAudience(const LineRequest& request) {
  return request.method == "POST" && (request.path == kUploadPath || request.path == kUploadByFilePath);
}

std::string audiencePlaceholder(const std::string& uploadKey) { return "{{audienceGroupId of " + uploadKey + "}}"; }

namespace {

// Replaces every string equal to `placeholder` under `value`.
bool replaceIn(Json& value, const std::string& placeholder, const Json& with) {
  if (value.is_string()) {
    if (value.get_ref<const std::string&>() != placeholder) return false;
    value = with;
    return true;
  }
  bool replaced = false;
  if (value.is_structured()) {
    for (auto& child : value) replaced = replaceIn(child, placeholder, with) || replaced;
  }
  return replaced;
}

}  // namespace

LineRequest lookupAlias(std::string key, const std::string& alias) {
  return request(std::move(key), "GET", std::string(kAliasPath) + alias, nullptr);
}

std::string aliasPlaceholder(const std::string& alias) { return "{{richMenuId of alias " + alias + "}}"; }

std::optional<Resolution> resolutionOf(const LineRequest& request, const std::string& response) {
  const auto parsed = [&](const char* field) {
    try {
      const Json body = Json::parse(response);
      if (body.contains(field)) return body[field];
    } catch (const Json::exception&) {
    }
    throw std::invalid_argument(fmt::format("LINE's response to {} {} carries `{}`; give it (such as {{\"{}\": ...}})",
                                            request.method, request.path, field, field));
  };
  if (createsAudience(request)) {
    const Json id = parsed("audienceGroupId");
    if (!id.is_number_integer()) throw std::invalid_argument("`audienceGroupId` in LINE's response is not a number");
    return Resolution{audiencePlaceholder(request.key), id};
  }
  if (request.method == "GET" && request.path.rfind(kAliasPath, 0) == 0) {
    const Json id = parsed("richMenuId");
    if (!id.is_string() || id.get<std::string>().empty()) throw std::invalid_argument("`richMenuId` in LINE's response is not a rich menu ID");
    return Resolution{aliasPlaceholder(request.path.substr(kAliasPath.size())), id};
  }
  return std::nullopt;
}

bool fill(LineRequest& request, const Resolution& resolution, const std::string& confirmedKey) {
  bool filled = replaceIn(request.body, resolution.placeholder, resolution.value);
  if (resolution.value.is_string()) {
    for (std::size_t at = request.path.find(resolution.placeholder); at != std::string::npos;
         at = request.path.find(resolution.placeholder)) {
      request.path.replace(at, resolution.placeholder.size(), resolution.value.get<std::string>());
      filled = true;
    }
  }
  request.after.erase(std::remove(request.after.begin(), request.after.end(), confirmedKey), request.after.end());
  return filled;
}

LineRequest linkMenu(std::string key, const std::string& userId, const std::string& richMenuId) {
  return request(std::move(key), "POST", fmt::format("/v2/bot/user/{}/richmenu/{}", userId, richMenuId), nullptr);
}

LineRequest unlinkMenu(std::string key, const std::string& userId) {
  return request(std::move(key), "DELETE", fmt::format("/v2/bot/user/{}/richmenu", userId), nullptr);
}

LineRequest bulkLinkMenu(std::string key, const std::string& richMenuId, const std::vector<std::string>& userIds) {
  if (userIds.empty() || userIds.size() > kMaxBulkMenu) throw std::invalid_argument("a bulk link holds 1 to 500 users");
  return request(std::move(key), "POST", "/v2/bot/richmenu/bulk/link", {{"richMenuId", richMenuId}, {"userIds", userIds}});
}

LineRequest bulkUnlinkMenu(std::string key, const std::vector<std::string>& userIds) {
  if (userIds.empty() || userIds.size() > kMaxBulkMenu) throw std::invalid_argument("a bulk unlink holds 1 to 500 users");
  return request(std::move(key), "POST", "/v2/bot/richmenu/bulk/unlink", {{"userIds", userIds}});
}

}  // namespace seg::send
