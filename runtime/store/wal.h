// The write-ahead log: frames of changes, each with a checksum, appended and
// synced before the changes are acknowledged.
//
//   u32 magic "SEGW" | u32 payload length | u64 transaction | u32 flags |
//   u32 CRC-32 of the preceding 20 bytes and the payload | payload
//
// A transaction may span frames; only the frame with the Last flag commits
// it, so a crash in the middle of a large strict import leaves nothing of it.
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
  std::uint64_t lastTransaction = 0;   // highest committed transaction seen
  std::size_t transactions = 0;        // committed transactions replayed
  std::size_t discardedFrames = 0;     // frames of transactions never committed
  bool tornTail = false;               // bytes after the last valid frame
};

// Reads `log`, calling `commit` with the changes of each committed
// transaction newer than `after`, in commit order.
WalReplay replayWal(std::string_view log, std::uint64_t after,
                    const std::function<void(std::vector<Mutation>&&)>& commit);

}  // namespace seg
