#include "runtime/ingest/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace seg {

LineReader::LineReader(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError("cannot open `" + path + "`: " + std::strerror(errno));
  file_ = File(fd, path);
  total_ = file_.size();
  read_ = [fd](char* buffer, std::size_t capacity) {
    ssize_t n;
    do {
      n = ::read(fd, buffer, capacity);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw IoError(std::string("read failed: ") + std::strerror(errno));
    return static_cast<std::size_t>(n);
  };
}

LineReader::LineReader(ReadFn read, std::uint64_t total) : read_(std::move(read)), total_(total) {}

bool LineReader::fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  const std::size_t at = buffer_.size();
  // Reads of 1 MiB, or what is left of an input whose size is known (a
  // small input need not zero a megabyte).
  const std::uint64_t known = consumed_ + at;
  const std::uint64_t left = total_ == 0 ? 1u << 20 : total_ > known ? total_ - known + 1 : 1;
  const std::size_t chunk = static_cast<std::size_t>(std::clamp<std::uint64_t>(left, 4096, 1u << 20));
  buffer_.resize(at + chunk);
  const std::size_t n = read_(buffer_.data() + at, chunk);
  buffer_.resize(at + n);
  if (n == 0) eof_ = true;
  return n > 0;
}

bool LineReader::next(std::string& line, bool& tooLong) {
  tooLong = false;
  line.clear();
  std::size_t skipped = 0;  // bytes of an over-long line dropped so far
  for (;;) {
    const std::size_t newline = buffer_.find('\n', pos_);
    if (newline != std::string::npos) {
      const std::size_t length = newline - pos_;
      if (skipped + length > kMaxLineBytes) {
        tooLong = true;
      } else {
        line.assign(buffer_, pos_, length);
        if (!line.empty() && line.back() == '\r') line.pop_back();
      }
      consumed_ += length + 1;
      pos_ = newline + 1;
      ++lineNumber_;
      return true;
    }
    const std::size_t pending = buffer_.size() - pos_;
    if (skipped + pending > kMaxLineBytes) {
      // Too long already: drop what is buffered and keep looking for the end.
      skipped += pending;
      consumed_ += pending;
      buffer_.clear();
      pos_ = 0;
      tooLong = true;
    }
    if (!fill()) {
      if (buffer_.size() == pos_ && skipped == 0) return false;
      ++lineNumber_;
      if (!tooLong) {
        line.assign(buffer_, pos_, buffer_.size() - pos_);
        if (!line.empty() && line.back() == '\r') line.pop_back();
      }
      consumed_ += buffer_.size() - pos_;
      pos_ = buffer_.size();
      return true;
    }
  }
}

}  // namespace seg
