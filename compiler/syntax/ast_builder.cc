#include "compiler/syntax/ast_builder.h"

#include <utility>

#include "compiler/syntax/literals.h"
#include "compiler/syntax/token_pass.h"

namespace seg::syntax {
namespace {

using P = SegParser;
using namespace seg::ast;

// Longest `a + b + ...` or `a.b.c...` chain accepted; each link nests the
// tree one level, and later phases recurse over it.
constexpr std::size_t kMaxChain = 256;

}  // namespace

class AstBuilder::Impl {
 public:
  Impl(FileId file, DiagnosticEngine& diags) : file_(file), diags_(diags) {}

  void append(P::ProgramContext* ctx, Program& out) {
    out.file = file_;
    if (ctx != nullptr) {
      for (P::DeclarationContext* d : ctx->declaration()) {
        if (DeclPtr decl = declaration(d)) out.decls.push_back(std::move(decl));
      }
    }
    out.exprCount = nextId_;
  }

 private:
  // ------------------------------------------------------------ ranges

  SourceRange range(antlr4::Token* token) const {
    return token ? tokenRange(file_, *token) : SourceRange{};
  }
  SourceRange range(antlr4::tree::TerminalNode* node) const {
    return node ? range(node->getSymbol()) : SourceRange{};
  }
  SourceRange range(antlr4::ParserRuleContext* ctx) const {
    if (ctx == nullptr || ctx->getStart() == nullptr) return {};
    SourceRange r = range(ctx->getStart());
    antlr4::Token* stop = ctx->getStop();
    if (stop != nullptr && stop->getTokenIndex() != INVALID_INDEX &&
        stop->getTokenIndex() >= ctx->getStart()->getTokenIndex() && stop->getType() != antlr4::Token::EOF) {
      r.end = range(stop).end;
    }
    return r;
  }

  template <typename T>
  std::unique_ptr<T> make(SourceRange r) {
    auto node = std::make_unique<T>(r);
    node->id = nextId_++;
    return node;
  }

  // A token that was really matched (not conjured by error recovery).
  static bool real(antlr4::tree::TerminalNode* node) {
    return node != nullptr && node->getSymbol()->getTokenIndex() != INVALID_INDEX &&
           dynamic_cast<antlr4::tree::ErrorNode*>(node) == nullptr;
  }

  // --------------------------------------------------------- leaf helpers

  Name name(P::NameContext* ctx) const {
    if (ctx == nullptr || ctx->getStart() == nullptr) return {};
    return {ctx->getStart()->getText(), range(ctx->getStart())};
  }
  Name name(P::TriggerContext* ctx) const {
    if (ctx == nullptr || ctx->getStart() == nullptr) return {};
    return {ctx->getStart()->getText(), range(ctx->getStart())};
  }
  Trigger trigger(P::TriggerSpecContext* ctx) {
    Trigger out;
    if (auto* s = dynamic_cast<P::SegmentTriggerContext*>(ctx)) {
      out.name = name(s->name());
      out.change = s->change != nullptr && s->change->getType() == P::LEAVE ? Trigger::Change::Leave : Trigger::Change::Enter;
    } else if (auto* e = dynamic_cast<P::EventTriggerContext*>(ctx)) {
      out.name = name(e->trigger());
      if (e->clockLit() != nullptr) {
        out.atSecondsOfDay = clock(e->clockLit());
        out.atRange = range(e->clockLit());
      }
    }
    return out;
  }

  template <typename Decode>
  auto decodeToken(antlr4::Token* token, Decode decode) {
    const std::string text = token->getText();
    const TokenSpan span{file_, range(token).begin, text};
    return decode(span, diags_);
  }

  std::unique_ptr<StringLitExpr> string(P::StringContext* ctx) {
    if (ctx == nullptr || ctx->getStart() == nullptr) return nullptr;
    antlr4::Token* token = ctx->getStart();
    auto out = make<StringLitExpr>(range(token));
    const std::string text = token->getText();
    const TokenSpan span{file_, out->range.begin, text};
    decodeString(span, token->getType() == P::STRING, *out, diags_);
    return out;
  }

  std::optional<std::int64_t> integer(antlr4::tree::TerminalNode* node) {
    if (!real(node)) return std::nullopt;
    return decodeToken(node->getSymbol(), decodeInt);
  }

  std::optional<std::int64_t> duration(P::DurationLitContext* ctx) {
    if (ctx == nullptr || !real(ctx->UNIT_NUMBER())) return std::nullopt;
    return decodeToken(ctx->UNIT_NUMBER()->getSymbol(), decodeDuration);
  }

  std::optional<std::int32_t> clock(P::ClockLitContext* ctx) {
    if (ctx == nullptr || !real(ctx->CLOCK())) return std::nullopt;
    return decodeToken(ctx->CLOCK()->getSymbol(), decodeClock);
  }

  std::optional<std::int64_t> percent(antlr4::tree::TerminalNode* node) {
    if (!real(node)) return std::nullopt;
    return decodeToken(node->getSymbol(), decodePercent);
  }

  ExprPtr timeLit(P::TimeLitContext* ctx) {
    if (ctx == nullptr) return nullptr;
    if (real(ctx->DATETIME())) return dateTime(ctx->DATETIME()->getSymbol());
    if (real(ctx->DATE())) return date(ctx->DATE()->getSymbol());
    return nullptr;
  }

  ExprPtr date(antlr4::Token* token) {
    auto days = decodeToken(token, decodeDate);
    if (!days) return nullptr;
    auto out = make<DateLitExpr>(range(token));
    out->days = *days;
    return out;
  }

  ExprPtr dateTime(antlr4::Token* token) {
    auto out = make<DateTimeLitExpr>(range(token));
    const std::string text = token->getText();
    if (!decodeDateTime(TokenSpan{file_, out->range.begin, text}, *out, diags_)) return nullptr;
    return out;
  }

  TypeExpr typeExpr(P::TypeExprContext* ctx) {
    TypeExpr out;
    out.range = range(ctx);
    if (auto* e = dynamic_cast<P::EnumTypeContext*>(ctx)) {
      out.kind = TypeExpr::Kind::Enum;
      out.name = {"enum", range(e->ENUM())};
      for (P::EnumValueContext* v : e->enumValue()) {
        EnumValueDecl value{name(v->name()), "", {}};
        if (auto label = string(v->string())) {
          value.label = label->value;
          value.labelRange = label->range;
        }
        out.enumValues.push_back(std::move(value));
      }
    } else if (auto* n = dynamic_cast<P::NamedTypeContext*>(ctx)) {
      out.name = name(n->name());
    }
    return out;
  }

  // ------------------------------------------------------- declarations

  DeclPtr declaration(P::DeclarationContext* ctx) {
    if (ctx == nullptr) return nullptr;
    if (auto* c = ctx->useDecl()) return useDecl(c);
    if (auto* c = ctx->schemaDecl()) return schemaDecl(c);
    if (auto* c = ctx->segmentDecl()) return segmentDecl(c);
    if (auto* c = ctx->messageDecl()) return messageDecl(c);
    if (auto* c = ctx->richmenuDecl()) return richmenuDecl(c);
    if (auto* c = ctx->menusDecl()) return menusDecl(c);
    if (auto* c = ctx->scenarioDecl()) return scenarioDecl(c);
    if (auto* c = ctx->ruleDecl()) return ruleDecl(c);
    if (auto* c = ctx->campaignDecl()) return campaignDecl(c);
    if (auto* c = ctx->policyDecl()) return policyDecl(c);
    if (auto* c = ctx->tagsDecl()) return tagsDecl(c);
    if (auto* c = ctx->catalogDecl()) return catalogDecl(c);
    if (auto* c = ctx->testDecl()) return testDecl(c);
    return nullptr;
  }

  DeclPtr tagsDecl(P::TagsDeclContext* ctx) {
    auto out = std::make_unique<TagsDecl>(range(ctx));
    for (P::StringContext* s : ctx->string()) {
      if (auto tag = string(s)) out->tags.push_back(std::move(tag));
    }
    return out;
  }

  DeclPtr useDecl(P::UseDeclContext* ctx) {
    auto out = std::make_unique<UseDecl>(range(ctx));
    out->module = name(ctx->name());
    return out;
  }

  DeclPtr schemaDecl(P::SchemaDeclContext* ctx) {
    auto out = std::make_unique<SchemaDecl>(range(ctx));
    for (P::SchemaMemberContext* member : ctx->schemaMember()) {
      if (auto* a = dynamic_cast<P::AttributeDeclContext*>(member)) {
        out->attributes.push_back({name(a->name()), typeExpr(a->typeExpr()), range(a)});
      } else if (auto* e = dynamic_cast<P::EventDeclContext*>(member)) {
        EventDecl event{name(e->name()), {}, range(e)};
        for (P::FieldDeclContext* f : e->fieldDecl()) {
          event.fields.push_back({name(f->name()), typeExpr(f->typeExpr()), range(f)});
        }
        out->events.push_back(std::move(event));
      }
    }
    return out;
  }

  DeclPtr catalogDecl(P::CatalogDeclContext* ctx) {
    auto out = std::make_unique<CatalogDecl>(range(ctx));
    out->name = name(ctx->name());
    for (P::FieldDeclContext* f : ctx->fieldDecl()) out->fields.push_back({name(f->name()), typeExpr(f->typeExpr()), range(f)});
    return out;
  }

  DeclPtr segmentDecl(P::SegmentDeclContext* ctx) {
    auto out = std::make_unique<SegmentDecl>(range(ctx));
    out->name = name(ctx->name());
    out->condition = expr(ctx->expr());
    return out;
  }

  DeclPtr messageDecl(P::MessageDeclContext* ctx) {
    auto out = std::make_unique<MessageDecl>(range(ctx));
    out->name = name(ctx->name());
    if (P::ParamListContext* params = ctx->paramList()) {
      for (P::ParamDeclContext* p : params->paramDecl()) {
        out->params.push_back({name(p->name()), typeExpr(p->typeExpr()), range(p)});
      }
    }
    P::MessageBodyContext* body = ctx->messageBody();
    out->body.range = range(body);
    if (auto* t = dynamic_cast<P::TextMessageContext*>(body)) {
      out->body.kind = MessageBody::Kind::Text;
      out->body.text = string(t->string());
    } else if (auto* f = dynamic_cast<P::FlexMessageContext*>(body)) {
      out->body.kind = MessageBody::Kind::Flex;
      out->body.text = string(f->string(0));
      out->body.altText = string(f->string(1));
    } else if (auto* i = dynamic_cast<P::ImageMessageContext*>(body)) {
      out->body.kind = MessageBody::Kind::Image;
      out->body.text = string(i->string(0));
      out->body.preview = string(i->string(1));
    } else if (auto* s = dynamic_cast<P::StickerMessageContext*>(body)) {
      out->body.kind = MessageBody::Kind::Sticker;
      out->body.packageId = integer(s->INT(0)).value_or(0);
      out->body.stickerId = integer(s->INT(1)).value_or(0);
      return out;
    }
    // Every other kind needs its strings; without them the error was reported.
    const bool complete = out->body.text && (out->body.kind != MessageBody::Kind::Flex || out->body.altText);
    return complete ? std::move(out) : nullptr;
  }

  DeclPtr richmenuDecl(P::RichmenuDeclContext* ctx) {
    auto out = std::make_unique<RichmenuDecl>(range(ctx));
    out->name = name(ctx->name());
    out->alias = string(ctx->string());
    if (!out->alias) return nullptr;
    return out;
  }

  DeclPtr menusDecl(P::MenusDeclContext* ctx) {
    auto out = std::make_unique<MenusDecl>(range(ctx));
    for (P::MenuRuleContext* rule : ctx->menuRule()) {
      if (auto* d = dynamic_cast<P::DefaultMenuRuleContext*>(rule)) {
        out->rules.push_back({nullptr, name(d->name()), range(d)});
      } else if (auto* c = dynamic_cast<P::ConditionalMenuRuleContext*>(rule)) {
        ExprPtr condition = expr(c->expr());
        if (condition) out->rules.push_back({std::move(condition), name(c->name()), range(c)});
      }
    }
    return out;
  }

  DeclPtr scenarioDecl(P::ScenarioDeclContext* ctx) {
    auto out = std::make_unique<ScenarioDecl>(range(ctx));
    const auto names = ctx->name();
    if (!names.empty()) out->name = name(names[0]);
    if (ctx->AS() != nullptr && names.size() == 2) out->binding = name(names[1]);
    out->trigger = trigger(ctx->triggerSpec());
    if (ctx->PER() != nullptr) out->per = operand(ctx->operand());
    if (ctx->WHERE() != nullptr) out->where = expr(ctx->expr());
    for (P::ScenarioItemContext* item : ctx->scenarioItem()) {
      if (auto* e = dynamic_cast<P::ExitClauseContext*>(item)) {
        if (ExprPtr condition = expr(e->expr())) out->exitWhen.push_back(std::move(condition));
      } else if (auto* r = dynamic_cast<P::ReentryClauseContext*>(item)) {
        out->reentry = reentry(r->reentry());
      } else if (auto* s = dynamic_cast<P::StepContext*>(item)) {
        if (auto step = this->step(s)) out->steps.push_back(std::move(*step));
      }
    }
    return out;
  }

  Reentry reentry(P::ReentryContext* ctx) {
    Reentry out;
    out.range = range(ctx);
    if (dynamic_cast<P::ReentryAlwaysContext*>(ctx)) {
      out.kind = Reentry::Kind::Always;
    } else if (auto* a = dynamic_cast<P::ReentryAfterContext*>(ctx)) {
      out.kind = Reentry::Kind::After;
      out.afterSeconds = duration(a->durationLit()).value_or(0);
    }
    return out;
  }

  std::optional<Step> step(P::StepContext* ctx) {
    Step out;
    out.range = range(ctx);
    P::StepTimingContext* timing = ctx->stepTiming();
    out.timing.range = range(timing);
    if (auto* d = dynamic_cast<P::DayTimingContext*>(timing)) {
      out.timing.kind = StepTiming::Kind::Day;
      out.timing.day = integer(d->INT()).value_or(0);
      if (d->clockLit() != nullptr) {
        out.timing.atSecondsOfDay = clock(d->clockLit());
        out.timing.atRange = range(d->clockLit());
      }
    } else if (auto* a = dynamic_cast<P::AfterTimingContext*>(timing)) {
      out.timing.kind = StepTiming::Kind::After;
      out.timing.afterSeconds = duration(a->durationLit()).value_or(0);
    } else {
      return std::nullopt;
    }
    if (ctx->WHEN() != nullptr) out.when = expr(ctx->expr());
    out.actions = actionList(ctx->actionList());
    return out;
  }

  DeclPtr ruleDecl(P::RuleDeclContext* ctx) {
    auto out = std::make_unique<RuleDecl>(range(ctx));
    out->trigger = trigger(ctx->triggerSpec());
    if (ctx->WHERE() != nullptr) out->where = expr(ctx->expr());
    out->actions = block(ctx->block());
    return out;
  }

  DeclPtr campaignDecl(P::CampaignDeclContext* ctx) {
    auto out = std::make_unique<CampaignDecl>(range(ctx));
    out->name = name(ctx->name());
    for (P::CampaignItemContext* item : ctx->campaignItem()) campaignItem(item, *out);
    return out;
  }

  void campaignItem(P::CampaignItemContext* item, CampaignDecl& out) {
    const SourceRange where = range(item);
    if (auto* a = dynamic_cast<P::CampaignAudienceContext*>(item)) {
      if (out.audience) out.duplicateItems.push_back(where);
      out.audience = expr(a->expr());
    } else if (auto* s = dynamic_cast<P::CampaignScheduleContext*>(item)) {
      if (out.schedule) out.duplicateItems.push_back(where);
      out.schedule = timeLit(s->timeLit());
    } else if (auto* e = dynamic_cast<P::CampaignRecurrenceContext*>(item)) {
      if (out.every) out.duplicateItems.push_back(where);
      Recurrence r;
      P::RecurrenceContext* ctx = e->recurrence();
      r.unit = name(ctx->name());
      if (ctx->INT() != nullptr) {
        r.dayOfMonth = integer(ctx->INT()).value_or(0);
        r.dayRange = range(ctx->INT());
      }
      r.atSecondsOfDay = clock(ctx->clockLit()).value_or(0);
      r.range = where;
      out.every = std::move(r);
    } else if (auto* l = dynamic_cast<P::CampaignLimitContext*>(item)) {
      if (out.limit) out.duplicateItems.push_back(where);
      out.limit = integer(l->INT());
      out.limitRange = where;
    } else if (auto* sp = dynamic_cast<P::CampaignSplitContext*>(item)) {
      if (!out.split.empty()) out.duplicateItems.push_back(where);
      out.split.clear();
      for (P::SplitArmContext* arm : sp->splitArm()) splitArm(arm, out);
    } else if (auto* se = dynamic_cast<P::CampaignSendContext*>(item)) {
      if (!out.messages.empty()) out.duplicateItems.push_back(where);
      out.messages = messageRefs(se->messageRef());
    }
  }

  void splitArm(P::SplitArmContext* ctx, CampaignDecl& out) {
    SplitArm arm;
    arm.range = range(ctx);
    arm.basisPoints = percent(ctx->PERCENT()).value_or(0);
    arm.shareRange = range(ctx->PERCENT());
    if (auto* s = dynamic_cast<P::SendArmContext*>(ctx->splitAction())) {
      arm.messages = messageRefs(s->messageRef());
    } else if (dynamic_cast<P::HoldoutArmContext*>(ctx->splitAction())) {
      arm.holdout = true;
    } else {
      return;
    }
    out.split.push_back(std::move(arm));
  }

  DeclPtr policyDecl(P::PolicyDeclContext* ctx) {
    auto out = std::make_unique<PolicyDecl>(range(ctx));
    for (P::PolicyItemContext* item : ctx->policyItem()) {
      const SourceRange where = range(item);
      if (auto* t = dynamic_cast<P::TimezonePolicyContext*>(item)) {
        if (out->timezone) out->duplicateItems.push_back(where);
        out->timezone = string(t->string());
      } else if (auto* q = dynamic_cast<P::QuietPolicyContext*>(item)) {
        if (out->quietFrom) out->duplicateItems.push_back(where);
        auto from = clock(q->clockLit(0));
        auto to = clock(q->clockLit(1));
        if (from && to) {
          out->quietFrom = from;
          out->quietTo = to;
          out->quietRange = where;
        }
      } else if (auto* c = dynamic_cast<P::CapPolicyContext*>(item)) {
        if (out->capCount) out->duplicateItems.push_back(where);
        auto count = integer(c->INT());
        auto period = duration(c->durationLit());
        if (count && period) {
          out->capCount = count;
          out->capPeriodSeconds = *period;
          out->capRange = where;
        }
      } else if (auto* m = dynamic_cast<P::MinReachPolicyContext*>(item)) {
        if (out->minReach) out->duplicateItems.push_back(where);
        out->minReach = integer(m->INT());
        out->minReachRange = where;
      } else if (auto* r = dynamic_cast<P::ExpiredReplyPolicyContext*>(item)) {
        if (out->expiredReply) out->duplicateItems.push_back(where);
        out->expiredReply = name(r->name());
      } else if (auto* q = dynamic_cast<P::BeyondQuotaPolicyContext*>(item)) {
        if (out->beyondQuota) out->duplicateItems.push_back(where);
        out->beyondQuota = name(q->name());
      }
    }
    return out;
  }

  DeclPtr testDecl(P::TestDeclContext* ctx) {
    auto out = std::make_unique<TestDecl>(range(ctx));
    out->title = string(ctx->string());
    if (!out->title) return nullptr;
    for (P::TestItemContext* item : ctx->testItem()) {
      if (auto parsed = testItem(item)) out->items.push_back(std::move(*parsed));
    }
    return out;
  }

  std::optional<TestItem> testItem(P::TestItemContext* ctx) {
    TestItem out;
    out.range = range(ctx);
    if (auto* f = dynamic_cast<P::GivenFriendContext*>(ctx)) {
      out.kind = TestItem::Kind::GivenFriend;
      out.fields = objectFields(f->objectLit());
    } else if (auto* e = dynamic_cast<P::GivenEventContext*>(ctx)) {
      out.kind = TestItem::Kind::GivenEvent;
      out.name = name(e->trigger());
      if (e->objectLit() != nullptr) out.fields = objectFields(e->objectLit());
      out.at = timeLit(e->timeLit());
    } else if (auto* c = dynamic_cast<P::TestClockContext*>(ctx)) {
      out.kind = TestItem::Kind::Clock;
      out.at = timeLit(c->timeLit());
      if (!out.at) return std::nullopt;
    } else if (auto* x = dynamic_cast<P::ExpectItemContext*>(ctx)) {
      return expectation(x->expectation(), std::move(out));
    } else {
      return std::nullopt;
    }
    return out;
  }

  std::optional<TestItem> expectation(P::ExpectationContext* ctx, TestItem out) {
    if (auto* m = dynamic_cast<P::ExpectMembershipContext*>(ctx)) {
      out.kind = TestItem::Kind::ExpectIn;
      out.negated = m->NOT() != nullptr;
      out.name = name(m->name());
    } else if (auto* menu = dynamic_cast<P::ExpectMenuContext*>(ctx)) {
      out.kind = TestItem::Kind::ExpectMenu;
      out.name = name(menu->name());
    } else if (auto* s = dynamic_cast<P::ExpectSentContext*>(ctx)) {
      out.kind = TestItem::Kind::ExpectSent;
      out.negated = s->NOT() != nullptr;
      out.message = messageRef(s->messageRef());
      out.at = timeLit(s->timeLit());
    } else if (auto* c = dynamic_cast<P::ExpectConditionContext*>(ctx)) {
      out.kind = TestItem::Kind::ExpectCondition;
      out.condition = expr(c->expr());
      if (!out.condition) return std::nullopt;
    } else {
      return std::nullopt;
    }
    return out;
  }

  std::vector<ObjectField> objectFields(P::ObjectLitContext* ctx) {
    std::vector<ObjectField> out;
    if (ctx == nullptr) return out;
    for (P::ObjectFieldContext* f : ctx->objectField()) {
      ExprPtr value = expr(f->expr());
      if (value) out.push_back({name(f->name()), std::move(value)});
    }
    return out;
  }

  // ------------------------------------------------------------ actions

  ActionList block(P::BlockContext* ctx) {
    if (ctx == nullptr) return {};
    return actionList(ctx->actionList());
  }

  ActionList actionList(P::ActionListContext* ctx) {
    ActionList out;
    if (ctx == nullptr) return out;
    for (P::ActionContext* a : ctx->action()) {
      if (ActionPtr built = action(a)) out.push_back(std::move(built));
    }
    return out;
  }

  ActionPtr newAction(ActionKind kind, antlr4::ParserRuleContext* ctx) const {
    auto out = std::make_unique<Action>();
    out->kind = kind;
    out->range = range(ctx);
    return out;
  }

  ActionPtr action(P::ActionContext* ctx) {
    if (auto* s = dynamic_cast<P::SendActionContext*>(ctx)) {
      auto out = newAction(ActionKind::Send, ctx);
      out->messages = messageRefs(s->messageRef());
      return out;
    }
    if (auto* r = dynamic_cast<P::ReplyActionContext*>(ctx)) {
      auto out = newAction(ActionKind::Reply, ctx);
      out->messages = messageRefs(r->messageRef());
      return out;
    }
    if (auto* t = dynamic_cast<P::TagActionContext*>(ctx)) return tagAction(ActionKind::Tag, ctx, t->string());
    if (auto* u = dynamic_cast<P::UntagActionContext*>(ctx)) return tagAction(ActionKind::Untag, ctx, u->string());
    if (auto* sc = dynamic_cast<P::ScoreActionContext*>(ctx)) {
      auto out = newAction(ActionKind::Score, ctx);
      if (sc->op == nullptr) return nullptr;
      out->assignOp = sc->op->getType() == P::PLUS_EQ    ? AssignOp::Add
                     : sc->op->getType() == P::MINUS_EQ ? AssignOp::Subtract
                                                        : AssignOp::Assign;
      out->value = expr(sc->expr());
      return out->value ? std::move(out) : nullptr;
    }
    if (auto* se = dynamic_cast<P::SetActionContext*>(ctx)) {
      auto out = newAction(ActionKind::Set, ctx);
      out->target = name(se->name());
      if (se->op == nullptr) return nullptr;
      out->assignOp = se->op->getType() == P::PLUS_EQ    ? AssignOp::Add
                      : se->op->getType() == P::MINUS_EQ ? AssignOp::Subtract
                                                         : AssignOp::Assign;
      out->value = expr(se->expr());
      return out->value ? std::move(out) : nullptr;
    }
    if (auto* m = dynamic_cast<P::RichmenuActionContext*>(ctx)) return namedAction(ActionKind::Richmenu, ctx, m->name());
    if (auto* st = dynamic_cast<P::StartActionContext*>(ctx)) return namedAction(ActionKind::Start, ctx, st->name());
    if (auto* sp = dynamic_cast<P::StopActionContext*>(ctx)) return namedAction(ActionKind::Stop, ctx, sp->name());
    if (auto* i = dynamic_cast<P::IfActionContext*>(ctx)) return ifStatement(i->ifStatement());
    return nullptr;
  }

  ActionPtr tagAction(ActionKind kind, antlr4::ParserRuleContext* ctx, P::StringContext* tag) {
    auto out = newAction(kind, ctx);
    out->tag = string(tag);
    return out->tag ? std::move(out) : nullptr;
  }

  ActionPtr namedAction(ActionKind kind, antlr4::ParserRuleContext* ctx, P::NameContext* target) {
    auto out = newAction(kind, ctx);
    out->target = name(target);
    return out->target.text.empty() ? nullptr : std::move(out);
  }

  ActionPtr ifStatement(P::IfStatementContext* ctx) {
    if (ctx == nullptr) return nullptr;
    auto out = newAction(ActionKind::If, ctx);
    out->value = expr(ctx->expr());
    const auto blocks = ctx->block();
    if (!blocks.empty()) out->thenActions = block(blocks[0]);
    if (blocks.size() > 1) out->elseActions = block(blocks[1]);
    if (P::IfStatementContext* elseIf = ctx->ifStatement()) {
      if (ActionPtr nested = ifStatement(elseIf)) out->elseActions.push_back(std::move(nested));
    }
    return out->value ? std::move(out) : nullptr;
  }

  std::vector<MessageRef> messageRefs(const std::vector<P::MessageRefContext*>& ctxs) {
    std::vector<MessageRef> out;
    for (P::MessageRefContext* ref : ctxs) out.push_back(messageRef(ref));
    return out;
  }

  MessageRef messageRef(P::MessageRefContext* ctx) {
    MessageRef out;
    if (ctx == nullptr) return out;
    out.name = name(ctx->name());
    out.range = range(ctx);
    for (P::NamedArgContext* arg : ctx->namedArg()) {
      ExprPtr value = expr(arg->expr());
      if (value) out.args.push_back({name(arg->name()), std::move(value)});
    }
    return out;
  }

  // -------------------------------------------------------- expressions

  ExprPtr expr(P::ExprContext* ctx) {
    if (ctx == nullptr) return nullptr;
    if (auto* n = dynamic_cast<P::NotExprContext*>(ctx)) {
      auto out = make<UnaryExpr>(range(ctx));
      out->op = UnaryOp::Not;
      out->operand = expr(n->expr());
      return out->operand ? std::move(out) : nullptr;
    }
    if (dynamic_cast<P::AndExprContext*>(ctx)) return logical(ctx, LogicalOp::And);
    if (dynamic_cast<P::OrExprContext*>(ctx)) return logical(ctx, LogicalOp::Or);
    if (auto* c = dynamic_cast<P::ComparisonExprContext*>(ctx)) return comparison(c);
    return nullptr;
  }

  static bool isLogical(P::ExprContext* ctx, LogicalOp op) {
    return op == LogicalOp::And ? dynamic_cast<P::AndExprContext*>(ctx) != nullptr
                                : dynamic_cast<P::OrExprContext*>(ctx) != nullptr;
  }

  // Flattens `a and b and c` (however ANTLR nested it) without recursion
  // along the chain.
  ExprPtr logical(P::ExprContext* ctx, LogicalOp op) {
    auto out = make<LogicalExpr>(range(ctx));
    out->op = op;
    bool complete = true;
    std::vector<P::ExprContext*> pending{ctx};
    while (!pending.empty()) {
      P::ExprContext* current = pending.back();
      pending.pop_back();
      if (isLogical(current, op)) {
        std::vector<P::ExprContext*> operands = current->getRuleContexts<P::ExprContext>();
        for (auto it = operands.rbegin(); it != operands.rend(); ++it) pending.push_back(*it);
        continue;
      }
      // Keep going after a bad operand so every literal error is reported.
      ExprPtr operand = expr(current);
      complete = complete && operand != nullptr;
      if (operand) out->operands.push_back(std::move(operand));
    }
    if (!complete || out->operands.size() < 2) return nullptr;
    return out;
  }

  ExprPtr comparison(P::ComparisonExprContext* ctx) {
    ExprPtr left = operand(ctx->operand());
    P::ComparisonTailContext* tail = ctx->comparisonTail();
    if (tail == nullptr) return left;
    if (auto* c = dynamic_cast<P::CompareTailContext*>(tail)) {
      if (c->op == nullptr) return nullptr;
      BinaryOp op;
      switch (c->op->getType()) {
        case P::EQ: op = BinaryOp::Eq; break;
        case P::NE: op = BinaryOp::Ne; break;
        case P::LT: op = BinaryOp::Lt; break;
        case P::LE: op = BinaryOp::Le; break;
        case P::GT: op = BinaryOp::Gt; break;
        default: op = BinaryOp::Ge; break;
      }
      return binary(ctx, op, c->op, std::move(left), operand(c->operand()));
    }
    if (auto* s = dynamic_cast<P::StringTailContext*>(tail)) {
      if (s->op == nullptr) return nullptr;
      BinaryOp op;
      switch (s->op->getType()) {
        case P::CONTAINS: op = BinaryOp::Contains; break;
        case P::STARTS_WITH: op = BinaryOp::StartsWith; break;
        case P::ENDS_WITH: op = BinaryOp::EndsWith; break;
        default: op = BinaryOp::Matches; break;
      }
      return binary(ctx, op, s->op, std::move(left), operand(s->operand()));
    }
    if (auto* i = dynamic_cast<P::InTailContext*>(tail)) {
      auto out = make<InExpr>(range(ctx));
      out->negated = i->NOT() != nullptr;
      out->value = std::move(left);
      out->collection = collection(i->collection());
      if (!out->value || !out->collection) return nullptr;
      return out;
    }
    if (auto* b = dynamic_cast<P::BetweenTailContext*>(tail)) {
      auto out = make<BetweenExpr>(range(ctx));
      out->value = std::move(left);
      out->low = operand(b->low);
      out->high = operand(b->high);
      if (!out->value || !out->low || !out->high) return nullptr;
      return out;
    }
    return nullptr;
  }

  ExprPtr binary(antlr4::ParserRuleContext* ctx, BinaryOp op, antlr4::Token* opToken, ExprPtr lhs, ExprPtr rhs) {
    if (!lhs || !rhs) return nullptr;
    auto out = make<BinaryExpr>(range(ctx));
    out->op = op;
    out->opRange = range(opToken);
    out->lhs = std::move(lhs);
    out->rhs = std::move(rhs);
    return out;
  }

  ExprPtr collection(P::CollectionContext* ctx) {
    if (auto* l = dynamic_cast<P::ListCollectionContext*>(ctx)) {
      auto out = make<ListLitExpr>(range(ctx));
      bool complete = true;
      for (P::OperandContext* element : l->operand()) {
        ExprPtr value = operand(element);
        complete = complete && value != nullptr;
        if (value) out->elements.push_back(std::move(value));
      }
      return complete ? std::move(out) : nullptr;
    }
    if (auto* r = dynamic_cast<P::RangeCollectionContext*>(ctx)) {
      auto out = make<RangeLitExpr>(range(ctx));
      out->low = operand(r->operand(0));
      out->high = operand(r->operand(1));
      if (!out->low || !out->high) return nullptr;
      return out;
    }
    return nullptr;
  }

  // `a + b - c` and `a.b.c`: ANTLR nests to the left; walk the left spine
  // iteratively so long chains cost no stack.
  ExprPtr operand(P::OperandContext* ctx) {
    if (ctx == nullptr) return nullptr;
    std::vector<P::OperandContext*> links;  // outermost first
    P::OperandContext* leftmost = ctx;
    while (P::OperandContext* left = leftChild(leftmost)) {
      links.push_back(leftmost);
      leftmost = left;
      if (links.size() > kMaxChain) return chainTooLong(ctx);
    }
    ExprPtr result = leaf(leftmost);
    // A failed link still builds its right side, for its literal errors.
    for (auto it = links.rbegin(); it != links.rend(); ++it) result = link(*it, std::move(result));
    return result;
  }

  static P::OperandContext* leftChild(P::OperandContext* ctx) {
    if (auto* add = dynamic_cast<P::AddSubContext*>(ctx)) return add->operand(0);
    if (auto* member = dynamic_cast<P::MemberAccessContext*>(ctx)) return member->operand();
    if (auto* method = dynamic_cast<P::MethodCallContext*>(ctx)) return method->operand();
    return nullptr;
  }

  ExprPtr link(P::OperandContext* ctx, ExprPtr left) {
    if (auto* add = dynamic_cast<P::AddSubContext*>(ctx)) {
      if (add->op == nullptr) return nullptr;
      const BinaryOp op = add->op->getType() == P::PLUS ? BinaryOp::Add : BinaryOp::Sub;
      return binary(add, op, add->op, std::move(left), operand(add->operand(1)));
    }
    if (auto* method = dynamic_cast<P::MethodCallContext*>(ctx)) {
      // `x.f(a)` is `f(x, a)`: `postback.param("q1")`.
      if (method->name() == nullptr || !left) return nullptr;
      auto out = make<CallExpr>(range(method));
      out->callee = name(method->name());
      out->args.push_back(std::move(left));
      return callArgs(method->expr(), *out) ? std::move(out) : nullptr;
    }
    auto* member = static_cast<P::MemberAccessContext*>(ctx);
    if (member->name() == nullptr || !left) return nullptr;
    auto out = make<MemberExpr>(range(member));
    out->object = std::move(left);
    out->member = name(member->name());
    return out;
  }

  ExprPtr chainTooLong(antlr4::ParserRuleContext* ctx) {
    diags_.report(DiagId::NestingTooDeep, range(ctx), kMaxChain)
        .addHelp("split the expression into named segments");
    return nullptr;
  }

  // An operand that is neither `a + b` nor `a.b`.
  ExprPtr leaf(P::OperandContext* ctx) {
    if (auto* n = dynamic_cast<P::NegateContext*>(ctx)) {
      ExprPtr inner = operand(n->operand());
      if (!inner) return nullptr;
      // Fold `-5` into a literal so that `score = -5` stays a constant.
      if (auto* literal = as<IntLitExpr>(inner.get())) {
        literal->value = -literal->value;
        literal->range = range(ctx);
        return inner;
      }
      auto out = make<UnaryExpr>(range(ctx));
      out->op = UnaryOp::Negate;
      out->operand = std::move(inner);
      return out;
    }
    if (auto* p = dynamic_cast<P::PrimaryOperandContext*>(ctx)) return primary(p->primary());
    return nullptr;
  }

  ExprPtr primary(P::PrimaryContext* ctx) {
    const SourceRange where = range(ctx);
    if (auto* i = dynamic_cast<P::IntLiteralContext*>(ctx)) {
      auto value = integer(i->INT());
      if (!value) return nullptr;
      auto out = make<IntLitExpr>(where);
      out->value = *value;
      return out;
    }
    if (auto* n = dynamic_cast<P::NamePrimaryContext*>(ctx)) {
      if (n->name() == nullptr) return nullptr;
      auto out = make<NameRefExpr>(where);
      out->name = name(n->name()).text;
      return out;
    }
    if (auto* s = dynamic_cast<P::StringLiteralContext*>(ctx)) return string(s->string());
    if (auto* p = dynamic_cast<P::PercentLiteralContext*>(ctx)) {
      auto value = percent(p->PERCENT());
      if (!value) return nullptr;
      auto out = make<PercentLitExpr>(where);
      out->basisPoints = *value;
      return out;
    }
    if (auto* d = dynamic_cast<P::DateLiteralContext*>(ctx)) return date(d->DATE()->getSymbol());
    if (auto* dt = dynamic_cast<P::DatetimeLiteralContext*>(ctx)) return dateTime(dt->DATETIME()->getSymbol());
    if (auto* c = dynamic_cast<P::ClockLiteralContext*>(ctx)) {
      auto value = decodeToken(c->CLOCK()->getSymbol(), decodeClock);
      if (!value) return nullptr;
      auto out = make<ClockLitExpr>(where);
      out->secondsOfDay = *value;
      return out;
    }
    if (auto* u = dynamic_cast<P::DurationLiteralContext*>(ctx)) {
      auto value = decodeToken(u->UNIT_NUMBER()->getSymbol(), decodeDuration);
      if (!value) return nullptr;
      auto out = make<DurationLitExpr>(where);
      out->seconds = *value;
      return out;
    }
    if (auto* b = dynamic_cast<P::BoolLiteralContext*>(ctx)) {
      auto out = make<BoolLitExpr>(where);
      out->value = b->TRUE() != nullptr;
      return out;
    }
    if (auto* a = dynamic_cast<P::AggregatePrimaryContext*>(ctx)) return aggregate(a->aggregate());
    if (auto* t = dynamic_cast<P::TagPrimaryContext*>(ctx)) {
      auto out = make<TagTestExpr>(where);
      out->tag = string(t->string());
      return out->tag ? std::move(out) : nullptr;
    }
    if (auto* au = dynamic_cast<P::AudiencePrimaryContext*>(ctx)) {
      auto out = make<AudienceTestExpr>(where);
      out->audience = string(au->string());
      return out->audience ? std::move(out) : nullptr;
    }
    if (auto* c = dynamic_cast<P::CallPrimaryContext*>(ctx)) {
      auto out = make<CallExpr>(where);
      out->callee = name(c->name());
      return callArgs(c->expr(), *out) ? std::move(out) : nullptr;
    }
    if (auto* p = dynamic_cast<P::ParenPrimaryContext*>(ctx)) return expr(p->expr());
    return nullptr;
  }

  // A call's arguments; false when one failed (its errors are reported).
  bool callArgs(const std::vector<P::ExprContext*>& args, CallExpr& out) {
    bool complete = true;
    for (P::ExprContext* arg : args) {
      ExprPtr value = expr(arg);
      complete = complete && value != nullptr;
      if (value) out.args.push_back(std::move(value));
    }
    return complete;
  }

  ExprPtr aggregate(P::AggregateContext* ctx) {
    if (ctx == nullptr || ctx->fn == nullptr) return nullptr;
    auto out = make<AggregateExpr>(range(ctx));
    switch (ctx->fn->getType()) {
      case P::EXISTS: out->fn = AggregateFn::Exists; break;
      case P::COUNT: out->fn = AggregateFn::Count; break;
      case P::SUM: out->fn = AggregateFn::Sum; break;
      case P::MIN: out->fn = AggregateFn::Min; break;
      case P::MAX: out->fn = AggregateFn::Max; break;
      default: out->fn = AggregateFn::Last; break;
    }
    out->source = operand(ctx->source);
    if (ctx->where != nullptr) out->where = expr(ctx->where);
    if (!out->source || (ctx->where != nullptr && !out->where)) return nullptr;
    if (auto* w = dynamic_cast<P::WithinWindowContext*>(ctx->window())) {
      auto seconds = duration(w->durationLit());
      if (!seconds) return nullptr;
      out->window.kind = Window::Kind::Within;
      out->window.withinSeconds = *seconds;
      out->window.withinRange = range(w->durationLit());
    } else if (auto* s = dynamic_cast<P::SinceWindowContext*>(ctx->window())) {
      out->window.kind = Window::Kind::Since;
      out->window.since = operand(s->operand());
      if (!out->window.since) return nullptr;
    }
    return out;
  }

  FileId file_;
  DiagnosticEngine& diags_;
  ExprId nextId_ = 0;
};

AstBuilder::AstBuilder(FileId file, DiagnosticEngine& diags) : impl_(std::make_unique<Impl>(file, diags)) {}

AstBuilder::~AstBuilder() = default;

void AstBuilder::append(SegParser::ProgramContext* tree, ast::Program& program) {
  impl_->append(tree, program);
}

}  // namespace seg::syntax
