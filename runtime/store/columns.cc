#include "runtime/store/columns.h"

#include "runtime/store/bitmap_io.h"

namespace seg {

// ---------------------------------------------------------------- StringDict

std::uint32_t StringDict::intern(std::string_view text) {
  const auto found = codes_.find(std::string(text));
  if (found != codes_.end()) return found->second;
  const auto code = static_cast<std::uint32_t>(strings_.size());
  strings_.emplace_back(text);
  codes_.emplace(std::string(text), code);
  return code;
}

std::uint32_t StringDict::find(std::string_view text) const {
  const auto found = codes_.find(std::string(text));
  return found == codes_.end() ? 0 : found->second;
}

std::size_t StringDict::bytes() const {
  std::size_t total = 0;
  for (const std::string& s : strings_) total += s.size() + sizeof(std::string) * 2 + 16;
  return total;
}

void StringDict::write(BinaryWriter& out) const {
  out.varint(strings_.size() - 1);
  for (std::size_t i = 1; i < strings_.size(); ++i) out.bytes(strings_[i]);
}

void StringDict::read(BinaryReader& in) {
  const std::size_t n = in.count(1);
  strings_.assign(1, std::string());
  codes_.clear();
  strings_.reserve(n + 1);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view s = in.bytes();
    strings_.emplace_back(s);
    codes_.emplace(std::string(s), static_cast<std::uint32_t>(strings_.size() - 1));
  }
}

// ----------------------------------------------------------- AttributeColumn

void AttributeColumn::resize(std::uint32_t friends) {
  if (usesCodes()) {
    codes_.resize(friends, 0);
  } else {
    ints_.resize(friends, kMissing);
  }
}

Value AttributeColumn::get(std::uint32_t id) const {
  if (!has(id)) return Value::missing();
  switch (spec_.type) {
    case ir::ValueType::String: return Value::ofString(dict_.at(codes_[id]));
    case ir::ValueType::Bool: return Value::ofBool(ints_[id] != 0);
    default: return Value::ofInt(ints_[id]);
  }
}

void AttributeColumn::indexValue(std::uint32_t id, std::size_t valueOrCode, bool on) {
  if (usesCodes() && !stringsIndexed_) return;
  if (valueBitmaps_.size() <= valueOrCode) valueBitmaps_.resize(valueOrCode + 1);
  valueBitmaps_[valueOrCode].set(id, on);
}

void AttributeColumn::set(std::uint32_t id, const Value& value) {
  if (value.isMissing()) return clear(id);
  const bool had = has(id);
  switch (spec_.type) {
    case ir::ValueType::String: {
      const std::uint32_t code = dict_.intern(value.s);
      if (had) indexValue(id, codes_[id], false);
      codes_[id] = code;
      if (stringsIndexed_ && dict_.size() > kMaxIndexedStrings) {
        stringsIndexed_ = false;
        valueBitmaps_.clear();
      }
      indexValue(id, code, true);
      break;
    }
    case ir::ValueType::Bool:
    case ir::ValueType::Enum:
      if (had) indexValue(id, static_cast<std::size_t>(ints_[id]), false);
      ints_[id] = value.i;
      indexValue(id, static_cast<std::size_t>(value.i), true);
      break;
    default: {
      const std::int64_t previous = ints_[id];
      ints_[id] = value.i;
      bins_.set(id, value.i, had ? &previous : nullptr, ints_);
      break;
    }
  }
  present_.add(id);
}

void AttributeColumn::clear(std::uint32_t id) {
  if (!has(id)) return;
  switch (spec_.type) {
    case ir::ValueType::String:
      indexValue(id, codes_[id], false);
      codes_[id] = 0;
      break;
    case ir::ValueType::Bool:
    case ir::ValueType::Enum: indexValue(id, static_cast<std::size_t>(ints_[id]), false); break;
    default: bins_.clear(id, ints_[id]); break;
  }
  if (!usesCodes()) ints_[id] = kMissing;
  present_.remove(id);
}

const Bitmap* AttributeColumn::valueBitmap(std::size_t valueOrCode) const {
  if (usesRangeIndex() || (usesCodes() && !stringsIndexed_)) return nullptr;
  static const Bitmap kEmpty;
  return valueOrCode < valueBitmaps_.size() ? &valueBitmaps_[valueOrCode] : &kEmpty;
}

std::size_t AttributeColumn::memoryBytes() const {
  return ints_.capacity() * sizeof(std::int64_t) + codes_.capacity() * sizeof(std::uint32_t) + dict_.bytes();
}

std::size_t AttributeColumn::indexBytes() const {
  std::size_t total = present_.sizeInBytes() + bins_.sizeInBytes();
  for (const Bitmap& b : valueBitmaps_) total += b.sizeInBytes();
  return total;
}

void AttributeColumn::optimize() {
  present_.optimize();
  bins_.optimize();
  for (Bitmap& b : valueBitmaps_) b.optimize();
}

void AttributeColumn::write(BinaryWriter& out, std::uint32_t friends) const {
  writeBitmap(out, present_);
  if (usesCodes()) {
    dict_.write(out);
    out.raw(codes_.data(), friends * sizeof(std::uint32_t));
    out.u8(stringsIndexed_ ? 1 : 0);
  } else {
    out.raw(ints_.data(), friends * sizeof(std::int64_t));
  }
  // The range index of numeric columns is rebuilt from the values on load.
  if (!usesRangeIndex() && (!usesCodes() || stringsIndexed_)) {
    out.varint(valueBitmaps_.size());
    for (const Bitmap& b : valueBitmaps_) writeBitmap(out, b);
  }
}

void AttributeColumn::read(BinaryReader& in, std::uint32_t friends, bool withBitSlices) {
  present_ = readBitmap(in);
  const std::size_t width = usesCodes() ? sizeof(std::uint32_t) : sizeof(std::int64_t);
  if (friends > in.remaining() / width) throw CorruptData("truncated column");
  if (usesCodes()) {
    dict_.read(in);
    if (friends > in.remaining() / width) throw CorruptData("truncated column");
    codes_.resize(friends);
    in.raw(codes_.data(), codes_.size() * sizeof(std::uint32_t));
    for (std::uint32_t code : codes_) {
      if (code > dict_.size()) throw CorruptData("string code out of range");
    }
    stringsIndexed_ = in.u8() != 0;
  } else {
    ints_.resize(friends);
    in.raw(ints_.data(), ints_.size() * sizeof(std::int64_t));
  }
  if (usesRangeIndex()) {
    if (withBitSlices) {
      readBitmap(in);
      const std::size_t n = in.count(1);
      if (n > 64) throw CorruptData("too many bit slices");
      for (std::size_t i = 0; i < n; ++i) readBitmap(in);
    }
  } else if (!usesCodes() || stringsIndexed_) {
    const std::size_t n = in.count(1);
    valueBitmaps_.clear();
    for (std::size_t i = 0; i < n; ++i) valueBitmaps_.push_back(readBitmap(in));
  }
  if (!present_.empty() && present_.maximum() >= friends) throw CorruptData("column has values past the last friend");
  if (usesRangeIndex()) bins_.rebuild(ints_);
}

// --------------------------------------------------------------- FieldColumn

void FieldColumn::push(const Value& value) {
  if (spec_.type == ir::ValueType::String) {
    codes_.push_back(value.isMissing() ? 0 : dict_.intern(value.s));
  } else {
    ints_.push_back(value.isMissing() ? kMissing : value.i);
  }
}

void FieldColumn::pushMissing(std::size_t rows) {
  if (spec_.type == ir::ValueType::String) {
    codes_.resize(codes_.size() + rows, 0);
  } else {
    ints_.resize(ints_.size() + rows, kMissing);
  }
}

Value FieldColumn::get(std::size_t row) const {
  if (spec_.type == ir::ValueType::String) {
    return codes_[row] == 0 ? Value::missing() : Value::ofString(dict_.at(codes_[row]));
  }
  if (ints_[row] == kMissing) return Value::missing();
  return spec_.type == ir::ValueType::Bool ? Value::ofBool(ints_[row] != 0) : Value::ofInt(ints_[row]);
}

void FieldColumn::reorder(const std::vector<std::uint32_t>& order) {
  if (spec_.type == ir::ValueType::String) {
    std::vector<std::uint32_t> out(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) out[i] = codes_[order[i]];
    codes_ = std::move(out);
  } else {
    std::vector<std::int64_t> out(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) out[i] = ints_[order[i]];
    ints_ = std::move(out);
  }
}

void FieldColumn::truncate(std::size_t rows) {
  if (spec_.type == ir::ValueType::String) {
    codes_.resize(rows);
  } else {
    ints_.resize(rows);
  }
}

std::size_t FieldColumn::memoryBytes() const {
  return ints_.capacity() * sizeof(std::int64_t) + codes_.capacity() * sizeof(std::uint32_t) + dict_.bytes();
}

void FieldColumn::write(BinaryWriter& out) const {
  if (spec_.type == ir::ValueType::String) {
    dict_.write(out);
    out.raw(codes_.data(), codes_.size() * sizeof(std::uint32_t));
  } else {
    out.raw(ints_.data(), ints_.size() * sizeof(std::int64_t));
  }
}

void FieldColumn::read(BinaryReader& in, std::size_t rows) {
  if (spec_.type == ir::ValueType::String) {
    dict_.read(in);
    if (rows > in.remaining() / sizeof(std::uint32_t)) throw CorruptData("truncated field");
    codes_.resize(rows);
    in.raw(codes_.data(), rows * sizeof(std::uint32_t));
    for (std::uint32_t code : codes_) {
      if (code > dict_.size()) throw CorruptData("string code out of range");
    }
  } else {
    if (rows > in.remaining() / sizeof(std::int64_t)) throw CorruptData("truncated field");
    ints_.resize(rows);
    in.raw(ints_.data(), rows * sizeof(std::int64_t));
  }
}

}  // namespace seg
