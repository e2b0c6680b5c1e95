// LINE's rules for flex message containers (Messaging API reference,
// "Flex Message"; the FlexContainer and FlexComponent schemas of LINE's
// OpenAPI file), checked when a program is compiled so that a flex file
// LINE would refuse never reaches a send.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace seg::sema {

// LINE's size limits for a flex message's contents, in bytes of JSON.
inline constexpr std::size_t kMaxBubbleBytes = 30 * 1024;
inline constexpr std::size_t kMaxCarouselBytes = 50 * 1024;
inline constexpr std::size_t kMaxCarouselBubbles = 12;

// Calls `visit` with every string value under `value` (not keys): its JSON
// pointer, the key it sits under ("" inside arrays) and its text.
void forEachFlexString(const nlohmann::json& value,
                       const std::function<void(const std::string& pointer, const std::string& key,
                                                const std::string& text)>& visit);

// Whether a flex string under `key` is a URL (`url`, `uri`, `previewUrl`,
// `desktop`...): placeholders there are filled URL-encoded.
bool isUrlKey(std::string_view key);

// What breaks LINE's rules in `container`, each as "at /body/contents/0: a
// box needs \"layout\"" (the first `limit`). Strings holding placeholders
// are not judged by their written value (it changes per friend).
std::vector<std::string> flexProblems(const nlohmann::json& container, std::size_t limit = 5);

}  // namespace seg::sema
