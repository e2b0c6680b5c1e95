// The benchmark's SQL peers: SQLite (Debian's) and DuckDB (from npm), each
// loaded with the same store content, laid out as a SQL user would:
//
//   friends(id, <every attribute>)      one row per friend
//   tags(id, tag)                       one row per (friend, tag)
//   ev_<event>(friend, time, <fields>)  one row per event
//
// Booleans and enums are integers (enum values by rank), times are unix
// seconds; dates are day numbers in SQLite (it has no date type) and DATE
// in DuckDB.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/store/store_state.h"

namespace seg::bench {

struct Selection {
  std::uint64_t count = 0;
  std::uint64_t idSum = 0;  // with the count, a cheap check that two engines chose the same friends
  bool operator==(const Selection&) const = default;
};

class SqlEngine {
 public:
  virtual ~SqlEngine() = default;
  virtual std::string name() const = 0;
  // Copies the store in (tables as above, then indexes where the engine
  // wants them). Throws std::runtime_error on any engine error.
  virtual void load(const StoreState& state) = 0;
  // Runs a query whose single row is (count, sum of ids).
  virtual Selection select(const std::string& sql) = 0;
  // Bytes the engine holds for the data, by its own accounting.
  virtual std::uint64_t memoryBytes() = 0;
};

std::unique_ptr<SqlEngine> makeSqlite();
// Null when this build has no DuckDB (configure with SEG_DUCKDB_DIR).
std::unique_ptr<SqlEngine> makeDuckDb(int threads);

}  // namespace seg::bench
