// Progress of long work on stderr: a bar redrawn in place on a terminal,
// plain lines every few seconds otherwise (logs, CI).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace seg::cli {

class Progress {
 public:
  // `what` names the work ("importing friends.jsonl"), `unit` what is counted.
  Progress(std::string what, std::string unit);
  ~Progress();

  void update(std::uint64_t done, std::uint64_t total);
  void finish();

 private:
  void draw(std::uint64_t done, std::uint64_t total, bool last);
  std::string what_;
  std::string unit_;
  bool terminal_;
  bool finished_ = false;
  std::uint64_t done_ = 0, total_ = 0;
  std::chrono::steady_clock::time_point start_, lastDraw_;
};

}  // namespace seg::cli
