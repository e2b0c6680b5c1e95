// The SQL twins of the benchmark's segments (bench/eval/queries.sql):
//
//   -- segment: NAME        starts a query for segment NAME
//   -- sqlite: / -- duckdb: starts a dialect's own text (else shared)
//
// Placeholders: {now} (unix seconds), {today} (the local date as a day
// number since 1970-01-01) and {today_date} ('YYYY-MM-DD').
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace seg::bench {

struct SegmentQueries {
  std::map<std::string, std::string> byDialect;  // "sqlite", "duckdb"; "" for shared text
  const std::string* forDialect(const std::string& dialect) const;
};

// Throws std::runtime_error with the line of a malformed file.
std::map<std::string, SegmentQueries> readQueries(const std::string& path);

std::string substitute(std::string sql, std::int64_t now, std::int32_t today);

}  // namespace seg::bench
