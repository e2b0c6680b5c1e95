// LINE Messaging API requests, as seg plans them: method, path, headers and
// a JSON body that satisfies LINE's documented limits. Nothing here talks to
// the network; a sender (the embedding application, or `segc outbox`)
// makes the calls and confirms them.
//
// Limits (LINE Messaging API reference): ≤5 messages a request, ≤500
// recipients a multicast or bulk rich-menu link, ≤10,000 user IDs an
// audience upload request, text ≤5,000 characters, audience descriptions
// ≤120 characters. `X-Line-Retry-Key` (a UUID) makes push, multicast and
// narrowcast safe to retry: LINE accepts a key once for 24 hours.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace seg::send {

using Json = nlohmann::ordered_json;

inline constexpr std::size_t kMaxMessages = 5;
inline constexpr std::size_t kMaxMulticast = 500;
inline constexpr std::size_t kMaxBulkMenu = 500;
inline constexpr std::size_t kMaxAudienceUpload = 10000;
inline constexpr std::size_t kMaxAudienceFile = 1500000;  // IDs in one file upload
inline constexpr std::size_t kMaxTextCharacters = 5000;
inline constexpr std::size_t kMaxAudienceDescription = 120;
// A reply token must be used within a minute of the webhook, and never
// once 20 minutes have passed since the event (a redelivery).
inline constexpr std::int64_t kReplyTokenSeconds = 60;
inline constexpr std::int64_t kReplyTokenEventSeconds = 20 * 60;

struct LineRequest {
  std::string key;     // seg's identity of the request (outbox key)
  std::string method;  // POST, PUT, DELETE
  std::string path;    // /v2/bot/message/multicast
  std::vector<std::pair<std::string, std::string>> headers;
  Json body;  // null for requests without a body
  // Keys of requests that must be confirmed first (a narrowcast waits for
  // the upload of its audience, a rich menu link for its alias's ID).
  std::vector<std::string> after;
  // When LINE stops accepting it (a reply's token expires); 0: never.
  std::int64_t expiresAt = 0;

  std::string header(std::string_view name) const;
  // "POST /v2/bot/user/{userId}/richmenu/{richMenuId}": the endpoint, with
  // the ids in the path left out (for counting requests by kind).
  std::string endpoint() const;
  std::string toJson() const;
  static LineRequest fromJson(std::string_view text);
};

// A UUID (version 4 layout) derived from `identity`: the same planned
// request always carries the same key, so re-handing it after a crash
// cannot send twice.
std::string retryKey(std::string_view identity);

// Message requests. `messages` are message objects (≤5).
LineRequest push(std::string key, const std::string& to, Json messages);
LineRequest multicast(std::string key, const std::vector<std::string>& to, Json messages);
LineRequest reply(std::string key, const std::string& replyToken, Json messages, std::int64_t expiresAt);
// Sends to the friends of an uploaded audience, optionally narrowed by
// LINE's filter.demographic (JSON, may be empty) and a maximum count.
// `audienceGroupId` may be a placeholder filled when the upload is
// confirmed (see fillAudienceGroupId).
LineRequest narrowcast(std::string key, const std::string& audienceGroupId, Json messages,
                       const std::string& demographic, std::int64_t limit);

// Audiences: create with up to 10,000 IDs, then add in batches.
LineRequest createAudience(std::string key, const std::string& description, const std::vector<std::string>& ids);
LineRequest addToAudience(std::string key, const std::string& audienceGroupId, const std::vector<std::string>& ids);
// The same by file (api-data.line.me), up to 1,500,000 IDs a request: one
// request where JSON would need up to 150. The request is multipart; its
// body holds the form's fields, `file` being the IDs one per line.
LineRequest createAudienceByFile(std::string key, const std::string& description, const std::vector<std::string>& ids);
LineRequest addToAudienceByFile(std::string key, const std::string& audienceGroupId, const std::vector<std::string>& ids);
bool isMultipart(const LineRequest& request);
// Whether `request` creates an audience (by JSON or by file).
bool createsAudience(const LineRequest& request);
// The placeholder a dependent request carries until the upload `key` is
// confirmed with LINE's response.
std::string audiencePlaceholder(const std::string& uploadKey);

// Rich menu aliases: link requests carry a placeholder until the lookup
// of the alias is confirmed with LINE's response.
LineRequest lookupAlias(std::string key, const std::string& alias);
std::string aliasPlaceholder(const std::string& alias);

// What confirming `request` with LINE's `response` lets waiting requests
// fill in: a placeholder and its value (an upload's audienceGroupId, an
// alias's richMenuId); nullopt when nothing. Throws std::invalid_argument
// when the response lacks what it must carry.
struct Resolution {
  std::string placeholder;
  Json value;
};
std::optional<Resolution> resolutionOf(const LineRequest& request, const std::string& response);
// Puts `resolution` into `request` (path and body) and stops it waiting
// for `confirmedKey`; returns whether anything was replaced.
bool fill(LineRequest& request, const Resolution& resolution, const std::string& confirmedKey);

// Rich menus.
LineRequest linkMenu(std::string key, const std::string& userId, const std::string& richMenuId);
LineRequest unlinkMenu(std::string key, const std::string& userId);
LineRequest bulkLinkMenu(std::string key, const std::string& richMenuId, const std::vector<std::string>& userIds);
LineRequest bulkUnlinkMenu(std::string key, const std::vector<std::string>& userIds);

// `items` cut into runs of at most `size`.
template <typename T>
std::vector<std::vector<T>> batches(const std::vector<T>& items, std::size_t size) {
  std::vector<std::vector<T>> out;
  for (std::size_t i = 0; i < items.size(); i += size) {
    out.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(i),
                     items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + size)));
  }
  return out;
}

}  // namespace seg::send
