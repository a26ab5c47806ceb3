#include "common/stream.h"

#include "common/tls.h"

namespace common {
namespace {

// A context with nothing loaded, for connections that never do TLS.
asio::ssl::context& NoTlsContext() {
  static asio::ssl::context ctx(asio::ssl::context::tls_server);
  return ctx;
}

}  // namespace

Stream::Stream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> tls)
    : tls_context_(std::move(tls)),
      ssl_(std::move(socket), tls_context_ ? *tls_context_ : NoTlsContext()),
      read_deadline_(ssl_.next_layer().get_executor()),
      write_deadline_(ssl_.next_layer().get_executor()) {
  boost::system::error_code ec;
  auto ep = ssl_.next_layer().remote_endpoint(ec);
  if (!ec) {
    auto addr = ep.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    }
    remote_address_ = addr.to_string();
  }
  auto local = ssl_.next_layer().local_endpoint(ec);
  if (!ec) local_port_ = local.port();
  ssl_.next_layer().set_option(asio::ip::tcp::no_delay(true), ec);
}

void Stream::Arm(Deadline& d, Clock::duration timeout) {
  d.timed_out = false;
  d.timer.expires_after(timeout);
  d.timer.async_wait([this, &d](const boost::system::error_code& ec) {
    if (ec) return;  // Cancelled: the operation finished in time (or the stream is going).
    d.timed_out = true;
    boost::system::error_code ignored;
    ssl_.next_layer().cancel(ignored);
  });
}

asio::awaitable<size_t> Stream::ReadSome(char* data, size_t size, Clock::duration timeout,
                                         boost::system::error_code& ec) {
  if (stopped_) {
    co_await SendFarewell(ec);
    co_return 0;
  }
  Arm(read_deadline_, timeout);
  size_t n;
  if (tls_active_) {
    n = co_await ssl_.async_read_some(asio::buffer(data, size),
                                      asio::redirect_error(asio::use_awaitable, ec));
  } else {
    n = co_await ssl_.next_layer().async_read_some(
        asio::buffer(data, size), asio::redirect_error(asio::use_awaitable, ec));
  }
  read_deadline_.timer.cancel();
  if (read_deadline_.timed_out) ec = asio::error::timed_out;
  if (stopped_) {
    co_await SendFarewell(ec);
    co_return 0;
  }
  co_return ec ? 0 : n;
}

asio::awaitable<void> Stream::SendFarewell(boost::system::error_code& ec) {
  if (!farewell_.empty()) {
    std::string text;
    text.swap(farewell_);
    boost::system::error_code ignored;
    co_await WriteAll(text, std::chrono::seconds(5), ignored);
  }
  ec = asio::error::shut_down;
}

void Stream::Stop(std::string farewell) {
  if (stopped_) return;
  stopped_ = true;
  farewell_ = std::move(farewell);
  Cancel();
}

asio::awaitable<void> Stream::WriteAll(std::string_view data, Clock::duration timeout,
                                       boost::system::error_code& ec) {
  Arm(write_deadline_, timeout);
  if (tls_active_) {
    co_await asio::async_write(ssl_, asio::buffer(data.data(), data.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await asio::async_write(ssl_.next_layer(), asio::buffer(data.data(), data.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  write_deadline_.timer.cancel();
  if (write_deadline_.timed_out) ec = asio::error::timed_out;
}

asio::awaitable<void> Stream::Handshake(Clock::duration timeout, boost::system::error_code& ec) {
  if (!tls_context_ || tls_active_) {
    ec = asio::error::operation_not_supported;
    co_return;
  }
  Arm(read_deadline_, timeout);
  co_await ssl_.async_handshake(asio::ssl::stream_base::server,
                                asio::redirect_error(asio::use_awaitable, ec));
  read_deadline_.timer.cancel();
  if (read_deadline_.timed_out) ec = asio::error::timed_out;
  if (!ec) tls_active_ = true;
}

std::string Stream::tls_version() { return TlsVersion(ssl()); }
std::string Stream::tls_cipher() { return TlsCipher(ssl()); }

void Stream::Cancel() {
  boost::system::error_code ignored;
  ssl_.next_layer().cancel(ignored);
}

void Stream::Close() {
  boost::system::error_code ignored;
  read_deadline_.timer.cancel();
  write_deadline_.timer.cancel();
  ssl_.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  ssl_.next_layer().close(ignored);
}

}  // namespace common
