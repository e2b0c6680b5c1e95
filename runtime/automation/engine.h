// The automation engine: makes a program's scenarios, rules, rich-menu rules,
// campaigns and policy act on a friend store, producing LINE Messaging API
// requests (runtime/send) in a persistent outbox.
//
//   handle(event)   one inbound event (a webhook event or an import): applied
//                   once (redeliveries are recognised by webhookEventId),
//                   then rules run, scenarios start, exits are checked and
//                   the friend's rich menu is recomputed
//   advanceTo(now)  runs what is due: scenario steps in due order, campaigns
//                   whose time has come, menu recomputation at each day
//                   boundary of the policy time zone
//   due(now)        outbox requests ready to hand to a sender
//   confirm(key)    the sender made the call: marked done, statuses recorded
//
// Each unit of work (an event, a step, a campaign, a day's menus) commits
// as one transaction through the StateWriter, and requests are in the outbox
// before anything hands them out. Timing rules are in docs/language.md
// ("When steps run").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/recurrence.h"
#include "base/timezone.h"
#include "compiler/ir/expr.h"
#include "runtime/automation/state_writer.h"
#include "runtime/exec/interpreter.h"
#include "runtime/exec/segment_evaluator.h"
#include "runtime/send/line_requests.h"
#include "runtime/send/message_render.h"

namespace seg {

struct CampaignReport;

// A scheduled run (a campaign, a yearly trigger) found this late does not
// happen at all: a sale or a birthday greeting a day late does more harm
// than good. It is recorded as missed.
inline constexpr std::int64_t kScheduleGrace = 24 * 3600;

struct EngineOptions {
  // A purely local campaign audience larger than this goes out as an
  // audience upload and one narrowcast instead of multicasts of 500.
  std::size_t narrowcastThreshold = 100000;
  // The `default` rich menu is the account's default: friends who should
  // have it are unlinked rather than linked.
  bool defaultMenuAccountWide = true;
  // Keep a timeline of everything done (tests, simulations, `--timeline`).
  bool keepTimeline = false;
  ResidualCompiler* compiler = nullptr;  // JIT for campaign and menu audiences
  unsigned threads = 1;
  // Asked before a campaign is recorded and sent, with whether the policy
  // allows paid messages (`beyond_quota send`): why the month's quota
  // would not cover it, or "" to send. A campaign held is asked about
  // again a minute later.
  std::function<std::string(const CampaignReport&, bool paidAllowed)> quotaHold;
};

struct InboundEvent {
  // The event as the store records it: Follow, Unfollow, AppendEvent (for
  // message, postback and schema events), SetAttribute...; all for one friend.
  std::vector<Mutation> changes;
  std::string webhookEventId;  // "" when not from a webhook
  std::string replyToken;      // "" when it cannot be replied to
  // The channel is not the active one for this friend (`mode: standby`):
  // the event is recorded, but nothing answers or acts on it.
  bool standby = false;
  // Taken from the store's inbox (the service): its id is recorded as seen
  // already, and the item is done in the same unit of work.
  std::optional<std::uint64_t> inboxItem;
  // When seg received it (0: when handled): a reply token is good for a
  // minute from then, however long the event waited in the inbox.
  std::int64_t receivedAt = 0;
};

// An event as the inbox keeps it, and back (throws CorruptData); the item's
// number and receipt time are the inbox's, not part of the encoding.
std::string encodeInbound(const InboundEvent& event);
InboundEvent decodeInbound(std::string_view bytes);

// A send's messages as one friend receives them; messages LINE would
// refuse for this friend (an empty text...) are left out, with why.
struct RenderedCalls {
  std::vector<send::Json> messages;
  std::vector<std::string> names;  // of `messages`
  std::vector<std::pair<std::string, std::string>> skipped;  // message, why
};

struct TimelineEntry {
  enum class Kind : std::uint8_t { Sent, Replied, Held, Skipped, Enrolled, Exited, Completed, StepSkipped, Menu, Campaign, Refused };
  std::int64_t time = 0;
  std::uint32_t friendId = ~0u;  // none for campaigns
  Kind kind = Kind::Sent;
  std::string name;    // message, scenario, menu or campaign
  std::string source;  // what did it: "scenario welcome_series (day 1 at 10:00)"
  std::string detail;  // the message as sent (JSON), a reason...
};
const char* timelineKindName(TimelineEntry::Kind kind);

// The name a campaign's run is recorded under: a recurring campaign's has
// the occurrence (unix seconds) too, so that each occurrence runs once.
std::string campaignRecordName(const ir::CampaignIr& c, std::int64_t occurrence);

struct CampaignReport {
  std::string name;
  std::int64_t at = 0;
  std::int64_t occurrence = 0;  // the time it was scheduled for
  std::uint64_t audience = 0;    // local part, at send time
  std::uint64_t limited = 0;     // left out by `limit`
  std::uint64_t holdout = 0;
  std::uint64_t capped = 0;      // skipped by the frequency cap
  std::uint64_t unsendable = 0;  // messages left out for a friend (an empty text...)
  std::uint64_t recipients = 0;  // planned to receive (LINE's filter may narrow further)
  std::vector<std::uint64_t> perArm;
  bool narrowcast = false;
  std::string demographic;
  std::int64_t heldUntil = 0;  // quiet hours: not before (0: not held)
  std::vector<send::LineRequest> requests;
  std::string refused;  // why nothing was sent (min_reach)
  std::string held;     // why it waits (LINE's monthly quota): nothing recorded, asked again later
};

// The report as JSON (segc plan --json, the service's campaign API), with
// the requests whole.
nlohmann::ordered_json campaignReportJson(const CampaignReport& report, const TimeZone& zone, bool recorded);

struct HandOut {
  std::string key;
  std::int64_t notBefore = 0;
  send::LineRequest request;
  std::int64_t triedAt = 0;  // handed to a sender before (LINE may have it); 0: never
  // The one friend it is for ("" for several, or none): a sender makes a
  // friend's requests one at a time, in the order handed out.
  std::string lane;
};

struct EngineCounters {
  std::map<std::string, std::uint64_t> requestsByPath;
  std::uint64_t messagesSent = 0;  // message objects to friends (per recipient)
  std::uint64_t skippedByCap = 0;
  std::uint64_t heldByQuietHours = 0;
  std::uint64_t stepsRun = 0, stepsSkipped = 0, enrolments = 0, exits = 0;
  std::uint64_t menuChanges = 0;
  std::uint64_t events = 0, duplicates = 0;
};

// Where an outbox request stands at a moment: due (a sender may make it),
// held (quiet hours: not before its time), waiting (for a request it
// depends on), or expired (a reply whose token ran out: advanceTo turns
// it into a push or drops it).
enum class OutboxStanding { Due, Held, Waiting, Expired };
OutboxStanding standingOf(const OutboxEntry& entry, const send::LineRequest& request,
                          const std::map<std::string, OutboxEntry>& outbox, std::int64_t now);
const char* standingName(OutboxStanding standing);

struct EngineError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class AutomationEngine {
 public:
  // Throws BindError when the store lacks what the program reads.
  AutomationEngine(const ir::Program& program, StateWriter& writer, EngineOptions options = {});
  ~AutomationEngine();

  // Returns false when the event was already handled (a redelivery).
  bool handle(const InboundEvent& event, std::int64_t now);
  void advanceTo(std::int64_t now);
  // When advanceTo next has work (a step, a campaign, a day's menus, a
  // reply's token running out); nullopt when nothing is scheduled.
  std::optional<std::int64_t> nextDue() const;
  // Plans a campaign at `now`: with `record`, its requests go to the outbox
  // and it counts as sent; without, nothing changes (a preview). A
  // recurring campaign runs for `occurrence` (default: now).
  CampaignReport runCampaign(const std::string& name, std::int64_t now, bool record,
                             std::optional<std::int64_t> occurrence = std::nullopt);
  // The scheduled time of the campaign's next run the scheduler has not
  // dealt with; nullopt for one asked for only, or a one-off already run.
  std::optional<std::int64_t> pendingOccurrence(const ir::CampaignIr& c) const;
  // Recomputes every friend's rich menu (what advanceTo does each day).
  void recomputeMenus(std::int64_t now);

  std::vector<HandOut> due(std::int64_t now) const;
  // Records that these requests go to LINE now (those tried before keep
  // their first time): after a crash, a reply tried before is not turned
  // into a push, and a retry key is not used past LINE's 24 hours.
  void markTried(const std::vector<HandOut>& handOuts, std::int64_t now);
  // `response`: LINE's response body (an audience upload's carries the
  // audienceGroupId that dependent requests need); `lineRequestId`: its
  // x-line-request-id, kept in the store's log with the confirmation.
  void confirm(const std::string& key, std::int64_t now, const std::string& response = "",
               const std::string& lineRequestId = "");
  // LINE refused the request for good: it leaves the outbox for the failed
  // list with LINE's answer (`failure`, JSON), and so do the requests that
  // waited for it.
  void fail(const std::string& key, std::int64_t now, const std::string& failure);
  // LINE's progress of a narrowcast it accepted (`progress`: its answer,
  // JSON), once it succeeded or failed.
  void recordNarrowcastOutcome(const std::string& key, std::int64_t now, const std::string& progress);
  // LINE refused a reply's token (used or expired): it becomes a push or
  // is dropped, as the policy says for expired replies.
  void retireReply(const std::string& key, std::int64_t now, const std::string& why);

  const std::vector<TimelineEntry>& timeline() const { return timeline_; }
  // The timeline so far, emptied (a service counts actions as they happen).
  std::vector<TimelineEntry> takeTimeline() { return std::exchange(timeline_, {}); }
  const EngineCounters& counters() const { return counters_; }
  std::int64_t clock() const { return clock_; }
  const StoreState& state() const { return writer_.state(); }
  const TimeZone& zone() const { return zone_; }

  // The text a formatted value shows in a message (dates as 2026-12-01...).
  std::string format(const Val& value, ir::ValueType type, const ir::ColumnSpec* column) const;
  // Point evaluation for one friend at `now` (the interpreter).
  bool test(ir::NodeId condition, std::uint32_t friendId, std::int64_t now) const;
  // A value for one friend, as text: "5", "`gold`", "missing".
  std::string describe(ir::NodeId value, std::uint32_t friendId, std::int64_t now) const;
  // The friend's rich menu as LINE shows it: linked, or the account default.
  std::string menuOf(std::uint32_t friendId) const;
  // The messages of `calls` as `friendId` would receive them at `now`.
  RenderedCalls renderCalls(const std::vector<ir::MessageCall>& calls, std::uint32_t friendId,
                            const TriggerEvent* trigger, std::int64_t now) const;

 private:
  struct Run;  // one unit of work in progress
  class Actions;

  void stage(Mutation m);
  void commit();
  void note(TimelineEntry entry);

  void onEvent(std::uint32_t friendId, const Mutation& change, const InboundEvent& event, std::int64_t now);
  void startScenario(std::uint32_t scenario, std::uint32_t friendId, const TriggerEvent* trigger, std::int64_t now,
                     const std::string& source);
  // Leaves one enrolment (`id`: the store's scenario id, one per key of a
  // `per` scenario), or every enrolment of a scenario of the program.
  void leaveEnrolment(std::uint32_t id, std::uint32_t friendId, std::int64_t now, TimelineEntry::Kind why,
                      const std::string& source);
  void leaveScenario(std::uint32_t scenario, std::uint32_t friendId, std::int64_t now, TimelineEntry::Kind why,
                     const std::string& source);
  // The name an enrolment is kept under: the scenario's, with the key of a
  // `per` scenario ("cart_recovery#化粧水"); and back to the scenario.
  std::string enrolmentName(const ir::ScenarioIr& s, std::uint32_t friendId, const TriggerEvent* trigger,
                            std::int64_t now) const;
  const ir::ScenarioIr* scenarioOfEnrolment(const std::string& name) const;
  bool checkExits(std::uint32_t friendId, std::int64_t now, const std::string& source);
  void runStep(std::uint32_t friendId, std::uint32_t scenario, std::int64_t due);
  void recomputeMenu(std::uint32_t friendId, std::int64_t now);
  std::optional<std::uint32_t> desiredMenu(std::uint32_t friendId, std::int64_t now) const;
  void runDueCampaigns(std::int64_t now);

  // Triggers no inbound event carries (derived_triggers.cc): a date
  // attribute's day each year, a segment entered or left.
  struct YearlyJob {
    std::string key;          // its runs are recorded as KEY@OCCURRENCE
    Recurrence daily;         // every day at the trigger's time
    std::uint32_t attribute;  // the date
  };
  void planDerivedTriggers();
  std::optional<std::int64_t> pendingOf(const std::string& key, const Recurrence& every,
                                        std::optional<std::int64_t> notBefore) const;
  // The latest occurrence recorded as KEY@OCCURRENCE.
  std::optional<std::int64_t> lastOccurrence(const std::string& key) const;
  void runYearly(const YearlyJob& job, std::int64_t occurrence, std::int64_t now);
  // Marks the current members of each watched segment, without firing,
  // the first time the segment is watched.
  void baselineWatchedSegments(std::int64_t now);
  void checkSegmentChanges(std::uint32_t friendId, std::int64_t now);
  void checkSegmentChanges(std::int64_t now);
  void segmentChanged(std::uint32_t segment, std::uint32_t friendId, bool entered, std::int64_t now);
  // Runs the rules and starts the scenarios `matches` picks, for one
  // friend, with no triggering event.
  void fire(std::uint32_t friendId, std::int64_t now, const std::function<bool(const ir::TriggerIr&)>& matches,
            const std::string& why, const std::string& identity);

  std::int64_t stepDue(const ir::ScenarioIr& scenario, std::size_t step, std::int64_t enrolledAt,
                       std::int64_t previousDue) const;
  bool inQuietHours(std::int64_t t) const;
  // Whether a send at `at` would exceed the policy's frequency cap.
  bool capped(std::uint32_t friendId, std::int64_t at) const;
  Val attributeValue(std::uint32_t attribute, std::uint32_t friendId) const;
  std::int64_t quietEnd(std::int64_t t) const;
  std::int64_t nextDayStart(std::int64_t t) const;

  std::string putInOutbox(send::LineRequest request, std::int64_t now, std::int64_t notBefore,
                          std::vector<UserId> users, std::vector<std::string> carries);
  // The rich menu ID to link `menu` by: its ID, the ID its alias resolved
  // to lately, or a placeholder filled once LINE resolves the alias (the
  // lookup's key is added to `after`).
  std::string richMenuIdFor(const ir::RichmenuIr& menu, std::int64_t now, std::vector<std::string>& after);
  // Replies whose token expired become pushes or are dropped (policy).
  void expireReplies(std::int64_t now);
  void recordSkipped(const UserId& user, const std::string& name, std::int64_t now, const std::string& why);
  std::string userOf(std::uint32_t friendId) const;
  std::string outboxKey(std::int64_t time, const std::string& identity) const;

  const ir::Program& program_;
  const ir::Automation& automation_;
  StateWriter& writer_;
  EngineOptions options_;
  TimeZone zone_;
  std::unique_ptr<SegmentEvaluator> evaluator_;
  send::MessageRenderer renderer_;
  // Friends whose menu a `richmenu` action set in the unit of work under
  // way: the unit's own menu recomputation must not undo it.
  std::set<std::uint32_t> menuByAction_;
  std::map<std::string, std::string> aliasLookups_;  // alias -> key of its lookup in the outbox
  std::int64_t clock_ = 0;
  // Campaigns held for the quota, and when each is next considered.
  std::map<std::string, std::int64_t> heldUntil_;
  std::optional<std::int64_t> campaignDue(const ir::CampaignIr& c) const;
  // Recurring campaigns: the earliest occurrence not known to be recorded.
  mutable std::map<std::string, std::int64_t> nextOccurrence_;
  std::int64_t firstClock_ = 0;  // where recurring campaigns start being considered
  std::vector<YearlyJob> yearly_;
  std::vector<std::uint32_t> watchedSegments_;  // in `on enter` / `on leave` triggers
  std::vector<TimelineEntry> timeline_;
  EngineCounters counters_;
};

}  // namespace seg
