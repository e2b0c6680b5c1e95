// Playing a stretch of time through the automation engine, in memory:
// inbound changes (generated activity, or recorded) come in as events, and
// every hour a stand-in for LINE takes the due requests and confirms them.
// `segc simulate` and the tests that check what seg sends to LINE use it.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "runtime/automation/engine.h"

namespace seg {

// Plays LINE's part: takes every due request and confirms it, answering
// audience uploads with made-up group ids and alias lookups with made-up
// rich menu IDs (the same for the same alias).
class LineStandIn {
 public:
  // Called with each request before it is confirmed.
  std::function<void(const HandOut&)> observe;

  // Takes what is due at `now` until nothing is; returns how many.
  std::size_t take(AutomationEngine& engine, std::int64_t now);
  std::size_t made() const { return made_; }

 private:
  std::int64_t audienceIds_ = 0;
  std::size_t made_ = 0;
};

// Feeds `changes` (in time order; one friend's changes at one time are one
// event) to the engine from `from` to `to`, letting `line` take requests
// every hour and at the end.
void playActivity(AutomationEngine& engine, const std::vector<Mutation>& changes, std::int64_t from, std::int64_t to,
                  LineStandIn& line);

}  // namespace seg
