// The JIT: residual predicates compiled through LLVM IR with ORC LLJIT into
// native functions that filter candidate friends. This folder is the one
// place that knows LLVM (16, from Debian); nothing outside includes LLVM.
#pragma once

#include <memory>

#include "runtime/exec/segment_evaluator.h"

namespace seg {

// A compiler shared by evaluations in this process; compiled code is cached
// by the content of the residual expressions, so evaluating again (at any
// instant, against any store) compiles nothing. Returns null when LLVM
// cannot target this machine.
std::unique_ptr<ResidualCompiler> makeJit();

}  // namespace seg
