#include "runtime/automation/state_writer.h"

namespace seg {

// An engine that stops between stage() and commit() (an exception) leaves
// the transaction unfinished: the store refuses further writes until it
// is reopened, and the staged frames are discarded on recovery.
StoreWriter::~StoreWriter() = default;

void StoreWriter::stage(std::vector<Mutation> changes) {
  if (changes.empty()) return;
  if (!open_) open_ = store_.begin();
  for (Mutation& m : changes) open_->add(std::move(m));
  open_->stage();
}

void StoreWriter::commit() {
  if (!open_) return;
  open_->end();
  open_.reset();
}

}  // namespace seg
