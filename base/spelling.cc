#include "base/spelling.h"

#include <algorithm>
#include <cctype>

namespace seg {

std::size_t editDistance(std::string_view a, std::string_view b) {
  // Three rows suffice for the transposition rule.
  std::vector<std::size_t> twoBack(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], twoBack[j - 2] + 1);
      }
    }
    std::swap(twoBack, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> closestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  std::size_t bestDistance = limit + 1;
  // Case-only differences are the likeliest slip: `Gold` for `gold`.
  std::string lowered(word);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const std::string& candidate : candidates) {
    if (candidate == word) continue;
    // The distance is at least the difference in length: most candidates
    // end here, without the quadratic comparison.
    const std::size_t lengthGap = candidate.size() > word.size() ? candidate.size() - word.size() : word.size() - candidate.size();
    if (lengthGap >= bestDistance) continue;
    const std::size_t distance = lowered == candidate ? 0 : editDistance(word, candidate);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best;
}

}  // namespace seg
