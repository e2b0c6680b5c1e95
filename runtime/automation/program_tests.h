// Runs the `test` blocks of a program: each test gets a fresh in-memory
// store holding one friend, feeds its `given` events through the automation
// engine in time order, and checks its expectations (docs/language.md,
// "Tests").
//
// Time in a test: it starts at the earliest time the test mentions (or
// 2026-01-01 12:00 in the policy time zone when it mentions none); `given
// ... at T` and `at T` move the clock forward; `expect sent M at T` runs
// the engine up to T first; `expect [not] sent M` without a time runs it
// 90 days past the last time the test mentions, so whole scenarios play out.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir/expr.h"

namespace seg {

struct ProgramTestResult {
  std::string title;
  std::vector<std::string> failures;  // "file:line: what was expected: what happened"
  bool passed() const { return failures.empty(); }
};

std::vector<ProgramTestResult> runProgramTests(const ir::Program& program);

}  // namespace seg
