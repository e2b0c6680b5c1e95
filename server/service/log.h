// Structured logs: one JSON object a line on stderr, with the time, level,
// message and fields. What goes in a field is the caller's choice, and the
// service never passes a secret, a token or a list of user IDs (a count,
// or one ID where it names what happened, at most).
#pragma once

#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace seg::service {

class Logger {
 public:
  enum class Level { Debug, Info, Warning, Error };
  explicit Logger(Level minimum = Level::Info, bool json = true) : minimum_(minimum), json_(json) {}

  void log(Level level, const std::string& message, const nlohmann::json& fields = nlohmann::json::object());
  void info(const std::string& message, const nlohmann::json& fields = nlohmann::json::object()) {
    log(Level::Info, message, fields);
  }
  void warning(const std::string& message, const nlohmann::json& fields = nlohmann::json::object()) {
    log(Level::Warning, message, fields);
  }
  void error(const std::string& message, const nlohmann::json& fields = nlohmann::json::object()) {
    log(Level::Error, message, fields);
  }
  void debug(const std::string& message, const nlohmann::json& fields = nlohmann::json::object()) {
    log(Level::Debug, message, fields);
  }

  static Level levelNamed(const std::string& name);

 private:
  Level minimum_;
  bool json_;
  std::mutex mutex_;
};

}  // namespace seg::service
