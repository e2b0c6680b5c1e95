#include "runtime/store/wal.h"

#include <zlib.h>

#include <map>

#include <fmt/format.h>

namespace seg {
namespace {

constexpr std::uint32_t kMagic = 0x57474553;  // "SEGW" little-endian
constexpr std::size_t kHeaderBytes = 24;
// No frame is larger: a length beyond it is corruption, not a big frame.
constexpr std::uint32_t kMaxPayload = 1u << 30;

std::uint32_t checksum(std::string_view header, std::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(header.data()), static_cast<uInt>(header.size()));
  // zlib's crc32 takes a uInt length; feed large payloads in pieces.
  for (std::size_t pos = 0; pos < payload.size(); pos += 1u << 30) {
    const std::size_t n = std::min<std::size_t>(payload.size() - pos, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(payload.data() + pos), static_cast<uInt>(n));
  }
  return static_cast<std::uint32_t>(crc);
}

}  // namespace

std::string encodeFrame(const WalFrame& frame) {
  std::string out;
  BinaryWriter writer(out);
  writer.fixed32(kMagic);
  writer.fixed32(static_cast<std::uint32_t>(frame.payload.size()));
  writer.fixed64(frame.transaction);
  writer.fixed32(frame.flags);
  writer.fixed32(checksum(out, frame.payload));
  out += frame.payload;
  return out;
}

WalReplay replayWal(std::string_view log, std::uint64_t after,
                    const std::function<bool(std::vector<Mutation>&&)>& commit) {
  WalReplay result;
  std::map<std::uint64_t, std::vector<Mutation>> open;  // transactions not yet committed
  std::uint64_t highest = after;  // new numbers follow the snapshot's, then each other
  std::size_t pos = 0;
  const auto end = [&](std::string reason) { result.endReason = fmt::format("at byte {}: {}", pos, reason); };
  while (pos < log.size()) {
    if (log.size() - pos < kHeaderBytes) {
      end("a frame header cut short");
      break;
    }
    BinaryReader header(log.substr(pos, kHeaderBytes));
    const std::uint32_t magic = header.fixed32();
    const std::uint32_t length = header.fixed32();
    const std::uint64_t transaction = header.fixed64();
    const std::uint32_t flags = header.fixed32();
    const std::uint32_t stored = header.fixed32();
    if (magic != kMagic || length > kMaxPayload || log.size() - pos - kHeaderBytes < length) {
      end("not a whole frame");
      break;
    }
    const std::string_view payload = log.substr(pos + kHeaderBytes, length);
    if (checksum(log.substr(pos, kHeaderBytes - 4), payload) != stored) {
      end("a frame whose checksum does not match");
      break;
    }
    // Frames at or below the snapshot's number were written before it (a
    // crash between the snapshot and emptying the log); they are skipped.
    const bool inSnapshot = transaction <= after;
    const bool continues = open.contains(transaction);
    if (!inSnapshot && !continues && transaction != highest + 1) {
      end(fmt::format("transaction {} is out of sequence (the next is {})", transaction, highest + 1));
      break;
    }
    std::vector<Mutation> changes;
    try {
      BinaryReader reader(payload);
      while (!reader.done()) changes.push_back(Mutation::decode(reader));
    } catch (const CorruptData& e) {
      end(std::string("a frame that does not decode: ") + e.what());
      break;  // checksummed but undecodable: the end, as for a torn one
    }
    if (inSnapshot) {
      pos += kHeaderBytes + length;
      result.validBytes = pos;
      continue;
    }
    auto& pending = open[transaction];
    pending.insert(pending.end(), std::make_move_iterator(changes.begin()), std::make_move_iterator(changes.end()));
    if (flags & kWalLastFrame) {
      std::vector<Mutation> whole = std::move(pending);
      open.erase(transaction);
      if (!commit(std::move(whole))) {
        // Cut here: the number stays free, as the frame goes.
        end(fmt::format("transaction {} cannot be applied to the snapshot", transaction));
        break;
      }
      ++result.transactions;
    }
    // A frame that stays in the log holds its number, committed or not.
    highest = std::max(highest, transaction);
    pos += kHeaderBytes + length;
    result.validBytes = pos;
  }
  result.highestTransaction = highest;
  result.tornTail = result.validBytes < log.size();
  result.discardedFrames = open.size();
  return result;
}

}  // namespace seg
