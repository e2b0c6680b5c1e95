// IR expression -> LLVM function, for the JIT. Internal to runtime/jit.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include "compiler/ir/expr.h"
#include "runtime/jit/jit_runtime.h"

namespace seg::jit {

// Thrown for IR the code generator does not handle; that residual then
// runs in the interpreter.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Adds to `module` a function
//   void NAME(const JitContext* ctx, const uint32_t* ids, uint64_t n,
//             uint32_t* out, uint64_t* outCount)
// that writes to `out` the ids for which `root` holds, and returns the
// slots its context must provide.
std::vector<JitSlot> generateFilter(llvm::Module& module, const std::string& name, const ir::Program& program,
                                    ir::NodeId root);

// For a string test node, one byte per dictionary code: whether the test
// holds for that string (code 0, no value, never holds).
std::vector<std::uint8_t> stringTable(const ir::Program& program, ir::NodeId node, std::size_t codes,
                                      const std::function<std::string_view(std::size_t)>& stringAt);

}  // namespace seg::jit
