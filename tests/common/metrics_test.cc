#include "common/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "common/metrics_http.h"

namespace common::metrics {
namespace {

TEST(MetricsTest, CounterAndGaugeText) {
  Registry r;
  auto& logins = r.Counter("mail_logins_total", "Login attempts.", {"protocol", "result"});
  logins.With({"imap4", "success"}).Inc();
  logins.With({"imap4", "success"}).Inc(2);
  logins.With({"pop3", "failure"}).Inc();
  auto& open = r.Gauge("mail_connections", "Open connections.", {"protocol", "state"});
  open.With({"smtp", "open"}).Inc();
  open.With({"smtp", "open"}).Dec();
  open.With({"imap4", "open"}).Set(-3);
  EXPECT_EQ(r.Render(),
            "# HELP mail_connections Open connections.\n"
            "# TYPE mail_connections gauge\n"
            "mail_connections{protocol=\"imap4\",state=\"open\"} -3\n"
            "mail_connections{protocol=\"smtp\",state=\"open\"} 0\n"
            "# HELP mail_logins_total Login attempts.\n"
            "# TYPE mail_logins_total counter\n"
            "mail_logins_total{protocol=\"imap4\",result=\"success\"} 3\n"
            "mail_logins_total{protocol=\"pop3\",result=\"failure\"} 1\n");
}

TEST(MetricsTest, UnlabelledSeriesHasNoBraces) {
  Registry r;
  r.Gauge("mail_queue_messages", "Queued.").With({}).Set(7);
  EXPECT_NE(r.Render().find("\nmail_queue_messages 7\n"), std::string::npos);
}

TEST(MetricsTest, FamilyWithoutSeriesStillHasHelpAndType) {
  Registry r;
  r.Counter("mail_x_total", "X.", {"a"});
  EXPECT_EQ(r.Render(), "# HELP mail_x_total X.\n# TYPE mail_x_total counter\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = r.Histogram("mail_command_duration_seconds", "Command latency.", {"command"},
                        {0.125, 0.5, 1});
  auto& fetch = h.With({"FETCH"});
  fetch.Observe(0.0625);
  fetch.Observe(0.125);  // "le" is inclusive.
  fetch.Observe(0.75);
  fetch.Observe(30);
  EXPECT_EQ(r.Render(),
            "# HELP mail_command_duration_seconds Command latency.\n"
            "# TYPE mail_command_duration_seconds histogram\n"
            "mail_command_duration_seconds_bucket{command=\"FETCH\",le=\"0.125\"} 2\n"
            "mail_command_duration_seconds_bucket{command=\"FETCH\",le=\"0.5\"} 2\n"
            "mail_command_duration_seconds_bucket{command=\"FETCH\",le=\"1\"} 3\n"
            "mail_command_duration_seconds_bucket{command=\"FETCH\",le=\"+Inf\"} 4\n"
            "mail_command_duration_seconds_sum{command=\"FETCH\"} 30.9375\n"
            "mail_command_duration_seconds_count{command=\"FETCH\"} 4\n");
}

TEST(MetricsTest, DefaultLatencyBucketsPrintShort) {
  Registry r;
  r.Histogram("mail_rpc_seconds", "RPC.", {}).With({}).Observe(0.003);
  const std::string text = r.Render();
  EXPECT_NE(text.find("mail_rpc_seconds_bucket{le=\"0.0025\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("mail_rpc_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("mail_rpc_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.Counter("mail_odd_total", "Back\\slash and\nnewline.", {"v"}).With({"a\"b\\c\nd"}).Inc();
  EXPECT_EQ(r.Render(),
            "# HELP mail_odd_total Back\\\\slash and\\nnewline.\n"
            "# TYPE mail_odd_total counter\n"
            "mail_odd_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
}

TEST(MetricsTest, SameNameReturnsSameFamily) {
  Registry r;
  auto& a = r.Counter("mail_a_total", "A.", {"x"});
  auto& b = r.Counter("mail_a_total", "A.", {"x"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.With({"1"}), &b.With({"1"}));
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  Registry r;
  auto& c = r.Counter("mail_c_total", "C.").With({});
  auto& h = r.Histogram("mail_h_seconds", "H.", {}, {1}).With({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.Inc();
        h.Observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(h.count(), 40000u);
  EXPECT_DOUBLE_EQ(h.sum(), 20000.0);
}

TEST(MetricsHttpTest, Responses) {
  Registry r;
  r.Counter("mail_logins_total", "Logins.", {"protocol"}).With({"imap4"}).Inc();
  std::string ok = MetricsHttpResponse("GET", "/metrics", r);
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(ok.find("\r\n\r\n# HELP mail_logins_total Logins.\n"), std::string::npos);
  EXPECT_NE(ok.find("mail_logins_total{protocol=\"imap4\"} 1\n"), std::string::npos);
  EXPECT_EQ(MetricsHttpResponse("GET", "/metrics?x=1", r).rfind("HTTP/1.1 200", 0), 0u);
  std::string head = MetricsHttpResponse("HEAD", "/metrics", r);
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(head.find("# HELP"), std::string::npos);
  EXPECT_EQ(MetricsHttpResponse("GET", "/", r).rfind("HTTP/1.1 404", 0), 0u);
  std::string post = MetricsHttpResponse("POST", "/metrics", r);
  EXPECT_EQ(post.rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
}

}  // namespace
}  // namespace common::metrics
