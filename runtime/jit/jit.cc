#include "runtime/jit/jit.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "base/civil_time.h"
#include "runtime/exec/interpreter.h"
#include "runtime/jit/codegen.h"

// ------------------------------------------------------------- helpers

extern "C" {

bool seg_jit_bitmap_contains(const void* bitmap, std::uint32_t id) {
  return static_cast<const seg::Bitmap*>(bitmap)->contains(id);
}

std::int64_t seg_jit_bucket(const char* seed, const void* users, std::uint32_t id) {
  return seg::Interpreter::bucketOf(seed, static_cast<const seg::UserId*>(users)[id]);
}

std::int64_t seg_jit_calendar(std::int32_t op, std::int64_t value, std::int32_t isTime, const void* time) {
  const auto& t = *static_cast<const seg::EvalTime*>(time);
  if (op == 4) return t.zone.localSecondsOfDay(value) / 3600;
  const std::int32_t day = isTime ? t.zone.localDay(value) : static_cast<std::int32_t>(value);
  switch (op) {
    case 5: return day;
    case 6: return seg::ageOn(day, t.today);
    case 3: return seg::civil::isoWeekday(day);
    default: {
      const seg::civil::YearMonthDay ymd = seg::civil::civilFromDays(day);
      return op == 0 ? ymd.month : op == 1 ? ymd.day : ymd.year;
    }
  }
}

std::int64_t seg_jit_civil(std::int64_t days) {
  const seg::civil::YearMonthDay ymd = seg::civil::civilFromDays(static_cast<std::int32_t>(days));
  return static_cast<std::int64_t>(ymd.year) * 512 + ymd.month * 32 + ymd.day;
}

std::int64_t seg_jit_date_instant(std::int64_t day, const void* time) {
  return static_cast<const seg::EvalTime*>(time)->zone.toInstant(static_cast<std::int32_t>(day), 0);
}

}  // extern "C"

namespace seg {

const std::uint32_t* civilTable() {
  static const std::vector<std::uint32_t> table = [] {
    std::vector<std::uint32_t> t(static_cast<std::size_t>(kCivilTableDays));
    for (std::int64_t i = 0; i < kCivilTableDays; ++i) t[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>(seg_jit_civil(kCivilTableFirstDay + i));
    return t;
  }();
  return table.data();
}

namespace {

using FilterFn = void (*)(const JitContext*, const std::uint32_t*, std::uint64_t, std::uint32_t*, std::uint64_t*);

// One compiled residual, reusable for any instant and store.
struct Compiled {
  FilterFn fn = nullptr;
  std::vector<JitSlot> slots;
  ir::Program program;  // what the slots' node ids refer to
};

// A cache key naming the expression by content (ops, constants, strings)
// and the schema entries it reads (index, name, type), so reuse is exact.
class KeyWriter {
 public:
  explicit KeyWriter(const ir::Program& p) : p_(p) {}
  std::string key(ir::NodeId root) {
    node(root);
    return std::move(out_);
  }

 private:
  void node(ir::NodeId id) {
    const ir::Node& n = p_.nodes[id];
    out_ += fmt::format("({} {} {} {} {} {}", static_cast<int>(n.op), static_cast<int>(n.type), n.a, n.b, n.flags, n.imm);
    switch (n.op) {
      case ir::Op::Const:
        if (n.type == ir::ValueType::String) out_ += " s:" + p_.strings[n.a];
        break;
      case ir::Op::Tag:
      case ir::Op::Audience:
      case ir::Op::Status:
      case ir::Op::Bucket:
      case ir::Op::Matches: out_ += " s:" + p_.strings[n.a]; break;
      case ir::Op::Attr:
      case ir::Op::Has: {
        const ir::ColumnSpec& c = p_.schema.attributes[n.a];
        out_ += fmt::format(" a:{}:{}", c.name, static_cast<int>(c.type));
        break;
      }
      case ir::Op::FriendFor: out_ += fmt::format(" f:{}", *p_.schema.attribute("followed_at")); break;
      default: break;
    }
    if (n.op == ir::Op::Exists || n.op == ir::Op::Count || n.op == ir::Op::Sum || n.op == ir::Op::Min ||
        n.op == ir::Op::Max || n.op == ir::Op::Last) {
      const ir::EventSpec& e = p_.schema.events[n.a];
      out_ += " e:" + e.name;
      for (const ir::ColumnSpec& f : e.fields) out_ += fmt::format(":{}:{}", f.name, static_cast<int>(f.type));
    }
    for (ir::NodeId child : n.args) node(child);
    out_ += ")";
  }
  const ir::Program& p_;
  std::string out_;
};

// Residuals of one evaluation: compiled ones run natively with their slots
// filled from the store; the rest run in the interpreter.
class JitResiduals : public ResidualEvaluator {
 public:
  JitResiduals(const BoundProgram& bound, const EvalTime& time) : bound_(bound), time_(time), interpreter_(bound, time) {}

  void add(ir::NodeId expr, std::shared_ptr<const Compiled> compiled) {
    Entry entry;
    entry.compiled = std::move(compiled);
    entry.slotValues.reserve(entry.compiled->slots.size());
    for (const JitSlot& slot : entry.compiled->slots) entry.slotValues.push_back(fill(slot, *entry.compiled));
    entry.context = {time_.now, time_.today, nullptr};
    Entry& stored = entries_.emplace(expr, std::move(entry)).first->second;
    stored.context.slots = stored.slotValues.data();
  }

  void filter(ir::NodeId expr, std::span<const std::uint32_t> ids, std::vector<std::uint32_t>& out) const override {
    const auto it = entries_.find(expr);
    if (it == entries_.end()) {
      for (std::uint32_t id : ids) {
        if (interpreter_.test(expr, id)) out.push_back(id);
      }
      return;
    }
    const Entry& entry = it->second;
    const std::size_t at = out.size();
    out.resize(at + ids.size());
    std::uint64_t count = 0;
    entry.compiled->fn(&entry.context, ids.data(), ids.size(), out.data() + at, &count);
    out.resize(at + count);
  }

 private:
  struct Entry {
    std::shared_ptr<const Compiled> compiled;
    std::vector<const void*> slotValues;
    JitContext context{};
  };

  const void* fill(const JitSlot& slot, const Compiled& compiled) {
    const StoreState& state = bound_.state();
    switch (slot.kind) {
      case JitSlot::Kind::AttrInts: return bound_.attribute(slot.a).ints().data();
      case JitSlot::Kind::AttrCodes: return bound_.attribute(slot.a).codes().data();
      case JitSlot::Kind::EventLatest: return latest(slot.a);
      case JitSlot::Kind::EventPrevious: return previous(slot.a);
      case JitSlot::Kind::EventTimes: return bound_.events(slot.a).times().data();
      case JitSlot::Kind::FieldInts: return fieldColumn(slot.a, slot.b).ints().data();
      case JitSlot::Kind::FieldCodes: return fieldColumn(slot.a, slot.b).codes().data();
      case JitSlot::Kind::Bitmap:
        if (slot.b == 0) return &bound_.tag(slot.text);
        if (slot.b == 1) return &bound_.audience(slot.text, time_.now);
        return &bound_.status(slot.text, slot.b - 2);
      case JitSlot::Kind::Users: return state.friends().users().data();
      case JitSlot::Kind::Text: return slot.text.c_str();
      case JitSlot::Kind::Time: return &time_;
      case JitSlot::Kind::CivilTable: return civilTable();
      case JitSlot::Kind::StringTable: {
        const StringDict& dict = slot.overField ? fieldColumn(slot.a, slot.b).dict() : bound_.attribute(slot.a).dict();
        tables_.push_back(jit::stringTable(compiled.program, slot.predicate, dict.size(),
                                           [&](std::size_t code) -> std::string_view { return dict.at(static_cast<std::uint32_t>(code)); }));
        return tables_.back().data();
      }
    }
    return nullptr;
  }

  const FieldColumn& fieldColumn(std::uint32_t event, std::uint32_t field) const {
    return bound_.events(event).field(bound_.field(event, field));
  }

  // The chains live in the event log; expose their arrays.
  const std::uint32_t* latest(std::uint32_t event) const { return bound_.events(event).latestArray(); }
  const std::uint32_t* previous(std::uint32_t event) const { return bound_.events(event).previousArray(); }

  const BoundProgram& bound_;
  EvalTime time_;
  Interpreter interpreter_;
  std::map<ir::NodeId, Entry> entries_;
  std::deque<std::vector<std::uint8_t>> tables_;
};

class JitCompiler : public ResidualCompiler {
 public:
  explicit JitCompiler(std::unique_ptr<llvm::orc::LLJIT> jit) : jit_(std::move(jit)) {}

  std::unique_ptr<ResidualEvaluator> compile(const ir::Plan& plan, const BoundProgram& bound, const EvalTime& time,
                                             std::string& why) override {
    std::lock_guard lock(mutex_);
    const auto start = std::chrono::steady_clock::now();
    auto residuals = std::make_unique<JitResiduals>(bound, time);
    std::vector<ir::NodeId> exprs;
    for (const ir::PlanNode& node : plan.nodes) {
      const bool residual = node.kind == ir::PlanNode::Kind::Residual ||
                            (node.kind == ir::PlanNode::Kind::Index && node.lookup.kind == ir::IndexLookup::Kind::EventWindow);
      if (residual && std::find(exprs.begin(), exprs.end(), node.expr) == exprs.end()) exprs.push_back(node.expr);
    }
    // Compile what the cache lacks, together, in one module.
    auto context = std::make_unique<llvm::LLVMContext>();
    auto module = std::make_unique<llvm::Module>("seg", *context);
    module->setDataLayout(jit_->getDataLayout());
    struct Fresh {
      std::string key, name;
      std::shared_ptr<Compiled> compiled;
    };
    std::vector<Fresh> fresh;
    std::map<ir::NodeId, std::string> keyOf;
    for (ir::NodeId expr : exprs) {
      std::string key = KeyWriter(plan.program).key(expr);
      keyOf[expr] = key;
      if (cache_.contains(key) || unsupported_.contains(key)) continue;
      auto compiled = std::make_shared<Compiled>();
      compiled->program = plan.program;
      const std::string name = fmt::format("seg_residual_{}", counter_++);
      try {
        compiled->slots = jit::generateFilter(*module, name, compiled->program, expr);
      } catch (const jit::Unsupported& e) {
        // That residual stays in the interpreter; remove its half-built function.
        if (llvm::Function* f = module->getFunction(name)) f->eraseFromParent();
        unsupported_[key] = e.what();
        continue;
      }
      fresh.push_back({key, name, compiled});
      cache_[key] = {name, compiled};
    }
    if (!fresh.empty()) {
      optimize(*module);
      if (llvm::Error error = jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(context)))) {
        why = llvm::toString(std::move(error));
        for (const Fresh& f : fresh) cache_.erase(f.key);
        return nullptr;
      }
      for (const Fresh& f : fresh) {
        auto address = jit_->lookup(f.name);
        if (!address) {
          why = llvm::toString(address.takeError());
          for (const Fresh& g : fresh) cache_.erase(g.key);
          return nullptr;
        }
        f.compiled->fn = address->toPtr<FilterFn>();
      }
    }
    for (ir::NodeId expr : exprs) {
      const auto it = cache_.find(keyOf[expr]);
      if (it != cache_.end() && it->second.second->fn != nullptr) residuals->add(expr, it->second.second);
    }
    last_ = fresh.empty() ? 0 : std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return residuals;
  }

  double lastCompileSeconds() const override { return last_; }
  double startupSeconds() const override { return startup_; }

  // LLVM's first compile in a process pays for its own start-up (target
  // and pass set-up, first touches of the library's pages): pay it here,
  // once, so compile times measure compiling.
  bool warmUp() {
    const auto start = std::chrono::steady_clock::now();
    auto context = std::make_unique<llvm::LLVMContext>();
    auto module = std::make_unique<llvm::Module>("seg_warmup", *context);
    module->setDataLayout(jit_->getDataLayout());
    auto* type = llvm::FunctionType::get(llvm::Type::getInt64Ty(*context), {llvm::Type::getInt64Ty(*context)}, false);
    auto* function = llvm::Function::Create(type, llvm::Function::ExternalLinkage, "seg_warmup", *module);
    llvm::IRBuilder<> builder(llvm::BasicBlock::Create(*context, "entry", function));
    builder.CreateRet(builder.CreateMul(function->getArg(0), builder.getInt64(3)));
    optimize(*module);
    if (llvm::Error error = jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(context)))) {
      llvm::consumeError(std::move(error));
      return false;
    }
    auto address = jit_->lookup("seg_warmup");
    if (!address) {
      llvm::consumeError(address.takeError());
      return false;
    }
    startup_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return address->toPtr<std::int64_t (*)(std::int64_t)>()(14) == 42;
  }

 private:
  static void optimize(llvm::Module& module) {
    llvm::LoopAnalysisManager loops;
    llvm::FunctionAnalysisManager functions;
    llvm::CGSCCAnalysisManager cgscc;
    llvm::ModuleAnalysisManager modules;
    llvm::PassBuilder builder;
    builder.registerModuleAnalyses(modules);
    builder.registerCGSCCAnalyses(cgscc);
    builder.registerFunctionAnalyses(functions);
    builder.registerLoopAnalyses(loops);
    builder.crossRegisterProxies(loops, functions, cgscc, modules);
    llvm::ModulePassManager passes = builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
    passes.run(module, modules);
  }

  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::mutex mutex_;
  std::map<std::string, std::pair<std::string, std::shared_ptr<Compiled>>> cache_;
  std::map<std::string, std::string> unsupported_;
  std::uint64_t counter_ = 0;
  double last_ = 0;
  double startup_ = 0;
};

}  // namespace

std::unique_ptr<ResidualCompiler> makeJit() {
  static const bool initialized = [] {
    return !llvm::InitializeNativeTarget() && !llvm::InitializeNativeTargetAsmPrinter();
  }();
  if (!initialized) return nullptr;
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit) {
    llvm::consumeError(jit.takeError());
    return nullptr;
  }
  llvm::orc::MangleAndInterner mangle((*jit)->getExecutionSession(), (*jit)->getDataLayout());
  llvm::orc::SymbolMap helpers;
  const auto define = [&](const char* name, auto* function) {
    helpers[mangle(name)] = llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(function), llvm::JITSymbolFlags::Exported);
  };
  define("seg_jit_bitmap_contains", &seg_jit_bitmap_contains);
  define("seg_jit_bucket", &seg_jit_bucket);
  define("seg_jit_calendar", &seg_jit_calendar);
  define("seg_jit_civil", &seg_jit_civil);
  define("seg_jit_date_instant", &seg_jit_date_instant);
  if (llvm::Error error = (*jit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(helpers)))) {
    llvm::consumeError(std::move(error));
    return nullptr;
  }
  auto compiler = std::make_unique<JitCompiler>(std::move(*jit));
  if (!compiler->warmUp()) return nullptr;
  return compiler;
}

}  // namespace seg
