// Bitmaps in snapshots: length-prefixed CRoaring portable bytes.
#pragma once

#include <string>

#include "runtime/index/bitmap.h"
#include "runtime/store/binary_io.h"

namespace seg {

inline void writeBitmap(BinaryWriter& out, const Bitmap& bitmap) {
  std::string bytes;
  bitmap.serialize(bytes);
  out.bytes(bytes);
}

inline Bitmap readBitmap(BinaryReader& in) {
  const std::string_view bytes = in.bytes();
  std::size_t consumed = 0;
  auto bitmap = Bitmap::deserialize(bytes, consumed);
  if (!bitmap || consumed != bytes.size()) throw CorruptData("invalid bitmap");
  return std::move(*bitmap);
}

}  // namespace seg
