#include "runtime/jit/codegen.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <re2/re2.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "base/civil_time.h"

namespace seg::jit {
namespace {

using ir::Op;
constexpr std::int64_t kMissing = INT64_MIN;
constexpr std::uint32_t kNoRowValue = ~std::uint32_t{0};

class Codegen {
 public:
  Codegen(llvm::Module& module, const ir::Program& program)
      : m_(module), c_(module.getContext()), b_(c_), p_(program) {}

  std::vector<JitSlot> filter(const std::string& name, ir::NodeId root) {
    llvm::Type* ptr = b_.getPtrTy();
    auto* type = llvm::FunctionType::get(b_.getVoidTy(), {ptr, ptr, b_.getInt64Ty(), ptr, ptr}, false);
    fn_ = llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, m_);
    auto args = fn_->arg_begin();
    ctx_ = &*args++;
    llvm::Value* ids = &*args++;
    llvm::Value* n = &*args++;
    llvm::Value* out = &*args++;
    llvm::Value* outCount = &*args++;

    auto* entry = block("entry");
    b_.SetInsertPoint(entry);
    llvm::Value* count = b_.CreateAlloca(b_.getInt64Ty(), nullptr, "count");
    llvm::Value* index = b_.CreateAlloca(b_.getInt64Ty(), nullptr, "i");
    b_.CreateStore(b_.getInt64(0), count);
    b_.CreateStore(b_.getInt64(0), index);
    allocaPoint_ = b_.GetInsertBlock();
    // Instant-only values are computed in `pre`, before the loop; the
    // chain of blocks they need ends at preTail_, joined to the loop last.
    auto* pre = block("pre");
    b_.CreateBr(pre);
    preTail_ = pre;
    auto* head = block("loop");
    auto* body = block("body");
    auto* done = block("done");

    b_.SetInsertPoint(head);
    llvm::Value* i = b_.CreateLoad(b_.getInt64Ty(), index);
    b_.CreateCondBr(b_.CreateICmpULT(i, n), body, done);

    b_.SetInsertPoint(body);
    id_ = b_.CreateLoad(b_.getInt32Ty(), b_.CreateInBoundsGEP(b_.getInt32Ty(), ids, i));
    llvm::Value* holds = truth(root);
    auto* keep = block("keep");
    auto* next = block("next");
    b_.CreateCondBr(holds, keep, next);
    b_.SetInsertPoint(keep);
    llvm::Value* c = b_.CreateLoad(b_.getInt64Ty(), count);
    b_.CreateStore(id_, b_.CreateInBoundsGEP(b_.getInt32Ty(), out, c));
    b_.CreateStore(b_.CreateAdd(c, b_.getInt64(1)), count);
    b_.CreateBr(next);
    b_.SetInsertPoint(next);
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(b_.getInt64Ty(), index), b_.getInt64(1)), index);
    b_.CreateBr(head);

    b_.SetInsertPoint(done);
    b_.CreateStore(b_.CreateLoad(b_.getInt64Ty(), count), outCount);
    b_.CreateRetVoid();

    b_.SetInsertPoint(preTail_);
    b_.CreateBr(head);

    std::string errors;
    llvm::raw_string_ostream stream(errors);
    if (llvm::verifyFunction(*fn_, &stream)) throw Unsupported("generated code failed verification: " + errors);
    return std::move(slots_);
  }

 private:
  struct V {
    llvm::Value* value;    // i64
    llvm::Value* present;  // i1
  };

  llvm::BasicBlock* block(const char* name) { return llvm::BasicBlock::Create(c_, name, fn_); }
  llvm::ConstantInt* i64(std::int64_t v) { return b_.getInt64(static_cast<std::uint64_t>(v)); }

  // An alloca in the entry block, so mem2reg can promote it.
  llvm::Value* local(const char* name) {
    llvm::IRBuilder<> entry(allocaPoint_, allocaPoint_->begin());
    return entry.CreateAlloca(b_.getInt64Ty(), nullptr, name);
  }

  std::uint32_t slot(JitSlot wanted) {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i] == wanted) return static_cast<std::uint32_t>(i);
    }
    slots_.push_back(std::move(wanted));
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }

  // Loads of the context never change during a call: say so, so LLVM can
  // hoist them out of the loops.
  llvm::Value* invariant(llvm::LoadInst* load) {
    load->setMetadata(llvm::LLVMContext::MD_invariant_load, llvm::MDNode::get(c_, {}));
    return load;
  }

  llvm::Value* slotPointer(JitSlot wanted) {
    const std::uint32_t index = slot(std::move(wanted));
    llvm::Value* slotsField = b_.CreateInBoundsGEP(b_.getInt8Ty(), ctx_, b_.getInt64(16));
    llvm::Value* table = invariant(b_.CreateLoad(b_.getPtrTy(), slotsField));
    return invariant(b_.CreateLoad(b_.getPtrTy(), b_.CreateInBoundsGEP(b_.getPtrTy(), table, b_.getInt64(index))));
  }

  llvm::Value* contextField(int offset) {
    return invariant(b_.CreateLoad(b_.getInt64Ty(), b_.CreateInBoundsGEP(b_.getInt8Ty(), ctx_, b_.getInt64(offset))));
  }

  llvm::Value* load64(llvm::Value* base, llvm::Value* index) {
    return b_.CreateLoad(b_.getInt64Ty(), b_.CreateInBoundsGEP(b_.getInt64Ty(), base, index));
  }
  llvm::Value* load32(llvm::Value* base, llvm::Value* index) {
    return b_.CreateLoad(b_.getInt32Ty(), b_.CreateInBoundsGEP(b_.getInt32Ty(), base, index));
  }

  llvm::FunctionCallee helper(const char* name, llvm::Type* result, std::vector<llvm::Type*> params) {
    return m_.getOrInsertFunction(name, llvm::FunctionType::get(result, params, false));
  }

  V known(llvm::Value* value) { return {value, b_.getTrue()}; }
  V boolean(llvm::Value* i1) { return known(b_.CreateZExt(i1, b_.getInt64Ty())); }

  llvm::Value* truth(ir::NodeId id) {
    const V v = gen(id);
    return b_.CreateAnd(v.present, b_.CreateICmpNE(v.value, i64(0)));
  }

  llvm::Value* floorDiv(llvm::Value* a, std::int64_t divisor) {
    llvm::Value* q = b_.CreateSDiv(a, i64(divisor));
    llvm::Value* r = b_.CreateSRem(a, i64(divisor));
    llvm::Value* adjust = b_.CreateAnd(b_.CreateICmpNE(r, i64(0)), b_.CreateICmpSLT(r, i64(0)));
    return b_.CreateSub(q, b_.CreateZExt(adjust, b_.getInt64Ty()));
  }

  // ------------------------------------------------------- expressions

  // Runs `emit` with the builder at the end of the preheader chain.
  template <typename Emit>
  auto inPreheader(Emit&& emit) {
    const llvm::IRBuilderBase::InsertPoint resume = b_.saveIP();
    const bool nested = b_.GetInsertBlock() == preTail_;
    b_.SetInsertPoint(preTail_);
    auto value = emit();
    preTail_ = b_.GetInsertBlock();
    if (!nested) b_.restoreIP(resume);
    return value;
  }

  // Subexpressions that depend only on constants and the instant
  // (`month(today)`, `now - 30d`) are computed once, before the loop.
  V gen(ir::NodeId id) {
    if (!hoistable(id)) return genHere(id);
    if (auto it = hoisted_.find(id); it != hoisted_.end()) return it->second;
    const V value = inPreheader([&] { return genHere(id); });
    hoisted_.emplace(id, value);
    return value;
  }

  // Whether `id` reads nothing per friend: constants, now and today, and
  // operators over them other than the logical ones (which short-circuit).
  bool hoistable(ir::NodeId id) const {
    const ir::Node& n = p_.nodes[id];
    switch (n.op) {
      case Op::Now:
      case Op::Today: return true;
      case Op::Const:
      case Op::And:
      case Op::Or:
      case Op::Not: return false;
      default: break;
    }
    if (n.args.empty() || isAggregate(n.op) || n.type == ir::ValueType::String) return false;
    for (ir::NodeId arg : n.args) {
      const ir::Node& a = p_.nodes[arg];
      if (a.type == ir::ValueType::String) return false;
      if (a.op != Op::Const && !hoistable(arg)) return false;
    }
    return true;
  }

  static bool isAggregate(Op op) {
    return op == Op::Exists || op == Op::Count || op == Op::Sum || op == Op::Min || op == Op::Max || op == Op::Last;
  }

  // ------------------------------------------------------- calendar

  struct Civil {
    llvm::Value *year, *month, *day;  // i64
  };

  // Days since 1970-01-01 to a civil date: one load from a table of the
  // years 1900 to 2099, a helper call outside them.
  Civil civilOf(llvm::Value* days) {
    llvm::Value* index = b_.CreateSub(days, i64(kCivilTableFirstDay));
    auto* fast = block("civil.table");
    auto* slow = block("civil.helper");
    auto* join = block("civil.join");
    b_.CreateCondBr(b_.CreateICmpULT(index, i64(kCivilTableDays)), fast, slow);
    b_.SetInsertPoint(fast);
    llvm::Value* table = slotPointer({JitSlot::Kind::CivilTable});
    llvm::Value* fromTable = b_.CreateZExt(load32(table, index), b_.getInt64Ty());
    b_.CreateBr(join);
    b_.SetInsertPoint(slow);
    auto fn = helper("seg_jit_civil", b_.getInt64Ty(), {b_.getInt64Ty()});
    llvm::Value* fromHelper = b_.CreateCall(fn, {days});
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
    llvm::PHINode* packed = b_.CreatePHI(b_.getInt64Ty(), 2);
    packed->addIncoming(fromTable, fast);
    packed->addIncoming(fromHelper, slow);
    // packed: year << 9 | month << 5 | day (see jit_runtime.h)
    return {b_.CreateAShr(packed, 9), b_.CreateAnd(b_.CreateLShr(packed, 5), i64(15)), b_.CreateAnd(packed, i64(31))};
  }

  // age on `today` of someone born on `day`: whole years, less one if this
  // year's birthday is still to come.
  llvm::Value* ageOf(llvm::Value* day) {
    if (!today_) today_ = inPreheader([&] { return civilOf(contextField(8)); });
    const Civil birth = civilOf(day);
    const auto monthDay = [&](const Civil& c) { return b_.CreateAdd(b_.CreateMul(c.month, i64(100)), c.day); };
    llvm::Value* notYet = b_.CreateICmpSLT(monthDay(*today_), monthDay(birth));
    return b_.CreateSub(b_.CreateSub(today_->year, birth.year), b_.CreateZExt(notYet, b_.getInt64Ty()));
  }

  V genHere(ir::NodeId id) {
    const ir::Node& n = p_.nodes[id];
    switch (n.op) {
      case Op::Const:
        if (n.flags & ir::kMissing) return {i64(0), b_.getFalse()};
        if (n.type == ir::ValueType::String) throw Unsupported("string value");
        return known(i64(n.imm));
      case Op::Now: return known(contextField(0));
      case Op::Today: return known(contextField(8));
      case Op::Attr: {
        if (n.type == ir::ValueType::String) throw Unsupported("string attribute outside a string test");
        llvm::Value* v = load64(slotPointer({JitSlot::Kind::AttrInts, n.a}), id_);
        return {v, b_.CreateICmpNE(v, i64(kMissing))};
      }
      case Op::FriendFor: {
        const auto followed = p_.schema.attribute("followed_at");
        if (!followed) throw Unsupported("no followed_at");
        llvm::Value* v = load64(slotPointer({JitSlot::Kind::AttrInts, static_cast<std::uint32_t>(*followed)}), id_);
        return {b_.CreateSub(contextField(0), v), b_.CreateICmpNE(v, i64(kMissing))};
      }
      case Op::RowField: {
        if (!row_) throw Unsupported("row field outside an aggregate");
        const ir::ColumnSpec& spec = p_.schema.events[rowEvent_].fields[n.a];
        if (spec.type == ir::ValueType::String) throw Unsupported("string field outside a string test");
        llvm::Value* v = load64(slotPointer({JitSlot::Kind::FieldInts, rowEvent_, n.a}), row_);
        return {v, b_.CreateICmpNE(v, i64(kMissing))};
      }
      case Op::Tag:
      case Op::Audience:
      case Op::Status: {
        JitSlot s{JitSlot::Kind::Bitmap};
        s.text = p_.strings[n.a];
        s.b = n.op == Op::Tag ? 0 : n.op == Op::Audience ? 1 : 2 + n.b;
        llvm::Value* bitmap = slotPointer(s);
        auto fn = helper("seg_jit_bitmap_contains", b_.getInt1Ty(), {b_.getPtrTy(), b_.getInt32Ty()});
        return boolean(b_.CreateCall(fn, {bitmap, id_}));
      }
      case Op::Bucket: {
        JitSlot seed{JitSlot::Kind::Text};
        seed.text = p_.strings[n.a];
        llvm::Value* seedPtr = slotPointer(seed);
        llvm::Value* users = slotPointer({JitSlot::Kind::Users});
        auto fn = helper("seg_jit_bucket", b_.getInt64Ty(), {b_.getPtrTy(), b_.getPtrTy(), b_.getInt32Ty()});
        return known(b_.CreateCall(fn, {seedPtr, users, id_}));
      }
      case Op::Add:
      case Op::Sub: {
        V a = gen(n.args[0]), c = gen(n.args[1]);
        const ir::ValueType ta = p_.nodes[n.args[0]].type, tb = p_.nodes[n.args[1]].type;
        llvm::Value* x = a.value;
        llvm::Value* y = c.value;
        if (ta == ir::ValueType::Date && tb == ir::ValueType::Duration) y = floorDiv(y, civil::kSecondsPerDay);
        if (ta == ir::ValueType::Duration && tb == ir::ValueType::Date) x = floorDiv(x, civil::kSecondsPerDay);
        llvm::Value* result = n.op == Op::Add ? b_.CreateAdd(x, y) : b_.CreateSub(x, y);
        if (ta == ir::ValueType::Date && tb == ir::ValueType::Date) result = b_.CreateMul(result, i64(civil::kSecondsPerDay));
        return {result, b_.CreateAnd(a.present, c.present)};
      }
      case Op::Neg: {
        V a = gen(n.args[0]);
        return {b_.CreateNeg(a.value), a.present};
      }
      case Op::Eq:
      case Op::Ne:
      case Op::Lt:
      case Op::Le:
      case Op::Gt:
      case Op::Ge: {
        if (p_.nodes[n.args[0]].type == ir::ValueType::String) return stringTest(id);
        V a = gen(n.args[0]), c = gen(n.args[1]);
        return boolean(b_.CreateAnd(b_.CreateAnd(a.present, c.present), compare(n.op, a.value, c.value)));
      }
      case Op::Contains:
      case Op::StartsWith:
      case Op::EndsWith:
      case Op::Matches: return stringTest(id);
      case Op::InList: {
        if (p_.nodes[n.args[0]].type == ir::ValueType::String) return stringTest(id);
        V v = gen(n.args[0]);
        llvm::Value* any = b_.getFalse();
        for (std::size_t i = 1; i < n.args.size(); ++i) {
          V e = gen(n.args[i]);
          any = b_.CreateOr(any, b_.CreateAnd(e.present, b_.CreateICmpEQ(v.value, e.value)));
        }
        return boolean(b_.CreateAnd(v.present, any));
      }
      case Op::InRange: {
        if (p_.nodes[n.args[0]].type == ir::ValueType::String) return stringTest(id);
        V v = gen(n.args[0]), low = gen(n.args[1]), high = gen(n.args[2]);
        llvm::Value* present = b_.CreateAnd(v.present, b_.CreateAnd(low.present, high.present));
        return boolean(b_.CreateAnd(present, b_.CreateAnd(b_.CreateICmpSGE(v.value, low.value),
                                                          b_.CreateICmpSLE(v.value, high.value))));
      }
      case Op::And:
      case Op::Or: return junction(n);
      case Op::Not: return boolean(b_.CreateNot(truth(n.args[0])));
      case Op::Month:
      case Op::Day:
      case Op::Year:
      case Op::Weekday:
      case Op::Hour:
      case Op::DateOf:
      case Op::Age: {
        V a = gen(n.args[0]);
        if (p_.nodes[n.args[0]].type == ir::ValueType::Date) return {calendarOfDate(n.op, a.value), a.present};
        const int code = n.op == Op::Month ? 0 : n.op == Op::Day ? 1 : n.op == Op::Year ? 2 : n.op == Op::Weekday ? 3
                         : n.op == Op::Hour ? 4 : n.op == Op::DateOf ? 5 : 6;
        const bool isTime = p_.nodes[n.args[0]].type == ir::ValueType::Time;
        auto fn = helper("seg_jit_calendar", b_.getInt64Ty(), {b_.getInt32Ty(), b_.getInt64Ty(), b_.getInt32Ty(), b_.getPtrTy()});
        llvm::Value* result = b_.CreateCall(fn, {b_.getInt32(code), a.value, b_.getInt32(isTime ? 1 : 0),
                                                 slotPointer({JitSlot::Kind::Time})});
        return {result, a.present};
      }
      case Op::Has: {
        if (p_.schema.attributes[n.a].type == ir::ValueType::String) {
          llvm::Value* code = load32(slotPointer({JitSlot::Kind::AttrCodes, n.a}), id_);
          return boolean(b_.CreateICmpNE(code, b_.getInt32(0)));
        }
        llvm::Value* v = load64(slotPointer({JitSlot::Kind::AttrInts, n.a}), id_);
        return boolean(b_.CreateICmpNE(v, i64(kMissing)));
      }
      case Op::Exists:
      case Op::Count:
      case Op::Sum:
      case Op::Min:
      case Op::Max:
      case Op::Last: return aggregate(id);
      default: throw Unsupported(std::string("operation ") + ir::opName(n.op));
    }
  }

  // month(d), day(d), year(d), weekday(d), age(d) and date(d) of a date.
  llvm::Value* calendarOfDate(Op op, llvm::Value* days) {
    switch (op) {
      case Op::DateOf: return days;
      case Op::Age: return ageOf(days);
      case Op::Weekday: {  // 1970-01-01 was a Thursday (4)
        llvm::Value* shifted = b_.CreateAdd(days, i64(3));
        return b_.CreateAdd(b_.CreateSub(shifted, b_.CreateMul(floorDiv(shifted, 7), i64(7))), i64(1));
      }
      default: {
        const Civil c = civilOf(days);
        return op == Op::Month ? c.month : op == Op::Day ? c.day : c.year;
      }
    }
  }

  llvm::Value* compare(Op op, llvm::Value* a, llvm::Value* c) {
    switch (op) {
      case Op::Eq: return b_.CreateICmpEQ(a, c);
      case Op::Ne: return b_.CreateICmpNE(a, c);
      case Op::Lt: return b_.CreateICmpSLT(a, c);
      case Op::Le: return b_.CreateICmpSLE(a, c);
      case Op::Gt: return b_.CreateICmpSGT(a, c);
      default: return b_.CreateICmpSGE(a, c);
    }
  }

  // Short-circuit and/or, so aggregates on the right run only when needed.
  V junction(const ir::Node& n) {
    const bool isAnd = n.op == Op::And;
    auto* done = block(isAnd ? "and.done" : "or.done");
    std::vector<std::pair<llvm::BasicBlock*, llvm::Value*>> incoming;
    for (std::size_t i = 0; i < n.args.size(); ++i) {
      llvm::Value* t = truth(n.args[i]);
      if (i + 1 == n.args.size()) {
        incoming.emplace_back(b_.GetInsertBlock(), t);
        b_.CreateBr(done);
        break;
      }
      auto* next = block(isAnd ? "and.next" : "or.next");
      incoming.emplace_back(b_.GetInsertBlock(), isAnd ? b_.getFalse() : b_.getTrue());
      if (isAnd) {
        b_.CreateCondBr(t, next, done);
      } else {
        b_.CreateCondBr(t, done, next);
      }
      b_.SetInsertPoint(next);
    }
    b_.SetInsertPoint(done);
    llvm::PHINode* phi = b_.CreatePHI(b_.getInt1Ty(), static_cast<unsigned>(incoming.size()));
    for (auto& [from, value] : incoming) phi->addIncoming(value, from);
    return boolean(phi);
  }

  // A test on one dictionary-encoded string (`pref == "東京都"`,
  // `text contains "x"`): a table lookup by code, the table filled per
  // evaluation from the dictionary.
  V stringTest(ir::NodeId id) {
    const ir::Node& n = p_.nodes[id];
    std::optional<std::size_t> subject;
    for (std::size_t i = 0; i < n.args.size(); ++i) {
      const ir::Node& arg = p_.nodes[n.args[i]];
      if (arg.op == Op::Const && arg.type == ir::ValueType::String) continue;
      if ((arg.op == Op::Attr || arg.op == Op::RowField) && !subject) {
        subject = i;
        continue;
      }
      throw Unsupported("string test on a computed string");
    }
    if (!subject) throw Unsupported("string test on constants");
    const ir::Node& s = p_.nodes[n.args[*subject]];
    JitSlot table{JitSlot::Kind::StringTable};
    table.predicate = id;
    llvm::Value* code;
    if (s.op == Op::Attr) {
      table.a = s.a;
      code = load32(slotPointer({JitSlot::Kind::AttrCodes, s.a}), id_);
    } else {
      if (!row_) throw Unsupported("row field outside an aggregate");
      table.overField = true;
      table.a = rowEvent_;
      table.b = s.a;
      code = load32(slotPointer({JitSlot::Kind::FieldCodes, rowEvent_, s.a}), row_);
    }
    llvm::Value* bytes = slotPointer(table);
    llvm::Value* entry = b_.CreateLoad(b_.getInt8Ty(), b_.CreateInBoundsGEP(b_.getInt8Ty(), bytes, b_.CreateZExt(code, b_.getInt64Ty())));
    return boolean(b_.CreateICmpNE(entry, b_.getInt8(0)));
  }

  // Walks the friend's events newest first:
  //   row = latest[id]; while row != none: skip later than now, stop
  //   before the window, test `where`, accumulate; row = previous[row].
  V aggregate(ir::NodeId id) {
    const ir::Node& n = p_.nodes[id];
    if (row_) throw Unsupported("nested aggregate");
    llvm::Value* latest = slotPointer({JitSlot::Kind::EventLatest, n.a});
    llvm::Value* previous = slotPointer({JitSlot::Kind::EventPrevious, n.a});
    llvm::Value* times = slotPointer({JitSlot::Kind::EventTimes, n.a});
    llvm::Value* now = contextField(0);
    llvm::Value* from = i64(INT64_MIN);
    if (n.imm > 0) from = b_.CreateAdd(b_.CreateSub(now, i64(n.imm)), i64(1));
    llvm::Value* sinceMissing = b_.getFalse();
    if (n.flags & ir::kHasSince) {
      const ir::NodeId since = n.args[(n.flags & ir::kHasWhere) ? 1 : 0];
      V start = gen(since);
      llvm::Value* instant = start.value;
      if (p_.nodes[since].type == ir::ValueType::Date) {
        auto fn = helper("seg_jit_date_instant", b_.getInt64Ty(), {b_.getInt64Ty(), b_.getPtrTy()});
        instant = b_.CreateCall(fn, {start.value, slotPointer({JitSlot::Kind::Time})});
      }
      from = b_.CreateSelect(b_.CreateICmpSGT(instant, from), instant, from);
      sinceMissing = b_.CreateNot(start.present);
    }
    llvm::Value* field = nullptr;
    if (n.b != 0) {
      if (p_.schema.events[n.a].fields[n.b - 1].type == ir::ValueType::String) throw Unsupported("string aggregate");
      field = slotPointer({JitSlot::Kind::FieldInts, n.a, n.b - 1});
    }
    llvm::Value* rowVar = local("row");
    llvm::Value* acc = local("acc");
    llvm::Value* have = local("have");
    b_.CreateStore(b_.CreateZExt(load32(latest, id_), b_.getInt64Ty()), rowVar);
    b_.CreateStore(i64(0), acc);
    b_.CreateStore(i64(0), have);

    auto* head = block("agg.head");
    auto* check = block("agg.check");
    auto* body = block("agg.body");
    auto* next = block("agg.next");
    auto* exit = block("agg.exit");
    b_.CreateCondBr(sinceMissing, exit, head);

    b_.SetInsertPoint(head);
    llvm::Value* row = b_.CreateLoad(b_.getInt64Ty(), rowVar);
    b_.CreateCondBr(b_.CreateICmpEQ(row, i64(kNoRowValue)), exit, check);

    b_.SetInsertPoint(check);
    llvm::Value* t = load64(times, row);
    auto* inWindow = block("agg.window");
    auto* notLater = block("agg.notlater");
    b_.CreateCondBr(b_.CreateICmpSGT(t, now), next, notLater);
    b_.SetInsertPoint(notLater);
    b_.CreateCondBr(b_.CreateICmpSLT(t, from), exit, inWindow);

    b_.SetInsertPoint(inWindow);
    if (n.flags & ir::kHasWhere) {
      row_ = b_.CreateTrunc(row, b_.getInt32Ty());
      rowEvent_ = n.a;
      llvm::Value* keep = truth(n.args[0]);
      row_ = nullptr;
      b_.CreateCondBr(keep, body, next);
    } else {
      b_.CreateBr(body);
    }

    b_.SetInsertPoint(body);
    llvm::Value* value = field ? load64(field, row) : t;
    llvm::Value* valuePresent = field ? b_.CreateICmpNE(value, i64(kMissing)) : b_.getTrue();
    switch (n.op) {
      case Op::Exists:
        b_.CreateStore(i64(1), have);
        b_.CreateBr(exit);
        break;
      case Op::Count:
        b_.CreateStore(b_.CreateAdd(b_.CreateLoad(b_.getInt64Ty(), acc), i64(1)), acc);
        b_.CreateBr(next);
        break;
      case Op::Last: {
        auto* found = block("agg.found");
        b_.CreateCondBr(valuePresent, found, next);
        b_.SetInsertPoint(found);
        b_.CreateStore(value, acc);
        b_.CreateStore(i64(1), have);
        b_.CreateBr(exit);
        break;
      }
      default: {  // sum, min, max
        auto* use = block("agg.use");
        b_.CreateCondBr(valuePresent, use, next);
        b_.SetInsertPoint(use);
        llvm::Value* current = b_.CreateLoad(b_.getInt64Ty(), acc);
        llvm::Value* had = b_.CreateICmpNE(b_.CreateLoad(b_.getInt64Ty(), have), i64(0));
        llvm::Value* updated;
        if (n.op == Op::Sum) {
          updated = b_.CreateAdd(current, value);
        } else {
          llvm::Value* better = n.op == Op::Min ? b_.CreateICmpSLT(value, current) : b_.CreateICmpSGT(value, current);
          updated = b_.CreateSelect(b_.CreateOr(b_.CreateNot(had), better), value, current);
        }
        b_.CreateStore(updated, acc);
        b_.CreateStore(i64(1), have);
        b_.CreateBr(next);
      }
    }

    b_.SetInsertPoint(next);
    b_.CreateStore(b_.CreateZExt(load32(previous, row), b_.getInt64Ty()), rowVar);
    b_.CreateBr(head);

    b_.SetInsertPoint(exit);
    llvm::Value* result = b_.CreateLoad(b_.getInt64Ty(), acc);
    llvm::Value* found = b_.CreateICmpNE(b_.CreateLoad(b_.getInt64Ty(), have), i64(0));
    switch (n.op) {
      case Op::Exists: return boolean(found);
      case Op::Count:
      case Op::Sum: return known(result);
      default: return {result, found};
    }
  }

  llvm::Module& m_;
  llvm::LLVMContext& c_;
  llvm::IRBuilder<> b_;
  const ir::Program& p_;
  llvm::Function* fn_ = nullptr;
  llvm::Value* ctx_ = nullptr;
  llvm::Value* id_ = nullptr;
  llvm::Value* row_ = nullptr;  // i32 row inside an aggregate's `where`
  std::uint32_t rowEvent_ = 0;
  llvm::BasicBlock* allocaPoint_ = nullptr;
  llvm::BasicBlock* preTail_ = nullptr;
  std::map<ir::NodeId, V> hoisted_;
  std::optional<Civil> today_;
  std::vector<JitSlot> slots_;
};

}  // namespace

std::vector<JitSlot> generateFilter(llvm::Module& module, const std::string& name, const ir::Program& program,
                                    ir::NodeId root) {
  Codegen codegen(module, program);
  return codegen.filter(name, root);
}

std::vector<std::uint8_t> stringTable(const ir::Program& p, ir::NodeId id, std::size_t codes,
                                      const std::function<std::string_view(std::size_t)>& stringAt) {
  const ir::Node& n = p.nodes[id];
  // The constant operands, in order; the subject is the one non-constant.
  std::vector<std::string_view> constants;
  std::size_t subject = 0;
  for (std::size_t i = 0; i < n.args.size(); ++i) {
    const ir::Node& arg = p.nodes[n.args[i]];
    if (arg.op == Op::Const && arg.type == ir::ValueType::String) {
      constants.push_back(p.strings[arg.a]);
    } else {
      subject = i;
    }
  }
  const std::string_view other = constants.empty() ? std::string_view() : constants[0];
  std::unique_ptr<RE2> regex;
  if (n.op == Op::Matches) {
    RE2::Options options;
    options.set_log_errors(false);
    regex = std::make_unique<RE2>(p.strings[n.a], options);
  }
  const auto holds = [&](std::string_view value) {
    switch (n.op) {
      case Op::Eq: return value == other;
      case Op::Ne: return value != other;
      case Op::Lt: return subject == 0 ? value < other : other < value;
      case Op::Le: return subject == 0 ? value <= other : other <= value;
      case Op::Gt: return subject == 0 ? value > other : other > value;
      case Op::Ge: return subject == 0 ? value >= other : other >= value;
      case Op::Contains: return value.find(other) != std::string_view::npos;
      case Op::StartsWith: return value.substr(0, other.size()) == other;
      case Op::EndsWith: return value.size() >= other.size() && value.substr(value.size() - other.size()) == other;
      case Op::Matches: return RE2::PartialMatch(value, *regex);
      case Op::InList: return std::find(constants.begin(), constants.end(), value) != constants.end();
      case Op::InRange: return constants.size() == 2 && value >= constants[0] && value <= constants[1];
      default: return false;
    }
  };
  std::vector<std::uint8_t> table(codes + 1, 0);  // code 0: missing, never holds
  for (std::size_t code = 1; code <= codes; ++code) table[code] = holds(stringAt(code)) ? 1 : 0;
  return table;
}

}  // namespace seg::jit
