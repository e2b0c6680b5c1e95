// `segc check --dump-typed`: the declarations sema resolved and every
// expression with its type and what its names denote.
#pragma once

#include <string>

#include "compiler/sema/typed_program.h"

namespace seg::sema {

std::string dumpTyped(const TypedProgram& program);

}  // namespace seg::sema
