// A client connection as the protocol sessions see it: plain TCP that can turn into TLS in
// place (STARTTLS/STLS) or start as TLS (993/995/465), with a deadline on every read and write.
#pragma once

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
  SSL* ssl() { return tls_active_ ? ssl_.native_handle() : nullptr; }
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
  asio::any_io_executor executor() { return ssl_.next_layer().get_executor(); }

 private:
  // Reads and writes have separate deadlines: one read and one write may be outstanding at
  // once (IMAP IDLE writes updates while a read waits for DONE).
  struct Deadline {
    explicit Deadline(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    bool timed_out = false;
  };
  void Arm(Deadline& d, Clock::duration timeout);
  asio::awaitable<void> SendFarewell(boost::system::error_code& ec);

  std::shared_ptr<asio::ssl::context> tls_context_;
  asio::ssl::stream<asio::ip::tcp::socket> ssl_;
  Deadline read_deadline_;
  Deadline write_deadline_;
  bool tls_active_ = false;
  bool stopped_ = false;
  std::string farewell_;
  std::string remote_address_;
  int local_port_ = 0;
};

}  // namespace common
