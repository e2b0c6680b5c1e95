// Changes to a store, as logged in the write-ahead log and applied to
// memory. A change names friends by LINE user ID: ids are assigned when it
// is applied, in log order, so replay assigns the same ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/store/binary_io.h"
#include "runtime/store/user_id.h"
#include "runtime/store/value.h"

namespace seg {

// Targeted: sent through a LINE-side filter (a narrowcast with
// filter.demographic), which delivers to only some of those it was given;
// seg cannot know who received it.
enum class MessageStatusKind : std::uint8_t { Received, Opened, Clicked, Targeted };
inline constexpr std::size_t kMessageStatusKinds = 4;

// A value as logs and snapshots hold it.
void writeValue(BinaryWriter& out, const Value& v);
Value readValue(BinaryReader& in);

struct Mutation {
  enum class Kind : std::uint8_t {
    AddFriend,       // user: known from now on, nothing else
    SetAttribute,    // user, index: attribute, value (missing clears); time: the event's
                     // that set it, which orders such changes (0: an import, always applies)
    Tag,             // user, name, on; time as for SetAttribute
    AddScore,        // user, value.i: delta
    Follow,          // user, time, on: unblocked
    Unfollow,        // user, time
    AppendEvent,     // user, index: event, time, fields
    AudienceAdd,     // name, time: created, users
    MessageStatus,   // user, name, status, time
    WebhookSeen,     // name: webhookEventId, time
    // Automation state (runtime/store/automation_state.h):
    ScenarioEnrol,   // user, name: scenario, time: enrolled, value.i: first step due,
                     // index: trigger event + 1 (0: none), fields: the trigger's fields
    ScenarioStep,    // user, name: scenario, index: next step, value.i: its due time
    ScenarioLeave,   // user, name: scenario, time
    CapCharge,       // user, time: a send counted by the frequency cap
    MenuLink,        // user, name: linked rich menu ("" none), value.s: the rules' menu
    OutboxAdd,       // name: key, time: planned, index: notBefore - time, value.s: request,
                     // users: recipients, fields: what it carries (strings), on: the request
                     // expires (its JSON says when)
    OutboxDone,      // name: key, time, on: delivered, value.s: LINE's request id when delivered,
                     // why not otherwise
    CampaignRan,     // name: campaign, time, value.s: why it was not sent ("" when it ran)
    SendSkipped,     // user, name: message or campaign, time, value.s: why (the cap)
    // From here on, only in logs written by seg 0.2 or later.
    RichMenuAlias,   // name: alias, value.s: the rich menu ID LINE resolved it to, time
    ImportProgress,  // name: the file's key (content hash), value.s: its name, time,
                     // fields: bytes and records committed so far, on: the whole file
    InboxAdd,        // name: webhookEventId ("" for a feed record), time: received,
                     // value.s: the event (runtime/automation), waiting to be acted on
    InboxDone,       // index: the inbox item acted on
    OutboxFailed,    // name: key, time, value.s: LINE's refusal (JSON: status, body, request id)
    OutboxTried,     // name: key, time: first handed to a sender (LINE may have it from then on)
    NarrowcastOutcome,  // name: the narrowcast's outbox key, time, value.s: LINE's progress (JSON)
    // Codes in the log only: a SetAttribute or Tag with the time of the
    // event that set it (rule actions), read back as SetAttribute or Tag.
    TimedSetAttribute,
    TimedTag,
    // From here on, only in logs written by seg 0.3 or later.
    CatalogPut,      // index: catalog, fields: the row by the catalog's fields (its `id` among them)
  };
  Kind kind = Kind::AddFriend;
  UserId user;
  std::uint32_t index = 0;
  Value value;
  std::string name;
  bool on = false;
  std::int64_t time = 0;
  std::vector<Value> fields;
  std::vector<UserId> users;
  MessageStatusKind status = MessageStatusKind::Received;

  static Mutation of(Kind kind, const UserId& user = {}) {
    Mutation m;
    m.kind = kind;
    m.user = user;
    return m;
  }

  void encode(BinaryWriter& out) const;
  static Mutation decode(BinaryReader& in);
};

}  // namespace seg
