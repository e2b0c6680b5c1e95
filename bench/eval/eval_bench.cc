// seg_eval_bench: the evaluation benchmark. Runs each segment of a program
// through seg (auto: bitmap plan + JIT residuals; bitmap: plan with
// interpreted residuals; interp: the reference interpreter) and through
// SQLite and DuckDB loaded with the same store, checks that all of them
// select the same friends, and prints median latencies as a Markdown table.
// bench/eval_bench.sh builds the stores and runs it.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/eval/queries.h"
#include "bench/eval/sql_engines.h"
#include "runtime/api/runtime.h"
#include "runtime/store/store.h"

namespace seg::bench {
namespace {

struct Options {
  std::string store, program, queries;
  std::int64_t at = 0;
  int runs = 5;
  int points = 10000;
  int duckdbThreads = 2;
  std::vector<std::string> engines{"seg", "sqlite", "duckdb"};
  std::vector<std::string> segments;
};

using Clock = std::chrono::steady_clock;

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n == 0 ? 0 : n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Median wall time of `runs` calls of `run`, after one call not counted.
template <typename Run>
double medianMilliseconds(int runs, Run&& run) {
  run();
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    run();
    times.push_back(millisecondsSince(start));
  }
  return median(times);
}

std::uint64_t peakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
}

std::string megabytes(std::uint64_t bytes) { return fmt::format("{:.0f} MB", static_cast<double>(bytes) / 1e6); }

Selection selectionOf(const Bitmap& friends) {
  Selection s;
  friends.forEach([&](std::uint32_t id) {
    ++s.count;
    s.idSum += id;
    return true;
  });
  return s;
}

struct Row {
  std::string segment;
  Selection selected;
  double autoMs = 0, bitmapMs = 0, interpMs = 0;
  double coldCompileMs = 0, cachedCompileMs = 0;
  double pointUs = 0;
  std::map<std::string, double> sqlMs;  // by engine name
  std::vector<std::string> mismatches;
};

bool wants(const Options& options, const std::string& engine) {
  return std::find(options.engines.begin(), options.engines.end(), engine) != options.engines.end();
}

// Point evaluation: the mean time of isMember over `count` friends spread
// over the id space, checked against the batch answer.
double pointMicroseconds(Runtime& runtime, const std::string& segment, std::int64_t at, const Bitmap& batch, int count,
                         Row& row) {
  const std::uint32_t friends = runtime.state().friendCount();
  if (friends == 0 || count <= 0) return 0;
  std::vector<std::uint32_t> ids;
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < count; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    ids.push_back(static_cast<std::uint32_t>((x >> 33) % friends));
  }
  std::size_t members = 0;
  const auto start = Clock::now();
  for (std::uint32_t id : ids) members += runtime.isMember(segment, id, at);
  const double us = millisecondsSince(start) * 1000 / count;
  std::size_t expected = 0;
  for (std::uint32_t id : ids) expected += batch.contains(id);
  if (members != expected) row.mismatches.push_back(fmt::format("point evaluation {} vs batch {}", members, expected));
  return us;
}

Row measureSeg(Runtime& runtime, const std::string& segment, const Options& options) {
  Row row{segment, {}, 0, 0, 0, 0, 0, 0, {}, {}};
  const EvaluationResult cold = runtime.evaluate(segment, options.at, Engine::Auto);
  if (!cold.warning.empty()) std::cerr << segment << ": " << cold.warning << "\n";
  row.coldCompileMs = cold.compileSeconds * 1000;
  row.selected = selectionOf(cold.friends);
  row.cachedCompileMs = runtime.evaluate(segment, options.at, Engine::Auto).compileSeconds * 1000;
  row.autoMs = medianMilliseconds(options.runs, [&] { runtime.evaluate(segment, options.at, Engine::Auto); });
  row.bitmapMs = medianMilliseconds(options.runs, [&] { runtime.evaluate(segment, options.at, Engine::Bitmap); });
  Bitmap interpreted;
  row.interpMs = medianMilliseconds(options.runs, [&] {
    interpreted = runtime.evaluate(segment, options.at, Engine::Interpreter).friends;
  });
  if (!(selectionOf(interpreted) == row.selected)) row.mismatches.push_back("interpreter differs from auto");
  row.pointUs = pointMicroseconds(runtime, segment, options.at, cold.friends, options.points, row);
  return row;
}

void measureSql(SqlEngine& engine, const std::map<std::string, SegmentQueries>& queries, const Options& options,
                std::int32_t today, std::vector<Row>& rows) {
  for (Row& row : rows) {
    const auto it = queries.find(row.segment);
    const std::string* text = it == queries.end() ? nullptr : it->second.forDialect(engine.name());
    if (text == nullptr) {
      row.mismatches.push_back("no SQL for " + engine.name());
      continue;
    }
    const std::string sql = substitute(*text, options.at, today);
    Selection selected;
    row.sqlMs[engine.name()] = medianMilliseconds(options.runs, [&] { selected = engine.select(sql); });
    if (!(selected == row.selected)) {
      row.mismatches.push_back(fmt::format("{} selects {} (id sum {}), seg {} (id sum {})", engine.name(), selected.count,
                                           selected.idSum, row.selected.count, row.selected.idSum));
    }
  }
}

std::string cell(const std::map<std::string, double>& times, const std::string& engine) {
  const auto it = times.find(engine);
  return it == times.end() ? "—" : fmt::format("{:.1f}", it->second);
}

std::string ratio(double numerator, double denominator) {
  return denominator > 0 && numerator > 0 ? fmt::format("{:.1f}×", numerator / denominator) : "—";
}

void printTable(const std::vector<Row>& rows) {
  std::cout << "| segment | selected | seg auto ms | seg bitmap ms | seg interp ms | interp/auto | JIT compile ms "
               "(cold / cached) | point µs | SQLite ms | DuckDB ms | DuckDB/auto |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Row& r : rows) {
    const auto duck = r.sqlMs.find("duckdb");
    std::cout << fmt::format("| {} | {} | {:.2f} | {:.2f} | {:.1f} | {} | {:.2f} / {:.2f} | {:.1f} | {} | {} | {} |\n",
                             r.segment, r.selected.count, r.autoMs, r.bitmapMs, r.interpMs, ratio(r.interpMs, r.autoMs),
                             r.coldCompileMs, r.cachedCompileMs, r.pointUs, cell(r.sqlMs, "sqlite"),
                             cell(r.sqlMs, "duckdb"), ratio(duck == r.sqlMs.end() ? 0 : duck->second, r.autoMs));
  }
}

int run(const Options& options) {
  const auto openStart = Clock::now();
  OpenOptions openOptions;
  openOptions.readOnly = true;
  openOptions.create = false;
  auto store = Store::open(options.store, nullptr, openOptions);
  const StoreState& state = store->state();
  const StoreState::Footprint footprint = state.footprint();
  std::cout << fmt::format("store: {} friends, opened in {:.2f} s, {} in memory (friends {}, events {}, indexes {})\n",
                           state.friendCount(), millisecondsSince(openStart) / 1000,
                           megabytes(footprint.friendBytes + footprint.eventBytes + footprint.indexBytes),
                           megabytes(footprint.friendBytes), megabytes(footprint.eventBytes),
                           megabytes(footprint.indexBytes));

  const auto program = CompiledProgram::fromFile(options.program);
  Runtime runtime(program, state);
  if (!runtime.jitUnavailable().empty()) std::cerr << "warning: " << runtime.jitUnavailable() << "\n";
  std::cout << fmt::format("JIT start-up (once per process): {:.1f} ms\n", runtime.jitStartupSeconds() * 1000);
  std::vector<std::string> segments = options.segments;
  if (segments.empty()) {
    for (const ir::SegmentIr& s : program->ir().segments) segments.push_back(s.name);
  }
  std::vector<Row> rows;
  for (const std::string& segment : segments) {
    rows.push_back(measureSeg(runtime, segment, options));
    std::cerr << fmt::format("  seg {}: {} friends, auto {:.2f} ms, interp {:.1f} ms\n", segment, rows.back().selected.count,
                             rows.back().autoMs, rows.back().interpMs);
  }
  std::cout << fmt::format("seg: peak RSS so far {}\n", megabytes(peakRssBytes()));

  const auto queries = readQueries(options.queries);
  const std::int32_t today = EvalTime::at(options.at, *TimeZone::find(program->ir().timezone)).today;
  for (const std::string& name : {std::string("sqlite"), std::string("duckdb")}) {
    if (!wants(options, name)) continue;
    auto engine = name == "sqlite" ? makeSqlite() : makeDuckDb(options.duckdbThreads);
    if (!engine) {
      std::cerr << "warning: this build has no DuckDB (bench/eval_bench.sh configures it)\n";
      continue;
    }
    const auto loadStart = Clock::now();
    engine->load(state);
    std::cout << fmt::format("{}: loaded in {:.1f} s, {} by its own accounting, peak RSS so far {}\n", name,
                             millisecondsSince(loadStart) / 1000, megabytes(engine->memoryBytes()),
                             megabytes(peakRssBytes()));
    measureSql(*engine, queries, options, today, rows);
  }

  std::cout << "\n";
  printTable(rows);
  int failures = 0;
  for (const Row& r : rows) {
    for (const std::string& m : r.mismatches) {
      std::cerr << "MISMATCH " << r.segment << ": " << m << "\n";
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace seg::bench

int main(int argc, char** argv) {
  seg::bench::Options options;
  CLI::App app{"seg evaluation benchmark: seg, SQLite and DuckDB on the same store"};
  app.add_option("--store", options.store, "store directory (segc gen)")->required();
  app.add_option("--program", options.program, "program whose segments to run")->required();
  app.add_option("--queries", options.queries, "the segments' SQL twins")->required();
  app.add_option("--at", options.at, "evaluation instant, unix seconds")->required();
  app.add_option("--runs", options.runs, "timed runs per measurement (median reported)");
  app.add_option("--points", options.points, "friends asked one by one, per segment");
  app.add_option("--duckdb-threads", options.duckdbThreads, "DuckDB worker threads");
  app.add_option("--engines", options.engines, "seg always; sqlite, duckdb")->delimiter(',');
  app.add_option("--segments", options.segments, "only these segments")->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  try {
    return seg::bench::run(options);
  } catch (const std::exception& e) {
    std::cerr << "seg_eval_bench: " << e.what() << "\n";
    return 2;
  }
}
