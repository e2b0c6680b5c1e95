#include "runtime/send/message_render.h"

#include "compiler/source/source.h"

namespace seg::send {
namespace {

// The first `limit` code points of UTF-8 `text`.
std::string firstCodePoints(const std::string& text, std::size_t limit, bool& cut) {
  std::size_t count = 0, at = 0;
  while (at < text.size()) {
    if (count == limit) {
      cut = true;
      return text.substr(0, at);
    }
    char32_t cp;
    const std::size_t length = utf8::decode(text, at, cp);
    at += length == 0 ? 1 : length;
    ++count;
  }
  return text;
}

}  // namespace

bool isPersonal(const ir::MessageIr& message) {
  for (const ir::TemplatePart& part : message.text) {
    if (part.kind == ir::TemplatePart::Kind::Attribute) return true;
  }
  return false;
}

Rendered renderMessage(const ir::MessageIr& message, const RenderInput& input) {
  Rendered out;
  switch (message.kind) {
    case ir::MessageIr::Kind::Text: {
      std::string text;
      for (const ir::TemplatePart& part : message.text) {
        std::string value;
        switch (part.kind) {
          case ir::TemplatePart::Kind::Literal: text += part.text; continue;
          case ir::TemplatePart::Kind::Param:
            if (part.index < input.args.size()) value = input.args[part.index];
            break;
          case ir::TemplatePart::Kind::Attribute:
            if (input.attribute) value = input.attribute(part.index);
            break;
        }
        text += value.empty() ? part.text : value;
      }
      text = firstCodePoints(text, kMaxTextCharacters, out.truncated);
      out.message = {{"type", "text"}, {"text", text}};
      break;
    }
    case ir::MessageIr::Kind::Flex:
      out.message = {{"type", "flex"}, {"altText", message.altText}, {"contents", Json::parse(message.flexContents)}};
      break;
    case ir::MessageIr::Kind::Image:
      out.message = {{"type", "image"}, {"originalContentUrl", message.imageUrl}, {"previewImageUrl", message.previewUrl}};
      break;
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
