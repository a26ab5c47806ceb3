#include "cas/autoconfig/autoconfig_server.h"

#include <array>

#include "common/logging.h"

namespace cas::autoconfig {

namespace {

constexpr char kComponent[] = "autoconfig";
// After the last response of a connection: how long and how much to keep reading (and
// discarding) so that a client still sending a refused body gets the response instead of a
// reset.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;

std::string PathOf(const HttpRequest& req) {
  std::string target(req.target().data(), req.target().size());
  size_t question = target.find('?');
  if (question != std::string::npos) target.erase(question);
  if (target.size() > 200) target = target.substr(0, 200) + "...";
  return target;
}

}  // namespace

asio::awaitable<void> ServeAutoconfig(std::unique_ptr<common::Stream> stream, bool implicit_tls,
                                      const AutoconfigServices* svc) {
  using Clock = common::Stream::Clock;
  const std::string address = stream->remote_address();
  auto ticket = svc->limits->AdmitConnection(address, svc->options.max_connections,
                                             svc->options.max_connections_per_address);
  if (!ticket) {
    MAIL_LOG(kWarning, kComponent) << address << " refused: connection limit reached";
    stream->Close();
    co_return;
  }
  const auto timeout = svc->options.request_timeout;
  if (implicit_tls) {
    boost::system::error_code ec;
    co_await stream->Handshake(timeout, ec);
    if (ec) {
      MAIL_LOG(kDebug, kComponent) << address << " TLS handshake failed: " << ec.message();
      stream->Close();
      co_return;
    }
  }
  const AutoconfigServices* services = svc;
  HttpConnection conn(svc->options.http, [services, &address](const HttpRequest& req) {
    HttpResponse res = HandleAutoconfigRequest(req, services->snapshot);
    int code = static_cast<int>(res.result_int());
    if (code < 400) {
      MAIL_LOG(kInfo, kComponent) << address << " " << req.method_string() << " " << PathOf(req)
                                  << " " << code;
    } else {
      MAIL_LOG(kDebug, kComponent)
          << address << " " << req.method_string() << " " << PathOf(req) << " " << code;
    }
    return res;
  });

  std::array<char, 4096> buffer;
  std::string out;
  auto deadline = Clock::now() + timeout;
  int answered = 0;
  bool write_failed = false;
  while (!conn.closing()) {
    auto now = Clock::now();
    boost::system::error_code ec;
    size_t n = 0;
    if (now < deadline) {
      n = co_await stream->ReadSome(buffer.data(), buffer.size(), deadline - now, ec);
    } else {
      ec = asio::error::timed_out;
    }
    if (ec == asio::error::timed_out) {
      conn.TimedOut(&out);
    } else if (ec) {
      break;
    } else {
      conn.Feed(std::string_view(buffer.data(), n), &out);
    }
    if (!out.empty()) {
      co_await stream->WriteAll(out, timeout, ec);
      out.clear();
      if (ec) {
        write_failed = true;
        break;
      }
    }
    if (conn.answered() != answered) {
      answered = conn.answered();
      deadline = Clock::now() + timeout;
    }
  }
  if (conn.closing() && !write_failed) {
    // Let the client read the last response before the socket goes.
    auto linger_end = Clock::now() + kLingerTime;
    size_t drained = 0;
    while (drained < kLingerBytes) {
      auto now = Clock::now();
      if (now >= linger_end) break;
      boost::system::error_code ec;
      size_t n = co_await stream->ReadSome(buffer.data(), buffer.size(), linger_end - now, ec);
      if (ec) break;
      drained += n;
    }
  }
  stream->Close();
}

}  // namespace cas::autoconfig
