#include "runtime/store/event_log.h"

#include <algorithm>
#include <numeric>

#include "base/civil_time.h"
#include "runtime/store/bitmap_io.h"

namespace seg {

std::int32_t utcDay(std::int64_t time) {
  return static_cast<std::int32_t>(civil::floorDiv(time, civil::kSecondsPerDay));
}

EventLog::EventLog(ir::EventSpec spec) : spec_(std::move(spec)) {
  for (const ir::ColumnSpec& f : spec_.fields) fields_.emplace_back(f);
}

std::size_t EventLog::lowerBound(std::int64_t time) const {
  return static_cast<std::size_t>(std::lower_bound(times_.begin(), times_.end(), time) - times_.begin());
}

void EventLog::resizeFriends(std::uint32_t friends) {
  if (latest_.size() < friends) latest_.resize(friends, kNoRow);
}

void EventLog::extendSpec(const ir::EventSpec& spec) {
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    if (i < fields_.size()) {
      fields_[i].extendSpec(spec.fields[i]);
    } else {
      fields_.emplace_back(spec.fields[i]);
      fields_.back().pushMissing(friends_.size());
    }
  }
  spec_ = spec;
}

void EventLog::pushRow(std::uint32_t friendId, std::int64_t time) {
  const auto row = static_cast<std::uint32_t>(friends_.size());
  friends_.push_back(friendId);
  times_.push_back(time);
  previous_.push_back(latest_[friendId]);
  latest_[friendId] = row;
  days_[utcDay(time)].add(friendId);
}

void EventLog::pushRow(const EventRow& row) {
  pushRow(row.friendId, row.time);
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    fields_[i].push(i < row.fields.size() ? row.fields[i] : Value::missing());
  }
}

// Drops rows from `rows` on, restoring each affected friend's latest row.
void EventLog::truncate(std::size_t rows) {
  for (std::size_t r = friends_.size(); r-- > rows;) latest_[friends_[r]] = previous_[r];
  friends_.resize(rows);
  times_.resize(rows);
  previous_.resize(rows);
  for (FieldColumn& f : fields_) f.truncate(rows);
}

void EventLog::append(std::vector<EventRow> rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const EventRow& a, const EventRow& b) { return a.time < b.time; });
  if (rows.empty()) return;
  if (times_.empty() || rows.front().time >= times_.back()) {
    for (const EventRow& row : rows) pushRow(row);
    return;
  }
  // Late rows: take the existing rows from the first late time on, and
  // append both in time order. Day bitmaps only ever gain members.
  const std::size_t from = static_cast<std::size_t>(
      std::upper_bound(times_.begin(), times_.end(), rows.front().time) - times_.begin());
  std::vector<EventRow> tail;
  tail.reserve(friends_.size() - from);
  for (std::size_t r = from; r < friends_.size(); ++r) {
    EventRow row{friends_[r], times_[r], {}};
    for (const FieldColumn& f : fields_) row.fields.push_back(f.get(r));
    tail.push_back(std::move(row));
  }
  truncate(from);
  std::vector<EventRow> merged;
  merged.reserve(tail.size() + rows.size());
  std::merge(std::make_move_iterator(tail.begin()), std::make_move_iterator(tail.end()),
             std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()), std::back_inserter(merged),
             [](const EventRow& a, const EventRow& b) { return a.time < b.time; });
  for (const EventRow& row : merged) pushRow(row);
}

std::size_t EventLog::memoryBytes() const {
  std::size_t total = friends_.capacity() * 4 + times_.capacity() * 8 + previous_.capacity() * 4 + latest_.capacity() * 4;
  for (const FieldColumn& f : fields_) total += f.memoryBytes();
  return total;
}

std::size_t EventLog::indexBytes() const {
  std::size_t total = 0;
  for (const auto& [day, bitmap] : days_) total += bitmap.sizeInBytes();
  return total;
}

void EventLog::optimize() {
  for (auto& [day, bitmap] : days_) bitmap.optimize();
}

void EventLog::write(BinaryWriter& out) const {
  out.varint(friends_.size());
  out.raw(friends_.data(), friends_.size() * 4);
  out.raw(times_.data(), times_.size() * 8);
  for (const FieldColumn& f : fields_) f.write(out);
  out.varint(days_.size());
  for (const auto& [day, bitmap] : days_) {
    out.svarint(day);
    writeBitmap(out, bitmap);
  }
}

void EventLog::read(BinaryReader& in, std::uint32_t friends) {
  const std::size_t rows = in.count(12);
  friends_.resize(rows);
  times_.resize(rows);
  in.raw(friends_.data(), rows * 4);
  in.raw(times_.data(), rows * 8);
  for (FieldColumn& f : fields_) f.read(in, rows);
  // The friend chains are derived, not stored.
  latest_.assign(friends, kNoRow);
  previous_.resize(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    if (friends_[r] >= friends) throw CorruptData("event of an unknown friend");
    if (r > 0 && times_[r] < times_[r - 1]) throw CorruptData("events out of time order");
    previous_[r] = latest_[friends_[r]];
    latest_[friends_[r]] = static_cast<std::uint32_t>(r);
  }
  days_.clear();
  const std::size_t days = in.count(2);
  for (std::size_t i = 0; i < days; ++i) {
    const auto day = static_cast<std::int32_t>(in.svarint());
    days_.emplace(day, readBitmap(in));
  }
}

}  // namespace seg
