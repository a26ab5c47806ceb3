#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <type_traits>

#include "common/status.h"

namespace common::metrics {
namespace {

// Numbers as Prometheus writes them: integers without a fraction, "+Inf" for infinity.
std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  // The shortest text that reads back as the same double: "0.1", not "0.10000000000000001".
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extra_name = "", const std::string& extra_value = "") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += names[i] + "=\"" + EscapeLabelValue(i < values.size() ? values[i] : "") + "\"";
  }
  if (!extra_name.empty()) {
    out += out.empty() ? "{" : ",";
    out += extra_name + "=\"" + EscapeLabelValue(extra_value) + "\"";
  }
  if (!out.empty()) out += "}";
  return out;
}

void Header(std::string* out, const std::string& name, const std::string& help, const char* type) {
  *out += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  *out += "# TYPE " + name + " " + type + "\n";
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,  0.5,    1,     2.5,  5,     10};
  return kBounds;
}

HistogramValue::HistogramValue(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0);
}

void HistogramValue::Observe(double v) {
  // The first bound >= v ("le" is inclusive); past the last one: the overflow bucket.
  const size_t i = std::lower_bound(bounds_->begin(), bounds_->end(), v) - bounds_->begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> HistogramValue::CumulativeCounts() const {
  std::vector<uint64_t> out;
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    out.push_back(total);
  }
  return out;
}

template <typename Value>
Value& Family<Value>::With(const std::vector<std::string>& values) {
  std::vector<std::string> key = values;
  key.resize(label_names_.size());
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = series_[key];
  if (slot == nullptr) {
    if constexpr (std::is_same_v<Value, HistogramValue>) {
      slot = std::make_unique<Value>(&bounds_);
    } else {
      slot = std::make_unique<Value>();
    }
  }
  return *slot;
}

template class Family<CounterValue>;
template class Family<GaugeValue>;
template class Family<HistogramValue>;

Registry& Registry::Default() {
  static Registry* registry = new Registry();  // Never destroyed: series outlive main().
  return *registry;
}

CounterFamily& Registry::Counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  MAIL_CHECK(gauges_.count(name) == 0 && histograms_.count(name) == 0);
  auto& slot = counters_[name];
  if (slot == nullptr) slot = std::make_unique<CounterFamily>(name, help, std::move(label_names));
  return *slot;
}

GaugeFamily& Registry::Gauge(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  MAIL_CHECK(counters_.count(name) == 0 && histograms_.count(name) == 0);
  auto& slot = gauges_[name];
  if (slot == nullptr) slot = std::make_unique<GaugeFamily>(name, help, std::move(label_names));
  return *slot;
}

HistogramFamily& Registry::Histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names,
                                     const std::vector<double>& bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  MAIL_CHECK(counters_.count(name) == 0 && gauges_.count(name) == 0);
  MAIL_CHECK(std::is_sorted(bounds.begin(), bounds.end()));
  auto& slot = histograms_[name];
  if (slot == nullptr) {
    slot = std::make_unique<HistogramFamily>(name, help, std::move(label_names), bounds);
  }
  return *slot;
}

std::string Registry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  // Sorted by name across kinds, so that the output is stable.
  std::map<std::string, std::string> blocks;
  for (const auto& [name, f] : counters_) {
    std::string out;
    Header(&out, name, f->help(), "counter");
    f->ForEach([&](const std::vector<std::string>& labels, const CounterValue& v) {
      out += name + LabelText(f->label_names(), labels) + " " + std::to_string(v.value()) + "\n";
    });
    blocks[name] = std::move(out);
  }
  for (const auto& [name, f] : gauges_) {
    std::string out;
    Header(&out, name, f->help(), "gauge");
    f->ForEach([&](const std::vector<std::string>& labels, const GaugeValue& v) {
      out += name + LabelText(f->label_names(), labels) + " " + std::to_string(v.value()) + "\n";
    });
    blocks[name] = std::move(out);
  }
  for (const auto& [name, f] : histograms_) {
    std::string out;
    Header(&out, name, f->help(), "histogram");
    f->ForEach([&](const std::vector<std::string>& labels, const HistogramValue& v) {
      // _count is the +Inf bucket, so the two always agree even while Observe() runs.
      std::vector<uint64_t> cumulative = v.CumulativeCounts();
      const auto& bounds = f->bounds();
      for (size_t i = 0; i < cumulative.size(); ++i) {
        std::string le = i < bounds.size() ? FormatNumber(bounds[i]) : "+Inf";
        out += name + "_bucket" + LabelText(f->label_names(), labels, "le", le) + " " +
               std::to_string(cumulative[i]) + "\n";
      }
      out +=
          name + "_sum" + LabelText(f->label_names(), labels) + " " + FormatNumber(v.sum()) + "\n";
      out += name + "_count" + LabelText(f->label_names(), labels) + " " +
             std::to_string(cumulative.back()) + "\n";
    });
    blocks[name] = std::move(out);
  }
  for (const auto& [name, cb] : callbacks_) {
    std::string out;
    Header(&out, name, cb.help, "gauge");
    for (const auto& [labels, value] : cb.collect()) {
      out += name + LabelText(cb.label_names, labels) + " " + FormatNumber(value) + "\n";
    }
    blocks[name] = std::move(out);
  }
  std::string out;
  for (auto& [name, block] : blocks) out += block;
  return out;
}

void Registry::GaugeCallback(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names,
                             std::function<Samples()> collect) {
  std::lock_guard<std::mutex> lock(mu_);
  MAIL_CHECK(counters_.count(name) == 0 && gauges_.count(name) == 0 &&
             histograms_.count(name) == 0);
  callbacks_[name] = Callback{help, std::move(label_names), std::move(collect)};
}

GaugeValue& Connections(std::string_view protocol, std::string_view state) {
  static GaugeFamily& family =
      Registry::Default().Gauge("mail_connections",
                                "Client connections now open, by protocol and state (open: all "
                                "connections; authenticated: those logged in).",
                                {"protocol", "state"});
  return family.With({std::string(protocol), std::string(state)});
}

void CountLogin(std::string_view protocol, std::string_view result) {
  static CounterFamily& family = Registry::Default().Counter(
      "mail_logins_total",
      "Login attempts by protocol and result (success, failure, throttled, disabled, error).",
      {"protocol", "result"});
  family.With({std::string(protocol), std::string(result)}).Inc();
}

void ObserveCommand(std::string_view protocol, std::string_view command, double seconds) {
  static HistogramFamily& family = Registry::Default().Histogram(
      "mail_command_duration_seconds",
      "Time to handle a client command, by protocol and command name.", {"protocol", "command"});
  family.With({std::string(protocol), std::string(command)}).Observe(seconds);
}

void CountDeliveries(uint64_t delivered, uint64_t failed, uint64_t deferred) {
  static CounterFamily& family = Registry::Default().Counter(
      "mail_deliveries_total",
      "Recipients per delivery attempt by result (delivered, failed, deferred).", {"result"});
  static CounterValue& ok = family.With({"delivered"});
  static CounterValue& bad = family.With({"failed"});
  static CounterValue& later = family.With({"deferred"});
  if (delivered != 0) ok.Inc(delivered);
  if (failed != 0) bad.Inc(failed);
  if (deferred != 0) later.Inc(deferred);
}

void ObserveStoreRpc(std::string_view method, bool ok, double seconds) {
  static HistogramFamily& family = Registry::Default().Histogram(
      "mail_store_rpc_duration_seconds",
      "Calls to the mailbox store as the client sees them, by method and result (ok, error).",
      {"method", "result"});
  family.With({std::string(method), ok ? "ok" : "error"}).Observe(seconds);
}

}  // namespace common::metrics
