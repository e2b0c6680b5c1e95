// POSIX files with RAII and the fsync discipline durability needs.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace seg {

struct IoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class File {
 public:
  File() = default;
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Throws IoError with the path and the system's reason.
  static File openForAppend(const std::string& path);
  static File create(const std::string& path);  // truncates
  static File openLock(const std::string& path);

  bool isOpen() const { return fd_ >= 0; }
  void writeAll(std::string_view data);
  void sync();
  void truncate(std::uint64_t size);
  std::uint64_t size() const;
  // flock: exclusive (writer) or shared (reader); false if someone else holds it.
  bool tryLock(bool exclusive);

  // Takes ownership of an open descriptor.
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

 private:
  int fd_ = -1;
  std::string path_;
};

// Reads a whole file; nullopt when it does not exist. Throws IoError otherwise.
std::optional<std::string> readWholeFile(const std::string& path);
void syncDirectory(const std::string& dir);

}  // namespace seg
