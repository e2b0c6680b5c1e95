#include "runtime/store/automation_state.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace seg {
namespace {

const std::string kNone;

// Trigger fields in snapshots: as writeValue, but a missing value keeps a
// 0 after its kind (the format since version 2).
void writeTriggerValue(BinaryWriter& out, const Value& v) {
  out.u8(static_cast<std::uint8_t>(v.kind));
  if (v.kind == Value::Kind::String) {
    out.bytes(v.s);
  } else {
    out.svarint(v.i);
  }
}

Value readTriggerValue(BinaryReader& in) {
  Value v;
  const std::uint8_t kind = in.u8();
  if (kind > static_cast<std::uint8_t>(Value::Kind::String)) throw CorruptData("unknown value kind");
  v.kind = static_cast<Value::Kind>(kind);
  if (v.kind == Value::Kind::String) {
    v.s = in.bytes();
  } else {
    v.i = in.svarint();
  }
  return v;
}

void writeUser(BinaryWriter& out, const UserId& user) { out.raw(user.bytes.data(), user.bytes.size()); }

UserId readUser(BinaryReader& in) {
  UserId user;
  in.raw(user.bytes.data(), user.bytes.size());
  return user;
}

// The `expires` of a request's JSON (runtime/send/line_requests.h), 0 when
// none. Only requests marked as expiring are read.
std::int64_t expiryOf(const std::string& request) {
  try {
    const nlohmann::json j = nlohmann::json::parse(request);
    return j.value("expires", std::int64_t{0});
  } catch (const nlohmann::json::exception&) {
    throw CorruptData("an outbox request that is not JSON");
  }
}

void writeEntry(BinaryWriter& out, const OutboxEntry& e) {
  out.bytes(e.request);
  out.svarint(e.plannedAt);
  out.svarint(e.notBefore);
  out.varint(e.users.size());
  for (const UserId& u : e.users) writeUser(out, u);
  out.varint(e.carries.size());
  for (const std::string& c : e.carries) out.bytes(c);
  out.svarint(e.triedAt);
}

OutboxEntry readEntry(BinaryReader& in, std::uint32_t version) {
  OutboxEntry e;
  e.request = in.bytes();
  e.plannedAt = in.svarint();
  e.notBefore = in.svarint();
  const std::size_t users = in.count(16);
  for (std::size_t u = 0; u < users; ++u) e.users.push_back(readUser(in));
  const std::size_t carries = in.count(1);
  for (std::size_t c = 0; c < carries; ++c) e.carries.emplace_back(in.bytes());
  if (e.request.find("\"expires\"") != std::string::npos) e.expiresAt = expiryOf(e.request);
  if (version >= 7) e.triedAt = in.svarint();
  return e;
}

}  // namespace

std::optional<std::uint32_t> AutomationState::scenarioId(const std::string& name) const {
  const auto it = scenarioIds_.find(name);
  if (it == scenarioIds_.end()) return std::nullopt;
  return it->second;
}

std::uint32_t AutomationState::internScenario(const std::string& name) {
  const auto [it, added] = scenarioIds_.try_emplace(name, static_cast<std::uint32_t>(scenarioNames_.size()));
  if (added) scenarioNames_.push_back(name);
  return it->second;
}

std::uint16_t AutomationState::internMenu(const std::string& name) {
  const auto it = std::find(menuNames_.begin(), menuNames_.end(), name);
  if (it != menuNames_.end()) return static_cast<std::uint16_t>(it - menuNames_.begin());
  if (menuNames_.size() > 0xFFFF) throw CorruptData("more rich menus than LINE allows");
  menuNames_.push_back(name);
  return static_cast<std::uint16_t>(menuNames_.size() - 1);
}

const Enrolment* AutomationState::enrolment(std::uint32_t friendId, std::uint32_t scenario) const {
  const auto it = enrolments_.find(key(friendId, scenario));
  return it == enrolments_.end() ? nullptr : &it->second;
}

std::vector<std::uint32_t> AutomationState::enrolmentsOf(std::uint32_t friendId) const {
  const auto it = enrolledBy_.find(friendId);
  return it == enrolledBy_.end() ? std::vector<std::uint32_t>{} : it->second;
}

std::optional<std::int64_t> AutomationState::lastEnrolled(std::uint32_t friendId, std::uint32_t scenario) const {
  const auto it = lastEnrolled_.find(key(friendId, scenario));
  if (it == lastEnrolled_.end()) return std::nullopt;
  return it->second;
}

std::size_t AutomationState::chargesSince(std::uint32_t friendId, std::int64_t since) const {
  const auto it = charges_.find(friendId);
  if (it == charges_.end()) return 0;
  const auto& times = it->second;
  return static_cast<std::size_t>(times.end() - std::lower_bound(times.begin(), times.end(), since));
}

const std::string& AutomationState::linkedMenu(std::uint32_t friendId) const {
  return friendId < linkedMenu_.size() ? menuNames_[linkedMenu_[friendId]] : kNone;
}

const std::string& AutomationState::rulesMenu(std::uint32_t friendId) const {
  return friendId < rulesMenu_.size() ? menuNames_[rulesMenu_[friendId]] : kNone;
}

std::optional<std::int64_t> AutomationState::campaignRan(const std::string& name) const {
  const CampaignRecord* record = campaignRecord(name);
  if (record == nullptr || !record->refused.empty()) return std::nullopt;
  return record->time;
}

const CampaignRecord* AutomationState::campaignRecord(const std::string& name) const {
  const auto it = campaigns_.find(name);
  return it == campaigns_.end() ? nullptr : &it->second;
}

const ResolvedAlias* AutomationState::alias(const std::string& alias) const {
  const auto it = aliases_.find(alias);
  return it == aliases_.end() ? nullptr : &it->second;
}

void AutomationState::leave(std::uint32_t friendId, std::uint32_t scenario) {
  const auto it = enrolments_.find(key(friendId, scenario));
  if (it == enrolments_.end()) return;
  timers_.erase({it->second.dueAt, friendId, scenario});
  enrolments_.erase(it);
  auto& list = enrolledBy_[friendId];
  list.erase(std::remove(list.begin(), list.end(), scenario), list.end());
  if (list.empty()) enrolledBy_.erase(friendId);
}

void AutomationState::setMenus(std::uint32_t friendId, std::uint16_t linked, std::uint16_t rules) {
  if (linkedMenu_.size() <= friendId) {
    linkedMenu_.resize(friendId + 1, 0);
    rulesMenu_.resize(friendId + 1, 0);
  }
  linkedMenu_[friendId] = linked;
  rulesMenu_[friendId] = rules;
}

void AutomationState::addToOutbox(const std::string& key, OutboxEntry entry) {
  const auto existing = outbox_.find(key);
  if (existing != outbox_.end()) {
    entry.sequence = existing->second.sequence;
    if (entry.triedAt == 0) entry.triedAt = existing->second.triedAt;
    expiring_.erase({existing->second.expiresAt, key});
  } else {
    entry.sequence = nextSequence_++;
  }
  if (entry.expiresAt != 0) expiring_.emplace(entry.expiresAt, key);
  outbox_[key] = std::move(entry);
}

void AutomationState::apply(const Mutation& m, std::uint32_t friendId) {
  using Kind = Mutation::Kind;
  switch (m.kind) {
    case Kind::ScenarioEnrol: {
      const std::uint32_t scenario = internScenario(m.name);
      leave(friendId, scenario);  // a re-entry restarts
      Enrolment e;
      e.enrolledAt = m.time;
      e.dueAt = m.value.i;
      e.triggerEvent = m.index == 0 ? kNoTriggerEvent : m.index - 1;
      e.triggerFields = m.fields;
      enrolments_.emplace(key(friendId, scenario), std::move(e));
      enrolledBy_[friendId].push_back(scenario);
      lastEnrolled_[key(friendId, scenario)] = m.time;
      timers_.insert({m.value.i, friendId, scenario});
      break;
    }
    case Kind::ScenarioStep: {
      const std::uint32_t scenario = internScenario(m.name);
      const auto it = enrolments_.find(key(friendId, scenario));
      if (it == enrolments_.end()) break;  // left meanwhile: nothing to advance
      timers_.erase({it->second.dueAt, friendId, scenario});
      it->second.nextStep = m.index;
      it->second.dueAt = m.value.i;
      timers_.insert({m.value.i, friendId, scenario});
      break;
    }
    case Kind::ScenarioLeave: {
      const std::uint32_t scenario = internScenario(m.name);
      leave(friendId, scenario);
      timers_.erase({m.time, friendId, scenario});  // a timer left without its enrolment, if any
      break;
    }
    case Kind::CapCharge: {
      auto& times = charges_[friendId];
      times.insert(std::upper_bound(times.begin(), times.end(), m.time), m.time);
      if (times.size() > kChargesKept) times.erase(times.begin(), times.end() - kChargesKept);
      break;
    }
    case Kind::MenuLink: setMenus(friendId, internMenu(m.name), internMenu(m.value.s)); break;
    case Kind::OutboxAdd: {
      OutboxEntry entry;
      entry.request = m.value.s;
      entry.plannedAt = m.time;
      entry.notBefore = m.time + m.index;
      entry.users = m.users;
      for (const Value& v : m.fields) entry.carries.push_back(v.s);
      if (m.on) entry.expiresAt = expiryOf(entry.request);
      addToOutbox(m.name, std::move(entry));
      break;
    }
    case Kind::OutboxDone: {
      const auto it = outbox_.find(m.name);
      if (it == outbox_.end()) break;
      // A narrowcast LINE accepted (its request id known): watched until done.
      if (m.on && !m.value.s.empty() && it->second.request.find("\"/v2/bot/message/narrowcast\"") != std::string::npos) {
        narrowcasts_[m.name] = {m.value.s, m.time, "", 0};
      }
      expiring_.erase({it->second.expiresAt, m.name});
      outbox_.erase(it);
      break;
    }
    case Kind::NarrowcastOutcome: {
      const auto it = narrowcasts_.find(m.name);
      if (it == narrowcasts_.end()) break;
      it->second.outcome = m.value.s;
      it->second.completedAt = m.time;
      forgetOldNarrowcasts();
      break;
    }
    case Kind::OutboxTried: {
      const auto it = outbox_.find(m.name);
      if (it != outbox_.end() && it->second.triedAt == 0) it->second.triedAt = m.time;
      break;
    }
    case Kind::OutboxFailed: {
      const auto it = outbox_.find(m.name);
      if (it == outbox_.end()) break;
      expiring_.erase({it->second.expiresAt, m.name});
      failed_[m.name] = {std::move(it->second), m.time, m.value.s};
      outbox_.erase(it);
      break;
    }
    case Kind::CampaignRan: campaigns_[m.name] = {m.time, m.value.s}; break;
    case Kind::RichMenuAlias: aliases_[m.name] = {m.value.s, m.time}; break;
    case Kind::SendSkipped: ++skipped_[m.name]; break;
    default: break;
  }
}

void AutomationState::write(BinaryWriter& out) const {
  out.varint(scenarioNames_.size());
  for (const std::string& name : scenarioNames_) out.bytes(name);
  out.varint(enrolments_.size());
  // Sorted, so equal states write equal snapshots.
  std::map<std::uint64_t, const Enrolment*> sorted;
  for (const auto& [k, e] : enrolments_) sorted.emplace(k, &e);
  for (const auto& [k, e] : sorted) {
    out.fixed64(k);
    out.svarint(e->enrolledAt);
    out.varint(e->nextStep);
    out.svarint(e->dueAt);
    out.fixed32(e->triggerEvent);
    out.varint(e->triggerFields.size());
    for (const Value& v : e->triggerFields) writeTriggerValue(out, v);
  }
  const std::map<std::uint64_t, std::int64_t> last(lastEnrolled_.begin(), lastEnrolled_.end());
  out.varint(last.size());
  for (const auto& [k, t] : last) {
    out.fixed64(k);
    out.svarint(t);
  }
  const std::map<std::uint32_t, std::vector<std::int64_t>> charges(charges_.begin(), charges_.end());
  out.varint(charges.size());
  for (const auto& [id, times] : charges) {
    out.varint(id);
    out.varint(times.size());
    for (std::int64_t t : times) out.svarint(t);
  }
  out.varint(menuNames_.size());
  for (const std::string& name : menuNames_) out.bytes(name);
  out.varint(linkedMenu_.size());
  for (std::size_t i = 0; i < linkedMenu_.size(); ++i) {
    out.varint(linkedMenu_[i]);
    out.varint(rulesMenu_[i]);
  }
  // In planning order; reading assigns the sequence again in this order.
  std::vector<const std::pair<const std::string, OutboxEntry>*> planned;
  for (const auto& entry : outbox_) planned.push_back(&entry);
  std::sort(planned.begin(), planned.end(), [](const auto* a, const auto* b) { return a->second.sequence < b->second.sequence; });
  out.varint(planned.size());
  for (const auto* entry : planned) {
    out.bytes(entry->first);
    writeEntry(out, entry->second);
  }
  out.varint(campaigns_.size());
  for (const auto& [name, record] : campaigns_) {
    out.bytes(name);
    out.svarint(record.time);
    out.bytes(record.refused);
  }
  out.varint(skipped_.size());
  for (const auto& [name, n] : skipped_) {
    out.bytes(name);
    out.varint(n);
  }
  out.varint(aliases_.size());
  for (const auto& [name, alias] : aliases_) {
    out.bytes(name);
    out.bytes(alias.richMenuId);
    out.svarint(alias.resolvedAt);
  }
  out.varint(failed_.size());
  for (const auto& [k, f] : failed_) {
    out.bytes(k);
    writeEntry(out, f.entry);
    out.svarint(f.failedAt);
    out.bytes(f.failure);
  }
  out.varint(narrowcasts_.size());
  for (const auto& [k, w] : narrowcasts_) {
    out.bytes(k);
    out.bytes(w.requestId);
    out.svarint(w.acceptedAt);
    out.bytes(w.outcome);
    out.svarint(w.completedAt);
  }
}

void AutomationState::read(BinaryReader& in, std::uint32_t version) {
  *this = AutomationState();
  const std::size_t scenarios = in.count(1);
  for (std::size_t i = 0; i < scenarios; ++i) internScenario(std::string(in.bytes()));
  const std::size_t enrolments = in.count(8);
  for (std::size_t i = 0; i < enrolments; ++i) {
    const std::uint64_t k = in.fixed64();
    Enrolment e;
    e.enrolledAt = in.svarint();
    e.nextStep = static_cast<std::uint32_t>(in.varint());
    e.dueAt = in.svarint();
    e.triggerEvent = in.fixed32();
    const std::size_t fields = in.count(1);
    for (std::size_t f = 0; f < fields; ++f) e.triggerFields.push_back(readTriggerValue(in));
    const auto friendId = static_cast<std::uint32_t>(k >> 32);
    const auto scenario = static_cast<std::uint32_t>(k);
    if (scenario >= scenarioNames_.size()) throw CorruptData("enrolment in an unknown scenario");
    timers_.insert({e.dueAt, friendId, scenario});
    enrolledBy_[friendId].push_back(scenario);
    enrolments_.emplace(k, std::move(e));
  }
  const std::size_t last = in.count(8);
  for (std::size_t i = 0; i < last; ++i) {
    const std::uint64_t k = in.fixed64();
    lastEnrolled_[k] = in.svarint();
  }
  const std::size_t charged = in.count(2);
  for (std::size_t i = 0; i < charged; ++i) {
    const auto id = static_cast<std::uint32_t>(in.varint());
    auto& times = charges_[id];
    const std::size_t n = in.count(1);
    for (std::size_t t = 0; t < n; ++t) times.push_back(in.svarint());
  }
  menuNames_.clear();
  const std::size_t menus = in.count(1);
  for (std::size_t i = 0; i < menus; ++i) menuNames_.emplace_back(in.bytes());
  if (menuNames_.empty() || !menuNames_[0].empty()) throw CorruptData("rich menu names");
  const std::size_t friends = in.count(2);
  linkedMenu_.resize(friends);
  rulesMenu_.resize(friends);
  for (std::size_t i = 0; i < friends; ++i) {
    linkedMenu_[i] = static_cast<std::uint16_t>(in.varint());
    rulesMenu_[i] = static_cast<std::uint16_t>(in.varint());
    if (linkedMenu_[i] >= menuNames_.size() || rulesMenu_[i] >= menuNames_.size()) throw CorruptData("rich menu index");
  }
  const std::size_t outbox = in.count(4);
  for (std::size_t i = 0; i < outbox; ++i) {
    std::string k(in.bytes());
    addToOutbox(k, readEntry(in, version));
  }
  const std::size_t campaigns = in.count(2);
  for (std::size_t i = 0; i < campaigns; ++i) {
    std::string name(in.bytes());
    CampaignRecord& record = campaigns_[name];
    record.time = in.svarint();
    if (version >= 4) record.refused = in.bytes();
  }
  const std::size_t skipped = in.count(2);
  for (std::size_t i = 0; i < skipped; ++i) {
    std::string name(in.bytes());
    skipped_[name] = in.varint();
  }
  if (version < 4) return;
  const std::size_t aliases = in.count(2);
  for (std::size_t i = 0; i < aliases; ++i) {
    std::string name(in.bytes());
    ResolvedAlias& alias = aliases_[name];
    alias.richMenuId = in.bytes();
    alias.resolvedAt = in.svarint();
  }
  if (version < 7) return;
  readFailedAndNarrowcasts(in, version);
}

void AutomationState::readFailedAndNarrowcasts(BinaryReader& in, std::uint32_t version) {
  const std::size_t failed = in.count(4);
  for (std::size_t i = 0; i < failed; ++i) {
    std::string k(in.bytes());
    FailedRequest& f = failed_[k];
    f.entry = readEntry(in, version);
    f.failedAt = in.svarint();
    f.failure = in.bytes();
  }
  if (version < 9) return;
  const std::size_t narrowcasts = in.count(4);
  for (std::size_t i = 0; i < narrowcasts; ++i) {
    std::string k(in.bytes());
    NarrowcastWatch& w = narrowcasts_[k];
    w.requestId = in.bytes();
    w.acceptedAt = in.svarint();
    w.outcome = in.bytes();
    w.completedAt = in.svarint();
  }
}

void AutomationState::forgetOldNarrowcasts() {
  std::size_t completed = 0;
  for (const auto& [k, w] : narrowcasts_) completed += w.completedAt != 0;
  while (completed > kNarrowcastsKept) {
    auto oldest = narrowcasts_.end();
    for (auto it = narrowcasts_.begin(); it != narrowcasts_.end(); ++it) {
      if (it->second.completedAt != 0 && (oldest == narrowcasts_.end() || it->second.completedAt < oldest->second.completedAt)) oldest = it;
    }
    narrowcasts_.erase(oldest);
    --completed;
  }
}

std::size_t AutomationState::memoryBytes() const {
  std::size_t total = enrolments_.size() * 96 + timers_.size() * 48 + lastEnrolled_.size() * 32;
  for (const auto& [id, times] : charges_) total += 48 + times.capacity() * 8;
  total += (linkedMenu_.capacity() + rulesMenu_.capacity()) * 2;
  for (const auto& [k, e] : outbox_) total += k.size() + e.request.size() + e.users.size() * 16 + 128;
  return total;
}

}  // namespace seg
