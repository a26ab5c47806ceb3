// A client connection as the protocol sessions see it: plain TCP that can turn into TLS in
// place (STARTTLS/STLS) or start as TLS (993/995/465), with a deadline on every read and write.
//
// TLS runs an OpenSSL SSL object directly on the non-blocking socket and waits for readiness,
// instead of asio::ssl::stream: that keeps four 17 KiB buffers per connection (its own two
// and a BIO pair), 68 KiB for every idle IMAP client. Here the SSL object releases its
// record buffers whenever they are empty (SSL_MODE_RELEASE_BUFFERS), so an idle TLS
// connection costs the SSL state only, and plain connections have no SSL object at all.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/asio.h"

namespace common {

class Stream {
 public:
  using Clock = std::chrono::steady_clock;

  Stream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> tls);
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Reads what is available (at least one byte). Returns 0 and sets `ec` on close, error or
  // timeout (then ec == asio::error::timed_out).
  asio::awaitable<size_t> ReadSome(char* data, size_t size, Clock::duration timeout,
                                   boost::system::error_code& ec);
  // Writes everything or fails (a client that stops reading is cut off at the timeout).
  asio::awaitable<void> WriteAll(std::string_view data, Clock::duration timeout,
                                 boost::system::error_code& ec);
  // Server-side TLS handshake on this connection (implicit TLS, STARTTLS, STLS).
  asio::awaitable<void> Handshake(Clock::duration timeout, boost::system::error_code& ec);

  bool tls_active() const { return tls_active_; }
  bool tls_available() const { return tls_context_ != nullptr; }
  SSL* ssl() { return tls_active_ ? ssl_.get() : nullptr; }
  std::string tls_version();
  std::string tls_cipher();
  const std::string& remote_address() const { return remote_address_; }
  // The client's address as a trusted load balancer reported it (PROXY protocol): limits,
  // throttling, logs and Received headers see it instead of the balancer's address.
  void set_remote_address(std::string address) { remote_address_ = std::move(address); }
  int local_port() const { return local_port_; }
  // Ends any pending operation (used to stop sessions, e.g. Stop-Service).
  void Cancel();
  // Stop-Service: the pending read (or the next one) sends `farewell` ("* BYE ...") and fails
  // with asio::error::shut_down, so the session ends the way it ends on a closed connection.
  // Call on the session's executor.
  void Stop(std::string farewell);
  bool stopped() const { return stopped_; }
  void Close();
  asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  // Reads and writes have separate deadlines: one read and one write may be outstanding at
  // once (IMAP IDLE writes updates while a read waits for DONE).
  struct Deadline {
    explicit Deadline(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::atomic<bool> timed_out{false};  // Set by the timer's handler on any I/O thread.
  };
  void Arm(Deadline& d, Clock::duration timeout);
  asio::awaitable<void> SendFarewell(boost::system::error_code& ec);
  // Waits until the socket is ready for what OpenSSL asked for (`ssl_error` is the
  // SSL_get_error of the last call); any other error becomes `ec`.
  asio::awaitable<void> WaitForTls(int ssl_error, Deadline& deadline,
                                   boost::system::error_code& ec);

  struct SslFree {
    void operator()(SSL* ssl) const;
  };

  std::shared_ptr<asio::ssl::context> tls_context_;
  asio::ip::tcp::socket socket_;
  std::unique_ptr<SSL, SslFree> ssl_;  // Made at the handshake.
  Deadline read_deadline_;
  Deadline write_deadline_;
  bool tls_active_ = false;
  bool stopped_ = false;
  std::string farewell_;
  std::string remote_address_;
  int local_port_ = 0;
};

}  // namespace common
