#include "server/service/config.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "base/timezone.h"
#include "runtime/ingest/values.h"

namespace seg::service {
namespace {

// A secret from `KEY_env` (a variable's name) or `KEY_file` (a path);
// the file's trailing newline is dropped.
bool readSecret(const toml::table& table, const std::string& key, std::string& out, std::string& error) {
  if (const auto name = table[key + "_env"].value<std::string>()) {
    if (const char* value = std::getenv(name->c_str())) out = value;
  }
  if (const auto file = table[key + "_file"].value<std::string>()) {
    std::ifstream in(*file, std::ios::binary);
    if (!in) {
      error = fmt::format("{}_file: cannot read `{}`", key, *file);
      return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    out = text.str();
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  }
  return true;
}

template <typename T>
bool number(const toml::node_view<const toml::node>& node, const char* key, T& out, std::string& error) {
  if (!node) return true;
  const auto value = node.value<std::int64_t>();
  if (!value || *value < 0) {
    error = fmt::format("`{}` must be a whole number of 0 or more", key);
    return false;
  }
  out = static_cast<T>(*value);
  return true;
}

bool isBaseUrl(const std::string& url) {
  return (url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0) && url.back() != '/';
}

bool readDelivery(const toml::table& d, DeliveryConfig& out, std::string& error) {
  if (auto v = d["enabled"].value<bool>()) out.enabled = *v;
  for (const auto& [key, target] : {std::pair{"api_base", &out.apiBase}, std::pair{"data_api_base", &out.dataApiBase}}) {
    if (auto v = d[key].value<std::string>()) {
      if (!isBaseUrl(*v)) {
        error = fmt::format("delivery.{}: \"{}\" is not a base URL (https://host[:port], no / at the end)", key, *v);
        return false;
      }
      *target = *v;
    }
  }
  if (!readSecret(d, "access_token", out.accessToken, error)) return false;
  if (auto v = d["channel_id"].value<std::string>()) out.channelId = *v;
  if (!number(d["concurrency"], "delivery.concurrency", out.concurrency, error)) return false;
  if (out.concurrency == 0 || out.concurrency > 256) {
    error = "delivery.concurrency must be 1 to 256";
    return false;
  }
  if (auto v = d["timeout_seconds"].value<double>()) {
    if (!(*v > 0 && *v <= 600)) {
      error = "delivery.timeout_seconds must be more than 0 and at most 600";
      return false;
    }
    out.timeoutSeconds = *v;
  }
  if (auto v = d["hold_beyond_quota"].value<bool>()) out.holdBeyondQuota = *v;
  if (!number(d["free_messages"], "delivery.free_messages", out.freeMessages, error)) return false;
  if (auto v = d["profile_wait_seconds"].value<double>()) {
    if (!(*v >= 0 && *v <= 60)) {
      error = "delivery.profile_wait_seconds must be 0 (no profiles fetched) to 60";
      return false;
    }
    out.profileWaitSeconds = *v;
  }
  if (const toml::table* limits = d["rate_limits"].as_table()) {
    for (const auto& [endpoint, value] : *limits) {
      const auto perSecond = value.value<double>();
      if (!perSecond || !(*perSecond > 0)) {
        error = fmt::format("delivery.rate_limits.\"{}\" must be a number of requests per second above 0", endpoint.str());
        return false;
      }
      out.rateLimits[std::string(endpoint.str())] = *perSecond;
    }
  }
  return true;
}

}  // namespace

bool isLoopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address == "localhost" || address.rfind("127.", 0) == 0;
}

std::optional<Endpoint> parseEndpoint(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  Endpoint e;
  e.address = text.substr(0, colon);
  if (e.address.empty()) e.address = "0.0.0.0";
  if (e.address.size() > 2 && e.address.front() == '[' && e.address.back() == ']') e.address = e.address.substr(1, e.address.size() - 2);
  unsigned port = 0;
  const std::string_view digits = std::string_view(text).substr(colon + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port > 65535) return std::nullopt;
  e.port = static_cast<unsigned short>(port);
  return e;
}

std::optional<ServiceConfig> loadConfig(const std::string& path, std::string& error) {
  ServiceConfig config;
  // Without a file, the secrets come from their usual variables.
  if (const char* secret = std::getenv("LINE_CHANNEL_SECRET")) config.channelSecret = secret;
  if (const char* token = std::getenv("SEG_ADMIN_TOKEN")) config.adminToken = token;
  if (const char* token = std::getenv("LINE_CHANNEL_ACCESS_TOKEN")) config.delivery.accessToken = token;
  if (path.empty()) return config;
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    error = fmt::format("{}:{}:{}: {}", path, where.line, where.column, e.description());
    return std::nullopt;
  }
  const auto fail = [&](const std::string& what) {
    error = fmt::format("{}: {}", path, what);
    return std::nullopt;
  };
  if (auto v = t["program"].value<std::string>()) config.program = *v;
  if (auto v = t["store"].value<std::string>()) config.store = *v;
  for (const auto& [key, target] : {std::pair{"public", &config.publicListen}, std::pair{"admin", &config.adminListen}}) {
    if (auto v = t["listen"][key].value<std::string>()) {
      const auto endpoint = parseEndpoint(*v);
      if (!endpoint) return fail(fmt::format("listen.{}: \"{}\" is not ADDRESS:PORT", key, *v));
      *target = *endpoint;
    }
  }
  if (const toml::table* webhook = t["webhook"].as_table()) {
    if (auto v = (*webhook)["path"].value<std::string>()) {
      if (v->empty() || v->front() != '/') return fail("webhook.path must start with /");
      config.webhookPath = *v;
    }
    if (!number((*webhook)["max_body_bytes"], "webhook.max_body_bytes", config.webhookMaxBytes, error)) return fail(error);
    if (auto v = (*webhook)["allow_unsigned"].value<bool>()) config.allowUnsigned = *v;
    if (!readSecret(*webhook, "channel_secret", config.channelSecret, error)) return fail(error);
  }
  if (const toml::table* feeds = t["feeds"].as_table()) {
    if (!number((*feeds)["max_body_bytes"], "feeds.max_body_bytes", config.feedMaxBytes, error)) return fail(error);
    if (auto v = (*feeds)["spool_directory"].value<std::string>()) config.spoolDirectory = *v;
  }
  if (const toml::table* admin = t["admin"].as_table()) {
    if (!readSecret(*admin, "token", config.adminToken, error)) return fail(error);
  }
  if (const toml::table* limits = t["limits"].as_table()) {
    if (!number((*limits)["max_connections"], "limits.max_connections", config.maxConnections, error) ||
        !number((*limits)["header_timeout_ms"], "limits.header_timeout_ms", config.headerTimeoutMs, error) ||
        !number((*limits)["body_timeout_ms"], "limits.body_timeout_ms", config.bodyTimeoutMs, error) ||
        !number((*limits)["handler_threads"], "limits.handler_threads", config.handlerThreads, error) ||
        !number((*limits)["inbox_limit"], "limits.inbox_limit", config.inboxLimit, error)) {
      return fail(error);
    }
  }
  if (const toml::table* delivery = t["delivery"].as_table()) {
    if (!readDelivery(*delivery, config.delivery, error)) return fail(error);
  }
  if (const toml::table* clock = t["clock"].as_table()) {
    const auto start = (*clock)["start"].value<std::string>();
    std::string why;
    const auto instant = start ? instantFromText(*start, *TimeZone::find("UTC"), why) : std::nullopt;
    if (!instant) return fail(fmt::format("clock.start: {}", start ? why : "give the simulated clock's first instant, such as \"2026-11-25T00:00:00+09:00\""));
    config.clock.start = *instant;
    if (auto v = (*clock)["speed"].value<double>()) {
      if (!(*v >= 1 && *v <= 1e6)) return fail("clock.speed must be 1 to 1,000,000 (times faster than real time)");
      config.clock.speed = *v;
    }
  }
  if (const toml::table* log = t["log"].as_table()) {
    if (auto v = (*log)["level"].value<std::string>()) config.logLevel = *v;
    if (auto v = (*log)["format"].value<std::string>()) config.logJson = *v != "text";
  }
  return config;
}

}  // namespace seg::service
