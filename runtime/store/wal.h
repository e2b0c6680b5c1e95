// The write-ahead log: frames of changes, each with a checksum, appended and
// synced before the changes are acknowledged.
//
//   u32 magic "SEGW" | u32 payload length | u64 transaction | u32 flags |
//   u32 CRC-32 of the preceding 20 bytes and the payload | payload
//
// A transaction may span frames; only the frame with the Last flag commits
// it, so a crash in the middle of a large strict import leaves nothing of it.
//
// Transaction numbers are handed out when a transaction's first frame is
// queued, so in the log a new number is always one more than the highest
// before it (frames of a transaction still open may interleave). Replay
// trusts nothing else: a frame out of that sequence ends the log, like a
// torn one, and the next number is one past every number the log holds,
// those of unfinished transactions included, so none is ever reused.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/store/file_io.h"
#include "runtime/store/mutation.h"

namespace seg {

inline constexpr std::uint32_t kWalLastFrame = 1;

struct WalFrame {
  std::uint64_t transaction = 0;
  std::uint32_t flags = 0;
  std::string payload;  // encoded mutations
};

std::string encodeFrame(const WalFrame& frame);

struct WalReplay {
  std::uint64_t validBytes = 0;        // where the valid log ends
  std::uint64_t highestTransaction = 0;  // highest number in the valid log, committed or not
  std::size_t transactions = 0;        // committed transactions replayed
  std::size_t discardedFrames = 0;     // transactions never committed
  bool tornTail = false;               // bytes after the last valid frame
  std::string endReason;               // why the valid log ends before the file does
};

// Reads `log`, calling `commit` with the changes of each committed
// transaction newer than `after`, in commit order. `commit` returns false
// when the changes cannot be applied (nothing of them applied): the log
// ends there.
WalReplay replayWal(std::string_view log, std::uint64_t after,
                    const std::function<bool(std::vector<Mutation>&&)>& commit);

}  // namespace seg
