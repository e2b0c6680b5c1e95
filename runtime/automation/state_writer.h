// Where the automation engine's changes go. The engine stages changes as it
// works (each visible at once, so a later condition sees an earlier tag) and
// commits at the end of each unit of work (one inbound event, one due step,
// one campaign): a crash before the commit loses the whole unit, never half.
//
//   StoreWriter   a durable store (runtime/store): staged changes are logged
//                 as frames of one transaction, durable at commit()
//   MemoryWriter  a state held in memory (tests, `segc test`, simulations)
#pragma once

#include <memory>
#include <vector>

#include "runtime/store/store.h"

namespace seg {

class StateWriter {
 public:
  virtual ~StateWriter() = default;
  virtual const StoreState& state() const = 0;
  virtual void stage(std::vector<Mutation> changes) = 0;
  virtual void commit() = 0;
};

class MemoryWriter : public StateWriter {
 public:
  explicit MemoryWriter(StoreState state) : state_(std::move(state)) {}
  const StoreState& state() const override { return state_; }
  void stage(std::vector<Mutation> changes) override { state_.apply(changes); }
  void commit() override {}

 private:
  StoreState state_;
};

class StoreWriter : public StateWriter {
 public:
  explicit StoreWriter(Store& store) : store_(store) {}
  ~StoreWriter() override;
  const StoreState& state() const override { return store_.state(); }
  void stage(std::vector<Mutation> changes) override;
  void commit() override;

 private:
  Store& store_;
  std::unique_ptr<Store::Transaction> open_;
};

// Several units of work as one transaction, for throughput: the service
// acts on a batch of inbox events and syncs once. A unit's commit() only
// ends the unit; flush() makes the batch durable. A crash before flush()
// loses the batch whole (its inbox items are acted on again), never part.
class BatchWriter : public StateWriter {
 public:
  explicit BatchWriter(Store& store) : inner_(store) {}
  const StoreState& state() const override { return inner_.state(); }
  void stage(std::vector<Mutation> changes) override { inner_.stage(std::move(changes)); }
  void commit() override {}
  void flush() { inner_.commit(); }

 private:
  StoreWriter inner_;
};

}  // namespace seg
