// The type rules of seg, one expectation each.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "compiler/sema/sema.h"
#include "compiler/syntax/parser.h"

namespace seg::sema {
namespace {

const char* kSchema = R"(
use line
schema {
  member_rank: enum(bronze, silver, gold)
  birthday: date
  points: int
  pref: string
  last_login: time
  event purchase(product: string, price: int)
}
)";

struct Analyzed {
  SourceManager sources;
  DiagnosticEngine diags;
  TypedProgram program;
  std::vector<std::string> codes;  // diagnostic codes, in order

  // The type of segment `name`'s condition, as written in messages.
  std::string typeOfSegment(const std::string& name) const {
    const std::uint32_t s = program.findSegment(name);
    if (s == kNone) return "?";
    return program.types.name(program.typeOf(*program.segments[s].decl->condition));
  }
};

std::unique_ptr<Analyzed> analyzeText(const std::string& text) {
  auto out = std::make_unique<Analyzed>();
  const FileId file = out->sources.add("t.seg", std::string(kSchema) + text);
  ast::Program parsed = syntax::parseFile(out->sources, file, out->diags);
  out->program = analyze(std::move(parsed), out->sources, out->diags);
  for (const Diagnostic& d : out->diags.diagnostics()) out->codes.emplace_back(diagInfo(d.id).code);
  return out;
}

// The type of an expression, checked as the body of segment `x` compared
// with `== value` where needed; returns "error E0xxx" on failure.
std::string typeOf(const std::string& expression) {
  auto a = analyzeText("segment probe = " + expression + "\n");
  for (const Diagnostic& d : a->diags.diagnostics()) {
    if (d.severity == Severity::Error) return std::string("error ") + std::string(diagInfo(d.id).code);
  }
  return a->typeOfSegment("probe");
}

// Types of non-boolean expressions, read off a comparison that fixes them.
std::string valueType(const std::string& expression) {
  auto a = analyzeText("segment probe = (" + expression + ") == (" + expression + ")\n");
  for (const Diagnostic& d : a->diags.diagnostics()) {
    if (d.severity == Severity::Error) return std::string("error ") + std::string(diagInfo(d.id).code);
  }
  const auto& condition = *a->program.segments[0].decl->condition;
  const auto& binary = static_cast<const ast::BinaryExpr&>(condition);
  return a->program.types.name(a->program.typeOf(*binary.lhs));
}

TEST(Types, Arithmetic) {
  EXPECT_EQ(valueType("points + 1"), "int");
  EXPECT_EQ(valueType("today + 7d"), "date");
  EXPECT_EQ(valueType("7d + today"), "date");
  EXPECT_EQ(valueType("now - 1h"), "time");
  EXPECT_EQ(valueType("today - birthday"), "duration");
  EXPECT_EQ(valueType("now - last_login"), "duration");
  EXPECT_EQ(valueType("30d - 1h"), "duration");
  EXPECT_EQ(valueType("-points"), "int");
  EXPECT_EQ(valueType("points + 1d"), "error E0204");
  EXPECT_EQ(valueType("today + 12h"), "error E0212");
  EXPECT_EQ(valueType("pref + pref"), "error E0204");
  EXPECT_EQ(valueType("-pref"), "error E0211");
}

TEST(Types, Comparisons) {
  EXPECT_EQ(typeOf("points > 3"), "bool");
  EXPECT_EQ(typeOf("birthday < today"), "bool");
  EXPECT_EQ(typeOf("last_login > now - 30d"), "bool");
  EXPECT_EQ(typeOf("pref == \"東京都\""), "bool");
  EXPECT_EQ(typeOf("pref < \"M\""), "error E0209");
  EXPECT_EQ(typeOf("birthday < last_login"), "error E0203");
  EXPECT_EQ(typeOf("points == \"3\""), "error E0203");
  EXPECT_EQ(typeOf("true == (points > 3)"), "bool");
}

TEST(Types, EnumsTakeTheirValuesFromContext) {
  EXPECT_EQ(typeOf("member_rank >= gold"), "bool");
  EXPECT_EQ(typeOf("gold <= member_rank"), "bool");
  EXPECT_EQ(typeOf("member_rank in [silver, gold]"), "bool");
  EXPECT_EQ(typeOf("member_rank in bronze..silver"), "bool");
  EXPECT_EQ(typeOf("member_rank == platinum"), "error E0111");
  EXPECT_EQ(typeOf("line.area == \"東京都\""), "bool");
  EXPECT_EQ(typeOf("line.area in [\"東京都\", jp_14]"), "bool");
  EXPECT_EQ(typeOf("line.area == \"東京\""), "error E0111");
  EXPECT_EQ(typeOf("member_rank == line.gender"), "error E0203");
}

TEST(Types, LogicalOperatorsNeedConditions) {
  EXPECT_EQ(typeOf("points > 1 and not tag \"x\" or audience \"a\""), "bool");
  EXPECT_EQ(typeOf("points and tag \"x\""), "error E0201");
  EXPECT_EQ(typeOf("not points"), "error E0211");
  EXPECT_EQ(typeOf("points"), "error E0202");
}

TEST(Types, InAndBetween) {
  EXPECT_EQ(typeOf("points in [1, 2, 3]"), "bool");
  EXPECT_EQ(typeOf("points in [1, \"2\"]"), "error E0201");
  EXPECT_EQ(typeOf("points in 1..10"), "bool");
  EXPECT_EQ(typeOf("points in 10..1"), "error E0208");
  EXPECT_EQ(typeOf("birthday between 2026-01-01 and 2026-12-31"), "bool");
  EXPECT_EQ(typeOf("birthday between 2026-12-31 and 2026-01-01"), "error E0208");
  EXPECT_EQ(typeOf("pref between \"a\" and \"b\""), "error E0209");
}

TEST(Types, Aggregates) {
  EXPECT_EQ(typeOf("exists(purchase)"), "bool");
  EXPECT_EQ(valueType("count(purchase where price > 100, within 30d)"), "int");
  EXPECT_EQ(valueType("sum(purchase.price, since 2026-01-01)"), "int");
  EXPECT_EQ(valueType("max(purchase.price)"), "int");
  EXPECT_EQ(valueType("last(purchase.product)"), "string");
  EXPECT_EQ(valueType("last(purchase)"), "time");
  EXPECT_EQ(valueType("sum(purchase.product)"), "error E0206");
  EXPECT_EQ(valueType("min(purchase.product)"), "error E0206");
  EXPECT_EQ(typeOf("exists(purchase where price > points)"), "error E0114");
  EXPECT_EQ(typeOf("exists(purchase where tag \"x\")"), "error E0114");
  EXPECT_EQ(typeOf("exists(purchase where prise > 1)"), "error E0105");
  EXPECT_EQ(typeOf("exists(purchase, since pref)"), "error E0201");
  EXPECT_EQ(typeOf("exists(purchase where exists(purchase))"), "error E0206");
}

TEST(Types, Functions) {
  EXPECT_EQ(valueType("month(birthday)"), "int");
  EXPECT_EQ(valueType("weekday(now)"), "int");
  EXPECT_EQ(valueType("hour(last_login)"), "int");
  EXPECT_EQ(valueType("date(last_login)"), "date");
  EXPECT_EQ(valueType("age(birthday)"), "int");
  EXPECT_EQ(valueType("length(pref)"), "int");
  EXPECT_EQ(valueType("bucket(\"pilot\")"), "percent");
  EXPECT_EQ(typeOf("bucket(\"pilot\") < 10%"), "bool");
  EXPECT_EQ(typeOf("has(birthday)"), "bool");
  EXPECT_EQ(typeOf("has(pointz)"), "error E0101");
  EXPECT_EQ(valueType("hour(birthday)"), "error E0201");
  EXPECT_EQ(valueType("month(birthday, today)"), "error E0205");
  EXPECT_EQ(typeOf("pref matches \"^東京\""), "bool");
  EXPECT_EQ(typeOf("pref matches \"(\""), "error E0207");
  EXPECT_EQ(typeOf("pref contains \"京\" and pref starts_with \"東\" and pref ends_with \"都\""), "bool");
  EXPECT_EQ(typeOf("points contains \"1\""), "error E0204");
}

TEST(Sema, SegmentsAreOrderedAfterWhatTheyUse) {
  auto a = analyzeText("segment c = a and b\nsegment a = b\nsegment b = points > 1\n");
  ASSERT_TRUE(a->codes.empty());
  std::vector<std::string> order;
  for (std::uint32_t s : a->program.segmentOrder) order.push_back(a->program.segments[s].name);
  EXPECT_EQ(order, (std::vector<std::string>{"b", "a", "c"}));
}

TEST(Sema, CyclesAreReportedOnce) {
  auto a = analyzeText("segment a = b\nsegment b = c\nsegment c = a\n");
  EXPECT_EQ(a->codes, (std::vector<std::string>{"E0301"}));
}

TEST(Sema, TriggerFieldsAndBindings) {
  auto a = analyzeText(
      "message r(product: string) = text \"「{{product}}」\"\n"
      "scenario s on purchase as e where price > 100 and e.price < 1000 {\n"
      "  exit when exists(purchase where product == e.product)\n"
      "  after 1h: send r(product: e.product)\n}\n"
      "on message where text contains \"x\" and text != \"y\" { tag \"t\" }\n"
      "on purchase where purchase.price > 1 and price < 9 { tag \"p\" }\n");
  EXPECT_TRUE(a->codes.empty()) << a->codes.front();
  auto b = analyzeText("scenario s on purchase as e { day 1 when price > 1: tag \"x\" }\n");
  EXPECT_EQ(b->codes, (std::vector<std::string>{"E0101"}));  // steps see fields only through `e`
}

TEST(Sema, CampaignAudienceIsSplitForLine) {
  auto a = analyzeText(
      "segment women = line.gender == female and line.age in 20..29\n"
      "segment mixed = line.os == ios and points > 10\n"
      "message m = text \"x\"\n"
      "campaign c { to women and mixed and not tag \"stop\" send m }\n");
  ASSERT_TRUE(a->codes.empty()) << a->codes.front();
  const Campaign& c = a->program.campaigns[0];
  EXPECT_EQ(c.lineConjuncts.size(), 2u);   // women, line.os == ios
  EXPECT_EQ(c.localConjuncts.size(), 2u);  // points > 10, not tag "stop"
}

TEST(Sema, AllErrorsInOneRun) {
  auto a = analyzeText("segment a = pointz > 1\nsegment b = member_rank > 3\nmessage m = text \"{{nme}}\"\n");
  EXPECT_EQ(a->codes, (std::vector<std::string>{"E0101", "E0203", "E0302"}));
}

}  // namespace
}  // namespace seg::sema
