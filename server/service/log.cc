#include "server/service/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

namespace seg::service {
namespace {

const char* levelName(Logger::Level level) {
  switch (level) {
    case Logger::Level::Debug: return "debug";
    case Logger::Level::Info: return "info";
    case Logger::Level::Warning: return "warning";
    case Logger::Level::Error: return "error";
  }
  return "info";
}

// RFC 3339 in UTC with milliseconds.
std::string now() {
  const auto t = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", text, millis);
}

}  // namespace

Logger::Level Logger::levelNamed(const std::string& name) {
  if (name == "debug") return Level::Debug;
  if (name == "warning") return Level::Warning;
  if (name == "error") return Level::Error;
  return Level::Info;
}

void Logger::log(Level level, const std::string& message, const nlohmann::json& fields) {
  if (level < minimum_) return;
  std::string line;
  if (json_) {
    nlohmann::ordered_json out = {{"time", now()}, {"level", levelName(level)}, {"msg", message}};
    for (const auto& [k, v] : fields.items()) out[k] = v;
    line = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = fmt::format("{} {} {}", now(), levelName(level), message);
    for (const auto& [k, v] : fields.items()) line += " " + k + "=" + v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::lock_guard lock(mutex_);
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace seg::service
