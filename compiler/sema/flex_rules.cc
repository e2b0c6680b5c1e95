#include "compiler/sema/flex_rules.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <span>

#include <fmt/format.h>

namespace seg::sema {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxUrlCharacters = 2000;

using Names = std::span<const std::string_view>;

bool oneOf(std::string_view value, Names allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

bool oneOf(std::string_view value, std::initializer_list<std::string_view> allowed) {
  return oneOf(value, Names(allowed.begin(), allowed.size()));
}

std::string listed(Names names) {
  std::string out;
  for (std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

constexpr std::string_view kComponentTypes[] = {"box", "button", "image", "video", "icon", "text", "separator", "filler"};
constexpr std::string_view kActionTypes[] = {"uri",      "message",        "postback",      "datetimepicker", "camera",
                                             "cameraRoll", "location", "richmenuswitch", "clipboard"};

class FlexChecker {
 public:
  explicit FlexChecker(std::size_t limit) : limit_(limit) {}

  std::vector<std::string> run(const Json& container) {
    if (!container.is_object()) {
      problem("", "the file must hold a JSON object: a bubble or a carousel");
      return problems_;
    }
    const std::string type = stringAt(container, "type");
    if (type == "bubble") {
      bubble(container, "");
      size(container, kMaxBubbleBytes, "a bubble");
    } else if (type == "carousel") {
      carousel(container);
      size(container, kMaxCarouselBytes, "a carousel");
    } else {
      problem("", "its \"type\" must be \"bubble\" or \"carousel\" (the file holds the `contents` of a flex message)");
    }
    return problems_;
  }

 private:
  void problem(const std::string& pointer, const std::string& what) {
    if (problems_.size() < limit_) problems_.push_back(fmt::format("at {}: {}", pointer.empty() ? "/" : pointer, what));
  }

  static std::string stringAt(const Json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  }

  // `key` must be present and a non-empty string (unless templated).
  bool requireString(const Json& j, const std::string& pointer, const char* key, const char* what) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
      problem(pointer, fmt::format("{} needs \"{}\" (a string)", what, key));
      return false;
    }
    if (it->get<std::string>().empty()) {
      problem(pointer + "/" + key, fmt::format("\"{}\" of {} cannot be empty", key, what));
      return false;
    }
    return true;
  }

  void httpsUrl(const Json& j, const std::string& pointer, const char* key, const char* what) {
    if (!requireString(j, pointer, key, what)) return;
    const std::string url = j[key].get<std::string>();
    if (url.rfind("{{", 0) == 0) return;  // the friend's value decides; checked when sent
    if (url.rfind("https://", 0) != 0) problem(pointer + "/" + key, "LINE only fetches images and videos over https://");
    if (url.size() > kMaxUrlCharacters) problem(pointer + "/" + key, "a URL is at most 2000 characters");
  }

  void size(const Json& container, std::size_t limit, const char* what) {
    const std::size_t bytes = container.dump().size();
    if (bytes > limit) problem("", fmt::format("{} is {} bytes of JSON; LINE allows at most {}", what, bytes, limit));
  }

  void carousel(const Json& j) {
    const auto contents = j.find("contents");
    if (contents == j.end() || !contents->is_array() || contents->empty() || contents->size() > kMaxCarouselBubbles) {
      problem("", "a carousel holds 1 to 12 bubbles in \"contents\"");
      return;
    }
    std::string sizeOfFirst;
    for (std::size_t i = 0; i < contents->size(); ++i) {
      const Json& b = (*contents)[i];
      const std::string pointer = fmt::format("/contents/{}", i);
      if (!b.is_object() || stringAt(b, "type") != "bubble") {
        problem(pointer, "a carousel holds bubbles only");
        continue;
      }
      bubble(b, pointer);
      if (b.contains("hero") && b["hero"].is_object() && stringAt(b["hero"], "type") == "video") {
        problem(pointer + "/hero", "a video cannot be used in a carousel");
      }
      const std::string bubbleSize = b.contains("size") ? stringAt(b, "size") : "mega";
      if (i == 0) sizeOfFirst = bubbleSize;
      else if (bubbleSize != sizeOfFirst) problem(pointer + "/size", "every bubble of a carousel must have the same size");
    }
  }

  void bubble(const Json& j, const std::string& pointer) {
    if (j.contains("size") && !oneOf(stringAt(j, "size"), {"nano", "micro", "deca", "hecto", "kilo", "mega", "giga"})) {
      problem(pointer + "/size", "a bubble's size is nano, micro, deca, hecto, kilo, mega or giga");
    }
    if (j.contains("direction") && !oneOf(stringAt(j, "direction"), {"ltr", "rtl"})) {
      problem(pointer + "/direction", "a bubble's direction is ltr or rtl");
    }
    for (const char* block : {"header", "body", "footer"}) {
      if (!j.contains(block)) continue;
      const Json& b = j[block];
      if (!b.is_object() || stringAt(b, "type") != "box") {
        problem(pointer + "/" + block, fmt::format("a bubble's {} must be a box", block));
        continue;
      }
      component(b, pointer + "/" + block, Parent::Block);
    }
    if (j.contains("hero")) {
      const Json& hero = j["hero"];
      const std::string type = hero.is_object() ? stringAt(hero, "type") : "";
      if (!oneOf(type, {"box", "image", "video"})) {
        problem(pointer + "/hero", "a bubble's hero must be a box, an image or a video");
      } else {
        component(hero, pointer + "/hero", Parent::Hero);
      }
    }
    if (j.contains("action")) action(j["action"], pointer + "/action");
  }

  enum class Parent { Block, Hero, Box, Baseline };

  void component(const Json& j, const std::string& pointer, Parent parent) {
    if (!j.is_object()) {
      problem(pointer, "a component must be a JSON object");
      return;
    }
    const std::string type = stringAt(j, "type");
    if (!oneOf(type, kComponentTypes)) {
      problem(pointer, type.empty() ? fmt::format("a component needs \"type\" ({})", listed(kComponentTypes))
                                    : fmt::format("unknown component type \"{}\" (LINE has {})", type, listed(kComponentTypes)));
      return;
    }
    if (parent == Parent::Baseline && !oneOf(type, {"icon", "text", "filler"})) {
      problem(pointer, fmt::format("a baseline box holds only icon, text and filler, not {}", type));
    } else if (parent == Parent::Box && type == "icon") {
      problem(pointer, "an icon may only be used in a baseline box");
    }
    if (type == "video" && parent != Parent::Hero) problem(pointer, "a video may only be a bubble's hero");
    if (type == "box") return box(j, pointer);
    if (type == "button") {
      if (!j.contains("action")) problem(pointer, "a button needs \"action\"");
      else action(j["action"], pointer + "/action");
    } else if (type == "image") {
      httpsUrl(j, pointer, "url", "an image");
    } else if (type == "icon") {
      httpsUrl(j, pointer, "url", "an icon");
    } else if (type == "video") {
      httpsUrl(j, pointer, "url", "a video");
      httpsUrl(j, pointer, "previewUrl", "a video");
      if (!j.contains("altContent")) problem(pointer, "a video needs \"altContent\"");
      else component(j["altContent"], pointer + "/altContent", Parent::Box);
    } else if (type == "text") {
      text(j, pointer);
    }
    if (type != "button" && j.contains("action")) action(j["action"], pointer + "/action");
  }

  void box(const Json& j, const std::string& pointer) {
    const std::string layout = stringAt(j, "layout");
    if (!oneOf(layout, {"horizontal", "vertical", "baseline"})) {
      problem(pointer, layout.empty() ? "a box needs \"layout\" (horizontal, vertical or baseline)"
                                      : fmt::format("a box's layout is horizontal, vertical or baseline, not \"{}\"", layout));
    }
    const auto contents = j.find("contents");
    if (contents == j.end() || !contents->is_array()) {
      problem(pointer, "a box needs \"contents\" (a list of components)");
      return;
    }
    const Parent inner = layout == "baseline" ? Parent::Baseline : Parent::Box;
    for (std::size_t i = 0; i < contents->size(); ++i) component((*contents)[i], fmt::format("{}/contents/{}", pointer, i), inner);
    if (j.contains("action")) action(j["action"], pointer + "/action");
  }

  void text(const Json& j, const std::string& pointer) {
    const auto spans = j.find("contents");
    if (spans != j.end() && spans->is_array() && !spans->empty()) {
      for (std::size_t i = 0; i < spans->size(); ++i) {
        const Json& span = (*spans)[i];
        if (!span.is_object() || stringAt(span, "type") != "span") {
          problem(fmt::format("{}/contents/{}", pointer, i), "a text's contents are spans");
        }
      }
      return;
    }
    requireString(j, pointer, "text", "a text");
  }

  void action(const Json& j, const std::string& pointer) {
    if (!j.is_object()) {
      problem(pointer, "an action must be a JSON object");
      return;
    }
    const std::string type = stringAt(j, "type");
    if (!oneOf(type, kActionTypes)) {
      problem(pointer, type.empty() ? fmt::format("an action needs \"type\" ({})", listed(kActionTypes))
                                    : fmt::format("unknown action type \"{}\" (LINE has {})", type, listed(kActionTypes)));
      return;
    }
    if (type == "uri") requireString(j, pointer, "uri", "a uri action");
    if (type == "message") requireString(j, pointer, "text", "a message action");
    if (type == "postback" || type == "datetimepicker") requireString(j, pointer, "data", fmt::format("a {} action", type).c_str());
    if (type == "datetimepicker" && !oneOf(stringAt(j, "mode"), {"date", "time", "datetime"})) {
      problem(pointer, "a datetimepicker action needs \"mode\": date, time or datetime");
    }
    if (type == "richmenuswitch") {
      requireString(j, pointer, "richMenuAliasId", "a richmenuswitch action");
      requireString(j, pointer, "data", "a richmenuswitch action");
    }
    if (type == "clipboard") requireString(j, pointer, "clipboardText", "a clipboard action");
  }

  std::size_t limit_;
  std::vector<std::string> problems_;
};

// A key as a JSON pointer token (RFC 6901): `~` is `~0`, `/` is `~1`.
std::string pointerToken(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

void walkStrings(const Json& value, const std::string& pointer, const std::string& key,
                 const std::function<void(const std::string&, const std::string&, const std::string&)>& visit) {
  if (value.is_string()) {
    visit(pointer, key, value.get<std::string>());
  } else if (value.is_object()) {
    for (const auto& [k, v] : value.items()) walkStrings(v, pointer + "/" + pointerToken(k), k, visit);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) walkStrings(value[i], fmt::format("{}/{}", pointer, i), "", visit);
  }
}

}  // namespace

void forEachFlexString(const nlohmann::json& value,
                       const std::function<void(const std::string& pointer, const std::string& key,
                                                const std::string& text)>& visit) {
  walkStrings(value, "", "", visit);
}

bool isUrlKey(std::string_view key) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto endsWith = [&](std::string_view suffix) {
    return lower.size() >= suffix.size() && lower.compare(lower.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return endsWith("url") || endsWith("uri") || lower == "desktop";
}

std::vector<std::string> flexProblems(const nlohmann::json& container, std::size_t limit) {
  return FlexChecker(limit).run(container);
}

}  // namespace seg::sema
