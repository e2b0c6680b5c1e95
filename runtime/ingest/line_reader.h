// Reads a file a line at a time with a bound on the line length, so a 2 GB
// line is reported and skipped rather than read into memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "runtime/store/file_io.h"

namespace seg {

class LineReader {
 public:
  static constexpr std::size_t kMaxLineBytes = 16u << 20;
  // Fills `buffer` with up to `capacity` bytes; 0 at the end. Throws IoError.
  using ReadFn = std::function<std::size_t(char* buffer, std::size_t capacity)>;

  explicit LineReader(const std::string& path);  // throws IoError
  // Lines of bytes from anywhere (memory, a socket); `total` for progress.
  LineReader(ReadFn read, std::uint64_t total);

  // The next line without its terminator; false at the end. A line longer
  // than kMaxLineBytes comes back empty with `tooLong` set.
  bool next(std::string& line, bool& tooLong);
  std::size_t lineNumber() const { return lineNumber_; }
  std::uint64_t bytesRead() const { return consumed_; }
  std::uint64_t totalBytes() const { return total_; }

 private:
  bool fill();
  File file_;
  ReadFn read_;
  std::string buffer_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  std::size_t lineNumber_ = 0;
  std::uint64_t consumed_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace seg
