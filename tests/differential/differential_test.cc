// One semantics, four evaluators: on random worlds (schema, friends, events
// and well-typed segments), the interpreter, the bitmap planner with
// interpreted residuals, the bitmap planner with JIT-compiled residuals,
// and SQLite must select exactly the same friends. A disagreement is shrunk
// to a small segment and printed as a reproducer.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "base/civil_time.h"
#include "compiler/ir/lower.h"
#include "compiler/sema/sema.h"
#include "compiler/syntax/parser.h"
#include "runtime/exec/binding.h"
#include "runtime/exec/segment_evaluator.h"
#include "runtime/jit/jit.h"
#include "tests/differential/sql_oracle.h"
#include "tests/differential/world.h"

namespace seg::difftest {
namespace {

struct Compiled {
  SourceManager sources;
  DiagnosticEngine diags;
  sema::TypedProgram typed;
  ir::Program program;
  std::string errors;
};

std::unique_ptr<Compiled> compile(const std::string& text) {
  auto out = std::make_unique<Compiled>();
  const FileId file = out->sources.add("world.seg", text);
  ast::Program ast = syntax::parseFile(out->sources, file, out->diags);
  if (!out->diags.hasErrors()) out->typed = sema::analyze(std::move(ast), out->sources, out->diags);
  for (const Diagnostic& d : out->diags.diagnostics()) {
    if (d.severity == Severity::Error) out->errors += renderText(d, out->sources);
  }
  if (out->errors.empty()) out->program = ir::lowerProgram(out->typed);
  return out;
}

std::string ids(const Bitmap& b) {
  std::string out;
  int n = 0;
  b.forEach([&](std::uint32_t id) {
    out += (out.empty() ? "" : ",") + std::to_string(id);
    return ++n < 30;
  });
  return out;
}

// Evaluates `segment` of `program` every way; returns a description of the
// first disagreement, or "" when all agree.
std::string disagreement(const World& world, const std::string& programText, const std::string& segment,
                         StoreState& state, ResidualCompiler* jit, std::uint64_t* selected = nullptr) {
  auto compiled = compile(programText);
  if (!compiled->errors.empty()) return "";  // a shrunk variant may not type-check
  SegmentEvaluator evaluator(compiled->program, state, jit);
  const Bitmap reference = evaluator.evaluate(segment, world.now, Engine::Interpreter).friends;
  if (selected) *selected = reference.cardinality();
  const Bitmap bitmap = evaluator.evaluate(segment, world.now, Engine::Bitmap).friends;
  const EvaluationResult jitted = evaluator.evaluate(segment, world.now, Engine::Jit);
  SqlOracle oracle(state, compiled->program);
  const std::vector<std::uint32_t> sql = oracle.select(compiled->program.segment(segment)->root, world.now);
  const Bitmap sqlBitmap = Bitmap::fromSorted(sql);
  std::string report;
  if (!(bitmap == reference)) report += fmt::format("bitmap [{}] vs interpreter [{}]\n", ids(bitmap), ids(reference));
  if (!(jitted.friends == reference)) report += fmt::format("jit [{}] vs interpreter [{}]\n", ids(jitted.friends), ids(reference));
  if (!(sqlBitmap == reference)) report += fmt::format("sqlite [{}] vs interpreter [{}]\n", ids(sqlBitmap), ids(reference));
  return report;
}

TEST(Differential, AllEvaluatorsAgreeOnRandomWorlds) {
  const int worlds = std::getenv("SEG_DIFF_WORLDS") ? std::atoi(std::getenv("SEG_DIFF_WORLDS")) : 60;
  const std::size_t segmentsPerWorld = 40;
  auto jit = makeJit();
  ASSERT_TRUE(jit) << "LLVM could not target this machine";
  std::size_t cases = 0, checked = 0, selective = 0;
  for (int w = 0; w < worlds; ++w) {
    const World world = makeWorld(1000 + static_cast<std::uint64_t>(w), 150, segmentsPerWorld);
    auto first = compile(world.program());
    ASSERT_TRUE(first->errors.empty()) << "generated program does not type-check:\n" << first->errors << world.program();
    StoreState state(first->program.schema);
    state.apply(world.data);
    const std::uint64_t everybody = BoundProgram(first->program, state).universe().cardinality();
    for (const auto& [name, gen] : world.segments) {
      ++cases;
      std::uint64_t selected = 0;
      const std::string problem = disagreement(world, world.program(), name, state, jit.get(), &selected);
      // A segment that selects nobody or everybody tests little; count the
      // ones that split the friends so a generator drift shows up.
      if (selected > 0 && selected < everybody) ++selective;
      if (problem.empty()) {
        ++checked;
        continue;
      }
      // Shrink: keep the other segments, make this one as small as it goes
      // while the disagreement remains.
      auto segments = world.segments;
      std::shared_ptr<Gen> smallest = gen;
      std::string smallestProblem = problem;
      for (bool progress = true; progress;) {
        progress = false;
        for (const auto& candidate : smallest->shrink()) {
          for (auto& [n, g] : segments) {
            if (n == name) g = candidate;
          }
          const std::string p = disagreement(world, programFor(world, segments), name, state, jit.get());
          if (!p.empty()) {
            smallest = candidate;
            smallestProblem = p;
            progress = true;
            break;
          }
        }
        for (auto& [n, g] : segments) {
          if (n == name) g = smallest;
        }
      }
      FAIL() << "evaluators disagree (world seed " << world.seed << ", now " << world.now << ") on\n  segment " << name
             << " = " << smallest->render() << "\n"
             << smallestProblem << "reproduce with this program:\n"
             << programFor(world, segments);
    }
  }
  std::cout << cases << " segments over " << worlds << " worlds, " << selective
            << " selecting some but not all friends, " << checked << " agreeing\n";
  EXPECT_EQ(checked, cases);
  EXPECT_EQ(cases, static_cast<std::size_t>(worlds) * segmentsPerWorld);
  EXPECT_GE(selective * 2, cases) << "most generated segments select nobody or everybody";
}

// The planner answers `age(d) OP n` from the date's range index, by
// date bounds it computes from `today`; the JIT computes calendar fields
// inline. Every birthday of 19 years, every operator and age, on days where
// calendars bite: the interpreter, the bitmap plan and the JIT must agree.
TEST(Differential, CalendarFunctionsMatchTheInterpreterOnCalendarEdges) {
  std::string program = "schema {\n  birthday: date\n}\n";
  int count = 0;
  for (const char* op : {"==", "!=", "<", "<=", ">", ">="}) {
    for (int years = 15; years <= 22; ++years) program += fmt::format("segment s{} = age(birthday) {} {}\n", count++, op, years);
  }
  for (int years = 15; years <= 22; ++years) program += fmt::format("segment s{} = age(birthday) in {}..{}\n", count++, years, years + 2);
  // Residuals (not index-answerable), compiled by the JIT.
  for (int years = 15; years <= 22; ++years) program += fmt::format("segment s{} = age(birthday) + 0 == {}\n", count++, years);
  for (int m = 1; m <= 12; ++m) program += fmt::format("segment s{} = month(birthday) == {}\n", count++, m);
  for (int d : {1, 15, 28, 29, 30, 31}) program += fmt::format("segment s{} = day(birthday) == {}\n", count++, d);
  for (int w = 1; w <= 7; ++w) program += fmt::format("segment s{} = weekday(birthday) == {}\n", count++, w);
  for (int y : {1996, 2000, 2014}) program += fmt::format("segment s{} = year(birthday) == {}\n", count++, y);
  program += fmt::format("segment s{} = month(birthday) == month(today) and day(birthday) == day(today)\n", count++);
  // Outside the JIT's table of dates (1900 to 2099): its helper path.
  program += fmt::format("segment s{} = year(birthday) + 0 < 1900 or year(birthday) > 2099\n", count++);
  program += fmt::format("segment s{} = month(birthday) == 2 and day(birthday) == 29 and year(birthday) < 2000\n", count++);
  auto compiled = compile(program);
  ASSERT_TRUE(compiled->errors.empty()) << compiled->errors;
  StoreState state(compiled->program.schema);
  const auto birthday = static_cast<std::uint32_t>(*compiled->program.schema.attribute("birthday"));
  std::vector<Mutation> friends;
  const std::int32_t first = civil::daysFromCivil({1996, 1, 1}), last = civil::daysFromCivil({2014, 12, 31});
  for (std::int32_t day = first; day <= last; ++day) {
    Mutation set = Mutation::of(Mutation::Kind::SetAttribute, *UserId::parse(fmt::format("U{:032x}", day - first + 1)));
    set.index = birthday;
    set.value = Value::ofInt(day);
    friends.push_back(std::move(set));
  }
  for (const civil::YearMonthDay far : {civil::YearMonthDay{1899, 12, 31}, {1896, 2, 29}, {1850, 3, 1}, {2100, 1, 1},
                                        {2104, 2, 29}, {2150, 6, 15}}) {
    Mutation set = Mutation::of(Mutation::Kind::SetAttribute,
                                *UserId::parse(fmt::format("U{:032x}", 1000000 + civil::daysFromCivil(far) - first)));
    set.index = birthday;
    set.value = Value::ofInt(civil::daysFromCivil(far));
    friends.push_back(std::move(set));
  }
  state.apply(friends);
  auto jit = makeJit();
  ASSERT_TRUE(jit);
  SegmentEvaluator evaluator(compiled->program, state, jit.get());
  // Noon in Tokyo on: Feb 28 and 29 and Mar 1 of a leap year, Feb 28 and
  // Mar 1 of a common year, New Year's Eve and Day.
  for (const civil::YearMonthDay day : {civil::YearMonthDay{2028, 2, 28}, {2028, 2, 29}, {2028, 3, 1}, {2027, 2, 28},
                                        {2027, 3, 1}, {2027, 12, 31}, {2028, 1, 1}}) {
    const std::int64_t now = static_cast<std::int64_t>(civil::daysFromCivil(day)) * civil::kSecondsPerDay + 3 * 3600;
    for (int s = 0; s < count; ++s) {
      const std::string name = fmt::format("s{}", s);
      const Bitmap reference = evaluator.evaluate(name, now, Engine::Interpreter).friends;
      EXPECT_GT(reference.cardinality(), 0u) << name;
      for (const Engine engine : {Engine::Bitmap, Engine::Jit}) {
        const EvaluationResult planned = evaluator.evaluate(name, now, engine);
        EXPECT_EQ(planned.warning, "") << name;
        EXPECT_TRUE(planned.friends == reference)
            << name << " on " << civil::formatDate(civil::daysFromCivil(day)) << (engine == Engine::Jit ? " jit" : " bitmap")
            << ": [" << ids(planned.friends) << "] vs interpreter [" << ids(reference) << "]\n"
            << ir::explainPlan(planned.plan, state.friendCount(), nullptr);
      }
    }
  }
}

// Residual work over many candidates is split across threads; the parts
// must come back complete and in order, for compiled and interpreted
// residuals alike.
TEST(Differential, ThreadedResidualsMatchOneThread) {
  auto compiled = compile(
      "schema {\n  points: int\n  pref: string\n  event buy(price: int)\n}\n"
      "segment a = points + 1 > 40\n"
      "segment b = pref matches \"^(東|大)\" or count(buy where price > 300, within 30d) >= 2\n"
      "segment c = not (points + 0 < 10) and sum(buy.price) > 500\n");
  ASSERT_TRUE(compiled->errors.empty()) << compiled->errors;
  const ir::Schema& schema = compiled->program.schema;
  const auto points = static_cast<std::uint32_t>(*schema.attribute("points"));
  const auto pref = static_cast<std::uint32_t>(*schema.attribute("pref"));
  const auto buy = static_cast<std::uint32_t>(*schema.event("buy"));
  const std::int64_t now = 1790000000;
  std::vector<Mutation> data;
  std::uint64_t x = 12345;
  const auto next = [&] { return (x = x * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  for (int n = 0; n < 200000; ++n) {
    const UserId user = *UserId::parse(fmt::format("U{:032x}", n + 1));
    Mutation set = Mutation::of(Mutation::Kind::SetAttribute, user);
    set.index = points;
    set.value = Value::ofInt(static_cast<std::int64_t>(next() % 100));
    data.push_back(set);
    set.index = pref;
    set.value = Value::ofString(n % 3 == 0 ? "東京都" : n % 3 == 1 ? "大阪府" : "沖縄県");
    if (n % 5) data.push_back(set);
    for (int e = 0, events = static_cast<int>(next() % 4); e < events; ++e) {
      Mutation event = Mutation::of(Mutation::Kind::AppendEvent, user);
      event.index = buy;
      event.time = now - static_cast<std::int64_t>(next() % (60 * 86400));
      event.fields = {Value::ofInt(static_cast<std::int64_t>(next() % 600))};
      data.push_back(std::move(event));
    }
  }
  StoreState state(schema);
  state.apply(data);
  auto jit = makeJit();
  ASSERT_TRUE(jit);
  SegmentEvaluator single(compiled->program, state, jit.get(), 1);
  SegmentEvaluator threaded(compiled->program, state, jit.get(), 3);
  for (const char* segment : {"a", "b", "c"}) {
    for (const Engine engine : {Engine::Interpreter, Engine::Bitmap, Engine::Jit}) {
      const Bitmap one = single.evaluate(segment, now, engine).friends;
      const Bitmap three = threaded.evaluate(segment, now, engine).friends;
      EXPECT_GT(one.cardinality(), 1000u) << segment;
      EXPECT_TRUE(one == three) << segment << ": " << one.cardinality() << " vs " << three.cardinality();
    }
  }
}

}  // namespace
}  // namespace seg::difftest
