// Runs work on a thread with a large stack.
//
// The generated ANTLR parser and the tree walks after it recurse once per
// nesting level. Inputs are depth-limited, but a large stack keeps even
// pathological files (10 MB of nested brackets) far from the guard page.
#pragma once

#include <cstddef>
#include <functional>

namespace seg {

inline constexpr std::size_t kLargeStackBytes = 512u << 20;

// Calls `work` on a new thread with `stackBytes` of stack and waits for it.
// Exceptions thrown by `work` are rethrown in the caller. Falls back to
// calling `work` directly if the thread cannot be created.
void runWithLargeStack(const std::function<void()>& work, std::size_t stackBytes = kLargeStackBytes);

}  // namespace seg
