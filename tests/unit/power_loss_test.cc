// Power cuts at every point of a store's work: commits, multi-frame
// transactions and checkpoints, on a file system that keeps only what was
// synced (tests/tools/crash_fs.h). After each cut the store must open, hold
// every acknowledged change exactly once, and hold nothing of an
// unacknowledged transaction unless it holds all of it. A full disk in the
// middle of a checkpoint loses nothing either.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include <fmt/format.h>

#include "runtime/store/store.h"
#include "tests/tools/crash_fs.h"
#include "tests/tools/crash_schema.h"

namespace seg {
namespace {

using test::CrashFs;
using test::PowerCut;

constexpr const char* kDir = "/store";

// The work: numbered units, each a single commit or a transaction of
// three frames, with checkpoints along the way. `acked` gets each unit's
// number once its commit or end() returned.
void work(Store& store, int first, int units, std::vector<int>& acked) {
  const ir::Schema& schema = store.state().schema();
  const auto points = static_cast<std::uint32_t>(*schema.attribute("points"));
  const auto purchase = static_cast<std::uint32_t>(*schema.event("purchase"));
  const auto event = [&](int unit, int part) {
    Mutation m = Mutation::of(Mutation::Kind::AppendEvent, test::crashUser(unit));
    m.index = purchase;
    m.time = 1700000000 + unit;
    m.fields = {Value::ofString(fmt::format("{}/{}", unit, part)), Value::ofInt(unit)};
    return m;
  };
  for (int unit = first; unit < first + units; ++unit) {
    if (unit % 5 == 3) {
      auto transaction = store.begin();
      for (int part = 0; part < 3; ++part) {
        transaction->add(event(unit, part));
        if (part < 2) transaction->stage();
      }
      transaction->end();
    } else {
      Mutation set = Mutation::of(Mutation::Kind::SetAttribute, test::crashUser(unit));
      set.index = points;
      set.value = Value::ofInt(unit);
      store.commit({set, event(unit, 0)});
    }
    acked.push_back(unit);
    if (unit % 9 == 8) store.checkpoint();
  }
}

int partsOf(int unit) { return unit % 5 == 3 ? 3 : 1; }

// What the reopened store holds, against what was acknowledged.
std::string check(Store& store, const std::vector<int>& acked, int units) {
  std::map<std::string, int> held;
  const EventLog& log = *store.state().events("purchase");
  for (std::size_t row = 0; row < log.size(); ++row) ++held[log.field(0).get(row).s];
  for (const auto& [product, times] : held) {
    if (times != 1) return fmt::format("{} is held {} times", product, times);
  }
  for (int unit = 0; unit < units; ++unit) {
    int present = 0;
    for (int part = 0; part < partsOf(unit); ++part) present += held.contains(fmt::format("{}/{}", unit, part)) ? 1 : 0;
    const bool acknowledged = std::find(acked.begin(), acked.end(), unit) != acked.end();
    if (acknowledged && present != partsOf(unit)) return fmt::format("acknowledged unit {} lost ({} of {} parts)", unit, present, partsOf(unit));
    if (present != 0 && present != partsOf(unit)) return fmt::format("unit {} is half there ({} of {} parts)", unit, present, partsOf(unit));
  }
  return "";
}

OpenOptions on(CrashFs& fs) {
  OpenOptions options;
  options.fileSystem = &fs;
  options.checkpointBytes = 3000;  // checkpoints inside commits too
  return options;
}

TEST(PowerLoss, EveryCutPointLosesNothingAcknowledged) {
  const ir::Schema schema = test::crashSchema();
  const int units = std::getenv("SEG_POWER_UNITS") ? std::atoi(std::getenv("SEG_POWER_UNITS")) : 40;
  // How many disk operations the whole work takes.
  std::uint64_t total = 0;
  {
    CrashFs fs;
    std::vector<int> acked;
    auto store = Store::open(kDir, &schema, on(fs));
    work(*store, 0, units, acked);
    total = fs.operations();
  }
  ASSERT_GT(total, 50u);
  std::size_t cuts = 0, reopened = 0;
  for (std::uint64_t at = 1; at <= total; ++at) {
    for (const bool tear : {false, true}) {
      CrashFs fs;
      fs.cutPowerAt(at, tear, at * 2 + tear);
      std::vector<int> acked;
      try {
        auto store = Store::open(kDir, &schema, on(fs));
        work(*store, 0, units, acked);
      } catch (const PowerCut&) {
      } catch (const StoreError&) {  // a commit failed by the cut: not acknowledged
      }
      ++cuts;
      fs.powerLoss();
      try {
        auto store = Store::open(kDir, &schema, on(fs));
        const std::string problem = check(*store, acked, units);
        ASSERT_EQ(problem, "") << "power cut at operation " << at << " of " << total << " (" << fs.journal()[at - 1] << ")"
                               << (tear ? ", torn" : "");
        ++reopened;
        // The store goes on working after the cut, and what it does next is
        // not mixed with what the cut left behind.
        work(*store, 1000, 3, acked);
        store.reset();
        store = Store::open(kDir, &schema, on(fs));
        ASSERT_EQ(check(*store, acked, 1003), "") << "after a power cut at operation " << at << " and more work";
      } catch (const StoreError& e) {
        if (acked.empty() && std::string(e.what()).find("a seg store") != std::string::npos) continue;  // never created
        FAIL() << "the store does not open after a power cut at operation " << at << ": " << e.what();
      }
    }
  }
  std::cout << cuts << " power cuts at " << total << " points; the store reopened after " << reopened << "\n";
}

// A full disk in the middle of a checkpoint: the checkpoint fails, the
// commit that set it off still counts, the store goes on, and all of it is
// there after a reopen.
TEST(PowerLoss, FullDiskInACheckpointLosesNothing) {
  const ir::Schema schema = test::crashSchema();
  std::vector<std::uint64_t> snapshotWrites;
  {
    CrashFs fs;
    std::vector<int> acked;
    auto store = Store::open(kDir, &schema, on(fs));
    work(*store, 0, 30, acked);
    for (std::uint64_t op = 1; op <= fs.journal().size(); ++op) {
      if (fs.journal()[op - 1] == "append snapshot.seg.tmp" && op > 5) snapshotWrites.push_back(op);
    }
  }
  ASSERT_FALSE(snapshotWrites.empty());
  std::size_t fullDisks = 0;
  for (std::uint64_t op : snapshotWrites) {
    CrashFs fs;
    fs.failWriteAt(op);
    std::vector<int> acked;
    bool failedExplicitly = false;
    auto store = Store::open(kDir, &schema, on(fs));
    try {
      work(*store, 0, 30, acked);
    } catch (const IoError& e) {
      failedExplicitly = true;  // an explicit checkpoint() reports the full disk
      EXPECT_NE(std::string(e.what()).find("No space left"), std::string::npos) << e.what();
    }
    if (!failedExplicitly) {
      EXPECT_NE(store->checkpointError().find("No space left"), std::string::npos);
    }
    ++fullDisks;
    work(*store, 1000, 2, acked);  // still writable
    store.reset();
    auto reopened = Store::open(kDir, &schema, on(fs));
    EXPECT_EQ(check(*reopened, acked, 1002), "") << "full disk at operation " << op;
  }
  std::cout << fullDisks << " checkpoints hit a full disk\n";
}

}  // namespace
}  // namespace seg
