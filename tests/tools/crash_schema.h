// The schema and user IDs the crash-recovery test and its writer share.
#pragma once

#include <fmt/format.h>

#include "compiler/ir/schema.h"
#include "runtime/store/user_id.h"

namespace seg::test {

inline ir::Schema crashSchema() {
  ir::Schema schema;
  for (const char* name : {"name", "inflow"}) schema.attributes.push_back({name, ir::ValueType::String, {}, {}});
  schema.attributes.push_back({"score", ir::ValueType::Int, {}, {}});
  schema.attributes.push_back({"followed_at", ir::ValueType::Time, {}, {}});
  schema.attributes.push_back({"blocked", ir::ValueType::Bool, {}, {}});
  schema.attributes.push_back({"points", ir::ValueType::Int, {}, {}});
  schema.events.push_back({"follow", {{"unblocked", ir::ValueType::Bool, {}, {}}}, true});
  schema.events.push_back({"unfollow", {}, true});
  schema.events.push_back({"purchase", {{"product", ir::ValueType::String, {}, {}}, {"price", ir::ValueType::Int, {}, {}}}, false});
  return schema;
}

inline UserId crashUser(long n) { return *UserId::parse(fmt::format("U{:032x}", n)); }

}  // namespace seg::test
