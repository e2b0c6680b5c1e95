// The events of one type, in time order: who, when, and the fields.
//
// Each row links to the same friend's previous row, and each friend to its
// latest row, so one friend's events are read newest first without a scan
// (point evaluation). Per UTC day, a bitmap says who had the event that day
// (`exists(E, within 30d)` is an OR of at most 31 bitmaps).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "compiler/ir/schema.h"
#include "runtime/index/bitmap.h"
#include "runtime/store/columns.h"

namespace seg {

inline constexpr std::uint32_t kNoRow = ~std::uint32_t{0};

struct EventRow {
  std::uint32_t friendId;
  std::int64_t time;  // seconds since the epoch
  std::vector<Value> fields;
};

class EventLog {
 public:
  explicit EventLog(ir::EventSpec spec);

  const ir::EventSpec& spec() const { return spec_; }
  std::size_t size() const { return friends_.size(); }
  std::uint32_t friendAt(std::size_t row) const { return friends_[row]; }
  std::int64_t timeAt(std::size_t row) const { return times_[row]; }
  const FieldColumn& field(std::size_t i) const { return fields_[i]; }
  std::size_t fieldCount() const { return fields_.size(); }
  // The friend's latest row, and the row before a given one, or kNoRow.
  std::uint32_t latestOf(std::uint32_t friendId) const {
    return friendId < latest_.size() ? latest_[friendId] : kNoRow;
  }
  std::uint32_t previousOf(std::uint32_t row) const { return previous_[row]; }
  const std::vector<std::int64_t>& times() const { return times_; }
  // The chains as arrays, for compiled code.
  const std::uint32_t* latestArray() const { return latest_.data(); }
  const std::uint32_t* previousArray() const { return previous_.data(); }
  const std::vector<std::uint32_t>& friends() const { return friends_; }

  // Day buckets: UTC day number -> friends with an event that day.
  const std::map<std::int32_t, Bitmap>& days() const { return days_; }
  // First row with time >= `time`.
  std::size_t lowerBound(std::int64_t time) const;

  void resizeFriends(std::uint32_t friends);
  // The schema grew: new fields (missing in every existing row) and enum
  // values added at the end of existing fields.
  void extendSpec(const ir::EventSpec& spec);
  // Appends rows; rows older than the newest are merged into place so the
  // log stays in time order (equal times keep arrival order).
  void append(std::vector<EventRow> rows);

  std::size_t memoryBytes() const;
  std::size_t indexBytes() const;
  void optimize();
  void write(BinaryWriter& out) const;
  void read(BinaryReader& in, std::uint32_t friends);

 private:
  void pushRow(const EventRow& row);
  void pushRow(std::uint32_t friendId, std::int64_t time);
  void truncate(std::size_t rows);

  ir::EventSpec spec_;
  std::vector<std::uint32_t> friends_;
  std::vector<std::int64_t> times_;
  std::vector<std::uint32_t> previous_;
  std::vector<FieldColumn> fields_;
  std::vector<std::uint32_t> latest_;  // by friend
  std::map<std::int32_t, Bitmap> days_;
};

std::int32_t utcDay(std::int64_t time);

}  // namespace seg
