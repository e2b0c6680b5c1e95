#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace seg::cli {
namespace {

std::string humanCount(double value, const std::string& unit) {
  if (unit == "bytes") {
    if (value >= 1 << 30) return fmt::format("{:.1f} GiB", value / (1 << 30));
    if (value >= 1 << 20) return fmt::format("{:.1f} MiB", value / (1 << 20));
    return fmt::format("{:.0f} KiB", value / 1024);
  }
  if (value >= 1e6) return fmt::format("{:.2f}M {}", value / 1e6, unit);
  if (value >= 1e3) return fmt::format("{:.1f}k {}", value / 1e3, unit);
  return fmt::format("{:.0f} {}", value, unit);
}

}  // namespace

Progress::Progress(std::string what, std::string unit)
    : what_(std::move(what)), unit_(std::move(unit)), terminal_(isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()), lastDraw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::update(std::uint64_t done, std::uint64_t total) {
  done_ = done;
  total_ = total;
  const auto now = std::chrono::steady_clock::now();
  const auto interval = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (now - lastDraw_ < interval) return;
  lastDraw_ = now;
  draw(done, total, false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // Short work needs no progress report at all.
  if (seconds < 1.0 && !terminal_) return;
  draw(done_, total_, true);
}

void Progress::draw(std::uint64_t done, std::uint64_t total, bool last) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  const double fraction = total > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 0;
  if (terminal_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    fmt::print(stderr, "\r{} [{}{}] {:3.0f}% {} ({}/s){}", what_, std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(kWidth - filled), ' '), fraction * 100,
               humanCount(static_cast<double>(done), unit_), humanCount(rate, unit_), last ? "\n" : "");
  } else {
    fmt::print(stderr, "{}: {:.0f}% {} of {} ({}/s, {:.1f}s)\n", what_, fraction * 100,
               humanCount(static_cast<double>(done), unit_), humanCount(static_cast<double>(total), unit_),
               humanCount(rate, unit_), seconds);
  }
  std::fflush(stderr);
}

}  // namespace seg::cli
