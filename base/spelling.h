// "Did you mean ...?" suggestions by edit distance.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seg {

// Optimal string alignment distance (insertions, deletions, substitutions
// and transpositions of neighbours each cost 1).
std::size_t editDistance(std::string_view a, std::string_view b);

// The closest candidate within a distance that scales with the word's
// length (1 for short words, up to a third of the length), or nothing.
std::optional<std::string> closestMatch(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace seg
