// Counters, gauges and histograms, written out in Prometheus' text format
// for GET /metrics. Thread-safe: request threads, the automation loop and
// the scrape all touch them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace seg::service {

// A metric's labels, in order: {{"type", "follow"}, {"outcome", "accepted"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  void add(const std::string& name, const Labels& labels, double amount = 1);
  // Latency buckets from 0.5 ms to 10 s.
  void observe(const std::string& name, const Labels& labels, double seconds);
  // Gauges read when scraped (outbox depth, friends, memory...).
  void gauge(const std::string& name, const std::string& help, std::function<std::vector<std::pair<Labels, double>>()> read);
  void describe(const std::string& name, const std::string& type, const std::string& help);

  std::string text() const;

 private:
  struct Histogram {
    std::vector<std::uint64_t> buckets;
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, std::pair<std::string, std::string>> help_;  // name -> type, help
  std::map<std::string, std::map<Labels, double>> counters_;
  std::map<std::string, std::map<Labels, Histogram>> histograms_;
  std::map<std::string, std::function<std::vector<std::pair<Labels, double>>()>> gauges_;
};

}  // namespace seg::service
