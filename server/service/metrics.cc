#include "server/service/metrics.h"

#include <array>

#include <fmt/format.h>

namespace seg::service {
namespace {

constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,   5,    10};

// Label values are escaped as the text format asks: backslash, quote, newline.
std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string labelText(const Labels& labels, const std::string& extra = "") {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=\"" + escape(v) + "\"";
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? "" : "{" + out + "}";
}

std::string number(double v) {
  if (v == static_cast<double>(static_cast<std::int64_t>(v))) return std::to_string(static_cast<std::int64_t>(v));
  return fmt::format("{:g}", v);
}

}  // namespace

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard lock(mutex_);
  help_[name] = {type, help};
}

void Metrics::add(const std::string& name, const Labels& labels, double amount) {
  std::lock_guard lock(mutex_);
  counters_[name][labels] += amount;
}

void Metrics::observe(const std::string& name, const Labels& labels, double seconds) {
  std::lock_guard lock(mutex_);
  Histogram& h = histograms_[name][labels];
  if (h.buckets.empty()) h.buckets.assign(kBuckets.size(), 0);
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::gauge(const std::string& name, const std::string& help, std::function<std::vector<std::pair<Labels, double>>()> read) {
  std::lock_guard lock(mutex_);
  help_[name] = {"gauge", help};
  gauges_[name] = std::move(read);
}

std::string Metrics::text() const {
  std::map<std::string, std::function<std::vector<std::pair<Labels, double>>()>> gauges;
  std::string out;
  {
    std::lock_guard lock(mutex_);
    gauges = gauges_;
    const auto header = [&](const std::string& name, const char* fallbackType) {
      const auto it = help_.find(name);
      if (it != help_.end()) out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, it->second.second, name, it->second.first);
      else out += fmt::format("# TYPE {} {}\n", name, fallbackType);
    };
    for (const auto& [name, series] : counters_) {
      header(name, "counter");
      for (const auto& [labels, value] : series) out += fmt::format("{}{} {}\n", name, labelText(labels), number(value));
    }
    for (const auto& [name, series] : histograms_) {
      header(name, "histogram");
      for (const auto& [labels, h] : series) {
        for (std::size_t i = 0; i < kBuckets.size(); ++i) {
          out += fmt::format("{}_bucket{} {}\n", name, labelText(labels, fmt::format("le=\"{}\"", number(kBuckets[i]))), h.buckets[i]);
        }
        out += fmt::format("{}_bucket{} {}\n", name, labelText(labels, "le=\"+Inf\""), h.count);
        out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, labelText(labels), number(h.sum), name, labelText(labels), h.count);
      }
    }
  }
  // Gauges read outside the lock: they may take other locks.
  for (const auto& [name, read] : gauges) {
    {
      std::lock_guard lock(mutex_);
      const auto it = help_.find(name);
      out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, it != help_.end() ? it->second.second : name, name);
    }
    for (const auto& [labels, value] : read()) out += fmt::format("{}{} {}\n", name, labelText(labels), number(value));
  }
  return out;
}

}  // namespace seg::service
