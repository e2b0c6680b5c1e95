// Everything a store holds, in memory: friends by dense id, their
// attribute columns, tags, audiences, message status and event logs, with
// their indexes. Changes arrive as Mutations (runtime/store/mutation.h);
// durability is the job of Store (store.h).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/ir/schema.h"
#include "runtime/index/bitmap.h"
#include "runtime/store/automation_state.h"
#include "runtime/store/columns.h"
#include "runtime/store/event_log.h"
#include "runtime/store/mutation.h"
#include "runtime/store/user_id.h"

namespace seg {

// Dense friend ids by LINE user ID: an open-addressing table of ids whose
// keys live in the id-ordered user list (4 bytes a slot, not a node a key).
class FriendTable {
 public:
  std::optional<std::uint32_t> find(const UserId& user) const;
  // The friend's id, adding the friend if new.
  std::uint32_t intern(const UserId& user, bool& added);
  std::uint32_t size() const { return static_cast<std::uint32_t>(users_.size()); }
  const UserId& user(std::uint32_t id) const { return users_[id]; }
  const std::vector<UserId>& users() const { return users_; }
  void assign(std::vector<UserId> users);  // rebuilds the table
  std::size_t memoryBytes() const;

 private:
  void rehash(std::size_t slots);
  std::vector<UserId> users_;
  std::vector<std::uint32_t> slots_;  // kNoRow = empty
};

// LINE deletes an uploaded audience 180 days after it was created.
inline constexpr std::int64_t kAudienceLifetimeSeconds = 180 * 86400;

struct Audience {
  Bitmap members;
  std::int64_t createdAt = 0;
  std::int64_t expiresAt() const { return createdAt + kAudienceLifetimeSeconds; }
  bool expiredAt(std::int64_t now) const { return now >= expiresAt(); }
};

struct MessageStatus {
  std::array<Bitmap, kMessageStatusKinds> byKind;  // by MessageStatusKind
};

// How much of an imported file is committed, by the file's content: a
// re-run after a crash goes on from there, and a file imported whole is
// not imported twice (runtime/ingest/importer.h).
struct ImportRecord {
  std::string file;          // its name when imported, for messages
  std::uint64_t bytes = 0;   // committed up to this offset
  std::uint64_t records = 0;
  bool complete = false;
  std::int64_t time = 0;     // of the last commit
};

// An inbound event taken durably and not yet acted on (the service's
// inbox): what LINE or a feed sent, kept until the automation engine has
// acted on it in a transaction of its own.
struct InboxItem {
  std::string eventId;  // webhookEventId; "" for a feed record
  std::int64_t receivedAt = 0;
  std::string event;    // encoded (runtime/automation/engine.h)
};

// A catalog's rows by id (`catalog product { id: string ... }`); values in
// the order of the stored catalog's fields (a row written before a field
// was added is shorter: the field is missing).
class CatalogTable {
 public:
  // The row with this id, or null.
  const std::vector<Value>* find(std::string_view id) const;
  std::size_t size() const { return rows_.size(); }
  template <typename F>
  void forEach(F&& f) const {
    for (const auto& [id, row] : rows_) f(id, row);
  }
  void put(std::string id, std::vector<Value> row);
  void write(BinaryWriter& out) const;
  void read(BinaryReader& in);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, std::vector<Value>, Hash, std::equal_to<>> rows_;
};

class StoreState {
 public:
  // The import records kept (the most recent).
  static constexpr std::size_t kImportsKept = 1000;

  explicit StoreState(ir::Schema schema);

  const ir::Schema& schema() const { return schema_; }
  const FriendTable& friends() const { return friends_; }
  std::uint32_t friendCount() const { return friends_.size(); }
  const AttributeColumn& attribute(std::size_t index) const { return attributes_[index]; }
  const AttributeColumn* attribute(const std::string& name) const;
  const EventLog& events(std::size_t index) const { return events_[index]; }
  const EventLog* events(const std::string& name) const;
  const CatalogTable& catalog(std::size_t index) const { return catalogs_[index]; }
  const std::map<std::string, Bitmap>& tags() const { return tags_; }
  const std::map<std::string, Audience>& audiences() const { return audiences_; }
  const std::map<std::string, MessageStatus>& messageStatus() const { return messageStatus_; }
  bool webhookSeen(const std::string& eventId) const { return webhookSeen_.contains(eventId); }
  std::size_t webhookSeenCount() const { return webhookSeen_.size(); }
  // Friends who blocked the account (never receive).
  const Bitmap& blocked() const;
  const AutomationState& automation() const { return automation_; }
  const ImportRecord* importRecord(const std::string& key) const;
  // By the order they were taken.
  const std::map<std::uint64_t, InboxItem>& inbox() const { return inbox_; }

  // Applies changes in order; consecutive events are appended in batches.
  void apply(const std::vector<Mutation>& changes);
  // Throws CorruptData, naming the change, when one could not be applied
  // (a value of the wrong type, an enum rank the schema lacks...). Store
  // calls it before anything is logged, so a failed write changes nothing.
  void validate(const std::vector<Mutation>& changes) const;

  // Direct writes for bulk loads (`segc gen`), which snapshot at the end
  // instead of logging each change. Same effects as the matching Mutation.
  std::uint32_t addFriend(const UserId& user) { return intern(user); }
  void setValue(std::uint32_t id, std::size_t attribute, const Value& value) { setAttribute(id, attribute, value); }
  void addTag(std::uint32_t id, const std::string& tag) { tags_[tag].add(id); }
  void appendEvents(std::size_t event, std::vector<EventRow> rows) { events_.at(event).append(std::move(rows)); }
  void putCatalogRow(std::size_t catalog, std::string id, std::vector<Value> row) { catalogs_.at(catalog).put(std::move(id), std::move(row)); }
  // Extends the schema (new attributes, events, fields, enum values).
  void extendSchema(const ir::Schema& schema);
  // Drops the webhook ids seg received before `before`. Ids are kept by
  // when seg received them, never by the time the events claim.
  void forgetWebhooksBefore(std::int64_t before);
  // When seg received the newest webhook event it remembers (0: none).
  std::int64_t newestWebhookReceipt() const { return newestWebhookReceipt_; }
  void optimize();

  struct Footprint {
    std::size_t friendBytes = 0, eventBytes = 0, indexBytes = 0;
  };
  Footprint footprint() const;

  void write(BinaryWriter& out) const;
  // `withAutomation`: snapshots from version 2 on carry automation state.
  static StoreState read(BinaryReader& in, ir::Schema schema, std::uint32_t version);

 private:
  std::uint32_t intern(const UserId& user);
  void growTo(std::uint32_t friends);
  void applyOne(const Mutation& m, std::vector<std::vector<EventRow>>& pending);
  void flushEvents(std::vector<std::vector<EventRow>>& pending);
  void setAttribute(std::uint32_t id, std::size_t index, const Value& value);
  // Follow and unfollow set state by their time, not their arrival: the
  // later one decides whether the friend is blocked.
  void follow(std::uint32_t id, std::int64_t time);
  void unfollow(std::uint32_t id, std::int64_t time);
  void updateBlocked(std::uint32_t id);
  // Attributes and tags set by events (rule actions: the change carries
  // the event's time) go by that time, not by arrival: a change older
  // than the last one applied to the same friend and slot is left out.
  // Imports (time 0) always apply.
  bool newerThanLastSet(std::uint32_t id, const std::string& slot, std::int64_t time);
  std::string unstorableRow(const Mutation& m) const;

  ir::Schema schema_;
  FriendTable friends_;
  std::uint32_t capacity_ = 0;  // columns are sized ahead of the friend count
  std::vector<AttributeColumn> attributes_;
  std::vector<EventLog> events_;
  std::vector<CatalogTable> catalogs_;  // by schema_.catalogs
  std::map<std::string, Bitmap> tags_;
  std::map<std::string, Audience> audiences_;
  std::map<std::string, MessageStatus> messageStatus_;
  std::unordered_map<std::string, std::int64_t> webhookSeen_;  // id -> when received
  std::int64_t newestWebhookReceipt_ = 0;
  AutomationState automation_;
  std::map<std::string, ImportRecord> imports_;
  std::map<std::uint64_t, InboxItem> inbox_;
  std::uint64_t nextInboxItem_ = 0;
  std::vector<std::string> slotNames_;  // "a<index>" or "t<tag>"
  std::unordered_map<std::string, std::uint32_t> slotIds_;
  std::unordered_map<std::uint64_t, std::int64_t> lastSet_;  // friend << 32 | slot -> event time
  // Each friend's latest unfollow (kNoTime: none); derived from the
  // unfollow log, so not stored.
  static constexpr std::int64_t kNoTime = INT64_MIN;
  std::vector<std::int64_t> lastUnfollow_;
  std::size_t scoreIndex_, followedAtIndex_, blockedIndex_;
  std::size_t followIndex_, unfollowIndex_;
};

}  // namespace seg
