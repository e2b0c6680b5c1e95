// A message of the program as LINE's message object, filled in for one
// friend: text placeholders from the message's arguments and the friend's
// attributes. Text is cut to LINE's 5,000 characters (and said so).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "compiler/ir/expr.h"
#include "runtime/send/line_requests.h"

namespace seg::send {

struct RenderInput {
  std::vector<std::string> args;  // formatted, in parameter order
  // The friend's attribute (IR index), formatted; "" when missing.
  std::function<std::string(std::uint32_t attribute)> attribute;
};

struct Rendered {
  Json message;
  bool truncated = false;
};

Rendered renderMessage(const ir::MessageIr& message, const RenderInput& input);

// Whether a message reads anything of the friend (then each friend may get
// a different text, and messages go one request per distinct text).
bool isPersonal(const ir::MessageIr& message);

}  // namespace seg::send
