#include "runtime/automation/inbox.h"

#include <optional>

namespace seg {
namespace {

std::string typeOf(const InboundEvent& event, const ir::Schema& schema) {
  for (const Mutation& m : event.changes) {
    switch (m.kind) {
      case Mutation::Kind::Follow: return "follow";
      case Mutation::Kind::Unfollow: return "unfollow";
      case Mutation::Kind::AppendEvent: return m.index < schema.events.size() ? schema.events[m.index].name : "event";
      default: break;
    }
  }
  return "attributes";
}

std::uint64_t repliesPlanned(const AutomationEngine& engine) {
  const auto& byPath = engine.counters().requestsByPath;
  const auto it = byPath.find("POST /v2/bot/message/reply");
  return it == byPath.end() ? 0 : it->second;
}

Mutation done(std::uint64_t item) {
  Mutation m = Mutation::of(Mutation::Kind::InboxDone);
  m.value = Value::ofInt(static_cast<std::int64_t>(item));
  return m;
}

}  // namespace

InboxEntry inboxEntry(InboundRecord record, std::int64_t at, const ir::Schema& schema) {
  InboundEvent event;
  event.replyToken = std::move(record.replyToken);
  event.standby = record.standby;
  std::optional<Mutation> seen;
  for (Mutation& m : record.changes) {
    if (m.kind == Mutation::Kind::WebhookSeen) {
      event.webhookEventId = m.name;
      seen = std::move(m);
    } else {
      event.changes.push_back(std::move(m));
    }
  }
  if (event.changes.empty() && seen) return {std::move(*seen), ""};
  InboxEntry entry;
  entry.type = typeOf(event, schema);
  entry.change = Mutation::of(Mutation::Kind::InboxAdd);
  entry.change.name = event.webhookEventId;
  entry.change.time = at;
  entry.change.value = Value::ofString(encodeInbound(event));
  return entry;
}

InboxPass actOnInbox(AutomationEngine& engine, Store& store, StateWriter& writer, std::size_t limit, std::int64_t now,
                     std::chrono::steady_clock::duration budget, const InboxReady& ready) {
  std::vector<std::pair<std::uint64_t, InboxItem>> items;
  {
    auto lock = store.readLock();  // others add to the inbox meanwhile
    for (const auto& [sequence, item] : store.state().inbox()) {
      items.emplace_back(sequence, item);
      if (items.size() == limit) break;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  InboxPass pass;
  for (auto& [sequence, item] : items) {
    InboundEvent event;
    try {
      event = decodeInbound(item.event);
      store.state().validate(event.changes);
    } catch (const std::exception& e) {
      // Taken under an earlier program's schema, or damaged: set aside, so
      // it cannot stop the inbox for good.
      pass.setAside.emplace_back(sequence, e.what());
      writer.stage({done(sequence)});
      continue;
    }
    if (ready && !ready(event)) {
      pass.held = true;
      break;
    }
    event.inboxItem = sequence;
    event.receivedAt = item.receivedAt;
    const std::uint64_t repliesBefore = repliesPlanned(engine);
    try {
      engine.handle(event, now);
      ++pass.acted;
    } catch (const StoreError&) {
      throw;
    } catch (const std::exception& e) {
      // What was staged is consistent with memory; it is committed with
      // the item marked done (handle stages that first).
      pass.failed.emplace_back(sequence, e.what());
    }
    if (!item.eventId.empty()) pass.webhooks.emplace_back(item.eventId, repliesPlanned(engine) > repliesBefore);
    if (std::chrono::steady_clock::now() - start > budget) break;
  }
  return pass;
}

}  // namespace seg
