#include <gtest/gtest.h>

#include <fmt/format.h>

#include "compiler/ast/ast_dump.h"
#include "compiler/syntax/parser.h"

namespace seg::syntax {
namespace {

struct Parsed {
  SourceManager sources;
  DiagnosticEngine diags;
  ast::Program program;
  std::vector<std::string> errors;  // "line:col E0000 message"
};

std::unique_ptr<Parsed> parse(const std::string& text) {
  auto out = std::make_unique<Parsed>();
  const FileId file = out->sources.add("t.seg", text);
  out->program = parseFile(out->sources, file, out->diags);
  for (const Diagnostic& d : out->diags.diagnostics()) {
    out->errors.push_back(fmt::format("{}:{} {} {}", d.range.begin.line, d.range.begin.column,
                                      diagInfo(d.id).code, d.message));
  }
  return out;
}

std::string exprDump(const std::string& expression) {
  auto p = parse("segment s = " + expression);
  EXPECT_TRUE(p->errors.empty()) << p->errors.front();
  if (p->program.decls.empty()) return "";
  return ast::dump(*static_cast<const ast::SegmentDecl&>(*p->program.decls[0]).condition);
}

// The dump without ranges, for compact expectations.
std::string shape(const std::string& expression) {
  std::string dump = exprDump(expression);
  std::string out;
  for (std::size_t pos = 0; pos < dump.size();) {
    const std::size_t at = dump.find(" @", pos);
    const std::size_t eol = dump.find('\n', pos);
    out += dump.substr(pos, (at < eol ? at : eol) - pos) + "\n";
    pos = eol + 1;
  }
  return out;
}

TEST(Parser, PrecedenceNotAndOr) {
  EXPECT_EQ(shape("not a or b and c"),
            "Or\n  Not\n    Name a\n  And\n    Name b\n    Name c\n");
  EXPECT_EQ(shape("not a == 1"), "Not\n  Binary ==\n    Name a\n    Int 1\n");
}

TEST(Parser, ArithmeticAndMemberAccess) {
  EXPECT_EQ(shape("-a.b + 1 - c > 0"),
            "Binary >\n  Binary -\n    Binary +\n      Negate\n        Member .b\n          Name a\n"
            "      Int 1\n    Name c\n  Int 0\n");
  EXPECT_EQ(shape("score == -5"), "Binary ==\n  Name score\n  Int -5\n");
}

TEST(Parser, AndChainsAreFlat) {
  EXPECT_EQ(shape("a and b and c and d"), "And\n  Name a\n  Name b\n  Name c\n  Name d\n");
}

TEST(Parser, BetweenBindsItsOwnAnd) {
  EXPECT_EQ(shape("d between today and today + 7d and x"),
            "And\n  Between\n    Name d\n    low: Name today\n    high: Binary +\n      Name today\n"
            "      Duration 7d\n  Name x\n");
}

TEST(Parser, InListsAndRanges) {
  EXPECT_EQ(shape("line.age in 20..29"),
            "In\n  Member .age\n    Name line\n  Range\n    Int 20\n    Int 29\n");
  EXPECT_EQ(shape("p not in [\"東京都\", \"大阪府\"]"),
            "NotIn\n  Name p\n  List\n    String \"東京都\"\n    String \"大阪府\"\n");
}

TEST(Parser, Aggregates) {
  EXPECT_EQ(shape("count(view where category == \"diet\", within 30d) >= 3"),
            "Binary >=\n  Aggregate count within 30d\n    source: Name view\n    where: Binary ==\n"
            "      Name category\n      String \"diet\"\n  Int 3\n");
  EXPECT_EQ(shape("sum(purchase.price, since 2026-01-01) > 100"),
            "Binary >\n  Aggregate sum since\n    source: Member .price\n      Name purchase\n"
            "    since: Date 2026-01-01\n  Int 100\n");
}

TEST(Parser, ContextualKeywordsAreNames) {
  EXPECT_EQ(shape("text contains \"x\" and day > 3"),
            "And\n  Binary contains\n    Name text\n    String \"x\"\n  Binary >\n    Name day\n    Int 3\n");
}

TEST(Parser, LiteralsAreDecoded) {
  EXPECT_EQ(shape("x == 2026-12-01 10:00"), "Binary ==\n  Name x\n  DateTime 2026-12-01 10:00\n");
  EXPECT_EQ(shape("bucket(\"p\") < 2.5%"), "Binary <\n  Call bucket\n    String \"p\"\n  Percent 2.5%\n");
  EXPECT_EQ(shape("s == \"a\\\"b\\u{30C6}\""), "Binary ==\n  Name s\n  String \"a\\\"bテ\"\n");
}

TEST(Parser, PlaceholdersHaveExactColumns) {
  auto p = parse("message m = text \"{{name}}さん、{{ e.product }}\"");
  ASSERT_TRUE(p->errors.empty());
  const auto& body = static_cast<const ast::MessageDecl&>(*p->program.decls[0]).body;
  ASSERT_EQ(body.text->placeholders.size(), 2u);
  EXPECT_EQ(body.text->placeholders[0].name, "name");
  EXPECT_EQ(body.text->placeholders[0].range.begin.column, 19u);
  EXPECT_EQ(body.text->placeholders[1].name, "e.product");
  EXPECT_EQ(body.text->placeholders[1].range.begin.column, 30u);  // after "さん、"
}

TEST(Parser, PlaceholderFallbacksAndEscapedBraces) {
  auto p = parse("message m = text \"\\{\\{name\\}\\} {{ name | お客様 }}さん{{product|}}\"");
  ASSERT_TRUE(p->errors.empty());
  const auto& text = *static_cast<const ast::MessageDecl&>(*p->program.decls[0]).body.text;
  EXPECT_EQ(text.value, "{{name}} {{ name | お客様 }}さん{{product|}}");
  ASSERT_EQ(text.placeholders.size(), 2u);  // the escaped braces are text
  EXPECT_EQ(text.placeholders[0].name, "name");
  EXPECT_EQ(text.placeholders[0].fallback, "お客様");
  EXPECT_EQ(text.value.substr(text.placeholders[0].offset, text.placeholders[0].length), "{{ name | お客様 }}");
  EXPECT_EQ(text.placeholders[1].name, "product");
  EXPECT_EQ(text.placeholders[1].fallback, "");
  EXPECT_EQ(text.value.substr(text.placeholders[1].offset, text.placeholders[1].length), "{{product|}}");
}

TEST(Parser, RangesCoverTheWholeNode) {
  auto p = parse("segment s =\n  a and\n  b");
  ASSERT_TRUE(p->errors.empty());
  const ast::Decl& d = *p->program.decls[0];
  EXPECT_EQ(d.range.begin, (SourcePosition{1, 1}));
  EXPECT_EQ(d.range.end, (SourcePosition{3, 4}));
}

TEST(Parser, ErrorsAreReportedWhereTheyAre) {
  auto p = parse("segment a member_rank >= gold\nsegment b = x\nsegment c = y +\nsegment d = 1");
  ASSERT_EQ(p->errors.size(), 2u);
  EXPECT_EQ(p->errors[0], "1:10 E0010 expected `=` after segment name");
  EXPECT_EQ(p->errors[1], "3:16 E0010 expected an expression after `+`, found `segment`");
  // Recovery inserts the missing `=`, so all four declarations are built.
  EXPECT_EQ(p->program.decls.size(), 4u);
}

TEST(Parser, LiteralErrors) {
  auto p = parse("segment a = d == 2026-02-30 and t == 24:00 and w > 3w and p < 101%");
  ASSERT_EQ(p->errors.size(), 4u);
  EXPECT_EQ(p->errors[0], "1:18 E0006 invalid date `2026-02-30`: day 30 is out of range (2026-02 has 28 days)");
  EXPECT_EQ(p->errors[1], "1:38 E0007 invalid time of day `24:00`: hour 24 is out of range (0 to 23)");
  EXPECT_EQ(p->errors[2], "1:53 E0008 unknown unit `w` in `3w`");
  EXPECT_EQ(p->errors[3], "1:63 E0017 invalid percentage `101%`: it is larger than 100%");
}

TEST(Parser, WholeDesignProgramShapes) {
  auto p = parse(R"(
scenario cart_recovery on cart_add as e {
  exit when exists(purchase where product == e.product)
  reenter after 7d
  after 1h:  send reminder(product: e.product)
  day 3 at 12:00 when not tag "x": send coupon; tag "y"
}
on message where text contains "ダイエット" { tag "興味"; score += 5; reply diet_info }
campaign spring { to a and not tag "stop"  at 2026-12-01 10:00  limit 5000
  split { 45%: send a; 45%: send b, c; 10%: holdout } }
policy { timezone "Asia/Tokyo" quiet 22:00 .. 08:00 cap 3 per 7d min_reach 100 }
test "t" { given friend { member_rank: gold } given purchase { product: "x" } at 2026-11-01
  at 2026-11-02 expect in gold_plus expect not in kanto expect menu == vip expect sent welcome at 2026-11-02 09:00 }
)");
  ASSERT_TRUE(p->errors.empty()) << p->errors.front();
  ASSERT_EQ(p->program.decls.size(), 5u);
  const auto& scenario = static_cast<const ast::ScenarioDecl&>(*p->program.decls[0]);
  EXPECT_EQ(scenario.binding->text, "e");
  EXPECT_EQ(scenario.reentry.kind, ast::Reentry::Kind::After);
  ASSERT_EQ(scenario.steps.size(), 2u);
  EXPECT_EQ(scenario.steps[1].timing.day, 3);
  EXPECT_EQ(*scenario.steps[1].timing.atSecondsOfDay, 12 * 3600);
  EXPECT_EQ(scenario.steps[1].actions.size(), 2u);
  const auto& campaign = static_cast<const ast::CampaignDecl&>(*p->program.decls[2]);
  ASSERT_EQ(campaign.split.size(), 3u);
  EXPECT_EQ(campaign.split[1].messages.size(), 2u);
  EXPECT_TRUE(campaign.split[2].holdout);
  const auto& policy = static_cast<const ast::PolicyDecl&>(*p->program.decls[3]);
  EXPECT_EQ(*policy.quietFrom, 22 * 3600);
  EXPECT_EQ(policy.capPeriodSeconds, 7 * 86400);
  const auto& test = static_cast<const ast::TestDecl&>(*p->program.decls[4]);
  EXPECT_EQ(test.items.size(), 7u);
}

}  // namespace
}  // namespace seg::syntax
