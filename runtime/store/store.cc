#include "runtime/store/store.h"

#include <unistd.h>

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/store/wal.h"

namespace seg {
namespace {

namespace fs = std::filesystem;

constexpr char kSnapshotMagic[8] = {'S', 'E', 'G', 'S', 'N', 'A', 'P', '1'};
// 2 added automation state; 3 dropped the bit slices of numeric columns
// (their range index is rebuilt from the values on load); 4 added the
// targeted message status, why a campaign was refused, and resolved rich
// menu aliases; 5 what was committed of which imported file; 6 the
// service's inbox; 7 requests LINE refused, and when a request was first
// tried; 8 when rule actions last set each friend's attributes and tags;
// 9 narrowcasts and their progress. Every earlier version is still read.
// 10 added catalogs.
constexpr std::uint32_t kSnapshotVersion = 10;
// A transaction's frames are cut at about this size.
constexpr std::size_t kFrameBytes = 16u << 20;
// Webhook event ids are remembered this long after seg received them.
// LINE does not say how long it redelivers (a reply token is refused 20
// minutes after the event); 30 days is far beyond it.
constexpr std::int64_t kWebhookMemorySeconds = 30 * 86400;

std::uint32_t crc(std::string_view bytes) {
  uLong value = crc32(0L, Z_NULL, 0);
  for (std::size_t pos = 0; pos < bytes.size(); pos += 1u << 30) {
    const std::size_t n = std::min<std::size_t>(bytes.size() - pos, 1u << 30);
    value = crc32(value, reinterpret_cast<const Bytef*>(bytes.data() + pos), static_cast<uInt>(n));
  }
  return static_cast<std::uint32_t>(value);
}

std::size_t encodedSize(const Mutation& m) {
  return 40 + m.name.size() + m.users.size() * 16 + m.fields.size() * 10 + m.value.s.size();
}

nlohmann::json columnJson(const ir::ColumnSpec& c) {
  nlohmann::json out = {{"name", c.name}, {"type", ir::valueTypeName(c.type)}};
  if (c.type == ir::ValueType::Enum) {
    out["values"] = c.enumValues;
    out["labels"] = c.enumLabels;
  }
  return out;
}

ir::ColumnSpec columnFromJson(const nlohmann::json& j) {
  ir::ColumnSpec c;
  c.name = j.at("name").get<std::string>();
  const std::string type = j.at("type").get<std::string>();
  static const std::pair<const char*, ir::ValueType> kTypes[] = {
      {"bool", ir::ValueType::Bool},         {"int", ir::ValueType::Int},   {"string", ir::ValueType::String},
      {"date", ir::ValueType::Date},         {"time", ir::ValueType::Time}, {"duration", ir::ValueType::Duration},
      {"percent", ir::ValueType::Percent},   {"enum", ir::ValueType::Enum},
  };
  bool known = false;
  for (const auto& [name, value] : kTypes) {
    if (type == name) {
      c.type = value;
      known = true;
    }
  }
  if (!known) throw CorruptData("unknown column type `" + type + "`");
  if (c.type == ir::ValueType::Enum) {
    c.enumValues = j.at("values").get<std::vector<std::string>>();
    c.enumLabels = j.at("labels").get<std::vector<std::string>>();
    if (c.enumLabels.size() != c.enumValues.size()) throw CorruptData("enum labels do not match values");
  }
  return c;
}

}  // namespace

// ------------------------------------------------------------------ schema

nlohmann::json eventsJson(const std::vector<ir::EventSpec>& events) {
  nlohmann::json out = nlohmann::json::array();
  for (const ir::EventSpec& e : events) {
    nlohmann::json event = {{"name", e.name}, {"builtin", e.builtin}, {"fields", nlohmann::json::array()}};
    for (const ir::ColumnSpec& f : e.fields) event["fields"].push_back(columnJson(f));
    out.push_back(event);
  }
  return out;
}

std::vector<ir::EventSpec> eventsFromJson(const nlohmann::json& j) {
  std::vector<ir::EventSpec> out;
  for (const auto& e : j) {
    ir::EventSpec event{e.at("name").get<std::string>(), {}, e.at("builtin").get<bool>()};
    for (const auto& f : e.at("fields")) event.fields.push_back(columnFromJson(f));
    out.push_back(std::move(event));
  }
  return out;
}

std::string schemaToJson(const ir::Schema& schema) {
  nlohmann::json out = {{"attributes", nlohmann::json::array()}, {"events", eventsJson(schema.events)}};
  for (const ir::ColumnSpec& c : schema.attributes) out["attributes"].push_back(columnJson(c));
  // Only when there are any: stores without catalogs keep the shape seg 0.2 reads.
  if (!schema.catalogs.empty()) out["catalogs"] = eventsJson(schema.catalogs);
  return out.dump(1);
}

ir::Schema schemaFromJson(const std::string& text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    ir::Schema schema;
    for (const auto& c : j.at("attributes")) schema.attributes.push_back(columnFromJson(c));
    schema.events = eventsFromJson(j.at("events"));
    if (j.contains("catalogs")) schema.catalogs = eventsFromJson(j.at("catalogs"));
    return schema;
  } catch (const nlohmann::json::exception& e) {
    throw CorruptData(std::string("invalid schema: ") + e.what());
  }
}

namespace {

void mergeColumn(ir::ColumnSpec& stored, const ir::ColumnSpec& program, const std::string& owner) {
  if (stored.type != program.type) {
    throw StoreError(fmt::format("{} `{}` is {} in the store but {} in the program; export the data and import it again "
                                 "to change its type",
                                 owner, stored.name, ir::valueTypeName(stored.type), ir::valueTypeName(program.type)));
  }
  if (stored.type != ir::ValueType::Enum) return;
  // Stored ranks stay valid only if the program keeps the stored values, in
  // order, and adds new ones after them.
  for (std::size_t i = 0; i < stored.enumValues.size(); ++i) {
    if (i >= program.enumValues.size() || program.enumValues[i] != stored.enumValues[i]) {
      throw StoreError(fmt::format("enum `{}` in the store has values ({}{}) that the program reorders or drops; "
                                   "add new values at the end",
                                   stored.name, stored.enumValues.empty() ? "" : stored.enumValues[0],
                                   stored.enumValues.size() > 1 ? ", ..." : ""));
    }
  }
  stored.enumValues = program.enumValues;
  stored.enumLabels = program.enumLabels;
}

}  // namespace

// Events (or catalogs) the program declares, into the stored ones: new ones
// and new fields at the end.
void mergeEvents(std::vector<ir::EventSpec>& stored, const std::vector<ir::EventSpec>& program) {
  for (const ir::EventSpec& e : program) {
    const auto i = std::find_if(stored.begin(), stored.end(), [&](const ir::EventSpec& s) { return s.name == e.name; });
    if (i == stored.end()) {
      stored.push_back(e);
      continue;
    }
    for (const ir::ColumnSpec& f : e.fields) {
      if (auto fi = i->field(f.name)) {
        mergeColumn(i->fields[*fi], f, "field " + e.name + ".");
      } else {
        i->fields.push_back(f);
      }
    }
  }
}

ir::Schema mergeSchemas(const ir::Schema& stored, const ir::Schema& program) {
  ir::Schema out = stored;
  for (const ir::ColumnSpec& c : program.attributes) {
    if (auto i = out.attribute(c.name)) {
      mergeColumn(out.attributes[*i], c, "attribute");
    } else {
      out.attributes.push_back(c);
    }
  }
  mergeEvents(out.events, program.events);
  mergeEvents(out.catalogs, program.catalogs);
  return out;
}

// ------------------------------------------------------------------ opening

Store::Store(std::string dir, const OpenOptions& options)
    : dir_(std::move(dir)), options_(options), fs_(options.fileSystem != nullptr ? *options.fileSystem : FileSystem::posix()) {}

Store::~Store() = default;

std::unique_ptr<Store> Store::open(const std::string& dir, const ir::Schema* programSchema, const OpenOptions& options) {
  // A reader whose snapshot a writer's checkpoint replaced while it read the
  // log reads again; it gives up only if that keeps happening.
  constexpr int kReadAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    std::unique_ptr<Store> store(new Store(dir, options));
    FileSystem& files = store->fs_;
    try {
      if (!files.exists(dir)) {
        if (!options.create || options.readOnly) throw StoreError(fmt::format("no store at `{}`", dir));
        files.createDirectories(dir);
      } else if (!files.isDirectory(dir)) {
        throw StoreError(fmt::format("`{}` is not a directory", dir));
      }
      if (!options.readOnly) {
        const std::string lockPath = (fs::path(dir) / "LOCK").string();
        const std::string holder = options.holder.empty() ? fmt::format("a seg process (pid {})", ::getpid()) : options.holder;
        store->lock_ = files.lock(lockPath, holder);
        if (!store->lock_) {
          std::string other = files.read(lockPath).value_or("");
          while (!other.empty() && (other.back() == '\n' || other.back() == '\r')) other.pop_back();
          throw StoreError(fmt::format("store `{}` is in use by {}, which writes to it", dir,
                                       other.empty() ? "another process" : other));
        }
      }
      store->load(programSchema);
      if (!options.readOnly || store->snapshotStillCurrent()) return store;
      if (attempt == kReadAttempts) throw StoreError(fmt::format("store `{}` kept changing while being read; try again", dir));
    } catch (const IoError& e) {
      throw StoreError(e.what());
    }
  }
}

bool Store::snapshotStillCurrent() {
  const auto now = fs_.readPrefix((fs::path(dir_) / "snapshot.seg").string(), snapshotHeader_.size());
  return now && *now == snapshotHeader_;
}

void Store::load(const ir::Schema* programSchema) {
  const auto start = std::chrono::steady_clock::now();
  const std::string snapshotPath = (fs::path(dir_) / "snapshot.seg").string();
  const std::string walPath = (fs::path(dir_) / "wal.log").string();
  std::optional<std::string> snapshot = fs_.read(snapshotPath);
  bool schemaChanged = false;
  if (!snapshot) {
    if (options_.readOnly || !options_.create) throw StoreError(fmt::format("`{}` is not a seg store", dir_));
    if (programSchema == nullptr) throw StoreError("a new store needs a program for its schema");
    if (fs_.exists(walPath)) throw StoreError(fmt::format("`{}` has a log but no snapshot; it is not a complete store", dir_));
    state_ = std::make_unique<StoreState>(*programSchema);
    writeSnapshot();
  } else {
    try {
      const std::string_view bytes(*snapshot);
      if (bytes.size() < 24 || bytes.substr(0, 8) != std::string_view(kSnapshotMagic, 8)) {
        throw CorruptData("not a seg snapshot");
      }
      BinaryReader trailer(bytes.substr(bytes.size() - 4));
      if (trailer.fixed32() != crc(bytes.substr(0, bytes.size() - 4))) throw CorruptData("checksum mismatch");
      BinaryReader in(bytes.substr(8, bytes.size() - 12));
      const std::uint32_t version = in.fixed32();
      if (version > kSnapshotVersion) {
        throw StoreError(fmt::format("the snapshot of `{}` has format {}, newer than this seg reads ({}); use a newer seg",
                                     dir_, version, kSnapshotVersion));
      }
      if (version < 1) throw CorruptData("unsupported snapshot version");
      snapshotTransaction_ = in.fixed64();
      snapshotHeader_ = std::string(bytes.substr(0, 20));  // magic, version, transaction
      const ir::Schema stored = schemaFromJson(std::string(in.bytes()));
      state_ = std::make_unique<StoreState>(StoreState::read(in, stored, version));
      if (!in.done()) throw CorruptData("trailing bytes");
    } catch (const CorruptData& e) {
      throw StoreError(fmt::format("the snapshot of `{}` is damaged ({}); restore it from a backup", dir_, e.what()));
    }
    snapshot.reset();  // free the bytes before replaying
    if (programSchema != nullptr) {
      const ir::Schema merged = mergeSchemas(state_->schema(), *programSchema);
      if (!(merged == state_->schema())) {
        // Read-only: what the program adds exists in memory (no values yet)
        // and the files are left alone.
        state_->extendSchema(merged);
        schemaChanged = !options_.readOnly;
      }
    }
  }
  lastTransaction_ = snapshotTransaction_;

  const std::optional<std::string> log = fs_.read(walPath);
  if (log) {
    WalReplay replay;
    try {
      replay = replayWal(*log, snapshotTransaction_, [&](std::vector<Mutation>&& changes) {
        // A change that does not fit ends the log before anything of it is applied.
        try {
          state_->validate(changes);
        } catch (const CorruptData&) {
          return false;
        }
        state_->apply(changes);
        return true;
      });
    } catch (const CorruptData& e) {
      throw StoreError(fmt::format("the log of `{}` does not fit its snapshot ({})", dir_, e.what()));
    }
    recovery_.replayedTransactions = replay.transactions;
    recovery_.tornTailCut = replay.tornTail;
    recovery_.tailReason = replay.endReason;
    recovery_.discardedTransactions = replay.discardedFrames;
    lastTransaction_ = std::max(lastTransaction_, replay.highestTransaction);
    walBytes_ = replay.validBytes;
    if (!options_.readOnly) {
      wal_ = fs_.openForAppend(walPath);
      if (replay.tornTail) {
        wal_->truncate(replay.validBytes);  // new frames follow the last good one
        wal_->sync();
      }
    }
  } else if (!options_.readOnly) {
    wal_ = fs_.openForAppend(walPath);
    fs_.syncDirectory(dir_);
  }
  if (schemaChanged) checkpoint();
  recovery_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ------------------------------------------------------------------ writing

void Store::writeSnapshot() {
  std::string bytes(kSnapshotMagic, 8);
  BinaryWriter out(bytes);
  out.fixed32(kSnapshotVersion);
  out.fixed64(lastTransaction_);
  out.bytes(schemaToJson(state_->schema()));
  state_->write(out);
  out.fixed32(crc(bytes));
  writeFileAtomically(fs_, (fs::path(dir_) / "snapshot.seg").string(), bytes);
  snapshotTransaction_ = lastTransaction_;
}

std::uint64_t Store::nextTransaction() {
  if (lastTransaction_ == UINT64_MAX) throw StoreError("the store has used every transaction number");
  return ++lastTransaction_;
}

std::uint64_t Store::logAndApply(WalFrame frame, std::vector<Mutation> changes) {
  if (options_.readOnly) throw StoreError("the store is open read-only");
  if (poisoned_) throw StoreError("an unfinished transaction left the store inconsistent in memory; reopen it");
  // Nothing is logged that would fail to apply: a refused change leaves
  // the log as it was.
  try {
    state_->validate(changes);
  } catch (const CorruptData& e) {
    throw StoreError(fmt::format("refused a change before writing it: {}", e.what()));
  }
  Pending pending{std::move(frame), std::move(changes), false, nullptr};
  std::unique_lock lock(commitMutex_);
  // Numbered as queued, so numbers appear in the log in order (wal.h).
  if (pending.frame.transaction == 0) pending.frame.transaction = nextTransaction();
  const std::uint64_t transaction = pending.frame.transaction;
  queue_.push_back(&pending);
  while (!pending.done) {
    if (leaderActive_) {
      committed_.wait(lock);
      continue;
    }
    // Lead: write every queued frame, sync once, apply in log order.
    leaderActive_ = true;
    std::vector<Pending*> batch;
    batch.swap(queue_);
    lock.unlock();
    std::exception_ptr error;
    try {
      std::string bytes;
      bool ends = false;  // a transaction's last frame must be durable; earlier ones need not be
      for (Pending* p : batch) {
        bytes += encodeFrame(p->frame);
        ends = ends || (p->frame.flags & kWalLastFrame) != 0;
      }
      wal_->append(bytes);
      if (ends) wal_->sync();
      walBytes_ += bytes.size();
      std::unique_lock data(dataMutex_);
      for (Pending* p : batch) state_->apply(p->changes);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    for (Pending* p : batch) {
      p->done = true;
      p->error = error;
    }
    leaderActive_ = false;
    committed_.notify_all();
  }
  if (pending.error) std::rethrow_exception(pending.error);
  return transaction;
}

void Store::commit(std::vector<Mutation> changes) {
  if (changes.empty()) return;
  WalFrame frame;
  frame.flags = kWalLastFrame;
  BinaryWriter out(frame.payload);
  for (const Mutation& m : changes) m.encode(out);
  logAndApply(std::move(frame), std::move(changes));
  checkpointIfLong();
}

// The change is durable already: a checkpoint that fails here (a full
// disk) must not make it look failed. The log keeps growing instead, and
// the next commit tries again; checkpointError() says why.
void Store::checkpointIfLong() {
  if (walBytes_ <= options_.checkpointBytes) return;
  try {
    checkpoint();
    checkpointError_.clear();
  } catch (const std::exception& e) {
    checkpointError_ = e.what();
  }
}

std::unique_ptr<Store::Transaction> Store::begin() {
  std::lock_guard lock(commitMutex_);
  ++openTransactions_;
  return std::unique_ptr<Transaction>(new Transaction(*this));
}

void Store::Transaction::add(Mutation change) {
  pendingBytes_ += encodedSize(change);
  pending_.push_back(std::move(change));
  if (pendingBytes_ >= kFrameBytes) flush(false);
}

void Store::Transaction::stage() {
  if (!pending_.empty()) flush(false);
}

void Store::Transaction::flush(bool last) {
  WalFrame frame;
  frame.transaction = id_;
  frame.flags = last ? kWalLastFrame : 0;
  BinaryWriter out(frame.payload);
  for (const Mutation& m : pending_) m.encode(out);
  id_ = store_.logAndApply(std::move(frame), std::move(pending_));
  pending_.clear();
  pendingBytes_ = 0;
}

void Store::Transaction::end() {
  if (ended_) return;
  ended_ = true;
  flush(true);
  {
    std::lock_guard lock(store_.commitMutex_);
    --store_.openTransactions_;
  }
  store_.checkpointIfLong();
}

// Frames of an unfinished transaction are already applied in memory but
// will not survive a restart: the store must not be used further.
Store::Transaction::~Transaction() {
  if (ended_) return;
  std::lock_guard lock(store_.commitMutex_);
  --store_.openTransactions_;
  if (id_ != 0) store_.poisoned_ = true;
}

void Store::checkpoint() {
  if (options_.readOnly) throw StoreError("the store is open read-only");
  std::unique_lock lock(commitMutex_);
  committed_.wait(lock, [&] { return !leaderActive_ && queue_.empty(); });
  // A transaction still open would be cut by the snapshot; wait for it.
  if (openTransactions_ > 0) return;
  checkpointLocked(lock);
}

void Store::checkpointLocked(std::unique_lock<std::mutex>&) {
  {
    std::unique_lock data(dataMutex_);
    // Relative to seg's own clock: the newest receipt, but never later than
    // now (a clock set wrong once must not forget everything).
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    state_->forgetWebhooksBefore(std::min(state_->newestWebhookReceipt(), now) - kWebhookMemorySeconds);
    state_->optimize();
  }
  {
    std::shared_lock data(dataMutex_);
    writeSnapshot();
  }
  wal_->truncate(0);
  wal_->sync();
  walBytes_ = 0;
}

bool Store::extendSchema(const ir::Schema& programSchema) {
  if (options_.readOnly) throw StoreError("the store is open read-only");
  std::unique_lock lock(commitMutex_);
  committed_.wait(lock, [&] { return !leaderActive_ && queue_.empty(); });
  if (openTransactions_ > 0) throw StoreError("a transaction is open; extend the schema between transactions");
  const ir::Schema merged = mergeSchemas(state_->schema(), programSchema);
  if (merged == state_->schema()) return false;
  {
    std::unique_lock data(dataMutex_);
    state_->extendSchema(merged);
  }
  // Nothing is logged under the new schema before the snapshot holds it.
  checkpointLocked(lock);
  return true;
}

void Store::bulkLoad(const std::function<void(StoreState&)>& fill) {
  {
    std::unique_lock data(dataMutex_);
    fill(*state_);
  }
  checkpoint();
}

}  // namespace seg
