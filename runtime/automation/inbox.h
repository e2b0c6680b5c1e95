// The inbox: inbound events (webhook events, feed records) taken durably
// first and acted on afterwards, each once. The service answers LINE as
// soon as an event is in the inbox, and its loop acts on it; `segc import
// --act` does the same in one process. An item is marked done in the
// transaction that holds what acting on it changed, so after a crash the
// inbox is acted on again from exactly where the committed work ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/automation/engine.h"
#include "runtime/ingest/importer.h"

namespace seg {

struct InboxEntry {
  Mutation change;   // InboxAdd, or WebhookSeen for an event nothing acts on
  std::string type;  // follow, message, cart_add...; "" when only remembered as seen
};

// A good record as the inbox takes it (ImportOptions::asChange), received at `at`.
InboxEntry inboxEntry(InboundRecord record, std::int64_t at, const ir::Schema& schema);

struct InboxPass {
  std::size_t acted = 0;
  std::vector<std::pair<std::uint64_t, std::string>> setAside;  // cannot be acted on (damaged, or refused by the schema)
  std::vector<std::pair<std::uint64_t, std::string>> failed;    // acting failed part way (what was done is kept)
  std::vector<std::pair<std::string, bool>> webhooks;           // webhook event ids acted on, and whether a reply was planned
  bool held = false;  // stopped at an item `ready` held back
};

// Before an item is acted on: may complete it (a follow gains the friend's
// profile) and says whether it can be acted on now; false stops the pass
// there, the item first in line for the next.
using InboxReady = std::function<bool(InboundEvent&)>;

// Acts on up to `limit` items, oldest first, for at most `budget`, staging
// through `writer` (the caller makes the pass durable). A StoreError stops
// the pass and is thrown: the store cannot take more.
InboxPass actOnInbox(AutomationEngine& engine, Store& store, StateWriter& writer, std::size_t limit, std::int64_t now,
                     std::chrono::steady_clock::duration budget, const InboxReady& ready = {});

}  // namespace seg
