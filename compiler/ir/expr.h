// The expression IR: typed, pointer-free, in one vector of nodes per
// program, so it can be planned, interpreted, compiled to native code with
// LLVM, translated to SQL, stored or sent elsewhere.
//
// Lowered from the typed program (lower_program.cc). Node fields:
//   a, b   indexes whose meaning depends on the op (ops.def): an attribute,
//          event, field, string, segment
//   imm    a constant (int64: ints, dates as days, times as seconds,
//          durations as seconds, percents as basis points, enum ranks,
//          bools 0/1), or an aggregate's window
//   flags  kHasWhere / kHasSince for aggregates, kMissing for constants
//   args   children
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/automation.h"
#include "compiler/ir/schema.h"

namespace seg::ir {

enum class Op : std::uint8_t {
#define IR_OP(Name, Spelling) Name,
#include "compiler/ir/ops.def"
};
const char* opName(Op op);

using NodeId = std::uint32_t;
inline constexpr NodeId kNoNode = ~NodeId{0};

inline constexpr std::uint32_t kHasWhere = 1;
inline constexpr std::uint32_t kHasSince = 2;
inline constexpr std::uint32_t kMissing = 4;

struct Node {
  Op op = Op::Const;
  ValueType type = ValueType::Bool;
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::uint32_t flags = 0;
  std::int64_t imm = 0;
  std::vector<NodeId> args;

  bool operator==(const Node&) const = default;
};

struct SegmentIr {
  std::string name;
  NodeId root = kNoNode;
  // The segment depends on LINE's estimates: only LINE can evaluate it.
  bool lineSide = false;
  std::string lineAttribute;  // for the message saying so
  // Made by the compiler for a campaign's audience or a menu condition, so
  // the batch evaluators answer them; not listed to users.
  bool internal = false;
};

struct Program {
  Schema schema;
  std::string timezone = "Asia/Tokyo";
  std::vector<Node> nodes;
  std::vector<std::string> strings;
  std::vector<SegmentIr> segments;
  Automation automation;

  NodeId add(Node node);
  std::uint32_t intern(const std::string& text);
  const Node& node(NodeId id) const { return nodes[id]; }
  const SegmentIr* segment(const std::string& name) const;
};

// A readable dump of the tree under `root`, one node a line.
std::string dump(const Program& program, NodeId root);

}  // namespace seg::ir
