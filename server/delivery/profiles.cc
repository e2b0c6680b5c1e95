#include "server/delivery/profiles.h"

#include <nlohmann/json.hpp>

namespace seg::delivery {
namespace {

constexpr std::string_view kFetchPrefix = "profile/";

}  // namespace

ProfileFetches::Lookup ProfileFetches::lookup(const std::string& user, SteadyClock::time_point now) {
  auto [it, first] = asked_.try_emplace(user);
  if (first) it->second.at = now;
  const Asked& a = it->second;
  if (a.answered) return {true, a.displayName};
  return {now - a.at >= wait_, ""};
}

std::vector<HandOut> ProfileFetches::takeRequests(std::int64_t now) {
  std::vector<HandOut> out;
  for (auto& [user, a] : asked_) {
    if (a.offered) continue;
    a.offered = true;
    HandOut h;
    h.key = std::string(kFetchPrefix) + user;
    h.notBefore = now;
    h.request.key = h.key;
    h.request.method = "GET";
    h.request.path = "/v2/bot/profile/" + user;
    out.push_back(std::move(h));
  }
  return out;
}

bool ProfileFetches::isFetch(const std::string& key) { return key.starts_with(kFetchPrefix); }

void ProfileFetches::record(const Completion& completion) {
  const auto it = asked_.find(completion.key.substr(kFetchPrefix.size()));
  if (it == asked_.end()) return;  // used already (the wait ran out)
  it->second.answered = true;
  if (completion.kind != Completion::Kind::Delivered) return;  // 404: no longer a friend; kept without a name
  const nlohmann::json profile = nlohmann::json::parse(completion.response, nullptr, false);
  if (profile.is_object() && profile.contains("displayName") && profile["displayName"].is_string()) {
    it->second.displayName = profile["displayName"].get<std::string>();
  }
}

}  // namespace seg::delivery
