// Per-friend attribute columns and per-event field columns, with the
// bitmap indexes kept up to date on every write.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/ir/schema.h"
#include "runtime/index/bitmap.h"
#include "runtime/index/value_bins.h"
#include "runtime/store/binary_io.h"
#include "runtime/store/value.h"

namespace seg {

// Strings stored once, referred to by code; code 0 means "no value".
class StringDict {
 public:
  StringDict() : strings_(1) {}
  std::uint32_t intern(std::string_view text);
  std::uint32_t find(std::string_view text) const;  // 0 when absent
  const std::string& at(std::uint32_t code) const { return strings_[code]; }
  std::size_t size() const { return strings_.size() - 1; }
  std::size_t bytes() const;
  void write(BinaryWriter& out) const;
  void read(BinaryReader& in);

 private:
  std::vector<std::string> strings_;
  std::unordered_map<std::string, std::uint32_t> codes_;
};

// One attribute of every friend.
class AttributeColumn {
 public:
  // String columns keep a bitmap per value while they have at most this
  // many distinct values (prefectures, inflow routes); beyond it (names)
  // equality is answered by scanning codes.
  static constexpr std::size_t kMaxIndexedStrings = 4096;

  // Missing numbers are stored as this value (so compiled code can test
  // presence without the bitmap); it is not a value one can store.
  static constexpr std::int64_t kMissing = ValueBins::kMissing;

  explicit AttributeColumn(ir::ColumnSpec spec) : spec_(std::move(spec)) {}

  const ir::ColumnSpec& spec() const { return spec_; }
  // The schema grew (enum values added at the end): stored ranks keep
  // their meaning, so only the spec changes.
  void extendSpec(const ir::ColumnSpec& spec) { spec_ = spec; }
  void resize(std::uint32_t friends);

  bool has(std::uint32_t id) const { return usesCodes() ? codes_[id] != 0 : ints_[id] != kMissing; }
  Value get(std::uint32_t id) const;
  std::int64_t intAt(std::uint32_t id) const { return ints_[id]; }
  std::uint32_t codeAt(std::uint32_t id) const { return codes_[id]; }
  void set(std::uint32_t id, const Value& value);
  void clear(std::uint32_t id);

  const Bitmap& present() const { return present_; }
  // Friends whose number compares with `constant`, or lies in one of the
  // ranges [bounds[2i], bounds[2i+1]]: answered by the range index. With
  // `within`, the answer may hold friends outside it (callers intersect).
  Bitmap compare(Compare op, std::int64_t constant, const Bitmap* within = nullptr) const {
    return bins_.between(ValueBins::rangesOf(op, constant), ints_, within);
  }
  Bitmap between(std::span<const std::int64_t> bounds, const Bitmap* within = nullptr) const {
    return bins_.between(bounds, ints_, within);
  }
  std::optional<std::pair<std::int64_t, std::int64_t>> valueBounds() const { return bins_.bounds(ints_); }
  const ValueBins& rangeIndex() const { return bins_; }
  // Enum ranks, bool false/true, indexed string codes; null when none.
  const Bitmap* valueBitmap(std::size_t valueOrCode) const;
  bool stringsIndexed() const { return stringsIndexed_; }
  const StringDict& dict() const { return dict_; }
  const std::vector<std::int64_t>& ints() const { return ints_; }
  const std::vector<std::uint32_t>& codes() const { return codes_; }

  std::size_t memoryBytes() const;
  std::size_t indexBytes() const;
  void optimize();
  // The first `friends` entries: columns may be sized ahead of the count.
  void write(BinaryWriter& out, std::uint32_t friends) const;
  // Snapshots before version 3 also hold bit slices of numeric columns,
  // skipped.
  void read(BinaryReader& in, std::uint32_t friends, bool withBitSlices);

 private:
  bool usesRangeIndex() const { return ir::isIntegral(spec_.type) && spec_.type != ir::ValueType::Enum; }
  bool usesCodes() const { return spec_.type == ir::ValueType::String; }
  void indexValue(std::uint32_t id, std::size_t valueOrCode, bool on);

  ir::ColumnSpec spec_;
  std::vector<std::int64_t> ints_;   // integral, enum rank, bool 0/1
  std::vector<std::uint32_t> codes_; // strings
  StringDict dict_;
  Bitmap present_;
  ValueBins bins_;  // numbers, dates and times
  std::vector<Bitmap> valueBitmaps_;
  bool stringsIndexed_ = true;
};

// One field of every event in a log. Missing values: INT64_MIN, code 0.
class FieldColumn {
 public:
  static constexpr std::int64_t kMissing = ValueBins::kMissing;

  explicit FieldColumn(ir::ColumnSpec spec) : spec_(std::move(spec)) {}
  const ir::ColumnSpec& spec() const { return spec_; }
  void extendSpec(const ir::ColumnSpec& spec) { spec_ = spec; }
  void push(const Value& value);
  // `rows` missing values, for a field added to a log that has rows.
  void pushMissing(std::size_t rows);
  Value get(std::size_t row) const;
  std::int64_t intAt(std::size_t row) const { return ints_[row]; }
  std::uint32_t codeAt(std::size_t row) const { return codes_[row]; }
  const StringDict& dict() const { return dict_; }
  const std::vector<std::int64_t>& ints() const { return ints_; }
  const std::vector<std::uint32_t>& codes() const { return codes_; }
  void reorder(const std::vector<std::uint32_t>& order);
  void truncate(std::size_t rows);
  std::size_t memoryBytes() const;
  void write(BinaryWriter& out) const;
  void read(BinaryReader& in, std::size_t rows);

 private:
  ir::ColumnSpec spec_;
  std::vector<std::int64_t> ints_;
  std::vector<std::uint32_t> codes_;
  StringDict dict_;
};

}  // namespace seg
