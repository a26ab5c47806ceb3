#include "common/metrics_http.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <ctime>
#include <sstream>

#include "common/logging.h"

namespace common {
namespace {

namespace http = boost::beast::http;

constexpr auto kReadTimeout = std::chrono::seconds(10);
constexpr size_t kHeaderLimit = 8 * 1024;

asio::awaitable<void> ServeMetrics(std::unique_ptr<Stream> stream,
                                   const metrics::Registry* registry) {
  http::request_parser<http::empty_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.eager(true);
  char buf[2048];
  std::string response;
  while (!parser.is_header_done()) {
    boost::system::error_code ec;
    const size_t n = co_await stream->ReadSome(buf, sizeof(buf), kReadTimeout, ec);
    if (ec) {
      stream->Close();
      co_return;
    }
    size_t offset = 0;
    while (offset < n && !parser.is_header_done()) {
      const size_t used = parser.put(asio::buffer(buf + offset, n - offset), ec);
      offset += used;
      if (ec == http::error::need_more) {
        ec = {};
        if (used == 0) break;  // Waits for the rest of a line.
        continue;
      }
      if (ec) break;
    }
    if (ec) {
      response =
          "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
          "Connection: close\r\n\r\nBad request\n";
      break;
    }
  }
  if (response.empty()) {
    const auto& req = parser.get();
    response = MetricsHttpResponse(
        std::string_view(req.method_string().data(), req.method_string().size()),
        std::string_view(req.target().data(), req.target().size()), *registry);
  }
  boost::system::error_code ec;
  co_await stream->WriteAll(response, std::chrono::seconds(10), ec);
  stream->Close();
}

}  // namespace

std::string MetricsHttpResponse(std::string_view method, std::string_view target,
                                const metrics::Registry& registry) {
  http::response<http::string_body> res;
  res.version(11);
  res.set(http::field::connection, "close");
  const std::string_view path = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD") {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "Only GET and HEAD\n";
  } else if (path != "/metrics") {
    res.result(http::status::not_found);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "Not found: metrics are at /metrics\n";
  } else {
    res.result(http::status::ok);
    // The Prometheus text exposition format.
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = registry.Render();
  }
  res.prepare_payload();
  std::ostringstream out;
  if (method == "HEAD") {
    http::response<http::empty_body> head(res.base());
    head.content_length(res.body().size());
    out << head;
  } else {
    out << res;
  }
  return out.str();
}

StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::vector<std::string>& bindings, metrics::Registry* registry) {
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  registry->Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch.")
      .With({})
      .Set(static_cast<int64_t>(std::time(nullptr)));
  for (const std::string& b : bindings) {
    asio::io_context* io = &server->io_;
    const metrics::Registry* reg = registry;
    auto listener = std::make_shared<Listener>(
        server->io_, b, nullptr, [io, reg](std::unique_ptr<Stream> stream) {
          asio::co_spawn(*io, ServeMetrics(std::move(stream), reg), asio::detached);
        });
    Status s = listener->Open();
    if (!s.ok()) return Status(s.code(), "metrics: " + s.message());
    MAIL_LOG(kInfo, "metrics") << "metrics on http://" << b << "/metrics (port " << listener->port()
                               << ")";
    server->listeners_.push_back(std::move(listener));
  }
  MetricsServer* raw = server.get();
  server->thread_ = std::thread([raw] {
    auto work = asio::make_work_guard(raw->io_);
    raw->io_.run();
  });
  return server;
}

MetricsServer::~MetricsServer() {
  asio::post(io_, [this] {
    for (auto& l : listeners_) l->Close();
    io_.stop();
  });
  if (thread_.joinable()) thread_.join();
}

std::vector<int> MetricsServer::ports() const {
  std::vector<int> out;
  for (const auto& l : listeners_) out.push_back(l->port());
  return out;
}

}  // namespace common
