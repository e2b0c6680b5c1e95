// What the automation runtime (runtime/automation/) remembers, kept in the
// store so it is exactly as durable as the data it acts on and changes in
// the same transactions: scenario enrolments and the timers of their next
// steps, the sends counted by the frequency cap, each friend's rich menu,
// the outbox of planned LINE requests not yet confirmed, and the campaigns
// already sent. Changed only through Mutations (runtime/store/mutation.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/store/binary_io.h"
#include "runtime/store/mutation.h"

namespace seg {

inline constexpr std::uint32_t kNoTriggerEvent = ~std::uint32_t{0};

struct Enrolment {
  std::int64_t enrolledAt = 0;
  std::uint32_t nextStep = 0;
  std::int64_t dueAt = 0;
  std::uint32_t triggerEvent = kNoTriggerEvent;  // the store's event index
  std::vector<Value> triggerFields;
};

// A step due at `due` for one friend's enrolment; ordered by time first.
struct Timer {
  std::int64_t due = 0;
  std::uint32_t friendId = 0;
  std::uint32_t scenario = 0;
  auto operator<=>(const Timer&) const = default;
};

struct OutboxEntry {
  std::string request;  // the request, as JSON
  std::int64_t plannedAt = 0;
  std::int64_t notBefore = 0;  // held by quiet hours until then
  std::vector<UserId> users;   // recipients
  std::vector<std::string> carries;  // message and campaign names, for statuses on delivery
  // Order of planning: requests go out in the order the actions ran
  // (assigned when first added, kept when the entry is updated).
  std::uint64_t sequence = 0;
  std::int64_t expiresAt = 0;  // a reply's token; 0: never
  // When first handed to a sender (0: never): from then on LINE may have
  // it, whatever became of the answer.
  std::int64_t triedAt = 0;
};

// A request LINE refused for good (a 4xx other than a rate limit), kept
// with LINE's answer until an operator deals with it.
struct FailedRequest {
  OutboxEntry entry;
  std::int64_t failedAt = 0;
  std::string failure;  // JSON: status, LINE's error body, x-line-request-id
};

// A narrowcast LINE accepted (202): delivered asynchronously, so its
// progress is asked of LINE until it completes.
struct NarrowcastWatch {
  std::string requestId;  // LINE's x-line-request-id of the narrowcast
  std::int64_t acceptedAt = 0;
  std::string outcome;    // LINE's progress once succeeded or failed (JSON); "" while under way
  std::int64_t completedAt = 0;
};

// What happened to a campaign: it ran, or it was refused (min_reach) or
// missed (found too late), with why; either way the scheduler is done with it.
struct CampaignRecord {
  std::int64_t time = 0;
  std::string refused;  // "" when it ran
};

// A rich menu alias as LINE resolved it, and when.
struct ResolvedAlias {
  std::string richMenuId;
  std::int64_t resolvedAt = 0;
};

class AutomationState {
 public:
  // Scenario ids are assigned in the order names are first seen.
  std::optional<std::uint32_t> scenarioId(const std::string& name) const;
  const std::string& scenarioName(std::uint32_t id) const { return scenarioNames_.at(id); }

  const Enrolment* enrolment(std::uint32_t friendId, std::uint32_t scenario) const;
  // Every scenario the friend is enrolled in.
  std::vector<std::uint32_t> enrolmentsOf(std::uint32_t friendId) const;
  // When the friend last entered the scenario, enrolled or not now.
  std::optional<std::int64_t> lastEnrolled(std::uint32_t friendId, std::uint32_t scenario) const;
  const std::set<Timer>& timers() const { return timers_; }
  std::size_t enrolmentCount() const { return enrolments_.size(); }

  // Sends counted by the cap at or after `since` (the last kChargesKept).
  static constexpr std::size_t kChargesKept = 64;
  std::size_t chargesSince(std::uint32_t friendId, std::int64_t since) const;

  // "" when none.
  const std::string& linkedMenu(std::uint32_t friendId) const;
  const std::string& rulesMenu(std::uint32_t friendId) const;

  const std::map<std::string, OutboxEntry>& outbox() const { return outbox_; }
  const std::map<std::string, FailedRequest>& failed() const { return failed_; }
  // Narrowcasts under way and the last kNarrowcastsKept completed, by outbox key.
  static constexpr std::size_t kNarrowcastsKept = 1000;
  const std::map<std::string, NarrowcastWatch>& narrowcasts() const { return narrowcasts_; }
  // Requests that expire (replies), by when.
  const std::set<std::pair<std::int64_t, std::string>>& expiring() const { return expiring_; }
  // When the campaign ran; nullopt when it did not (also when refused).
  std::optional<std::int64_t> campaignRan(const std::string& name) const;
  // Ran, refused or missed; null when the scheduler has not dealt with it.
  const CampaignRecord* campaignRecord(const std::string& name) const;
  // Every record, by name (a recurring campaign's as "name@occurrence").
  const std::map<std::string, CampaignRecord>& campaignRecords() const { return campaigns_; }
  const ResolvedAlias* alias(const std::string& alias) const;
  // Sends skipped (by the frequency cap), by message or campaign name.
  const std::map<std::string, std::uint64_t>& skipped() const { return skipped_; }

  // `friendId` is the id the store gave the mutation's user (if any).
  void apply(const Mutation& m, std::uint32_t friendId);

  void write(BinaryWriter& out) const;
  // `version`: the snapshot's format (4 added refusals and aliases, 7
  // failed requests, 9 narrowcasts).
  void read(BinaryReader& in, std::uint32_t version);
  std::size_t memoryBytes() const;

 private:
  static std::uint64_t key(std::uint32_t friendId, std::uint32_t scenario) {
    return static_cast<std::uint64_t>(friendId) << 32 | scenario;
  }
  std::uint32_t internScenario(const std::string& name);
  std::uint16_t internMenu(const std::string& name);
  void leave(std::uint32_t friendId, std::uint32_t scenario);
  void setMenus(std::uint32_t friendId, std::uint16_t linked, std::uint16_t rules);
  void addToOutbox(const std::string& key, OutboxEntry entry);
  void readFailedAndNarrowcasts(BinaryReader& in, std::uint32_t version);
  void forgetOldNarrowcasts();

  std::vector<std::string> scenarioNames_;
  std::map<std::string, std::uint32_t> scenarioIds_;
  std::unordered_map<std::uint64_t, Enrolment> enrolments_;
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> enrolledBy_;  // friend -> scenarios
  std::unordered_map<std::uint64_t, std::int64_t> lastEnrolled_;
  std::set<Timer> timers_;
  std::unordered_map<std::uint32_t, std::vector<std::int64_t>> charges_;  // newest last
  std::vector<std::string> menuNames_{""};
  std::vector<std::uint16_t> linkedMenu_, rulesMenu_;  // by friend id; 0: none
  std::map<std::string, OutboxEntry> outbox_;
  std::uint64_t nextSequence_ = 0;
  std::set<std::pair<std::int64_t, std::string>> expiring_;
  std::map<std::string, CampaignRecord> campaigns_;
  std::map<std::string, ResolvedAlias> aliases_;
  std::map<std::string, FailedRequest> failed_;
  std::map<std::string, NarrowcastWatch> narrowcasts_;
  std::map<std::string, std::uint64_t> skipped_;
};

}  // namespace seg
