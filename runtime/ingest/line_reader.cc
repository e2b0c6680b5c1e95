#include "runtime/ingest/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace seg {

LineReader::LineReader(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw IoError("cannot open `" + path + "`: " + std::strerror(errno));
  file_ = File(fd_, path);
  total_ = file_.size();
}

bool LineReader::fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  const std::size_t at = buffer_.size();
  buffer_.resize(at + (1u << 20));
  ssize_t n;
  do {
    n = ::read(fd_, buffer_.data() + at, 1u << 20);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw IoError(std::string("read failed: ") + std::strerror(errno));
  buffer_.resize(at + static_cast<std::size_t>(n));
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
