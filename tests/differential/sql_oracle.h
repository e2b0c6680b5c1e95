// An independent oracle: the store's data loaded into SQLite (Debian's),
// each segment translated to SQL with seg's semantics (a comparison with a
// missing value is false; sums and counts of nothing are 0), and run there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ir/expr.h"
#include "runtime/store/store_state.h"

struct sqlite3;

namespace seg::difftest {

class SqlOracle {
 public:
  SqlOracle(const StoreState& state, const ir::Program& program);
  ~SqlOracle();
  SqlOracle(const SqlOracle&) = delete;
  SqlOracle& operator=(const SqlOracle&) = delete;

  // Friend ids (not blocked) for which `root` holds at `now`.
  std::vector<std::uint32_t> select(ir::NodeId root, std::int64_t now);
  // The SQL text of the last query (for failure reports).
  const std::string& lastQuery() const { return lastQuery_; }

 private:
  std::string expr(ir::NodeId id, bool inRow);
  void exec(const std::string& sql);

  const StoreState& state_;
  const ir::Program& program_;
  sqlite3* db_ = nullptr;
  std::int64_t now_ = 0;
  std::int64_t today_ = 0;
  std::string lastQuery_;
};

}  // namespace seg::difftest
