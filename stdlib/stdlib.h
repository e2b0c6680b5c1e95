// The seg standard library: modules a program loads with `use`.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace seg::stdlib {

struct Module {
  std::string_view name;  // `line`
  std::string_view text;  // the module's .seg source
};

const std::vector<Module>& modules();
std::optional<Module> find(std::string_view name);

}  // namespace seg::stdlib
