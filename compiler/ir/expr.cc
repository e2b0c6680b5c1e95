#include "compiler/ir/expr.h"

#include <fmt/format.h>

namespace seg::ir {

const char* opName(Op op) {
  switch (op) {
#define IR_OP(Name, Spelling) \
  case Op::Name:              \
    return Spelling;
#include "compiler/ir/ops.def"
  }
  return "?";
}

NodeId Program::add(Node node) {
  nodes.push_back(std::move(node));
  return static_cast<NodeId>(nodes.size() - 1);
}

std::uint32_t Program::intern(const std::string& text) {
  for (std::size_t i = 0; i < strings.size(); ++i) {
    if (strings[i] == text) return static_cast<std::uint32_t>(i);
  }
  strings.push_back(text);
  return static_cast<std::uint32_t>(strings.size() - 1);
}

const SegmentIr* Program::segment(const std::string& name) const {
  for (const SegmentIr& s : segments) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

namespace {

void dumpNode(const Program& p, NodeId id, int depth, std::string& out) {
  const Node& n = p.node(id);
  std::string text = opName(n.op);
  switch (n.op) {
    case Op::Const:
      if (n.flags & kMissing) {
        text += " missing";
      } else if (n.type == ValueType::String) {
        text += " \"" + p.strings[n.a] + "\"";
      } else {
        text += fmt::format(" {}", n.imm);
      }
      break;
    case Op::Attr:
    case Op::Has: text += " " + p.schema.attributes[n.a].name; break;
    case Op::Tag:
    case Op::Audience:
    case Op::Bucket:
    case Op::Matches: text += " \"" + p.strings[n.a] + "\""; break;
    case Op::Status: text += fmt::format(" \"{}\" {}", p.strings[n.a], n.b); break;
    case Op::SegmentRef: text += " " + p.segments[n.a].name; break;
    case Op::RowField:
    case Op::TriggerField: text += fmt::format(" #{}", n.a); break;
    case Op::Exists:
    case Op::Count:
    case Op::Sum:
    case Op::Min:
    case Op::Max:
    case Op::Last: {
      const EventSpec& e = p.schema.events[n.a];
      text += " " + e.name;
      if (n.b) text += "." + e.fields[n.b - 1].name;
      if (n.imm) text += fmt::format(" within {}s", n.imm);
      break;
    }
    default: break;
  }
  out += std::string(static_cast<std::size_t>(depth) * 2, ' ') + text + " : " + valueTypeName(n.type) + "\n";
  for (NodeId child : n.args) dumpNode(p, child, depth + 1, out);
}

}  // namespace

std::string dump(const Program& program, NodeId root) {
  std::string out;
  dumpNode(program, root, 0, out);
  return out;
}

}  // namespace seg::ir
