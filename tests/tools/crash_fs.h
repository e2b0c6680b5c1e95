// A file system in memory that can lose power, for the store's crash tests
// (RocksDB's fault-injection file system and SQLite's crash tests work the
// same way). It keeps, per file, what was last synced, and per directory,
// the entries last synced; a power cut at any chosen operation throws
// PowerCut, and powerLoss() then leaves on "disk" only what a real disk is
// sure to have: synced data and synced directory entries — and, to model
// the kernel writing back some pages before the cut, a random part of each
// file's unsynced appends.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/store/file_system.h"

namespace seg::test {

struct PowerCut : std::runtime_error {
  PowerCut() : std::runtime_error("the power went") {}
};

class CrashFs : public FileSystem {
 public:
  // At the `op`th operation that changes the disk (1-based; 0: never) the
  // power goes: the operation does not happen — or, with `tear`, an append
  // gets a random part of its bytes in — and this and every later
  // operation throw PowerCut.
  void cutPowerAt(std::uint64_t op, bool tear, std::uint64_t seed);
  // The `op`th write fails once with "No space left on device".
  void failWriteAt(std::uint64_t op) { failAt_ = op; }
  std::uint64_t operations() const { return operations_; }
  // Kinds of the operations so far ("append wal.log", "create snapshot.seg.tmp"...).
  const std::vector<std::string>& journal() const { return journal_; }

  // After the cut: what survives on the disk, and the power back.
  void powerLoss();

  bool exists(const std::string& path) override;
  bool isDirectory(const std::string& path) override;
  void createDirectories(const std::string& path) override;
  std::optional<std::string> read(const std::string& path) override;
  std::unique_ptr<WritableFile> openForAppend(const std::string& path) override;
  std::unique_ptr<WritableFile> create(const std::string& path) override;
  void rename(const std::string& from, const std::string& to) override;
  void syncDirectory(const std::string& dir) override;
  std::unique_ptr<FileLock> lock(const std::string& path, const std::string& holder) override;

 private:
  struct Inode {
    std::string data;     // what reads see
    std::string durable;  // what the last sync made durable
  };
  class Writable;
  // Counts an operation; throws when the power goes now. With `tear`, the
  // caller gets the number of bytes of its append that get in (-1: all).
  void step(const std::string& what, std::size_t appendBytes = 0, std::size_t* landed = nullptr);
  std::shared_ptr<Inode> open(const std::string& path, bool truncate);

  std::map<std::string, std::shared_ptr<Inode>> names_, durableNames_;
  std::set<std::string> directories_;
  std::uint64_t operations_ = 0, cutAt_ = 0, failAt_ = 0;
  bool tear_ = false, dead_ = false;
  std::mt19937_64 random_;
  std::vector<std::string> journal_;
};

}  // namespace seg::test
