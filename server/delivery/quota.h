// LINE's monthly message quota as last read, so that a campaign it would
// not cover is held rather than refused by LINE part way (LINE answers a
// send beyond the limit with 429 "You have reached your monthly limit").
// Read through the sender at start and every `every`:
//   GET /v2/bot/message/quota              {"type": "none"|"limited", "value": N}
//   GET /v2/bot/message/quota/consumption  {"totalUsage": N}
// Thread-safe: the loop reads and records, /metrics and the admin API look.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/automation/engine.h"
#include "server/delivery/line_api.h"
#include "server/delivery/sender.h"

namespace seg::delivery {

class MonthlyQuota {
 public:
  explicit MonthlyQuota(SteadyClock::duration every) : every_(every) {}

  // The reads due now (both at once), to hand to the sender.
  std::vector<HandOut> takeReads(std::int64_t now, SteadyClock::time_point steadyNow);
  static bool isRead(const std::string& key);
  void record(const Completion& completion);
  // Asked again at once (a campaign held for want of a reading).
  void readSoon();
  // Reads both now, on the caller's thread (at start, before any campaign).
  void readNow(const service::DeliveryConfig& config, AccessToken& token);

  // Why `messages` more would go beyond this month's limits, with
  // `outstanding` messages planned and not yet accepted by LINE; "" when
  // they fit. LINE's target limit holds always (LINE refuses beyond it);
  // the plan's free messages (`freeMessages`, 0: not said) unless
  // additional (paid) messages are allowed.
  std::string wouldExceed(std::uint64_t messages, std::uint64_t outstanding, std::uint64_t freeMessages, bool paidAllowed) const;

  struct Reading {
    std::optional<bool> limited;  // unknown until read
    std::int64_t limit = 0;
    std::optional<std::int64_t> used;
    std::string error;  // LINE's answer when a read failed
  };
  Reading reading() const;
  nlohmann::json json() const;

 private:
  void apply(const Completion& completion);  // under mutex_

  SteadyClock::duration every_;
  mutable std::mutex mutex_;
  SteadyClock::time_point next_{};
  unsigned inFlight_ = 0;
  Reading reading_;
};

}  // namespace seg::delivery
