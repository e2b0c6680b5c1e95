// The analyzer's internals, shared by the files of compiler/sema. Each file
// handles one concern: declarations.cc collects names, expressions.cc types
// expressions, statements.cc checks what declarations say, line_rules.cc
// enforces where LINE-side conditions may go, lints.cc finds likely mistakes.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "base/spelling.h"

#include "compiler/diagnostics/diagnostics.h"
#include "compiler/sema/sema.h"

namespace seg::sema {

inline constexpr TypeId kNoExpectation = ~TypeId{0};

// What names mean where an expression is checked.
struct Scope {
  std::string what = "a condition";       // for messages: "segment `vip`", "menu rule"
  std::uint32_t segment = kNone;          // the segment being checked (dependencies)
  std::uint32_t rowEvent = kNone;         // inside `where` of an aggregate over this event
  std::uint32_t triggerEvent = kNone;     // the event that triggered the rule or scenario
  bool triggerFieldsUnqualified = false;  // rule bodies and trigger `where`: `text` means the event's
  std::string bindingName;                // `as e`
  bool friendData = true;                 // friend attributes, tags, segments are available
};

class Analyzer {
 public:
  Analyzer(TypedProgram& out, SourceManager& sources, DiagnosticEngine& diags, const AnalyzeOptions& options)
      : p_(out), sources_(sources), diags_(diags), options_(options) {}

  void run();

  // ---- declarations.cc
  void declareBuiltins();
  void importModules();
  void collectCatalogs();
  void collectSchema();
  void collectDeclarations();
  TypeId resolveType(const ast::TypeExpr& type, const std::string& owner, bool allowEnum);
  // Reports a duplicate of `name` (already declared as `kind`) at `range`.
  bool checkUnique(const ast::Name& name);
  std::vector<std::string> valueNames(const Scope& scope) const;

  // ---- expressions.cc
  TypeId check(const ast::Expr& e, const Scope& scope, TypeId expected = kNoExpectation);
  void checkCondition(const ast::Expr* e, const Scope& scope);
  void checkValue(const ast::Expr& e, const Scope& scope, TypeId expected, const char* what);

  // ---- statements.cc
  void checkSegments();
  void checkMessages();
  // Reports placeholders naming neither a parameter nor an attribute;
  // true when every one is known.
  bool checkPlaceholders(const Message& message, const std::vector<ast::Placeholder>& placeholders,
                         SourceRange fallbackRange, const std::string& where);
  void warnIfCanBeEmpty(const Message& message, const std::string& value, const std::vector<ast::Placeholder>& placeholders,
                        SourceRange range, const std::string& what);
  void checkTextLength(const ast::StringLitExpr& text, const char* what, std::size_t limit);
  void loadFlex(Message& message, const ast::StringLitExpr& path);
  void checkRichmenus();
  void checkMenus();
  void checkScenarios();
  void checkRules();
  void checkCampaigns();
  void checkPer(const ast::Expr& per, const Scope& scope);
  std::optional<seg::Recurrence> checkRecurrence(const ast::Recurrence& every);
  void checkPolicy();
  void checkTests();
  void checkActions(const ast::ActionList& actions, const Scope& scope, bool replyAllowed);
  void checkMessageRefs(const std::vector<ast::MessageRef>& refs, const Scope& scope, SourceRange where);
  std::uint32_t checkMessageRef(const ast::MessageRef& ref, const Scope& scope, bool argumentsRequired);
  Trigger resolveSegmentTrigger(const ast::Trigger& trigger);
  Trigger resolveYearlyTrigger(const ast::Trigger& trigger);
  Trigger resolveTrigger(const ast::Trigger& trigger);

  // ---- line_rules.cc
  void checkLineRules();
  void checkLineForms();
  void splitCampaignAudiences();
  bool usesLine(const ast::Expr& e) const;
  bool usesFriendData(const ast::Expr& e) const;
  // The first `line.*` expression under `e`, through segment references.
  const ast::Expr* firstLineUse(const ast::Expr& e) const;
  void rejectLineOutsideCampaign(const ast::Expr* e, const std::string& where);

  // ---- lints.cc
  void lint();

  // ---- shared helpers
  // "did you mean" on `d` for `word`, among what `candidates()` lists. Made
  // only while suggestions are wanted: at most kSuggestions of them, and
  // none once the error limit stops reporting, so a program with many
  // unknown names does not cost names × declarations.
  static constexpr std::size_t kSuggestions = 200;
  bool suggesting() const { return !diags_.limitReached() && suggestionsMade_ < kSuggestions; }
  template <typename Candidates>
  void suggest(Diagnostic& d, std::string_view word, Candidates&& candidates) {
    if (!suggesting()) return;
    ++suggestionsMade_;
    if (auto match = closestMatch(word, candidates())) d.addHelp(fmt::format("did you mean `{}`?", *match));
  }
  void record(const ast::Expr& e, TypeId type, Ref ref = {}) {
    p_.exprType[e.id] = type;
    p_.exprRef[e.id] = ref;
  }
  std::string typeName(TypeId type) const { return "`" + p_.types.name(type) + "`"; }
  // A tag the program names: not empty, and declared when `tags` lists them.
  void checkTag(const ast::StringLitExpr& tag);
  const std::string& programDirectory() const { return baseDirectory_; }

  TypedProgram& p_;
  SourceManager& sources_;
  DiagnosticEngine& diags_;
  const AnalyzeOptions& options_;
  std::string baseDirectory_;
  // Every declared name, for duplicate checks: name -> (kind, range).
  std::map<std::string, std::pair<std::string, SourceRange>> declared_;
  // Where each segment, message, ... is used, for the unused warnings.
  std::vector<std::uint32_t> checkingSegments_;
  std::uint32_t lineModuleFile_ = kNone;
  bool lineImported_ = false;
  std::size_t suggestionsMade_ = 0;
  std::vector<const ast::Expr*> lineConditionsOutsideCampaign_;
};

}  // namespace seg::sema
