#include "bench/eval/queries.h"

#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "base/civil_time.h"

namespace seg::bench {

const std::string* SegmentQueries::forDialect(const std::string& dialect) const {
  auto it = byDialect.find(dialect);
  if (it == byDialect.end()) it = byDialect.find("");
  return it == byDialect.end() ? nullptr : &it->second;
}

std::map<std::string, SegmentQueries> readQueries(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::map<std::string, SegmentQueries> out;
  SegmentQueries* current = nullptr;
  std::string dialect;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.rfind("-- segment:", 0) == 0) {
      const std::string name = line.substr(line.find_first_not_of(' ', 11));
      current = &out[name];
      dialect.clear();
    } else if (line == "-- sqlite:" || line == "-- duckdb:") {
      dialect = line.substr(3, line.size() - 4);
    } else if (line.rfind("--", 0) == 0 || line.find_first_not_of(" \t") == std::string::npos) {
      continue;
    } else if (current == nullptr) {
      throw std::runtime_error(fmt::format("{}:{}: SQL before the first `-- segment:` line", path, number));
    } else {
      current->byDialect[dialect] += line + "\n";
    }
  }
  return out;
}

namespace {

void replaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

std::string substitute(std::string sql, std::int64_t now, std::int32_t today) {
  const civil::YearMonthDay date = civil::civilFromDays(today);
  replaceAll(sql, "{now}", std::to_string(now));
  replaceAll(sql, "{today}", std::to_string(today));
  replaceAll(sql, "{today_date}", fmt::format("'{:04}-{:02}-{:02}'", date.year, date.month, date.day));
  return sql;
}

}  // namespace seg::bench
