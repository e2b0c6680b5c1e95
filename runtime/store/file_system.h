// What the store asks of a file system: appending with fsync, replacing a
// file atomically, a lock. The store does all its file work through this,
// so a test can put a file system underneath that loses what was not
// synced at a simulated power cut (tests/tools/crash_fs.h), the way
// RocksDB's fault-injection file system and SQLite's crash tests do.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/store/file_io.h"

namespace seg {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual void append(std::string_view data) = 0;  // throws IoError
  virtual void sync() = 0;                           // the data is durable when it returns
  virtual void truncate(std::uint64_t size) = 0;
};

// Held while a writer has a store open (readers take none: they read a
// consistent view beside the writer, see Store::open).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual bool exists(const std::string& path) = 0;
  virtual bool isDirectory(const std::string& path) = 0;
  virtual void createDirectories(const std::string& path) = 0;
  // The whole file; nullopt when it does not exist. Throws IoError otherwise.
  virtual std::optional<std::string> read(const std::string& path) = 0;
  // The file's first `bytes` bytes (fewer when it is shorter).
  virtual std::optional<std::string> readPrefix(const std::string& path, std::size_t bytes);
  virtual std::unique_ptr<WritableFile> openForAppend(const std::string& path) = 0;
  virtual std::unique_ptr<WritableFile> create(const std::string& path) = 0;  // empty, created or truncated
  virtual void rename(const std::string& from, const std::string& to) = 0;
  // Makes the directory's entries (created and renamed files) durable.
  virtual void syncDirectory(const std::string& dir) = 0;
  // The exclusive lock at `path`, with `holder` written in the file (who
  // holds it, for the message another writer gets); null when another
  // process holds it.
  virtual std::unique_ptr<FileLock> lock(const std::string& path, const std::string& holder) = 0;

  // The machine's own (POSIX): one for the whole process, stateless.
  static FileSystem& posix();
};

// `data` at `path`, whole or not at all: a temporary file, synced, renamed
// over `path`, and the directory synced.
void writeFileAtomically(FileSystem& fs, const std::string& path, std::string_view data);

}  // namespace seg
