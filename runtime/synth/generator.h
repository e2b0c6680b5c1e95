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

}  // namespace seg
