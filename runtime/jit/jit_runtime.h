// What compiled residual code reads at run time: a small context with the
// evaluation instant and a table of pointers ("slots") into the store, and
// C helpers for what is easier done in C++. Shared by the code generator
// and the evaluator that fills the slots.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace seg {

class Bitmap;
struct EvalTime;

struct JitContext {
  std::int64_t now;
  std::int64_t today;
  const void* const* slots;
};

// What each slot of a compiled function must point at.
struct JitSlot {
  enum class Kind : std::uint8_t {
    AttrInts,      // const int64_t*   a: attribute
    AttrCodes,     // const uint32_t*  a: attribute
    EventLatest,   // const uint32_t*  a: event
    EventPrevious, // const uint32_t*  a: event
    EventTimes,    // const int64_t*   a: event
    FieldInts,     // const int64_t*   a: event, b: field
    FieldCodes,    // const uint32_t*  a: event, b: field
    Bitmap,        // const Bitmap*    text: name, b: 0 tag, 1 audience, 2+k status k
    StringTable,   // const uint8_t*   one byte per dictionary code: does the predicate hold
    Users,         // const UserId*
    Text,          // const char*      text
    Time,          // const EvalTime*
    CivilTable,    // const uint32_t*  civilTable(): dates from kCivilTableFirstDay
  };
  // Not an aggregate: slots are written `{kind, a, b, ...}` with what they use.
  JitSlot(Kind kind = Kind::AttrInts, std::uint32_t a = 0, std::uint32_t b = 0, std::string text = {}, bool overField = false,
          std::uint32_t predicate = 0)
      : kind(kind), a(a), b(b), text(std::move(text)), overField(overField), predicate(predicate) {}

  Kind kind;
  std::uint32_t a, b;
  std::string text;
  // StringTable: the predicate (an IR subtree of the compiled expression,
  // in its own serialized form) and which dictionary it is over.
  bool overField;
  std::uint32_t predicate;  // node id in the compiled expression's program

  bool operator==(const JitSlot&) const = default;
};

// Civil dates of the days 1900-01-01 .. 2099-12-31, packed as
// year << 9 | month << 5 | day, so compiled code finds a date's parts with
// one load. Built once, never changed.
inline constexpr std::int64_t kCivilTableFirstDay = -25567;  // 1900-01-01
inline constexpr std::int64_t kCivilTableDays = 73049;       // to 2099-12-31
const std::uint32_t* civilTable();

extern "C" {
bool seg_jit_bitmap_contains(const void* bitmap, std::uint32_t id);
std::int64_t seg_jit_bucket(const char* seed, const void* users, std::uint32_t id);
std::int64_t seg_jit_civil(std::int64_t days);  // packed, as civilTable()
std::int64_t seg_jit_calendar(std::int32_t op, std::int64_t value, std::int32_t isTime, const void* time);
std::int64_t seg_jit_date_instant(std::int64_t day, const void* time);
}

}  // namespace seg
