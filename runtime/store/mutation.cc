#include "runtime/store/mutation.h"

namespace seg {
namespace {

void writeUser(BinaryWriter& out, const UserId& user) { out.raw(user.bytes.data(), user.bytes.size()); }

UserId readUser(BinaryReader& in) {
  UserId user;
  in.raw(user.bytes.data(), user.bytes.size());
  return user;
}

// The automation kinds share one layout: every field, whatever is unused.
void writeAll(BinaryWriter& out, const Mutation& m) {
  writeUser(out, m.user);
  out.bytes(m.name);
  out.varint(m.index);
  out.svarint(m.time);
  writeValue(out, m.value);
  out.u8(m.on ? 1 : 0);
  out.varint(m.fields.size());
  for (const Value& v : m.fields) writeValue(out, v);
  out.varint(m.users.size());
  for (const UserId& u : m.users) writeUser(out, u);
}

void readAll(BinaryReader& in, Mutation& m) {
  m.user = readUser(in);
  m.name = in.bytes();
  m.index = static_cast<std::uint32_t>(in.varint());
  m.time = in.svarint();
  m.value = readValue(in);
  m.on = in.u8() != 0;
  const std::size_t fields = in.count(1);
  for (std::size_t i = 0; i < fields; ++i) m.fields.push_back(readValue(in));
  const std::size_t users = in.count(16);
  m.users.resize(users);
  for (std::size_t i = 0; i < users; ++i) m.users[i] = readUser(in);
}

}  // namespace

void writeValue(BinaryWriter& out, const Value& v) {
  out.u8(static_cast<std::uint8_t>(v.kind));
  switch (v.kind) {
    case Value::Kind::Missing: break;
    case Value::Kind::Int:
    case Value::Kind::Bool: out.svarint(v.i); break;
    case Value::Kind::String: out.bytes(v.s); break;
  }
}

Value readValue(BinaryReader& in) {
  const std::uint8_t kind = in.u8();
  switch (kind) {
    case 0: return Value::missing();
    case 1: return Value::ofInt(in.svarint());
    case 2: return Value::ofBool(in.svarint() != 0);
    case 3: return Value::ofString(std::string(in.bytes()));
    default: throw CorruptData("unknown value kind");
  }
}

void Mutation::encode(BinaryWriter& out) const {
  if ((kind == Kind::SetAttribute || kind == Kind::Tag) && time != 0) {
    // Older logs have these without a time: a code of its own keeps them readable.
    out.u8(static_cast<std::uint8_t>(kind == Kind::SetAttribute ? Kind::TimedSetAttribute : Kind::TimedTag));
    writeAll(out, *this);
    return;
  }
  out.u8(static_cast<std::uint8_t>(kind));
  switch (kind) {
    case Kind::AddFriend: writeUser(out, user); break;
    case Kind::SetAttribute:
      writeUser(out, user);
      out.varint(index);
      writeValue(out, value);
      break;
    case Kind::Tag:
      writeUser(out, user);
      out.bytes(name);
      out.u8(on ? 1 : 0);
      break;
    case Kind::AddScore:
      writeUser(out, user);
      out.svarint(value.i);
      break;
    case Kind::Follow:
      writeUser(out, user);
      out.svarint(time);
      out.u8(on ? 1 : 0);
      break;
    case Kind::Unfollow:
      writeUser(out, user);
      out.svarint(time);
      break;
    case Kind::AppendEvent:
      writeUser(out, user);
      out.varint(index);
      out.svarint(time);
      out.varint(fields.size());
      for (const Value& v : fields) writeValue(out, v);
      break;
    case Kind::AudienceAdd:
      out.bytes(name);
      out.svarint(time);
      out.varint(users.size());
      for (const UserId& u : users) writeUser(out, u);
      break;
    case Kind::MessageStatus:
      writeUser(out, user);
      out.bytes(name);
      out.u8(static_cast<std::uint8_t>(status));
      out.svarint(time);
      break;
    case Kind::WebhookSeen:
      out.bytes(name);
      out.svarint(time);
      break;
    case Kind::ScenarioEnrol:
    case Kind::ScenarioStep:
    case Kind::ScenarioLeave:
    case Kind::CapCharge:
    case Kind::MenuLink:
    case Kind::OutboxAdd:
    case Kind::OutboxDone:
    case Kind::CampaignRan:
    case Kind::SendSkipped:
    case Kind::RichMenuAlias:
    case Kind::ImportProgress:
    case Kind::InboxAdd:
    case Kind::InboxDone:
    case Kind::OutboxFailed:
    case Kind::OutboxTried:
    case Kind::NarrowcastOutcome:
    case Kind::TimedSetAttribute:
    case Kind::TimedTag:
    case Kind::CatalogPut: writeAll(out, *this); break;
  }
}

Mutation Mutation::decode(BinaryReader& in) {
  Mutation m;
  const std::uint8_t kind = in.u8();
  if (kind > static_cast<std::uint8_t>(Kind::CatalogPut)) throw CorruptData("unknown change kind");
  m.kind = static_cast<Kind>(kind);
  if (m.kind == Kind::TimedSetAttribute || m.kind == Kind::TimedTag) {
    readAll(in, m);
    m.kind = m.kind == Kind::TimedSetAttribute ? Kind::SetAttribute : Kind::Tag;
    return m;
  }
  switch (m.kind) {
    case Kind::AddFriend: m.user = readUser(in); break;
    case Kind::SetAttribute:
      m.user = readUser(in);
      m.index = static_cast<std::uint32_t>(in.varint());
      m.value = readValue(in);
      break;
    case Kind::Tag:
      m.user = readUser(in);
      m.name = in.bytes();
      m.on = in.u8() != 0;
      break;
    case Kind::AddScore:
      m.user = readUser(in);
      m.value = Value::ofInt(in.svarint());
      break;
    case Kind::Follow:
      m.user = readUser(in);
      m.time = in.svarint();
      m.on = in.u8() != 0;
      break;
    case Kind::Unfollow:
      m.user = readUser(in);
      m.time = in.svarint();
      break;
    case Kind::AppendEvent: {
      m.user = readUser(in);
      m.index = static_cast<std::uint32_t>(in.varint());
      m.time = in.svarint();
      const std::size_t n = in.count(1);
      for (std::size_t i = 0; i < n; ++i) m.fields.push_back(readValue(in));
      break;
    }
    case Kind::AudienceAdd: {
      m.name = in.bytes();
      m.time = in.svarint();
      const std::size_t n = in.count(16);
      m.users.resize(n);
      for (std::size_t i = 0; i < n; ++i) m.users[i] = readUser(in);
      break;
    }
    case Kind::MessageStatus: {
      m.user = readUser(in);
      m.name = in.bytes();
      const std::uint8_t status = in.u8();
      if (status >= kMessageStatusKinds) throw CorruptData("unknown message status");
      m.status = static_cast<MessageStatusKind>(status);
      m.time = in.svarint();
      break;
    }
    case Kind::WebhookSeen:
      m.name = in.bytes();
      m.time = in.svarint();
      break;
    case Kind::ScenarioEnrol:
    case Kind::ScenarioStep:
    case Kind::ScenarioLeave:
    case Kind::CapCharge:
    case Kind::MenuLink:
    case Kind::OutboxAdd:
    case Kind::OutboxDone:
    case Kind::CampaignRan:
    case Kind::SendSkipped:
    case Kind::RichMenuAlias:
    case Kind::ImportProgress:
    case Kind::InboxAdd:
    case Kind::InboxDone:
    case Kind::OutboxFailed:
    case Kind::OutboxTried:
    case Kind::NarrowcastOutcome:
    case Kind::TimedSetAttribute:
    case Kind::TimedTag:
    case Kind::CatalogPut: readAll(in, m); break;
  }
  return m;
}

}  // namespace seg
