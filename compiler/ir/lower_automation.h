// Lowers messages, scenarios, rules, menus, campaigns, the policy and tests
// of a typed program into the program's automation IR (automation.h).
#pragma once

#include "compiler/ir/lower.h"
#include "compiler/source/source.h"

namespace seg::ir {

void lowerAutomation(Lowerer& lowerer, const sema::TypedProgram& typed, const SourceManager* sources);

}  // namespace seg::ir
