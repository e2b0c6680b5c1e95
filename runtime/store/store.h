// A durable friend store in a directory:
//
//   LOCK           flock: one writer at a time (and who it is); readers
//                  take no lock and read a consistent view beside it
//   snapshot.seg   the whole state at a transaction (indexes in CRoaring's
//                  portable format), replaced atomically
//   wal.log        changes since the snapshot, synced before acknowledgement
//
// Opening loads the snapshot and replays the log; a torn tail (a crash in
// the middle of a write) is cut off, and a transaction without its last
// frame is ignored. Nothing acknowledged is lost: commit() returns only
// after the log is synced. docs/store.md gives the argument in full.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "compiler/ir/schema.h"
#include "runtime/store/file_system.h"
#include "runtime/store/mutation.h"
#include "runtime/store/store_state.h"
#include "runtime/store/wal.h"

namespace seg {

struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct OpenOptions {
  bool readOnly = false;
  bool create = true;  // create the directory and an empty store if missing
  // After this much log, commit() writes a snapshot and empties the log;
  // it bounds restart time (replaying the log runs at about 40 MB/s).
  std::uint64_t checkpointBytes = 128ull << 20;
  // Who writes (kept in the LOCK file while open): named to another
  // writer that is refused, e.g. "segd (pid 42), admin API http://...".
  std::string holder;
  // Where the files are; null: the machine's own. Tests put a file system
  // that simulates power cuts here (it must outlive the store).
  FileSystem* fileSystem = nullptr;
};

struct RecoveryReport {
  std::size_t replayedTransactions = 0;
  bool tornTailCut = false;
  std::string tailReason;  // why the log was cut where it was
  std::size_t discardedTransactions = 0;
  double seconds = 0;
};

class Store {
 public:
  // Opens (or creates) the store at `dir`. A writer holds the store's lock;
  // a reader (readOnly) takes none and sees the state as of a committed
  // transaction, even while a writer works (it reads again if a
  // checkpoint replaced the snapshot meanwhile). With `programSchema`, the store's
  // schema is extended by what the program adds (in memory only when
  // read-only); an incompatible change (a type changed, enum values
  // reordered or dropped) is a StoreError, for every reader and writer alike.
  static std::unique_ptr<Store> open(const std::string& dir, const ir::Schema* programSchema,
                                     const OpenOptions& options = {});
  ~Store();

  const std::string& directory() const { return dir_; }
  const RecoveryReport& recovery() const { return recovery_; }

  // Reading: hold the lock while using the state when others may write.
  std::shared_lock<std::shared_mutex> readLock() const { return std::shared_lock(dataMutex_); }
  const StoreState& state() const { return *state_; }

  // Logs `changes` as one transaction, syncs, applies them, returns.
  // Concurrent callers share one sync (group commit).
  void commit(std::vector<Mutation> changes);

  // A transaction larger than memory should hold: frames are logged as they
  // fill; nothing of it survives a crash before end().
  class Transaction {
   public:
    void add(Mutation change);
    // Logs what was added so far as a frame (not synced) and applies it, so
    // state() shows it; it becomes durable with the rest at end().
    void stage();
    void end();  // logs the last frame; durable when it returns
    ~Transaction();

   private:
    friend class Store;
    explicit Transaction(Store& store) : store_(store) {}
    void flush(bool last);
    Store& store_;
    std::uint64_t id_ = 0;  // numbered when its first frame is queued
    std::vector<Mutation> pending_;
    std::size_t pendingBytes_ = 0;
    bool ended_ = false;
  };
  std::unique_ptr<Transaction> begin();

  // Writes a snapshot of the current state and empties the log.
  void checkpoint();
  // Extends the schema by what `programSchema` adds (a service taking a new
  // program), made durable by a checkpoint; throws StoreError when they
  // disagree, or while a transaction is open. Returns whether it changed.
  bool extendSchema(const ir::Schema& programSchema);
  // Writes without logging, then snapshots: for bulk loads (`segc gen`)
  // where a crash simply means starting over.
  void bulkLoad(const std::function<void(StoreState&)>& fill);

  std::uint64_t walBytes() const { return walBytes_; }
  // Why the last checkpoint after a commit failed ("" when it did not).
  const std::string& checkpointError() const { return checkpointError_; }

 private:
  Store(std::string dir, const OpenOptions& options);
  void load(const ir::Schema* programSchema);
  // A reader's snapshot is still the one on disk.
  bool snapshotStillCurrent();
  void checkpointLocked(std::unique_lock<std::mutex>& commitLock);
  void writeSnapshot();
  void checkpointIfLong();
  std::uint64_t nextTransaction();
  // Appends frames, syncs (shared by concurrent callers), applies changes;
  // returns the frame's transaction number (given one when it has none).
  std::uint64_t logAndApply(WalFrame frame, std::vector<Mutation> changes);

  std::string dir_;
  OpenOptions options_;
  FileSystem& fs_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<WritableFile> wal_;
  std::uint64_t walBytes_ = 0;
  std::uint64_t lastTransaction_ = 0;     // highest id handed out
  std::uint64_t snapshotTransaction_ = 0;  // state included in the snapshot
  std::string snapshotHeader_;  // as read: a reader checks it is still current
  std::unique_ptr<StoreState> state_;
  RecoveryReport recovery_;

  mutable std::shared_mutex dataMutex_;  // state_: shared for readers
  // Group commit: callers queue frames; one leader writes and syncs them.
  std::mutex commitMutex_;
  std::condition_variable committed_;
  struct Pending {
    WalFrame frame;
    std::vector<Mutation> changes;
    bool done = false;
    std::exception_ptr error;
  };
  std::vector<Pending*> queue_;
  bool leaderActive_ = false;
  std::size_t openTransactions_ = 0;  // multi-frame transactions begun, not ended
  bool poisoned_ = false;
  std::string checkpointError_;
};

// The schema as stored beside the data (JSON), and back.
std::string schemaToJson(const ir::Schema& schema);
ir::Schema schemaFromJson(const std::string& json);
// The store's schema grown by what `program` adds; throws StoreError when
// they disagree.
ir::Schema mergeSchemas(const ir::Schema& stored, const ir::Schema& program);

}  // namespace seg
