#include "stdlib/stdlib.h"

namespace seg::stdlib {

std::optional<Module> find(std::string_view name) {
  for (const Module& module : modules()) {
    if (module.name == name) return module;
  }
  return std::nullopt;
}

}  // namespace seg::stdlib
