// The reference evaluator: walks the IR for one friend. Simple and
// obviously right; the bitmap executor and the JIT must agree with it.
//
// Semantics (docs/language.md): a comparison involving a missing value is
// false; `not` negates; sum and count over no events are 0; min, max and
// last over none are missing; events after `now` are not seen.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "runtime/exec/binding.h"

namespace re2 {
class RE2;
}

namespace seg {

struct Val {
  bool present = false;
  std::int64_t i = 0;
  std::string_view s;  // strings: a view into the store or the program
};

// The event that triggered a rule or scenario step (for `e.field`).
struct TriggerEvent {
  std::uint32_t event = 0;  // IR event
  std::vector<Value> fields;
};

class Interpreter {
 public:
  Interpreter(const BoundProgram& bound, const EvalTime& time);
  ~Interpreter();

  // Whether the friend satisfies the boolean expression `root`.
  bool test(ir::NodeId root, std::uint32_t friendId, const TriggerEvent* trigger = nullptr) const;
  Val value(ir::NodeId root, std::uint32_t friendId, const TriggerEvent* trigger = nullptr) const;

  // The percent (basis points) `bucket(seed)` gives a user: stable forever.
  static std::int64_t bucketOf(std::string_view seed, const UserId& user);

 private:
  struct Frame {
    std::uint32_t friendId;
    const TriggerEvent* trigger;
    std::uint32_t rowEvent = ~0u;  // IR event of the aggregated row
    std::uint32_t row = 0;
  };
  Val eval(ir::NodeId id, const Frame& frame) const;
  bool truth(ir::NodeId id, const Frame& frame) const {
    const Val v = eval(id, frame);
    return v.present && v.i != 0;
  }
  Val aggregate(const ir::Node& n, const Frame& frame) const;
  Val fieldValue(std::uint32_t irEvent, std::uint32_t irField, std::uint32_t row) const;

  const BoundProgram& bound_;
  const ir::Program& p_;
  EvalTime time_;
};

// Shared by the evaluators so they agree to the day.
std::int32_t ageOn(std::int32_t birthday, std::int32_t today);

}  // namespace seg
