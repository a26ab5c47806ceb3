// Process metrics in the Prometheus text format (version 0.0.4): counters, gauges and
// histograms with fixed buckets. Updating a series is one or two relaxed atomic operations;
// finding a series by its labels takes a family mutex, so hot paths look a series up once and
// keep the pointer (series live as long as the registry, which is the process).
//
//   static auto& logins = common::metrics::Registry::Default().Counter(
//       "mail_logins_total", "Logins by protocol and result.", {"protocol", "result"});
//   logins.With({"imap4", "success"}).Inc();
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace common::metrics {

class CounterValue {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class GaugeValue {
 public:
  void Inc(int64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  void Dec(int64_t n = 1) { v_.fetch_sub(n, std::memory_order_relaxed); }
  void Set(int64_t n) { v_.store(n, std::memory_order_relaxed); }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

class HistogramValue {
 public:
  explicit HistogramValue(const std::vector<double>* bounds);
  void Observe(double v);
  // Cumulative counts per bound, then the +Inf count (== count()).
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // Per bound, not cumulative; + overflow.
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// Seconds: 1 ms .. 10 s, for command and RPC latency.
const std::vector<double>& LatencyBuckets();

// A metric name with its help text, label names and one series per label values.
template <typename Value>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        bounds_(std::move(bounds)) {}
  // The series for these label values (as many as label names; missing ones are ""). The
  // reference stays valid for the life of the family.
  Value& With(const std::vector<std::string>& values);
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<double>& bounds() const { return bounds_; }
  // Calls f(label values, series) in label order.
  template <typename F>
  void ForEach(F f) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [labels, value] : series_) f(labels, *value);
  }

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Value>> series_;
};

using CounterFamily = Family<CounterValue>;
using GaugeFamily = Family<GaugeValue>;
using HistogramFamily = Family<HistogramValue>;

class Registry {
 public:
  // The process-wide registry that /metrics serves.
  static Registry& Default();

  // Registering a name twice returns the first family (same kind required: a second kind
  // under the same name is a bug and aborts).
  CounterFamily& Counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& Gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
  HistogramFamily& Histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names,
                             const std::vector<double>& bounds = LatencyBuckets());

  // Every family, sorted by name, in the Prometheus text exposition format.
  std::string Render() const;

  // A gauge computed when scraped (e.g. the queue length from the queue's index): `collect`
  // returns (label values, value) per series. It runs on the metrics thread.
  using Samples = std::vector<std::pair<std::vector<std::string>, double>>;
  void GaugeCallback(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names, std::function<Samples()> collect);

 private:
  struct Callback {
    std::string help;
    std::vector<std::string> label_names;
    std::function<Samples()> collect;
  };
  std::map<std::string, Callback> callbacks_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<CounterFamily>> counters_;
  std::map<std::string, std::unique_ptr<GaugeFamily>> gauges_;
  std::map<std::string, std::unique_ptr<HistogramFamily>> histograms_;
};

// Label value escaping of the text format: backslash, double quote and line feed.
std::string EscapeLabelValue(std::string_view v);
// HELP text escaping: backslash and line feed.
std::string EscapeHelp(std::string_view v);

// Adds one to a gauge for as long as it lives (open connections, authenticated sessions).
class GaugeHold {
 public:
  explicit GaugeHold(GaugeValue* g) : g_(g) {
    if (g_ != nullptr) g_->Inc();
  }
  ~GaugeHold() {
    if (g_ != nullptr) g_->Dec();
  }
  GaugeHold(const GaugeHold&) = delete;
  GaugeHold& operator=(const GaugeHold&) = delete;

 private:
  GaugeValue* g_;
};

// The series the protocol frontends share (one family each, labelled by protocol).
// `protocol` is "imap4", "pop3" or "smtp".
GaugeValue& Connections(std::string_view protocol, std::string_view state);  // open|authenticated
void CountLogin(std::string_view protocol, std::string_view result);
// One command handled: its name (upper case) and how long it took.
void ObserveCommand(std::string_view protocol, std::string_view command, double seconds);
inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
// Recipients handled by one delivery attempt (transportd): into the mailbox or to the smart
// host, refused for good, or left for a retry.
void CountDeliveries(uint64_t delivered, uint64_t failed, uint64_t deferred);
// One call to the mailbox store (client side).
void ObserveStoreRpc(std::string_view method, bool ok, double seconds);

}  // namespace common::metrics
