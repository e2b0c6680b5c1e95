#include "server/delivery/quota.h"

#include <fmt/format.h>

namespace seg::delivery {
namespace {

constexpr std::string_view kReadPrefix = "quota/";
constexpr const char* kLimitPath = "/v2/bot/message/quota";
constexpr const char* kUsagePath = "/v2/bot/message/quota/consumption";

HandOut read(const std::string& path, std::int64_t now) {
  HandOut h;
  h.key = std::string(kReadPrefix) + path;
  h.notBefore = now;
  h.request.key = h.key;
  h.request.method = "GET";
  h.request.path = path;
  return h;
}

}  // namespace

std::vector<HandOut> MonthlyQuota::takeReads(std::int64_t now, SteadyClock::time_point steadyNow) {
  std::lock_guard lock(mutex_);
  if (inFlight_ > 0 || steadyNow < next_) return {};
  next_ = steadyNow + every_;
  inFlight_ = 2;
  return {read(kLimitPath, now), read(kUsagePath, now)};
}

bool MonthlyQuota::isRead(const std::string& key) { return key.starts_with(kReadPrefix); }

void MonthlyQuota::readSoon() {
  std::lock_guard lock(mutex_);
  next_ = {};
}

void MonthlyQuota::record(const Completion& completion) {
  std::lock_guard lock(mutex_);
  if (inFlight_ > 0) --inFlight_;
  apply(completion);
}

void MonthlyQuota::apply(const Completion& completion) {
  if (completion.kind != Completion::Kind::Delivered) {
    reading_.error = completion.failure;
    return;
  }
  const nlohmann::json body = nlohmann::json::parse(completion.response, nullptr, false);
  const std::string path = completion.key.substr(kReadPrefix.size());
  if (!body.is_object()) {
    reading_.error = "LINE's answer to " + path + " is not JSON";
  } else if (path == kLimitPath && body.value("type", "") == "none") {
    reading_.limited = false;
    reading_.error.clear();
  } else if (path == kLimitPath && body.value("type", "") == "limited" && body.contains("value") && body["value"].is_number_integer()) {
    reading_.limited = true;
    reading_.limit = body["value"].get<std::int64_t>();
    reading_.error.clear();
  } else if (path == kUsagePath && body.contains("totalUsage") && body["totalUsage"].is_number_integer()) {
    reading_.used = body["totalUsage"].get<std::int64_t>();
  } else {
    reading_.error = "LINE's answer to " + path + " is not what its reference describes: " + completion.response.substr(0, 200);
  }
}

std::string MonthlyQuota::wouldExceed(std::uint64_t messages, std::uint64_t outstanding, std::uint64_t freeMessages,
                                      bool paidAllowed) const {
  std::lock_guard lock(mutex_);
  const Reading& r = reading_;
  if (!r.limited || !r.used) {
    return "LINE's monthly quota has not been read yet" + (r.error.empty() ? std::string() : " (" + r.error + ")");
  }
  const auto left = [&](std::int64_t limit) { return limit - *r.used - static_cast<std::int64_t>(outstanding); };
  const std::string counted = fmt::format("{} used this month, {} planned and not yet sent; LINE counts a message a recipient",
                                          *r.used, outstanding);
  if (*r.limited && static_cast<std::int64_t>(messages) > left(r.limit)) {
    return fmt::format("it needs up to {} messages and {} remain under the account's target limit of {} ({}); LINE refuses "
                       "messages beyond it, so the campaign waits until the limit is raised in LINE Official Account "
                       "Manager or a new month begins",
                       messages, std::max<std::int64_t>(0, left(r.limit)), r.limit, counted);
  }
  if (freeMessages > 0 && !paidAllowed && static_cast<std::int64_t>(messages) > left(static_cast<std::int64_t>(freeMessages))) {
    return fmt::format("it needs up to {} messages and {} remain of the plan's {} free messages ({}); held so that nothing is "
                       "sent as additional (paid) messages: set `policy {{ beyond_quota send }}` to allow them",
                       messages, std::max<std::int64_t>(0, left(static_cast<std::int64_t>(freeMessages))), freeMessages, counted);
  }
  return "";
}

void MonthlyQuota::readNow(const service::DeliveryConfig& config, AccessToken& token) {
  http::Client client(config.timeoutSeconds, std::min(10.0, config.timeoutSeconds));
  for (const char* path : {kLimitPath, kUsagePath}) {
    const HandOut h = read(path, 0);
    const CallResult r = call(client, config, token.current(), h.request);
    Completion c;
    c.key = h.key;
    c.kind = r.outcome == Outcome::Delivered ? Completion::Kind::Delivered : Completion::Kind::Failed;
    c.response = r.body;
    c.failure = r.failureJson();
    std::lock_guard lock(mutex_);
    apply(c);
  }
}

MonthlyQuota::Reading MonthlyQuota::reading() const {
  std::lock_guard lock(mutex_);
  return reading_;
}

nlohmann::json MonthlyQuota::json() const {
  const Reading r = reading();
  nlohmann::json out = nlohmann::json::object();
  if (r.limited) out["type"] = *r.limited ? "limited" : "none";
  if (r.limited && *r.limited) out["limit"] = r.limit;
  if (r.used) out["used"] = *r.used;
  if (!r.error.empty()) out["error"] = r.error;
  return out;
}

}  // namespace seg::delivery
