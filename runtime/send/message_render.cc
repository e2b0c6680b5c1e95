#include "runtime/send/message_render.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "compiler/source/source.h"

namespace seg::send {
namespace {

constexpr std::size_t kMaxAltText = 1500;  // UTF-16 units, as LINE counts
constexpr std::size_t kMaxUrl = 2000;
constexpr std::size_t kMaxBubbleBytes = 30 * 1024;
constexpr std::size_t kMaxCarouselBytes = 50 * 1024;

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool reserved(unsigned char c) { return std::string_view(":/?#[]@!$&'()*+,;=").find(static_cast<char>(c)) != std::string_view::npos; }

bool hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

void escapeByte(std::string& out, unsigned char c) { out += fmt::format("%{:02X}", c); }

bool usesFriend(const ir::Template& parts) {
  return std::any_of(parts.begin(), parts.end(), [](const ir::TemplatePart& p) { return p.kind != ir::TemplatePart::Kind::Literal; });
}

// The last token of a JSON pointer: the key the string sits under.
std::string_view keyOf(std::string_view pointer) { return pointer.substr(pointer.rfind('/') + 1); }

bool startsWithHttps(std::string_view url) { return url.rfind("https://", 0) == 0; }

class Filler {
 public:
  explicit Filler(const RenderInput& input) : input_(input) {}

  std::string value(const ir::TemplatePart& part) const {
    std::string v;
    if (part.kind == ir::TemplatePart::Kind::Param && part.index < input_.args.size()) v = input_.args[part.index];
    if (part.kind == ir::TemplatePart::Kind::Attribute && input_.attribute) v = input_.attribute(part.index);
    return v.empty() ? part.text : v;  // the fallback, "" when none
  }

  std::string text(const ir::Template& parts) const {
    std::string out;
    for (const ir::TemplatePart& part : parts) out += part.kind == ir::TemplatePart::Kind::Literal ? part.text : value(part);
    return out;
  }

  // A value at the very start provides the URL itself; elsewhere it is a
  // component (a path segment, a query value) and is encoded whole.
  std::string url(const ir::Template& parts) const {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const ir::TemplatePart& part = parts[i];
      if (part.kind == ir::TemplatePart::Kind::Literal) {
        out += encodeUrl(part.text);
      } else {
        out += i == 0 ? encodeUrl(value(part)) : encodeUrlComponent(value(part));
      }
    }
    return out;
  }

 private:
  const RenderInput& input_;
};

}  // namespace

std::string encodeUrl(std::string_view url) {
  std::string out;
  for (std::size_t i = 0; i < url.size(); ++i) {
    const auto c = static_cast<unsigned char>(url[i]);
    if (c == '%' && i + 2 < url.size() && hex(url[i + 1]) && hex(url[i + 2])) {
      out += url[i];  // already encoded
    } else if (unreserved(c) || (reserved(c) && c != '%')) {
      out += static_cast<char>(c);
    } else {
      escapeByte(out, c);
    }
  }
  return out;
}

std::string encodeUrlComponent(std::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if (unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      escapeByte(out, c);
    }
  }
  return out;
}

bool isPersonal(const ir::MessageIr& message) {
  if (usesFriend(message.text) || usesFriend(message.altText) || usesFriend(message.imageUrl) ||
      usesFriend(message.previewUrl)) {
    return true;
  }
  return std::any_of(message.flexSlots.begin(), message.flexSlots.end(),
                     [](const ir::FlexSlot& slot) { return usesFriend(slot.parts); });
}

MessageRenderer::MessageRenderer(const ir::Automation& automation) : automation_(automation) {
  for (const ir::MessageIr& m : automation.messages) {
    flex_.push_back(m.kind == ir::MessageIr::Kind::Flex && !m.flexContents.empty() ? Json::parse(m.flexContents) : Json());
  }
}

Rendered MessageRenderer::render(std::uint32_t index, const RenderInput& input) const {
  const ir::MessageIr& message = automation_.messages.at(index);
  const Filler fill(input);
  Rendered out;
  const auto refuse = [&](std::string why) {
    if (out.unsendable.empty()) out.unsendable = std::move(why);
  };
  switch (message.kind) {
    case ir::MessageIr::Kind::Text: {
      const std::string full = fill.text(message.text);
      const std::string_view text = utf8::firstUtf16Units(full, kMaxTextCharacters);
      out.truncated = text.size() < full.size();
      if (text.empty()) refuse("its text is empty for this friend");
      out.message = {{"type", "text"}, {"text", text}};
      break;
    }
    case ir::MessageIr::Kind::Flex: {
      Json contents = flex_.at(index);
      for (const ir::FlexSlot& slot : message.flexSlots) {
        const std::string value = slot.url ? fill.url(slot.parts) : fill.text(slot.parts);
        const std::string_view key = keyOf(slot.pointer);
        if (value.empty()) refuse(fmt::format("{} is empty for this friend", slot.pointer));
        if (slot.url && (key == "url" || key == "previewUrl") && !startsWithHttps(value)) {
          refuse(fmt::format("{} is not an https:// URL for this friend", slot.pointer));
        }
        if (slot.url && value.size() > kMaxUrl) refuse(fmt::format("{} is longer than 2000 characters", slot.pointer));
        contents[Json::json_pointer(slot.pointer)] = value;
      }
      const std::size_t bytes = contents.dump().size();
      const bool carousel = contents.value("type", "") == "carousel";
      if (bytes > (carousel ? kMaxCarouselBytes : kMaxBubbleBytes)) {
        refuse(fmt::format("its contents are {} bytes for this friend, over LINE's {}", bytes,
                           carousel ? kMaxCarouselBytes : kMaxBubbleBytes));
      }
      const std::string alt = fill.text(message.altText);
      const std::string_view shortAlt = utf8::firstUtf16Units(alt, kMaxAltText);
      out.truncated = shortAlt.size() < alt.size();
      if (alt.empty()) refuse("its alt text is empty for this friend");
      out.message = {{"type", "flex"}, {"altText", shortAlt}, {"contents", std::move(contents)}};
      break;
    }
    case ir::MessageIr::Kind::Image: {
      const std::string original = fill.url(message.imageUrl);
      const std::string preview = fill.url(message.previewUrl);
      for (const std::string* url : {&original, &preview}) {
        if (!startsWithHttps(*url)) refuse(fmt::format("its image URL `{}` is not https://", url->substr(0, 60)));
        if (url->size() > kMaxUrl) refuse("its image URL is longer than 2000 characters");
      }
      out.message = {{"type", "image"}, {"originalContentUrl", original}, {"previewImageUrl", preview}};
      break;
    }
    case ir::MessageIr::Kind::Sticker:
      // LINE takes sticker ids as strings.
      out.message = {{"type", "sticker"},
                     {"packageId", std::to_string(message.packageId)},
                     {"stickerId", std::to_string(message.stickerId)}};
      break;
  }
  return out;
}

}  // namespace seg::send
