// A program's messages as LINE's message objects, filled in for one friend:
// placeholders in texts, flex strings, alt texts and image URLs take the
// message's arguments and the friend's attributes (or their fallbacks).
// Values placed in URLs are percent-encoded; text is cut to LINE's 5,000
// UTF-16 units. A message LINE would refuse (an empty text, a URL that is
// not https) is not built: `unsendable` says why, and the caller skips it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "compiler/ir/automation.h"
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
  std::string unsendable;  // why LINE would refuse it; "" when it can be sent
};

class MessageRenderer {
 public:
  // Parses each flex container once.
  explicit MessageRenderer(const ir::Automation& automation);
  Rendered render(std::uint32_t message, const RenderInput& input) const;

 private:
  const ir::Automation& automation_;
  std::vector<Json> flex_;  // by message; null for other kinds
};

// Whether a message reads anything of the friend or its arguments (then
// friends may get different messages, and requests go one per content).
bool isPersonal(const ir::MessageIr& message);

// Percent-encoding for URLs (RFC 3986): a whole URL keeps its reserved
// characters and escapes what no URI may hold (spaces, non-ASCII bytes);
// a component (a value inside a URL) keeps only unreserved characters.
std::string encodeUrl(std::string_view url);
std::string encodeUrlComponent(std::string_view value);

}  // namespace seg::send
