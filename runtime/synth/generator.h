// Synthetic friends and events for demos, tests and benchmarks.
//
// Deterministic: the same schema, counts, seed and `now` give the same
// store, byte for byte, on any machine (our own PRNG and transforms, no
// implementation-defined std distributions). The shapes are realistic
// enough for benchmarks to mean something: ages and prefectures weighted
// like Japan's LINE users, skewed enum ranks and points, Zipf-distributed
// products and friend activity, bursty event times over a year.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "runtime/store/store.h"

namespace seg {

struct GenerateOptions {
  std::uint64_t friends = 1000;
  std::uint64_t events = 10000;
  std::uint64_t seed = 1;
  std::int64_t now = 1795000000;  // events fall in the year before this instant
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct GenerateReport {
  std::uint64_t friends = 0;
  std::uint64_t events = 0;
};

GenerateReport generate(Store& store, const GenerateOptions& options);
// The same, into a state in memory (simulations).
GenerateReport generateInto(StoreState& state, const GenerateOptions& options);

// What happens in [from, to) after a generated history: new friends follow
// (with their attributes), existing friends act at `eventsPerDay`, some
// block the account. Changes in time order, ready for the automation engine.
struct ActivityOptions {
  std::int64_t from = 0, to = 0;
  std::uint64_t seed = 1;
  std::uint64_t eventsPerDay = 1000;
  double followsPerFriendPerDay = 0.002;
  double blocksPerFriendPerDay = 0.0003;
  std::int64_t utcOffset = 9 * 3600;  // of the friends' local time
};
std::vector<Mutation> generateActivity(const StoreState& state, const ActivityOptions& options);

}  // namespace seg
