// Random worlds for differential testing: a schema, friends with random
// data (missing values, tags, events around window edges), and random
// well-typed segments over them, written as seg source.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "compiler/ir/schema.h"
#include "runtime/store/mutation.h"

namespace seg::difftest {

// A generated expression, kept as a tree so failures can be shrunk.
struct Gen {
  enum class Kind { Leaf, And, Or, Not };
  Kind kind = Kind::Leaf;
  std::string text;  // Leaf: the whole condition
  std::vector<std::shared_ptr<Gen>> children;

  std::string render() const;
  // Smaller variants of this expression (for shrinking a failure).
  std::vector<std::shared_ptr<Gen>> shrink() const;
};

struct World {
  std::uint64_t seed = 0;
  std::int64_t now = 0;
  std::string schemaText;  // `schema { ... }`
  std::vector<Mutation> data;
  std::vector<std::pair<std::string, std::shared_ptr<Gen>>> segments;

  std::string program() const;  // the whole .seg text
};

World makeWorld(std::uint64_t seed, std::size_t friends, std::size_t segments);
std::string programFor(const World& world, const std::vector<std::pair<std::string, std::shared_ptr<Gen>>>& segments);

}  // namespace seg::difftest
