// Checking what each declaration says: segments (and their cycles),
// messages, rich menus, scenarios, rules, campaigns, the policy and tests.
#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/civil_time.h"
#include "base/spelling.h"
#include "base/timezone.h"
#include "compiler/sema/analyzer.h"
#include "compiler/sema/flex_rules.h"
#include "compiler/syntax/literals.h"

namespace seg::sema {
namespace {

using namespace seg::ast;
namespace fs = std::filesystem;

// LINE's documented limits (Messaging API reference).
// Lengths count UTF-16 code units, as LINE does.
constexpr std::size_t kMaxTextCharacters = 5000;
constexpr std::size_t kMaxAltTextCharacters = 1500;  // a flex message's altText
constexpr std::size_t kMaxUrlCharacters = 2000;
constexpr std::size_t kMaxMessagesPerRequest = 5;

template <typename T>
std::vector<std::string> namesOf(const std::vector<T>& items) {
  std::vector<std::string> out;
  for (const T& item : items) out.push_back(item.name);
  return out;
}

// The first word of a range, as written: the item that was repeated.
std::string firstWord(const SourceManager& sources, SourceRange range) {
  if (!range.valid()) return "";
  const std::string_view line = sources.file(range.file).line(range.begin.line);
  std::size_t pos = utf8::byteOffsetOfColumn(line, range.begin.column);
  std::size_t end = pos;
  while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_')) ++end;
  return std::string(line.substr(pos, end - pos));
}

std::string stepLabel(const Step& step) {
  if (step.timing.kind == StepTiming::Kind::After) return "after " + civil::formatDuration(step.timing.afterSeconds);
  std::string label = fmt::format("day {}", step.timing.day);
  if (step.timing.atSecondsOfDay) label += " at " + civil::formatClock(*step.timing.atSecondsOfDay);
  return label;
}

// A step's nominal offset from enrolment, to check the steps' order.
std::int64_t stepOffset(const Step& step) {
  if (step.timing.kind == StepTiming::Kind::After) return step.timing.afterSeconds;
  return step.timing.day * civil::kSecondsPerDay + step.timing.atSecondsOfDay.value_or(0);
}

}  // namespace

// ------------------------------------------------------------------ segments

void Analyzer::checkTag(const ast::StringLitExpr& tag) {
  if (tag.value.empty()) {
    diags_.report(DiagId::EmptyTag, tag.range);
    return;
  }
  const std::vector<std::string>& declared = p_.declaredTags;
  if (declared.empty() || std::find(declared.begin(), declared.end(), tag.value) != declared.end()) return;
  Diagnostic& d = diags_.report(DiagId::UndeclaredTag, tag.range, tag.value);
  suggest(d, tag.value, [&] { return declared; });
  if (d.help.empty()) d.addHelp("add it to `tags { ... }` if it is meant");
}

void Analyzer::checkSegments() {
  for (std::size_t i = 0; i < p_.segments.size() && !diags_.limitReached(); ++i) {
    Scope scope;
    scope.what = fmt::format("segment `{}`", p_.segments[i].name);
    scope.segment = static_cast<std::uint32_t>(i);
    checkCondition(p_.segments[i].decl->condition.get(), scope);
  }
  // Depth-first search over references: a back edge is a cycle; the
  // post-order is an evaluation order.
  enum class Mark { New, Active, Done };
  std::vector<Mark> marks(p_.segments.size(), Mark::New);
  std::vector<std::uint32_t> path;
  std::set<std::uint32_t> inReportedCycle;
  const std::function<void(std::uint32_t)> visit = [&](std::uint32_t s) {
    marks[s] = Mark::Active;
    path.push_back(s);
    for (std::uint32_t next : p_.segments[s].references) {
      if (marks[next] == Mark::Active) {
        const auto start = std::find(path.begin(), path.end(), next);
        std::string cycle;
        bool alreadyReported = false;
        for (auto it = start; it != path.end(); ++it) {
          cycle += p_.segments[*it].name + " → ";
          alreadyReported = alreadyReported || inReportedCycle.contains(*it);
        }
        cycle += p_.segments[next].name;
        if (!alreadyReported) {
          const Segment& first = p_.segments[next];
          diags_.report(DiagId::SegmentCycle, first.decl->name.range, first.name, cycle)
              .addHelp("a segment cannot be defined in terms of itself");
          for (auto it = start; it != path.end(); ++it) inReportedCycle.insert(*it);
        }
      } else if (marks[next] == Mark::New) {
        visit(next);
      }
    }
    path.pop_back();
    marks[s] = Mark::Done;
    p_.segmentOrder.push_back(s);
  };
  for (std::uint32_t s = 0; s < p_.segments.size(); ++s) {
    if (marks[s] == Mark::New) visit(s);
  }
}

// ------------------------------------------------------------------ messages

namespace {

// Whether a template can render as nothing: no literal text, and a
// placeholder without a fallback (its value may be missing or empty).
std::optional<std::string> emptyWithout(const std::string& value, const std::vector<Placeholder>& placeholders) {
  std::string literal;
  std::size_t at = 0;
  std::optional<std::string> bare;
  for (const Placeholder& p : placeholders) {
    literal += value.substr(at, p.offset - at);
    at = p.offset + p.length;
    if (!p.fallback || p.fallback->empty()) bare = bare.value_or(p.name);
  }
  literal += value.substr(at);
  if (!literal.empty() || !bare) return std::nullopt;
  return bare;
}

}  // namespace

bool Analyzer::checkPlaceholders(const Message& message, const std::vector<Placeholder>& placeholders,
                                 SourceRange fallbackRange, const std::string& where) {
  bool known = true;
  for (const Placeholder& placeholder : placeholders) {
    const bool isParam = std::any_of(message.params.begin(), message.params.end(),
                                     [&](const MessageParam& p) { return p.name == placeholder.name; });
    if (isParam || p_.findAttribute(placeholder.name) != kNone) continue;
    known = false;
    std::vector<std::string> names = namesOf(message.params);
    for (const Attribute& a : p_.attributes) names.push_back(a.name);
    Diagnostic& d = diags_.report(DiagId::UnknownPlaceholder, placeholder.range.valid() ? placeholder.range : fallbackRange,
                                  "{{" + placeholder.name + "}}", message.name);
    suggest(d, placeholder.name, [&] { return names; });
    if (!where.empty()) d.addHelp("it is " + where);
    d.addHelp("a placeholder names a friend attribute (such as `{{name}}`) or a parameter of the message");
  }
  return known;
}

void Analyzer::warnIfCanBeEmpty(const Message& message, const std::string& value,
                                const std::vector<Placeholder>& placeholders, SourceRange range, const std::string& what) {
  if (const auto bare = emptyWithout(value, placeholders)) {
    diags_.report(DiagId::MaybeEmptyText, range, what, message.name, "`" + *bare + "`")
        .addHelp(fmt::format("LINE refuses an empty text, so such a friend is skipped (and it is recorded); "
                             "give a fallback, such as `{{{{{}|{}}}}}`", *bare, *bare == "name" ? "お客様" : "..."));
  }
}

void Analyzer::checkMessages() {
  for (Message& message : p_.messages) {
    const MessageDecl& decl = *message.decl;
    for (const ParamDecl& param : decl.params) {
      bool duplicate = false;
      for (const MessageParam& existing : message.params) duplicate = duplicate || existing.name == param.name.text;
      if (duplicate) {
        diags_.report(DiagId::Redeclared, param.name.range, param.name.text,
                      fmt::format("a parameter of `{}`", message.name));
        continue;
      }
      message.params.push_back({param.name.text, resolveType(param.type, param.name.text, false), param.range});
    }
    const MessageBody& body = decl.body;
    switch (body.kind) {
      case MessageBody::Kind::Text: {
        const StringLitExpr& text = *body.text;
        checkTextLength(text, "the text", kMaxTextCharacters);
        if (text.value.empty()) diags_.report(DiagId::TypeMismatch, text.range, "some text", "an empty string");
        if (checkPlaceholders(message, text.placeholders, text.range, "") && !text.value.empty()) {
          warnIfCanBeEmpty(message, text.value, text.placeholders, text.range, "the text");
        }
        break;
      }
      case MessageBody::Kind::Flex: {
        const StringLitExpr& alt = *body.altText;
        checkTextLength(alt, "the alt text", kMaxAltTextCharacters);
        const bool altKnown = checkPlaceholders(message, alt.placeholders, alt.range, "");
        if (alt.value.empty()) {
          diags_.report(DiagId::TypeMismatch, alt.range, "an alt text", "an empty string")
              .addHelp("the alt text is shown in notifications and chat lists");
        } else if (altKnown) {
          warnIfCanBeEmpty(message, alt.value, alt.placeholders, alt.range, "the alt text");
        }
        loadFlex(message, *body.text);
        break;
      }
      case MessageBody::Kind::Image: {
        for (const StringLitExpr* url : {body.text.get(), body.preview.get()}) {
          if (url == nullptr) continue;
          const char* what = url == body.text.get() ? "the image" : "the preview";
          checkPlaceholders(message, url->placeholders, url->range, "");
          // A URL that starts with a placeholder is the friend's: checked when sent.
          const bool startsWithValue = !url->placeholders.empty() && url->placeholders.front().offset == 0;
          if (!startsWithValue && url->value.rfind("https://", 0) != 0) {
            diags_.report(DiagId::BadUrl, url->range, what, "must start with https://")
                .addHelp("LINE only fetches images over HTTPS");
          } else if (url->value.size() > kMaxUrlCharacters) {
            diags_.report(DiagId::BadUrl, url->range, what, "is longer than LINE's 2000 characters");
          }
        }
        break;
      }
      case MessageBody::Kind::Sticker:
        if (body.packageId <= 0 || body.stickerId <= 0) diags_.report(DiagId::BadSticker, body.range);
        break;
    }
  }
}

void Analyzer::checkTextLength(const StringLitExpr& text, const char* what, std::size_t limit) {
  const std::size_t units = utf8::countUtf16Units(text.value);
  if (units <= limit) return;
  Diagnostic& d = diags_.report(DiagId::TextTooLong, text.range, what, units, limit);
  if (units != utf8::countCodePoints(text.value)) {
    d.addHelp("LINE counts UTF-16 code units: an emoji beyond the basic plane counts as 2");
  }
}

// Reads the flex file of `message` (beside the program), checks it against
// LINE's flex rules and its placeholders against the message's names.
void Analyzer::loadFlex(Message& message, const StringLitExpr& path) {
  const fs::path base = fs::weakly_canonical(fs::path(programDirectory()));
  const fs::path file = fs::weakly_canonical(base / path.value);
  const auto [baseEnd, fileIt] = std::mismatch(base.begin(), base.end(), file.begin(), file.end());
  if (fs::path(path.value).is_absolute() || baseEnd != base.end()) {
    diags_.report(DiagId::FlexFileOutside, path.range, path.value)
        .addHelp("keep flex files beside the program, such as `flex/coupon.json`");
    return;
  }
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    diags_.report(DiagId::FlexFileNotFound, path.range, path.value)
        .addHelp(fmt::format("paths are relative to the program's directory, `{}`", programDirectory()));
    return;
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 2, ..." without the id.
    std::string why = e.what();
    if (const std::size_t at = why.find("] "); at != std::string::npos) why = why.substr(at + 2);
    diags_.report(DiagId::FlexInvalid, path.range, path.value, why);
    return;
  }
  bool valid = true;
  for (const std::string& problem : flexProblems(json)) {
    diags_.report(DiagId::FlexInvalid, path.range, path.value, problem)
        .addHelp("LINE's flex rules: https://developers.line.biz/en/reference/messaging-api/#flex-message");
    valid = false;
  }
  forEachFlexString(json, [&](const std::string& pointer, const std::string& key, const std::string& value) {
    const syntax::PlainPlaceholders found = syntax::findPlaceholders(value);
    if (!found.error.empty()) {
      diags_.report(DiagId::FlexInvalid, path.range, path.value, fmt::format("at {}: invalid placeholder {}", pointer, found.error))
          .addHelp("a placeholder is `{{name}}`, or `{{name|fallback}}` to say something when the value is missing");
      valid = false;
    }
    const std::string where = fmt::format("in `{}` at {}", path.value, pointer);
    const bool known = checkPlaceholders(message, found.found, path.range, where);
    if (known && (key == "text" || key == "altText")) {
      warnIfCanBeEmpty(message, value, found.found, path.range, fmt::format("the text at {} of `{}`", pointer, path.value));
    }
  });
  if (valid) message.flexJson = json.dump();
}

// --------------------------------------------------------------- rich menus

void Analyzer::checkRichmenus() {
  static const std::regex kAlias("^[a-z0-9_-]{1,32}$");
  static const std::regex kId("^richmenu-[0-9a-f]{32}$");
  for (const Richmenu& menu : p_.richmenus) {
    if (!std::regex_match(menu.alias, kAlias) && !std::regex_match(menu.alias, kId)) {
      diags_.report(DiagId::BadRichmenuAlias, menu.decl->alias->range, menu.alias)
          .addHelp("an alias is 1 to 32 of a-z, 0-9, `_` and `-`; an ID looks like `richmenu-` and 32 hex digits");
    }
  }
}

void Analyzer::checkMenus() {
  bool sawDefault = false;
  for (MenuRule& rule : p_.menus) {
    const ast::MenuRule& astRule = *rule.decl;
    if (sawDefault) diags_.report(DiagId::UnreachableMenuRule, rule.range);
    if (rule.condition == nullptr) sawDefault = true;
    Scope scope;
    scope.what = "a menu rule";
    checkCondition(rule.condition, scope);
    rule.richmenu = p_.findRichmenu(astRule.menu.text);
    if (rule.richmenu == kNone) {
      Diagnostic& d = diags_.report(DiagId::UnknownRichmenu, astRule.menu.range, astRule.menu.text);
      suggest(d, astRule.menu.text, [&] { return namesOf(p_.richmenus); });
    }
  }
}

// ---------------------------------------------------------------- triggers

Trigger Analyzer::resolveTrigger(const ast::Trigger& trigger) {
  const std::string& name = trigger.name.text;
  if (trigger.change != ast::Trigger::Change::None) return resolveSegmentTrigger(trigger);
  if (trigger.atSecondsOfDay) return resolveYearlyTrigger(trigger);
  if (name == "start") return {TriggerKind::Start, kNone};
  const std::uint32_t event = p_.findEvent(name);
  if (event == kNone) {
    if (const std::uint32_t attr = p_.findAttribute(name); attr != kNone && p_.attributes[attr].type == TypeTable::kDate) {
      diags_.report(DiagId::UnknownEvent, trigger.name.range, name)
          .addHelp(fmt::format("`{}` is a date: `on {} at 09:00` runs on its day each year", name, name));
      return {TriggerKind::Event, kNone};
    }
    std::vector<std::string> names = namesOf(p_.events);
    names.push_back("start");
    Diagnostic& d = diags_.report(DiagId::UnknownEvent, trigger.name.range, name);
    suggest(d, name, [&] { return names; });
    return {TriggerKind::Event, kNone};
  }
  TriggerKind kind = TriggerKind::Event;
  if (name == "follow") kind = TriggerKind::Follow;
  if (name == "unfollow") kind = TriggerKind::Unfollow;
  if (name == "message") kind = TriggerKind::Message;
  if (name == "postback") kind = TriggerKind::Postback;
  return {kind, event};
}

// `on enter vip` / `on leave vip`.
Trigger Analyzer::resolveSegmentTrigger(const ast::Trigger& trigger) {
  Trigger out;
  out.kind = trigger.change == ast::Trigger::Change::Enter ? TriggerKind::Enter : TriggerKind::Leave;
  out.segment = p_.findSegment(trigger.name.text);
  if (out.segment != kNone) p_.segments[out.segment].used = true;
  if (out.segment == kNone) {
    Diagnostic& d = diags_.report(DiagId::UnknownSegment, trigger.name.range, trigger.name.text);
    suggest(d, trigger.name.text, [&] { return namesOf(p_.segments); });
  }
  return out;
}

// `on birthday at 09:00`: a date attribute, each year on its day.
Trigger Analyzer::resolveYearlyTrigger(const ast::Trigger& trigger) {
  Trigger out;
  out.kind = TriggerKind::Yearly;
  out.atSecondsOfDay = *trigger.atSecondsOfDay;
  const std::string& name = trigger.name.text;
  const std::uint32_t attr = p_.findAttribute(name);
  if (attr == kNone) {
    Diagnostic& d = diags_.report(DiagId::UnknownAttribute, trigger.name.range, name);
    if (p_.findEvent(name) != kNone || name == "start") {
      d.addHelp(fmt::format("`{}` happens when it happens: `on {}` without `at`; `at` takes a date attribute, such as a birthday", name, name));
    } else {
      suggest(d, name, [&] {
        std::vector<std::string> dates;
        for (const Attribute& a : p_.attributes) {
          if (a.type == TypeTable::kDate) dates.push_back(a.name);
        }
        return dates;
      });
    }
    return out;
  }
  if (p_.attributes[attr].type != TypeTable::kDate || p_.attributes[attr].derived) {
    diags_.report(DiagId::TypeMismatch, trigger.name.range, "a date attribute", fmt::format("`{}` ({})", name, typeName(p_.attributes[attr].type)))
        .addHelp("`on ATTRIBUTE at HH:MM` runs each year on the attribute's month and day");
    return out;
  }
  out.attribute = attr;
  return out;
}

// --------------------------------------------------------------- scenarios

// `per e.product`: a field of the bound triggering event keys enrolments.
void Analyzer::checkPer(const ast::Expr& per, const Scope& scope) {
  if (scope.bindingName.empty()) {
    diags_.report(DiagId::BadPer, per.range, ", which this scenario does not bind")
        .addHelp("bind it first: `on cart_add as e per e.product`");
    return;
  }
  const TypeId type = check(per, scope, kNoExpectation);
  if (p_.types.isError(type)) return;
  if (p_.refOf(per).kind != RefKind::TriggerField) {
    diags_.report(DiagId::BadPer, per.range, fmt::format(" (`{}.FIELD`)", scope.bindingName))
        .addHelp(fmt::format("such as `per {}.product`: each product then has an enrolment of its own", scope.bindingName));
  }
}

void Analyzer::checkScenarios() {
  for (Scenario& scenario : p_.scenarios) {
    const ScenarioDecl& decl = *scenario.decl;
    scenario.trigger = resolveTrigger(decl.trigger);
    Scope scope;
    scope.what = fmt::format("scenario `{}`", scenario.name);
    scope.triggerEvent = scenario.trigger.event;
    if (decl.binding) {
      const bool eventless = scenario.trigger.kind == TriggerKind::Start || scenario.trigger.kind == TriggerKind::Yearly ||
                             scenario.trigger.kind == TriggerKind::Enter || scenario.trigger.kind == TriggerKind::Leave;
      if (eventless) {
        diags_.report(DiagId::BindingWithoutEvent, decl.binding->range, triggerText(decl.trigger))
            .addHelp(fmt::format("remove `as {}`", decl.binding->text));
      } else if (scenario.trigger.event != kNone) {
        scope.bindingName = decl.binding->text;
      }
    }
    if (decl.where) {
      Scope whereScope = scope;
      whereScope.triggerFieldsUnqualified = true;
      checkCondition(decl.where.get(), whereScope);
    }
    if (decl.per) checkPer(*decl.per, scope);
    for (const ExprPtr& exit : decl.exitWhen) checkCondition(exit.get(), scope);
    if (decl.reentry.kind == Reentry::Kind::After && decl.reentry.afterSeconds <= 0) {
      diags_.report(DiagId::BadDuration, decl.reentry.range, "the re-entry wait");
    }
    const Step* previous = nullptr;
    for (const Step& step : decl.steps) {
      if (previous != nullptr && stepOffset(step) < stepOffset(*previous)) {
        diags_.report(DiagId::StepsOutOfOrder, step.timing.range, stepLabel(step), stepLabel(*previous))
            .addHelp("list the steps in the order they happen");
      }
      previous = &step;
      checkCondition(step.when.get(), scope);
      checkActions(step.actions, scope, false);
    }
  }
}

void Analyzer::checkRules() {
  for (Rule& rule : p_.rules) {
    rule.trigger = resolveTrigger(rule.decl->trigger);
    Scope scope;
    scope.what = fmt::format("the rule on `{}`", triggerText(rule.decl->trigger));
    scope.triggerEvent = rule.trigger.event;
    scope.triggerFieldsUnqualified = true;
    checkCondition(rule.decl->where.get(), scope);
    const bool replyable = rule.trigger.kind == TriggerKind::Follow || rule.trigger.kind == TriggerKind::Message ||
                           rule.trigger.kind == TriggerKind::Postback;
    checkActions(rule.decl->actions, scope, replyable);
  }
}

void Analyzer::checkActions(const ast::ActionList& actions, const Scope& scope, bool replyAllowed) {
  for (const ActionPtr& action : actions) {
    switch (action->kind) {
      case ActionKind::Reply:
        if (!replyAllowed) {
          diags_.report(DiagId::ReplyNotAllowed, action->range,
                        "in rules on `follow`, `message` or `postback`, whose webhook events carry a reply token")
              .addHelp("use `send`, which pushes the message");
        }
        [[fallthrough]];
      case ActionKind::Send: checkMessageRefs(action->messages, scope, action->range); break;
      case ActionKind::Tag:
      case ActionKind::Untag:
        checkTag(*action->tag);
        break;
      case ActionKind::Score: checkValue(*action->value, scope, TypeTable::kInt, "a score"); break;
      case ActionKind::Set: {
        const std::uint32_t attr = p_.findAttribute(action->target.text);
        if (attr == kNone) {
          Diagnostic& d = diags_.report(DiagId::UnknownAttribute, action->target.range, action->target.text);
          suggest(d, action->target.text, [&] { return namesOf(p_.attributes); });
          check(*action->value, scope);
          break;
        }
        const Attribute& a = p_.attributes[attr];
        if (!a.settable) {
          const char* why = a.name == "score"        ? "change it with `score = n`, `score += n` or `score -= n`"
                            : a.name == "friend_for" ? "it is computed from `followed_at`"
                            : a.name == "name"       ? "it comes from the friend's LINE profile"
                                                     : "it follows the friend's follow and block events";
          diags_.report(DiagId::NotSettable, action->target.range, a.name, why);
          break;
        }
        if (action->assignOp != AssignOp::Assign && a.type != TypeTable::kInt) {
          // `+=` and `-=` count: a missing value counts as 0.
          diags_.report(DiagId::TypeMismatch, action->target.range, fmt::format("an int attribute for `{}`", action->assignOp == AssignOp::Add ? "+=" : "-="),
                        fmt::format("`{}` of type {}", a.name, typeName(a.type)))
              .addHelp("set it with `=` instead");
          check(*action->value, scope);
          break;
        }
        checkValue(*action->value, scope, a.type, fmt::format("`{}`", a.name).c_str());
        break;
      }
      case ActionKind::Richmenu:
        if (p_.findRichmenu(action->target.text) == kNone) {
          Diagnostic& d = diags_.report(DiagId::UnknownRichmenu, action->target.range, action->target.text);
          suggest(d, action->target.text, [&] { return namesOf(p_.richmenus); });
        }
        break;
      case ActionKind::Start:
      case ActionKind::Stop: {
        const std::uint32_t target = p_.findScenario(action->target.text);
        if (target == kNone) {
          Diagnostic& d = diags_.report(DiagId::UnknownScenario, action->target.range, action->target.text);
          suggest(d, action->target.text, [&] { return namesOf(p_.scenarios); });
        } else if (action->kind == ActionKind::Start && p_.scenarios[target].decl->binding) {
          diags_.report(DiagId::StartNeedsEvent, action->target.range, action->target.text,
                        p_.scenarios[target].decl->binding->text);
        }
        break;
      }
      case ActionKind::If:
        checkCondition(action->value.get(), scope);
        checkActions(action->thenActions, scope, replyAllowed);
        checkActions(action->elseActions, scope, replyAllowed);
        break;
    }
  }
}

void Analyzer::checkMessageRefs(const std::vector<ast::MessageRef>& refs, const Scope& scope, SourceRange where) {
  if (refs.size() > kMaxMessagesPerRequest) {
    diags_.report(DiagId::TooManyMessages, where, refs.size()).addHelp("split them over two steps");
  }
  for (const ast::MessageRef& ref : refs) {
    const std::uint32_t m = checkMessageRef(ref, scope, true);
    if (m != kNone) p_.messages[m].used = true;
  }
}

std::uint32_t Analyzer::checkMessageRef(const ast::MessageRef& ref, const Scope& scope, bool argumentsRequired) {
  const std::uint32_t index = p_.findMessage(ref.name.text);
  if (index == kNone) {
    Diagnostic& d = diags_.report(DiagId::UnknownMessage, ref.name.range, ref.name.text);
    suggest(d, ref.name.text, [&] { return namesOf(p_.messages); });
    for (const NamedArg& arg : ref.args) check(*arg.value, scope);
    return kNone;
  }
  const Message& message = p_.messages[index];
  std::set<std::string> given;
  bool unknownParameter = false;
  for (const NamedArg& arg : ref.args) {
    const auto param = std::find_if(message.params.begin(), message.params.end(),
                                    [&](const MessageParam& p) { return p.name == arg.name.text; });
    if (param == message.params.end()) {
      Diagnostic& d = diags_.report(DiagId::UnknownParameter, arg.name.range, message.name, arg.name.text);
      suggest(d, arg.name.text, [&] { return namesOf(message.params); });
      check(*arg.value, scope);
      unknownParameter = true;
      continue;
    }
    if (!given.insert(arg.name.text).second) {
      diags_.report(DiagId::DuplicateItem, arg.name.range, arg.name.text);
    }
    checkValue(*arg.value, scope, param->type, fmt::format("parameter `{}`", param->name).c_str());
  }
  // After a misspelt parameter, "missing argument" would say it again.
  if (argumentsRequired && !unknownParameter) {
    for (const MessageParam& param : message.params) {
      if (!given.contains(param.name)) {
        diags_.report(DiagId::MissingArgument, ref.range, param.name, message.name)
            .addHelp(fmt::format("write `{}({}: ...)`", message.name, param.name));
      }
    }
  }
  return index;
}

// --------------------------------------------------------------- campaigns

void Analyzer::checkCampaigns() {
  for (Campaign& campaign : p_.campaigns) {
    const CampaignDecl& decl = *campaign.decl;
    for (const SourceRange& repeated : decl.duplicateItems) {
      diags_.report(DiagId::DuplicateItem, repeated, firstWord(sources_, repeated));
    }
    const SourceRange nameRange = decl.name.range;
    Scope scope;
    scope.what = fmt::format("campaign `{}`", campaign.name);
    if (decl.audience) {
      checkCondition(decl.audience.get(), scope);
    } else {
      diags_.report(DiagId::CampaignIncomplete, nameRange, campaign.name, "audience (`to ...`)")
          .addHelp("say who receives it, such as `to vip and not tag \"配信停止\"`");
    }
    if (decl.schedule) check(*decl.schedule, scope);
    if (decl.every) campaign.every = checkRecurrence(*decl.every);
    if (decl.limit && *decl.limit < 1) diags_.report(DiagId::BadLimit, decl.limitRange);
    if (decl.split.empty() && decl.messages.empty()) {
      diags_.report(DiagId::CampaignIncomplete, nameRange, campaign.name, "message (`send ...` or `split { ... }`)");
    }
    if (!decl.split.empty() && !decl.messages.empty()) {
      diags_.report(DiagId::DuplicateItem, decl.range, "send").addHelp("use either `send` or `split`, not both");
    }
    checkMessageRefs(decl.messages, scope, decl.range);
    if (!decl.split.empty()) {
      std::int64_t total = 0;
      for (const SplitArm& arm : decl.split) {
        total += arm.basisPoints;
        if (arm.basisPoints == 0) {
          diags_.report(DiagId::TypeMismatch, arm.shareRange, "a share above 0%", "0%");
        }
        checkMessageRefs(arm.messages, scope, arm.range);
      }
      if (total != 10000) {
        SourceRange whole = decl.split.front().range;
        whole = SourceRange::cover(whole, decl.split.back().range);
        diags_.report(DiagId::SplitSum, whole, civil::formatPercent(total))
            .addHelp("the shares, holdout included, must cover every recipient once");
      }
    }
  }
}

std::optional<seg::Recurrence> Analyzer::checkRecurrence(const ast::Recurrence& every) {
  std::optional<seg::Recurrence> r = seg::Recurrence::ofUnit(every.unit.text);
  if (!r) {
    Diagnostic& d = diags_.report(DiagId::BadRecurrence, every.unit.range,
                                  fmt::format("`every` takes `day`, `month` or a weekday, not `{}`", every.unit.text));
    suggest(d, every.unit.text, [] {
      return std::vector<std::string>{"day", "month", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
    });
    d.addHelp("such as `every day at 09:00`, `every monday at 12:00` or `every month on day 1 at 10:00`");
    return std::nullopt;
  }
  r->atSecondsOfDay = every.atSecondsOfDay;
  if (r->unit == seg::Recurrence::Unit::Month) {
    if (!every.dayOfMonth) {
      diags_.report(DiagId::BadRecurrence, every.range, "`every month` needs the day of the month")
          .addHelp("such as `every month on day 1 at 10:00`");
      return std::nullopt;
    }
    if (*every.dayOfMonth < 1 || *every.dayOfMonth > 31) {
      diags_.report(DiagId::BadRecurrence, every.dayRange, fmt::format("a month has no day {}", *every.dayOfMonth))
          .addHelp("days run from 1 to 31; a day past a month's end means its last day");
      return std::nullopt;
    }
    r->dayOfMonth = static_cast<std::uint32_t>(*every.dayOfMonth);
  } else if (every.dayOfMonth) {
    diags_.report(DiagId::BadRecurrence, every.dayRange, fmt::format("`on day` only goes with `every month`, not `every {}`", every.unit.text));
    return std::nullopt;
  }
  return r;
}

// ------------------------------------------------------------------ policy

void Analyzer::checkPolicy() {
  const PolicyDecl* decl = p_.policy.decl;
  if (decl == nullptr) return;
  for (const SourceRange& repeated : decl->duplicateItems) {
    diags_.report(DiagId::DuplicateItem, repeated, firstWord(sources_, repeated));
  }
  if (decl->timezone) {
    const std::string& name = decl->timezone->value;
    if (TimeZone::find(name)) {
      p_.policy.timezone = name;
    } else {
      Diagnostic& d = diags_.report(DiagId::UnknownTimezone, decl->timezone->range, name);
      suggest(d, name, [&] { return TimeZone::names(); });
      d.addHelp("time zones are IANA names such as \"Asia/Tokyo\"");
    }
  }
  if (decl->quietFrom) {
    if (*decl->quietFrom == *decl->quietTo) {
      diags_.report(DiagId::EmptyQuietWindow, decl->quietRange, civil::formatClock(*decl->quietFrom),
                    civil::formatClock(*decl->quietTo))
          .addHelp("a window such as `22:00 .. 08:00` runs overnight; equal ends hold nothing");
    }
    p_.policy.quietFrom = decl->quietFrom;
    p_.policy.quietTo = decl->quietTo;
  }
  if (decl->capCount) {
    if (*decl->capCount < 1) {
      diags_.report(DiagId::BadCap, decl->capRange, "a cap must allow at least 1 message")
          .addHelp("to stop all sending, tag friends and exclude the tag");
    }
    if (decl->capPeriodSeconds <= 0) diags_.report(DiagId::BadDuration, decl->capRange, "the cap's period");
    p_.policy.capCount = decl->capCount;
    p_.policy.capPeriodSeconds = decl->capPeriodSeconds;
  }
  p_.policy.minReach = decl->minReach;
  if (decl->expiredReply) {
    const std::string& what = decl->expiredReply->text;
    if (what != "push" && what != "drop") {
      diags_.report(DiagId::BadPolicyValue, decl->expiredReply->range, "expired_reply", "`push` or `drop`", what)
          .addHelp("`push` sends a reply LINE no longer accepts as a push (it counts toward the cap); `drop` records it and sends nothing");
    }
    p_.policy.expiredReplyAsPush = what != "drop";
  }
  if (decl->beyondQuota) {
    const std::string& what = decl->beyondQuota->text;
    if (what != "hold" && what != "send") {
      diags_.report(DiagId::BadPolicyValue, decl->beyondQuota->range, "beyond_quota", "`hold` or `send`", what)
          .addHelp("`hold` (the default) keeps a campaign that would go beyond the plan's free messages until the month's quota "
                   "covers it; `send` allows additional (paid) messages, up to the account's target limit");
    }
    p_.policy.sendBeyondQuota = what == "send";
  }
}

// ------------------------------------------------------------------- tests

void Analyzer::checkTests() {
  for (const Test& test : p_.tests) {
    Scope fixture;
    fixture.what = "a test fixture";
    fixture.friendData = false;
    Scope friendScope;
    friendScope.what = "a test expectation";
    bool sawFriend = false;
    for (const TestItem& item : test.decl->items) {
      switch (item.kind) {
        case TestItem::Kind::GivenFriend: {
          if (sawFriend) diags_.report(DiagId::BadTestItem, item.range, "a test describes one friend; `given friend` appears twice");
          sawFriend = true;
          std::set<std::string> seen;
          for (const ObjectField& field : item.fields) {
            if (!seen.insert(field.name.text).second) diags_.report(DiagId::DuplicateItem, field.name.range, field.name.text);
            if (field.name.text == "tags") {
              const auto* list = as<ListLitExpr>(field.value.get());
              bool ok = list != nullptr;
              for (std::size_t i = 0; list != nullptr && i < list->elements.size(); ++i) {
                const auto* tag = as<StringLitExpr>(list->elements[i].get());
                ok = ok && tag != nullptr;
                if (tag != nullptr) record(*tag, TypeTable::kString);
              }
              if (!ok) diags_.report(DiagId::TypeMismatch, field.value->range, "a list of tags such as [\"VIP\"]", "something else");
              continue;
            }
            const std::uint32_t attr = p_.findAttribute(field.name.text);
            if (attr == kNone) {
              std::vector<std::string> names = namesOf(p_.attributes);
              names.push_back("tags");
              Diagnostic& d = diags_.report(DiagId::UnknownAttribute, field.name.range, field.name.text);
              suggest(d, field.name.text, [&] { return names; });
              continue;
            }
            if (p_.attributes[attr].derived) {
              diags_.report(DiagId::NotSettable, field.name.range, field.name.text, "it is computed; give `followed_at` instead");
              continue;
            }
            checkValue(*field.value, fixture, p_.attributes[attr].type, fmt::format("`{}`", field.name.text).c_str());
          }
          break;
        }
        case TestItem::Kind::GivenEvent: {
          ast::Trigger named;
          named.name = item.name;
          const Trigger trigger = resolveTrigger(named);
          if (trigger.kind == TriggerKind::Start) {
            diags_.report(DiagId::BadTestItem, item.name.range, "`start` is not an event; give the event that starts the scenario");
            break;
          }
          if (trigger.event == kNone) break;
          const Event& event = p_.events[trigger.event];
          for (const ObjectField& field : item.fields) {
            const std::uint32_t f = event.findField(field.name.text);
            if (f == kNone) {
              Diagnostic& d = diags_.report(DiagId::UnknownMember, field.name.range, fmt::format("event `{}`", event.name),
                                            "field", field.name.text);
              suggest(d, field.name.text, [&] { return namesOf(event.fields); });
              continue;
            }
            checkValue(*field.value, fixture, event.fields[f].type, fmt::format("field `{}`", field.name.text).c_str());
          }
          if (item.at) check(*item.at, fixture);
          break;
        }
        case TestItem::Kind::Clock: check(*item.at, fixture); break;
        case TestItem::Kind::ExpectIn: {
          const std::uint32_t s = p_.findSegment(item.name.text);
          if (s == kNone) {
            Diagnostic& d = diags_.report(DiagId::UnknownSegment, item.name.range, item.name.text);
            suggest(d, item.name.text, [&] { return namesOf(p_.segments); });
          } else {
            p_.segments[s].used = true;
          }
          break;
        }
        case TestItem::Kind::ExpectMenu:
          if (p_.findRichmenu(item.name.text) == kNone) {
            Diagnostic& d = diags_.report(DiagId::UnknownRichmenu, item.name.range, item.name.text);
            suggest(d, item.name.text, [&] { return namesOf(p_.richmenus); });
          }
          break;
        case TestItem::Kind::ExpectSent:
          checkMessageRef(*item.message, fixture, false);
          if (item.at) check(*item.at, fixture);
          break;
        case TestItem::Kind::ExpectCondition: checkCondition(item.condition.get(), friendScope); break;
      }
    }
  }
}

}  // namespace seg::sema
