#include "common/stream.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>

#include <openssl/err.h>

#include "common/tls.h"

namespace common {
namespace {

// The BIO between OpenSSL and the socket. OpenSSL's own socket BIO writes with write(),
// which raises SIGPIPE when the client has gone; this one sends with MSG_NOSIGNAL, as Asio
// does. The descriptor is non-blocking: "would block" becomes a retry the caller waits out.
int SocketFd(BIO* bio) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio))); }

int SocketWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  for (;;) {
    const ssize_t n = ::send(SocketFd(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
    return -1;
  }
}

int SocketRead(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  for (;;) {
    const ssize_t n = ::recv(SocketFd(bio), data, static_cast<size_t>(size), 0);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(bio);
    return -1;
  }
}

long SocketCtrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int SocketCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* SocketBioMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mail socket");
    BIO_meth_set_write(m, SocketWrite);
    BIO_meth_set_read(m, SocketRead);
    BIO_meth_set_ctrl(m, SocketCtrl);
    BIO_meth_set_create(m, SocketCreate);
    return m;
  }();
  return method;
}

// What a failed SSL call means for the session. A peer that closes without close_notify is
// an ordinary end of connection for mail clients, not an attack: both read as end of file.
boost::system::error_code TlsError(int ssl_error) {
  switch (ssl_error) {
    case SSL_ERROR_ZERO_RETURN:
      return asio::error::eof;
    case SSL_ERROR_SYSCALL: {
      const int saved = errno;
      const unsigned long queued = ERR_get_error();
      if (queued != 0) return {static_cast<int>(queued), asio::error::get_ssl_category()};
      if (saved != 0) return {saved, boost::system::system_category()};
      return asio::error::eof;
    }
    default: {
      const unsigned long queued = ERR_get_error();
      ERR_clear_error();
      if (queued == 0) return asio::error::fault;
      if (ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return asio::error::eof;
      return {static_cast<int>(queued), asio::error::get_ssl_category()};
    }
  }
}

}  // namespace

void Stream::SslFree::operator()(SSL* ssl) const { SSL_free(ssl); }

Stream::Stream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> tls)
    : tls_context_(std::move(tls)),
      socket_(std::move(socket)),
      read_deadline_(socket_.get_executor()),
      write_deadline_(socket_.get_executor()) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    auto addr = ep.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    }
    remote_address_ = addr.to_string();
  }
  auto local = socket_.local_endpoint(ec);
  if (!ec) local_port_ = local.port();
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

void Stream::Arm(Deadline& d, Clock::duration timeout) {
  d.timed_out = false;
  d.timer.expires_after(timeout);
  d.timer.async_wait([this, &d](const boost::system::error_code& ec) {
    if (ec) return;  // Cancelled: the operation finished in time (or the stream is going).
    d.timed_out = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  });
}

asio::awaitable<size_t> Stream::ReadSome(char* data, size_t size, Clock::duration timeout,
                                         boost::system::error_code& ec) {
  if (stopped_) {
    co_await SendFarewell(ec);
    co_return 0;
  }
  Arm(read_deadline_, timeout);
  size_t n = 0;
  if (tls_active_) {
    // Whatever OpenSSL already holds is read before waiting on the socket.
    const int want = static_cast<int>(std::min<size_t>(size, INT_MAX));
    while (!ec) {
      ERR_clear_error();
      const int r = SSL_read(ssl_.get(), data, want);
      if (r > 0) {
        n = static_cast<size_t>(r);
        break;
      }
      co_await WaitForTls(SSL_get_error(ssl_.get(), r), read_deadline_, ec);
    }
  } else {
    n = co_await socket_.async_read_some(asio::buffer(data, size),
                                         asio::redirect_error(asio::use_awaitable, ec));
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
    // Partial writes: each SSL_write returns after a record, so the retry after "would
    // block" repeats the same bytes as OpenSSL requires.
    while (!data.empty() && !ec) {
      ERR_clear_error();
      const int r = SSL_write(ssl_.get(), data.data(),
                              static_cast<int>(std::min<size_t>(data.size(), INT_MAX)));
      if (r > 0) {
        data.remove_prefix(static_cast<size_t>(r));
        continue;
      }
      co_await WaitForTls(SSL_get_error(ssl_.get(), r), write_deadline_, ec);
    }
  } else {
    co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()),
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
  SSL* ssl = SSL_new(tls_context_->native_handle());
  BIO* bio = ssl != nullptr ? BIO_new(SocketBioMethod()) : nullptr;
  if (bio == nullptr) {
    if (ssl != nullptr) SSL_free(ssl);
    ec = asio::error::no_memory;
    co_return;
  }
  ssl_.reset(ssl);
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(socket_.native_handle())));
  SSL_set_bio(ssl, bio, bio);
  SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE);
  SSL_set_accept_state(ssl);
  socket_.non_blocking(true, ec);
  if (ec) co_return;
  Arm(read_deadline_, timeout);
  while (!ec) {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl);
    if (r == 1) break;
    co_await WaitForTls(SSL_get_error(ssl, r), read_deadline_, ec);
  }
  read_deadline_.timer.cancel();
  if (read_deadline_.timed_out) ec = asio::error::timed_out;
  if (!ec) tls_active_ = true;
}

asio::awaitable<void> Stream::WaitForTls(int ssl_error, Deadline& deadline,
                                         boost::system::error_code& ec) {
  // The deadline may have passed while OpenSSL was working, when there was nothing to cancel.
  if (deadline.timed_out) {
    ec = asio::error::operation_aborted;
  } else if (ssl_error == SSL_ERROR_WANT_READ) {
    co_await socket_.async_wait(asio::socket_base::wait_read,
                                asio::redirect_error(asio::use_awaitable, ec));
  } else if (ssl_error == SSL_ERROR_WANT_WRITE) {
    co_await socket_.async_wait(asio::socket_base::wait_write,
                                asio::redirect_error(asio::use_awaitable, ec));
  } else {
    ec = TlsError(ssl_error);
  }
}

std::string Stream::tls_version() { return TlsVersion(ssl()); }
std::string Stream::tls_cipher() { return TlsCipher(ssl()); }

void Stream::Cancel() {
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

void Stream::Close() {
  boost::system::error_code ignored;
  read_deadline_.timer.cancel();
  write_deadline_.timer.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace common
