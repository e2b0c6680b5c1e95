// Importing data into a store, in the formats LINE and a shop already
// produce: LINE webhook request bodies, friend attributes as JSONL or CSV
// (a CRM export), events as JSONL (an EC site), audiences as CSV (LINE's
// upload format: one user ID a line).
//
// Every record is checked against the store's schema. A bad record is
// reported with its line and field and skipped (the default), or the whole
// import is refused with nothing written (strict): strict imports check the
// whole file first, then write it as one transaction.
//
// The store remembers, by the file's content, how much of it each commit
// covered (in the same transaction): after a crash at any point, running
// the same import again goes on where the committed part ends, and a file
// the store has whole is not imported twice. So each record ends up in the
// store exactly once (docs/store.md, "What acknowledged means").
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/store/store.h"

namespace seg {

enum class ImportKind { Friends, Events, Audience, Webhook, Catalog };

// Whether a webhook event id was taken before (a redelivery).
using SeenPredicate = std::function<bool(const std::string& eventId)>;

// One good record's changes, as handed to ImportOptions::onRecord.
struct InboundRecord {
  std::vector<Mutation> changes;
  std::string replyToken;  // a webhook event's, "" for other records
  bool standby = false;    // a webhook event with `mode: standby`
};

struct ImportOptions {
  bool strict = false;
  std::string timezone = "Asia/Tokyo";  // for local times without an offset
  std::size_t recordsPerCommit = 20000;
  std::string audienceName;  // Audience: defaults to the file's name
  // Catalog: which catalog the rows are of (default: the program's only
  // catalog, or the one named like the file).
  std::string catalogName;
  std::int64_t now = 0;      // when seg takes the data: an audience's creation, a webhook's receipt
  // Webhook: when a channel secret is set, the signature must match.
  std::string channelSecret;
  std::string signature;
  // When set, each good record's changes go here instead of being written:
  // the automation engine applies them and acts on them. Not with `strict`.
  std::function<void(InboundRecord record)> onRecord;
  // When set, each good record is written as the one change this returns
  // (the service's inbox: acted on later, by the automation engine) instead
  // of its own changes; how far the file is committed goes with it as usual.
  std::function<Mutation(InboundRecord record)> asChange;
  // Called before each commit of a batch (a service makes a feed wait here
  // while its inbox is full).
  std::function<void()> beforeCommit;
  // Called now and then with bytes read so far and the file's size.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  // Import a file again although the store has all of it (same content).
  bool again = false;
};

struct RecordError {
  std::size_t line = 0;
  std::string field;  // "" when the record as a whole is bad
  std::string message;
};

struct ImportReport {
  std::size_t records = 0;     // records read
  std::size_t applied = 0;     // records written
  std::size_t skipped = 0;     // bad records left out
  std::size_t duplicates = 0;  // webhook events already seen
  std::size_t ignored = 0;     // webhook events seg does not use
  std::size_t errorCount = 0;
  std::vector<RecordError> errors;  // the first 100
  bool aborted = false;             // strict and something was wrong
  std::string fatal;                // the file could not be read at all
  // The store had all of this file already (same content): nothing done.
  std::optional<ImportRecord> alreadyImported;
  std::size_t resumed = 0;  // records committed by an earlier, interrupted run
};

// Where an import's bytes come from: a file, or bytes in memory (a request
// body, a fuzzer's input) named for messages.
struct ImportInput {
  std::string name;  // the file's path, or a name such as "body.json"
  std::optional<std::string_view> bytes;  // when in memory
};

ImportReport importFile(Store& store, ImportKind kind, const std::string& path, const ImportOptions& options);
ImportReport importBytes(Store& store, ImportKind kind, const std::string& name, std::string_view bytes,
                         const ImportOptions& options);
ImportReport importInput(Store& store, ImportKind kind, const ImportInput& input, const ImportOptions& options);

// The signature LINE puts in `x-line-signature`: base64(HMAC-SHA256).
std::string webhookSignature(const std::string& channelSecret, std::string_view body);
bool signatureMatches(const std::string& channelSecret, std::string_view body, std::string_view signature);

}  // namespace seg
