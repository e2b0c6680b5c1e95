// segd's configuration: a TOML file (docs/server.md), then the command
// line on top. Secrets are never in the file itself: it names the
// environment variable or the file that holds them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace seg::service {

struct Endpoint {
  std::string address;
  unsigned short port = 0;
};

// The sender: seg makes the outbox's requests to LINE itself (docs/server.md,
// "Delivery").
struct DeliveryConfig {
  bool enabled = false;
  std::string apiBase = "https://api.line.me";
  std::string dataApiBase = "https://api-data.line.me";  // file uploads
  // A long-lived token (access_token_env, default LINE_CHANNEL_ACCESS_TOKEN,
  // or access_token_file); or, with channel_id and the channel secret,
  // short-lived tokens issued by LINE and renewed before they expire.
  std::string accessToken;
  std::string channelId;
  std::size_t concurrency = 8;     // requests in flight at once
  double timeoutSeconds = 30;      // one request, connection included
  // Requests per second by endpoint ("POST /v2/bot/message/push"), over
  // LINE's published limits (server/delivery/rate_limits.cc).
  std::map<std::string, double> rateLimits;
  // How long a request with a retry key is retried: LINE keeps a key 24 h.
  double retryHorizonSeconds = 23 * 3600;
  // A follow waits this long at most for the friend's profile (its display
  // name for `{{name}}`); 0: profiles are not fetched.
  double profileWaitSeconds = 2;
  // LINE's quota (its target limit, read from LINE) holds a campaign it
  // would not cover; so do the plan's free messages when given here (LINE
  // does not report them) unless the policy allows paid ones. false: no
  // campaign is held (the quota is still read and shown).
  bool holdBeyondQuota = true;
  std::uint64_t freeMessages = 0;
};

// A simulated clock, to watch a month of the program in minutes (tests,
// trials against a LINE stand-in or mock; never against LINE): seg's time
// starts at `start` and runs `speed` times faster. start 0: the real clock.
struct SimulatedClock {
  std::int64_t start = 0;
  double speed = 1;
};

struct ServiceConfig {
  std::string program;
  std::string store;
  Endpoint publicListen{"0.0.0.0", 8080};  // LINE's webhooks, the data feeds
  Endpoint adminListen{"127.0.0.1", 8081};  // the admin API, /metrics
  std::string webhookPath = "/callback";
  std::size_t webhookMaxBytes = 1 << 20;
  std::string channelSecret;  // read from the environment or a file
  bool allowUnsigned = false;  // local trials only
  std::string adminToken;      // required when the admin listener is not on loopback
  std::size_t feedMaxBytes = 4ull << 30;
  std::string spoolDirectory = "/tmp";
  std::size_t maxConnections = 512;
  std::uint32_t headerTimeoutMs = 10000;
  std::uint32_t bodyTimeoutMs = 600000;
  std::size_t handlerThreads = 8;
  std::size_t inboxLimit = 100000;  // feeds wait while the automation loop catches up
  DeliveryConfig delivery;
  SimulatedClock clock;
  std::string logLevel = "info";
  bool logJson = true;
};

// Reads `path` (none when empty) into a config with the defaults above;
// nullopt with `error` naming the file, the key and what is wrong.
std::optional<ServiceConfig> loadConfig(const std::string& path, std::string& error);
// "127.0.0.1:8080" or ":8080" (all interfaces); nullopt when malformed.
std::optional<Endpoint> parseEndpoint(const std::string& text);
bool isLoopback(const std::string& address);

}  // namespace seg::service
