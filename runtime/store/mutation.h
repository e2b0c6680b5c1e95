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

enum class MessageStatusKind : std::uint8_t { Received, Opened, Clicked };

struct Mutation {
  enum class Kind : std::uint8_t {
    AddFriend,       // user: known from now on, nothing else
    SetAttribute,    // user, index: attribute, value (missing clears)
    Tag,             // user, name, on
    AddScore,        // user, value.i: delta
    Follow,          // user, time, on: unblocked
    Unfollow,        // user, time
    AppendEvent,     // user, index: event, time, fields
    AudienceAdd,     // name, time: created, users
    MessageStatus,   // user, name, status, time
    WebhookSeen,     // name: webhookEventId, time
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
