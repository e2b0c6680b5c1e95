#include "runtime/store/store_state.h"

#include <algorithm>

#include "runtime/store/bitmap_io.h"

namespace seg {

// --------------------------------------------------------------- FriendTable

std::optional<std::uint32_t> FriendTable::find(const UserId& user) const {
  if (slots_.empty()) return std::nullopt;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = user.hash() & mask;; slot = (slot + 1) & mask) {
    const std::uint32_t id = slots_[slot];
    if (id == kNoRow) return std::nullopt;
    if (users_[id] == user) return id;
  }
}

std::uint32_t FriendTable::intern(const UserId& user, bool& added) {
  added = false;
  if (auto id = find(user)) return *id;
  if ((users_.size() + 1) * 2 > slots_.size()) rehash(std::max<std::size_t>(1024, slots_.size() * 2));
  const auto id = static_cast<std::uint32_t>(users_.size());
  users_.push_back(user);
  const std::size_t mask = slots_.size() - 1;
  std::size_t slot = user.hash() & mask;
  while (slots_[slot] != kNoRow) slot = (slot + 1) & mask;
  slots_[slot] = id;
  added = true;
  return id;
}

void FriendTable::rehash(std::size_t slots) {
  slots_.assign(slots, kNoRow);
  const std::size_t mask = slots - 1;
  for (std::uint32_t id = 0; id < users_.size(); ++id) {
    std::size_t slot = users_[id].hash() & mask;
    while (slots_[slot] != kNoRow) slot = (slot + 1) & mask;
    slots_[slot] = id;
  }
}

void FriendTable::assign(std::vector<UserId> users) {
  users_ = std::move(users);
  std::size_t slots = 1024;
  while (slots < users_.size() * 2) slots *= 2;
  rehash(slots);
}

std::size_t FriendTable::memoryBytes() const { return users_.capacity() * sizeof(UserId) + slots_.capacity() * 4; }

// ---------------------------------------------------------------- StoreState

StoreState::StoreState(ir::Schema schema) : schema_(std::move(schema)) {
  for (const ir::ColumnSpec& c : schema_.attributes) attributes_.emplace_back(c);
  for (const ir::EventSpec& e : schema_.events) events_.emplace_back(e);
  catalogs_.resize(schema_.catalogs.size());
  const auto need = [&](std::optional<std::size_t> index, const char* what) {
    if (!index) throw CorruptData(std::string("schema lacks the built-in `") + what + "`");
    return *index;
  };
  scoreIndex_ = need(schema_.attribute("score"), "score");
  followedAtIndex_ = need(schema_.attribute("followed_at"), "followed_at");
  blockedIndex_ = need(schema_.attribute("blocked"), "blocked");
  followIndex_ = need(schema_.event("follow"), "follow");
  unfollowIndex_ = need(schema_.event("unfollow"), "unfollow");
}

const AttributeColumn* StoreState::attribute(const std::string& name) const {
  const auto index = schema_.attribute(name);
  return index ? &attributes_[*index] : nullptr;
}

const EventLog* StoreState::events(const std::string& name) const {
  const auto index = schema_.event(name);
  return index ? &events_[*index] : nullptr;
}

const ImportRecord* StoreState::importRecord(const std::string& key) const {
  const auto it = imports_.find(key);
  return it == imports_.end() ? nullptr : &it->second;
}

const Bitmap& StoreState::blocked() const { return *attributes_[blockedIndex_].valueBitmap(1); }

void StoreState::growTo(std::uint32_t friends) {
  if (friends <= capacity_) return;
  capacity_ = std::max<std::uint32_t>(friends, std::max<std::uint32_t>(1024, capacity_ + capacity_ / 2));
  for (AttributeColumn& c : attributes_) c.resize(capacity_);
  for (EventLog& e : events_) e.resizeFriends(capacity_);
  lastUnfollow_.resize(capacity_, kNoTime);
}

std::uint32_t StoreState::intern(const UserId& user) {
  bool added = false;
  const std::uint32_t id = friends_.intern(user, added);
  if (added) growTo(friends_.size());
  return id;
}

namespace {

// Why `value` cannot be stored in a column of `spec`, or "".
std::string unstorable(const ir::ColumnSpec& spec, const Value& value) {
  if (value.isMissing()) return "";
  const ir::ValueType type = spec.type;
  const bool fits = (type == ir::ValueType::String && value.kind == Value::Kind::String) ||
                    (type == ir::ValueType::Bool && value.kind == Value::Kind::Bool) ||
                    (ir::isIntegral(type) && value.kind == Value::Kind::Int);
  if (!fits) return "value of the wrong type for `" + spec.name + "`";
  if (value.kind == Value::Kind::Int && value.i == AttributeColumn::kMissing) {
    return "the smallest 64-bit integer is not a storable value";
  }
  if (type == ir::ValueType::Enum && (value.i < 0 || static_cast<std::size_t>(value.i) >= spec.enumValues.size())) {
    return "enum rank out of range for `" + spec.name + "`";
  }
  return "";
}

}  // namespace

// Why a catalog row cannot be stored ("" when it can).
std::string StoreState::unstorableRow(const Mutation& m) const {
  if (m.index >= schema_.catalogs.size()) return "catalog index out of range";
  const ir::EventSpec& spec = schema_.catalogs[m.index];
  if (m.fields.size() > spec.fields.size()) return "more fields than catalog `" + spec.name + "` has";
  const std::optional<std::size_t> id = spec.field("id");
  if (!id || *id >= m.fields.size() || m.fields[*id].kind != Value::Kind::String || m.fields[*id].s.empty()) {
    return "a row of catalog `" + spec.name + "` without its id";
  }
  for (std::size_t f = 0; f < m.fields.size(); ++f) {
    if (std::string why = unstorable(spec.fields[f], m.fields[f]); !why.empty()) return why;
  }
  return "";
}

void StoreState::validate(const std::vector<Mutation>& changes) const {
  using Kind = Mutation::Kind;
  for (const Mutation& m : changes) {
    std::string why;
    if (m.kind == Kind::SetAttribute) {
      why = m.index >= attributes_.size() ? "attribute index out of range" : unstorable(attributes_[m.index].spec(), m.value);
    } else if (m.kind == Kind::ImportProgress) {
      if (m.fields.size() != 2 || m.fields[0].kind != Value::Kind::Int || m.fields[1].kind != Value::Kind::Int) {
        why = "import progress without its counts";
      }
    } else if (m.kind == Kind::CatalogPut) {
      why = unstorableRow(m);
    } else if (m.kind == Kind::AppendEvent) {
      if (m.index >= events_.size()) {
        why = "event index out of range";
      } else {
        const EventLog& log = events_[m.index];
        if (m.fields.size() > log.fieldCount()) why = "more fields than event `" + log.spec().name + "` has";
        for (std::size_t f = 0; why.empty() && f < m.fields.size(); ++f) why = unstorable(log.field(f).spec(), m.fields[f]);
      }
    }
    if (!why.empty()) throw CorruptData(why);
  }
}

bool StoreState::newerThanLastSet(std::uint32_t id, const std::string& slot, std::int64_t time) {
  if (time == 0) return true;
  auto [it, added] = slotIds_.try_emplace(slot, static_cast<std::uint32_t>(slotNames_.size()));
  if (added) slotNames_.push_back(slot);
  std::int64_t& last = lastSet_.try_emplace(static_cast<std::uint64_t>(id) << 32 | it->second, time).first->second;
  if (time < last) return false;  // equal times: in arrival order
  last = time;
  return true;
}

void StoreState::setAttribute(std::uint32_t id, std::size_t index, const Value& value) {
  if (index >= attributes_.size()) throw CorruptData("attribute index out of range");
  AttributeColumn& column = attributes_[index];
  if (const std::string why = unstorable(column.spec(), value); !why.empty()) throw CorruptData(why);
  column.set(id, value);
}

void StoreState::updateBlocked(std::uint32_t id) {
  const AttributeColumn& followedAt = attributes_[followedAtIndex_];
  const std::int64_t unfollowed = lastUnfollow_[id];
  if (unfollowed == kNoTime) {
    if (followedAt.has(id)) attributes_[blockedIndex_].set(id, Value::ofBool(false));
    return;
  }
  // An unfollow at the same second as a follow counts as later: seg would
  // rather miss a friend than write to one who blocked it.
  const bool blocked = !followedAt.has(id) || followedAt.intAt(id) <= unfollowed;
  attributes_[blockedIndex_].set(id, Value::ofBool(blocked));
}

void StoreState::follow(std::uint32_t id, std::int64_t time) {
  AttributeColumn& followedAt = attributes_[followedAtIndex_];
  if (!followedAt.has(id) || followedAt.intAt(id) < time) followedAt.set(id, Value::ofInt(time));
  updateBlocked(id);
}

void StoreState::unfollow(std::uint32_t id, std::int64_t time) {
  lastUnfollow_[id] = std::max(lastUnfollow_[id], time);
  updateBlocked(id);
}

void StoreState::flushEvents(std::vector<std::vector<EventRow>>& pending) {
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (!pending[i].empty()) events_[i].append(std::move(pending[i]));
    pending[i].clear();
  }
}

void StoreState::applyOne(const Mutation& m, std::vector<std::vector<EventRow>>& pending) {
  using Kind = Mutation::Kind;
  switch (m.kind) {
    case Kind::AddFriend: intern(m.user); break;
    case Kind::SetAttribute: {
      const std::uint32_t id = intern(m.user);
      if (newerThanLastSet(id, "a" + std::to_string(m.index), m.time)) setAttribute(id, m.index, m.value);
      break;
    }
    case Kind::Tag: {
      const std::uint32_t id = intern(m.user);
      if (!newerThanLastSet(id, "t" + m.name, m.time)) break;
      if (m.on) {
        tags_[m.name].add(id);
      } else if (auto it = tags_.find(m.name); it != tags_.end()) {
        it->second.remove(id);
      }
      break;
    }
    case Kind::AddScore: {
      const std::uint32_t id = intern(m.user);
      AttributeColumn& score = attributes_[scoreIndex_];
      const std::int64_t current = score.has(id) ? score.intAt(id) : 0;
      score.set(id, Value::ofInt(current + m.value.i));
      break;
    }
    case Kind::Follow: {
      const std::uint32_t id = intern(m.user);
      follow(id, m.time);
      pending[followIndex_].push_back({id, m.time, {Value::ofBool(m.on)}});
      break;
    }
    case Kind::Unfollow: {
      const std::uint32_t id = intern(m.user);
      unfollow(id, m.time);
      pending[unfollowIndex_].push_back({id, m.time, {}});
      break;
    }
    case Kind::AppendEvent: {
      if (m.index >= events_.size()) throw CorruptData("event index out of range");
      const std::uint32_t id = intern(m.user);
      pending[m.index].push_back({id, m.time, m.fields});
      break;
    }
    case Kind::AudienceAdd: {
      std::vector<std::uint32_t> ids;
      ids.reserve(m.users.size());
      for (const UserId& user : m.users) ids.push_back(intern(user));
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      auto [it, created] = audiences_.try_emplace(m.name);
      // An upload under the name of an expired audience is a new audience.
      if (!created && it->second.expiredAt(m.time)) it->second = Audience();
      if (created || it->second.members.empty()) it->second.createdAt = m.time;
      it->second.members.addSorted(ids);
      break;
    }
    case Kind::MessageStatus:
      messageStatus_[m.name].byKind[static_cast<std::size_t>(m.status)].add(intern(m.user));
      break;
    case Kind::CatalogPut: {
      if (const std::string why = unstorableRow(m); !why.empty()) throw CorruptData(why);
      catalogs_[m.index].put(m.fields[*schema_.catalogs[m.index].field("id")].s, m.fields);
      break;
    }
    case Kind::WebhookSeen:
      webhookSeen_[m.name] = m.time;
      newestWebhookReceipt_ = std::max(newestWebhookReceipt_, m.time);
      break;
    case Kind::ScenarioEnrol:
    case Kind::ScenarioStep:
    case Kind::ScenarioLeave:
    case Kind::CapCharge:
    case Kind::MenuLink:
    case Kind::SendSkipped: automation_.apply(m, intern(m.user)); break;
    case Kind::OutboxAdd:
    case Kind::OutboxDone:
    case Kind::OutboxFailed:
    case Kind::OutboxTried:
    case Kind::NarrowcastOutcome:
    case Kind::CampaignRan:
    case Kind::RichMenuAlias: automation_.apply(m, 0); break;
    case Kind::InboxAdd:
      // A redelivery (an id seen, or waiting already) is not taken twice.
      if (!m.name.empty() && webhookSeen_.contains(m.name)) break;
      if (!m.name.empty()) {
        webhookSeen_[m.name] = m.time;
        newestWebhookReceipt_ = std::max(newestWebhookReceipt_, m.time);
      }
      inbox_.emplace(nextInboxItem_++, InboxItem{m.name, m.time, m.value.s});
      break;
    case Kind::InboxDone: inbox_.erase(static_cast<std::uint64_t>(m.value.i)); break;
    case Kind::TimedSetAttribute:
    case Kind::TimedTag: throw CorruptData("a log-only change code in memory");
    case Kind::ImportProgress: {
      if (m.fields.size() != 2) throw CorruptData("import progress without its counts");
      ImportRecord& record = imports_[m.name];
      record = {m.value.s, static_cast<std::uint64_t>(m.fields[0].i), static_cast<std::uint64_t>(m.fields[1].i), m.on, m.time};
      if (imports_.size() > kImportsKept) {
        // Forget the oldest: a file imported that long ago is not re-run after a crash.
        auto oldest = std::min_element(imports_.begin(), imports_.end(),
                                       [](const auto& a, const auto& b) { return a.second.time < b.second.time; });
        imports_.erase(oldest);
      }
      break;
    }
  }
}

void StoreState::apply(const std::vector<Mutation>& changes) {
  std::vector<std::vector<EventRow>> pending(events_.size());
  for (const Mutation& m : changes) {
    // Attribute changes do not depend on events, so events can wait; only
    // keep the batches bounded.
    applyOne(m, pending);
  }
  flushEvents(pending);
}

// `schema` is the stored one grown by mergeSchemas: what exists keeps its
// place, so existing columns and logs only learn their new specs.
void StoreState::extendSchema(const ir::Schema& schema) {
  for (std::size_t i = 0; i < schema.attributes.size(); ++i) {
    if (i < attributes_.size()) {
      attributes_[i].extendSpec(schema.attributes[i]);
      continue;
    }
    attributes_.emplace_back(schema.attributes[i]);
    attributes_.back().resize(capacity_);
  }
  for (std::size_t i = 0; i < schema.events.size(); ++i) {
    if (i < events_.size()) {
      events_[i].extendSpec(schema.events[i]);
      continue;
    }
    events_.emplace_back(schema.events[i]);
    events_.back().resizeFriends(capacity_);
  }
  catalogs_.resize(schema.catalogs.size());
  schema_ = schema;
}

void StoreState::forgetWebhooksBefore(std::int64_t before) {
  std::erase_if(webhookSeen_, [&](const auto& entry) { return entry.second < before; });
}

void StoreState::optimize() {
  for (AttributeColumn& c : attributes_) c.optimize();
  for (EventLog& e : events_) e.optimize();
  for (auto& [name, bitmap] : tags_) bitmap.optimize();
  for (auto& [name, audience] : audiences_) audience.members.optimize();
}

StoreState::Footprint StoreState::footprint() const {
  Footprint out;
  out.friendBytes = friends_.memoryBytes();
  for (const AttributeColumn& c : attributes_) {
    out.friendBytes += c.memoryBytes();
    out.indexBytes += c.indexBytes();
  }
  for (const EventLog& e : events_) {
    out.eventBytes += e.memoryBytes();
    out.indexBytes += e.indexBytes();
  }
  for (const auto& [name, bitmap] : tags_) out.indexBytes += bitmap.sizeInBytes();
  for (const auto& [name, audience] : audiences_) out.indexBytes += audience.members.sizeInBytes();
  for (const auto& [name, status] : messageStatus_) {
    for (const Bitmap& b : status.byKind) out.indexBytes += b.sizeInBytes();
  }
  return out;
}

void StoreState::write(BinaryWriter& out) const {
  const std::uint32_t n = friends_.size();
  out.varint(n);
  out.raw(friends_.users().data(), n * sizeof(UserId));
  out.varint(attributes_.size());
  for (const AttributeColumn& c : attributes_) c.write(out, n);
  out.varint(events_.size());
  for (const EventLog& e : events_) e.write(out);
  out.varint(tags_.size());
  for (const auto& [name, bitmap] : tags_) {
    out.bytes(name);
    writeBitmap(out, bitmap);
  }
  out.varint(audiences_.size());
  for (const auto& [name, audience] : audiences_) {
    out.bytes(name);
    out.svarint(audience.createdAt);
    writeBitmap(out, audience.members);
  }
  out.varint(messageStatus_.size());
  for (const auto& [name, status] : messageStatus_) {
    out.bytes(name);
    for (const Bitmap& b : status.byKind) writeBitmap(out, b);
  }
  out.varint(webhookSeen_.size());
  for (const auto& [id, time] : webhookSeen_) {
    out.bytes(id);
    out.svarint(time);
  }
  automation_.write(out);
  out.varint(imports_.size());
  for (const auto& [key, record] : imports_) {
    out.bytes(key);
    out.bytes(record.file);
    out.varint(record.bytes);
    out.varint(record.records);
    out.u8(record.complete ? 1 : 0);
    out.svarint(record.time);
  }
  out.varint(nextInboxItem_);
  out.varint(inbox_.size());
  for (const auto& [sequence, item] : inbox_) {
    out.varint(sequence);
    out.bytes(item.eventId);
    out.svarint(item.receivedAt);
    out.bytes(item.event);
  }
  out.varint(slotNames_.size());
  for (const std::string& slot : slotNames_) out.bytes(slot);
  std::vector<std::pair<std::uint64_t, std::int64_t>> sorted(lastSet_.begin(), lastSet_.end());
  std::sort(sorted.begin(), sorted.end());  // equal states write equal snapshots
  out.varint(sorted.size());
  for (const auto& [key, time] : sorted) {
    out.fixed64(key);
    out.svarint(time);
  }
  out.varint(catalogs_.size());
  for (const CatalogTable& c : catalogs_) c.write(out);
}

const std::vector<Value>* CatalogTable::find(std::string_view id) const {
  const auto it = rows_.find(id);
  return it == rows_.end() ? nullptr : &it->second;
}

void CatalogTable::put(std::string id, std::vector<Value> row) { rows_.insert_or_assign(std::move(id), std::move(row)); }

void CatalogTable::write(BinaryWriter& out) const {
  // By id, so that equal states write equal snapshots.
  std::vector<const std::pair<const std::string, std::vector<Value>>*> sorted;
  for (const auto& row : rows_) sorted.push_back(&row);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  out.varint(sorted.size());
  for (const auto* row : sorted) {
    out.bytes(row->first);
    out.varint(row->second.size());
    for (const Value& v : row->second) writeValue(out, v);
  }
}

void CatalogTable::read(BinaryReader& in) {
  const std::size_t rows = in.count(2);
  for (std::size_t r = 0; r < rows; ++r) {
    std::string id(in.bytes());
    const std::size_t fields = in.count(1);
    std::vector<Value> row;
    for (std::size_t f = 0; f < fields; ++f) row.push_back(readValue(in));
    rows_.insert_or_assign(std::move(id), std::move(row));
  }
}

StoreState StoreState::read(BinaryReader& in, ir::Schema schema, std::uint32_t version) {
  StoreState state(std::move(schema));
  const std::size_t n = in.count(sizeof(UserId));
  if (n > kNoRow) throw CorruptData("too many friends");
  std::vector<UserId> users(n);
  in.raw(users.data(), n * sizeof(UserId));
  state.friends_.assign(std::move(users));
  const auto friends = static_cast<std::uint32_t>(n);
  if (in.varint() != state.attributes_.size()) throw CorruptData("attribute count does not match the schema");
  for (AttributeColumn& c : state.attributes_) c.read(in, friends, version < 3);
  if (in.varint() != state.events_.size()) throw CorruptData("event count does not match the schema");
  for (EventLog& e : state.events_) e.read(in, friends);
  state.capacity_ = friends;
  state.lastUnfollow_.assign(friends, kNoTime);
  state.growTo(friends + 1);
  const EventLog& unfollows = state.events_[state.unfollowIndex_];
  for (std::size_t row = 0; row < unfollows.size(); ++row) {
    std::int64_t& last = state.lastUnfollow_[unfollows.friendAt(row)];
    last = std::max(last, unfollows.timeAt(row));
  }
  const auto readNamedBitmaps = [&](auto&& store) {
    const std::size_t count = in.count(2);
    for (std::size_t i = 0; i < count; ++i) store(std::string(in.bytes()));
  };
  readNamedBitmaps([&](std::string name) { state.tags_.emplace(std::move(name), readBitmap(in)); });
  readNamedBitmaps([&](std::string name) {
    Audience audience;
    audience.createdAt = in.svarint();
    audience.members = readBitmap(in);
    state.audiences_.emplace(std::move(name), std::move(audience));
  });
  readNamedBitmaps([&](std::string name) {
    MessageStatus status;
    // Format 4 added the targeted status.
    const std::size_t kinds = version >= 4 ? kMessageStatusKinds : 3;
    for (std::size_t k = 0; k < kinds; ++k) status.byKind[k] = readBitmap(in);
    state.messageStatus_.emplace(std::move(name), std::move(status));
  });
  readNamedBitmaps([&](std::string id) {
    const std::int64_t received = in.svarint();
    state.newestWebhookReceipt_ = std::max(state.newestWebhookReceipt_, received);
    state.webhookSeen_.emplace(std::move(id), received);
  });
  if (version >= 2) state.automation_.read(in, version);
  if (version >= 5) {
    const std::size_t imports = in.count(4);
    for (std::size_t i = 0; i < imports; ++i) {
      std::string key(in.bytes());
      ImportRecord& record = state.imports_[key];
      record.file = in.bytes();
      record.bytes = in.varint();
      record.records = in.varint();
      record.complete = in.u8() != 0;
      record.time = in.svarint();
    }
  }
  if (version >= 6) {
    state.nextInboxItem_ = in.varint();
    const std::size_t items = in.count(4);
    for (std::size_t i = 0; i < items; ++i) {
      const std::uint64_t sequence = in.varint();
      InboxItem item;
      item.eventId = in.bytes();
      item.receivedAt = in.svarint();
      item.event = in.bytes();
      if (sequence >= state.nextInboxItem_) throw CorruptData("an inbox item numbered past the next");
      state.inbox_.emplace(sequence, std::move(item));
    }
  }
  if (version >= 8) {
    const std::size_t slots = in.count(1);
    for (std::size_t i = 0; i < slots; ++i) {
      std::string slot(in.bytes());
      state.slotIds_.emplace(slot, static_cast<std::uint32_t>(i));
      state.slotNames_.push_back(std::move(slot));
    }
    const std::size_t set = in.count(9);
    for (std::size_t i = 0; i < set; ++i) {
      const std::uint64_t key = in.fixed64();
      if ((key & 0xffffffffu) >= slots || (key >> 32) >= n) throw CorruptData("a set-time for an unknown friend or slot");
      state.lastSet_[key] = in.svarint();
    }
  }
  if (version >= 10) {
    if (in.varint() != state.catalogs_.size()) throw CorruptData("catalog count does not match the schema");
    for (CatalogTable& c : state.catalogs_) c.read(in);
  }
  return state;
}

}  // namespace seg
