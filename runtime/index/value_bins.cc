#include "runtime/index/value_bins.h"

#include <algorithm>

namespace seg {
namespace {

constexpr std::int64_t kLowest = INT64_MIN;
constexpr std::int64_t kHighest = INT64_MAX;
constexpr std::uint64_t kBinCapacity = 2 * ValueBins::kFriendsPerBin;
// Values sampled to choose bin edges when re-binning a whole column: about
// 64 a bin.
constexpr std::size_t kSamplesPerBin = 64;

// Lower edges of bins over `sorted` (a sample of the values) holding about
// `sorted.size() / bins` values each. A value that fills at least half a
// bin gets a bin of its own, so a range never has to check it.
std::vector<std::int64_t> chooseEdges(const std::vector<std::int64_t>& sorted, std::size_t bins) {
  std::vector<std::int64_t> lows{kLowest};
  const std::size_t step = std::max<std::size_t>(1, sorted.size() / bins);
  std::size_t start = 0;
  while (start + step < sorted.size()) {
    const std::int64_t v = sorted[start + step];
    const auto first = sorted.begin() + static_cast<std::ptrdiff_t>(start);
    const std::size_t runBegin = static_cast<std::size_t>(std::lower_bound(first, sorted.end(), v) - sorted.begin());
    const std::size_t runEnd = static_cast<std::size_t>(std::upper_bound(first, sorted.end(), v) - sorted.begin());
    if (v > lows.back()) lows.push_back(v);
    // A run that starts the bin is at least `step` long, so it is heavy too.
    const bool heavy = runEnd - runBegin >= std::max<std::size_t>(1, step / 2) || runBegin == start;
    if (!heavy) {
      start = runBegin;
      continue;
    }
    if (v == kHighest) break;
    lows.push_back(v + 1);
    start = runEnd;
  }
  return lows;
}

}  // namespace

ValueBins::ValueBins() { bins_.push_back(Bin{kLowest, Bitmap(), 0}); }

// No value is INT64_MIN (kMissing), so ranges start there freely.
std::vector<std::int64_t> ValueBins::rangesOf(Compare op, std::int64_t constant) {
  const bool below = constant != kLowest, above = constant != kHighest;
  switch (op) {
    case Compare::Lt: return below ? std::vector<std::int64_t>{kLowest, constant - 1} : std::vector<std::int64_t>{};
    case Compare::Le: return {kLowest, constant};
    case Compare::Eq: return {constant, constant};
    case Compare::Ne: {
      std::vector<std::int64_t> out;
      if (below) out.insert(out.end(), {kLowest, constant - 1});
      if (above) out.insert(out.end(), {constant + 1, kHighest});
      return out;
    }
    case Compare::Ge: return {constant, kHighest};
    case Compare::Gt: return above ? std::vector<std::int64_t>{constant + 1, kHighest} : std::vector<std::int64_t>{};
  }
  return {};
}

std::size_t ValueBins::binOf(std::int64_t value) const {
  const auto after =
      std::upper_bound(bins_.begin(), bins_.end(), value, [](std::int64_t v, const Bin& bin) { return v < bin.low; });
  return static_cast<std::size_t>(after - bins_.begin()) - 1;
}

std::int64_t ValueBins::highOf(std::size_t bin) const {
  return bin + 1 < bins_.size() ? bins_[bin + 1].low - 1 : kHighest;
}

std::size_t ValueBins::targetBins() const { return static_cast<std::size_t>(std::max<std::uint64_t>(1, total_ / kFriendsPerBin)); }

void ValueBins::rebuild(std::span<const std::int64_t> values) {
  total_ = static_cast<std::uint64_t>(std::count_if(values.begin(), values.end(), [](std::int64_t v) { return v != kMissing; }));
  std::vector<std::int64_t> sample;
  const std::size_t stride = std::max<std::size_t>(1, values.size() / (targetBins() * kSamplesPerBin));
  for (std::size_t id = 0; id < values.size(); id += stride) {
    if (values[id] != kMissing) sample.push_back(values[id]);
  }
  std::sort(sample.begin(), sample.end());
  const std::vector<std::int64_t> lows = chooseEdges(sample, targetBins());

  std::vector<std::vector<std::uint32_t>> members(lows.size());
  for (std::size_t id = 0; id < values.size(); ++id) {
    if (values[id] == kMissing) continue;
    const std::size_t bin = static_cast<std::size_t>(std::upper_bound(lows.begin(), lows.end(), values[id]) - lows.begin()) - 1;
    members[bin].push_back(static_cast<std::uint32_t>(id));
  }
  bins_.clear();
  for (std::size_t i = 0; i < lows.size(); ++i) {
    bins_.push_back(Bin{lows[i], Bitmap::fromSorted(members[i]), members[i].size()});
  }
}

void ValueBins::set(std::uint32_t id, std::int64_t value, const std::int64_t* previous,
                    std::span<const std::int64_t> values) {
  const std::size_t bin = binOf(value);
  if (previous) {
    const std::size_t old = binOf(*previous);
    if (old == bin) return;  // most updates stay in their bin
    bins_[old].ids.remove(id);
    --bins_[old].count;
  } else {
    ++total_;
  }
  bins_[bin].ids.add(id);
  ++bins_[bin].count;
  splitIfFull(bin, values);
}

void ValueBins::clear(std::uint32_t id, std::int64_t previous) {
  Bin& bin = bins_[binOf(previous)];
  bin.ids.remove(id);
  --bin.count;
  --total_;
}

// Splits an overfull bin at its median value, or gives a value that holds
// much of it a bin of its own; after many splits, re-bins the column.
void ValueBins::splitIfFull(std::size_t bin, std::span<const std::int64_t> values) {
  const std::int64_t low = bins_[bin].low, high = highOf(bin);
  if (bins_[bin].count <= kBinCapacity || low == high) return;
  if (bins_.size() >= 4 * targetBins() + 64) return rebuild(values);

  const std::vector<std::uint32_t> ids = bins_[bin].ids.toVector();
  std::vector<std::int64_t> sorted;
  sorted.reserve(ids.size());
  for (std::uint32_t id : ids) sorted.push_back(values[id]);
  std::sort(sorted.begin(), sorted.end());
  const std::int64_t median = sorted[sorted.size() / 2];
  const auto run = std::equal_range(sorted.begin(), sorted.end(), median);
  std::vector<std::int64_t> cuts;  // lows of the new bins after `bin`
  if (static_cast<std::size_t>(run.second - run.first) >= sorted.size() / 4) {
    if (median > low) cuts.push_back(median);
    if (median < high) cuts.push_back(median + 1);
  } else {
    cuts.push_back(median);  // values below the median exist: the run is short
  }

  std::vector<std::vector<std::uint32_t>> parts(cuts.size() + 1);
  for (std::uint32_t id : ids) {
    const std::size_t part = static_cast<std::size_t>(std::upper_bound(cuts.begin(), cuts.end(), values[id]) - cuts.begin());
    parts[part].push_back(id);
  }
  bins_[bin].ids = Bitmap::fromSorted(parts[0]);
  bins_[bin].count = parts[0].size();
  std::vector<Bin> added;
  for (std::size_t i = 0; i < cuts.size(); ++i) added.push_back(Bin{cuts[i], Bitmap::fromSorted(parts[i + 1]), parts[i + 1].size()});
  bins_.insert(bins_.begin() + static_cast<std::ptrdiff_t>(bin) + 1, std::make_move_iterator(added.begin()),
               std::make_move_iterator(added.end()));
}

Bitmap ValueBins::checkEdge(const Bitmap& ids, std::span<const std::int64_t> bounds,
                            std::span<const std::int64_t> values) const {
  std::vector<std::uint32_t> passed;
  for (std::uint32_t id : ids.toVector()) {
    const std::int64_t v = id < values.size() ? values[id] : kMissing;
    if (v == kMissing) continue;
    // The first range ending at or after v: v is in it or in none.
    std::size_t lo = 0, hi = bounds.size() / 2;
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (bounds[2 * mid + 1] < v) lo = mid + 1; else hi = mid;
    }
    if (lo < bounds.size() / 2 && bounds[2 * lo] <= v) passed.push_back(id);
  }
  return Bitmap::fromSorted(passed);
}

Bitmap ValueBins::between(std::span<const std::int64_t> bounds, std::span<const std::int64_t> values,
                          const Bitmap* within) const {
  // A few candidates: checking each costs less than touching the bins.
  if (within && within->cardinality() <= kFriendsPerBin) return checkEdge(*within, bounds, values);
  std::vector<const Bitmap*> whole;
  std::vector<std::size_t> edges;  // bins partly inside some range
  for (std::size_t r = 0; r + 1 < bounds.size(); r += 2) {
    const std::int64_t low = bounds[r], high = bounds[r + 1];
    if (low > high) continue;
    for (std::size_t bin = binOf(low), last = binOf(high); bin <= last; ++bin) {
      if (bins_[bin].count == 0) continue;
      if (bins_[bin].low >= low && highOf(bin) <= high) {
        whole.push_back(&bins_[bin].ids);
      } else if (edges.empty() || edges.back() != bin) {
        edges.push_back(bin);  // ranges come in order: a bin shared by two is adjacent
      }
    }
  }
  Bitmap out = Bitmap::unionOf(whole);
  for (std::size_t bin : edges) out |= checkEdge(bins_[bin].ids, bounds, values);
  return out;
}

std::uint64_t ValueBins::estimate(std::span<const std::int64_t> bounds) const {
  std::uint64_t total = 0;
  for (std::size_t r = 0; r + 1 < bounds.size(); r += 2) total += estimateRange(bounds[r], bounds[r + 1]);
  return total;
}

std::uint64_t ValueBins::estimateRange(std::int64_t low, std::int64_t high) const {
  if (low > high) return 0;
  std::uint64_t total = 0;
  for (std::size_t bin = binOf(low), last = binOf(high); bin <= last; ++bin) {
    const std::int64_t binLow = bins_[bin].low, binHigh = highOf(bin);
    if (binLow >= low && binHigh <= high) {
      total += bins_[bin].count;
    } else if (bin == 0 || bin + 1 == bins_.size()) {
      total += bins_[bin].count / 2;  // an open-ended bin: its values' spread is unknown
    } else {
      // Values taken as spread evenly over the bin's span.
      const double overlap = static_cast<double>(std::min(high, binHigh)) - static_cast<double>(std::max(low, binLow)) + 1;
      const double span = static_cast<double>(binHigh) - static_cast<double>(binLow) + 1;
      total += static_cast<std::uint64_t>(static_cast<double>(bins_[bin].count) * overlap / span);
    }
  }
  return total;
}

std::optional<std::pair<std::int64_t, std::int64_t>> ValueBins::bounds(std::span<const std::int64_t> values) const {
  const auto first = std::find_if(bins_.begin(), bins_.end(), [](const Bin& b) { return b.count > 0; });
  if (first == bins_.end()) return std::nullopt;
  const auto last = std::find_if(bins_.rbegin(), bins_.rend(), [](const Bin& b) { return b.count > 0; });
  std::int64_t low = kHighest, high = kLowest;
  for (std::uint32_t id : first->ids.toVector()) low = std::min(low, values[id]);
  for (std::uint32_t id : last->ids.toVector()) high = std::max(high, values[id]);
  return std::make_pair(low, high);
}

std::size_t ValueBins::sizeInBytes() const {
  std::size_t total = 0;
  for (const Bin& bin : bins_) total += bin.ids.sizeInBytes() + sizeof(bin.low);
  return total;
}

void ValueBins::optimize() {
  for (Bin& bin : bins_) bin.ids.optimize();
}

}  // namespace seg
