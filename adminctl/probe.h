// A small blocking client for the connectivity cmdlets (Test-ImapConnectivity, ...): one TCP
// connection with line reads and writes, implicit TLS or STARTTLS with OpenSSL, and what the
// server's certificate says. Every operation ends by a deadline (poll() on a non-blocking
// socket). Nothing here knows a mail protocol; cmdlets_connectivity.cc speaks them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct ssl_st;
struct ssl_ctx_st;

namespace adminctl {

// An endpoint as nodes report it (ServiceState.endpoints): "imaps://127.0.0.1:993",
// "imap://0.0.0.0:143", "smtp://[::]:587 Client Frontend" (SMTP: the receive connector's name
// after a space).
struct ProbeEndpoint {
  std::string scheme;  // Lower case: imap, imaps, pop3, pop3s, smtp or smtps.
  std::string host;    // Without brackets: "127.0.0.1", "::", "mail.example.test".
  uint16_t port = 0;
  std::string label;          // What follows the address ("Client Frontend"); may be empty.
  bool implicit_tls = false;  // imaps, pop3s, smtps: TLS from the first byte.

  // "imaps://127.0.0.1:993", "smtp://[::1]:25" (no label).
  std::string Url() const;
};

// Parses `text`. A missing port takes the scheme's well-known one (143, 993, 110, 995, 25,
// 465). Unknown schemes and malformed addresses are InvalidArgument with a readable message.
common::StatusOr<ProbeEndpoint> ParseProbeEndpoint(std::string_view text);

// The host to connect to for an endpoint bound to `host`: a wildcard address (0.0.0.0, ::)
// becomes `override_host` when it is not empty, else 127.0.0.1 or ::1. Other hosts are kept.
std::string ConnectHost(std::string_view host, std::string_view override_host);

// True for an IPv4 or IPv6 literal (no brackets).
bool IsIpLiteral(std::string_view host);

// The server's certificate (the leaf) and what the client made of it.
struct PeerCertificate {
  bool present = false;
  std::string subject;                 // "CN=mail.example.test" (one line, RFC 2253).
  std::string common_name;             // "mail.example.test"; empty when the subject has none.
  std::string issuer;                  // As `subject`.
  std::vector<std::string> dns_names;  // SubjectAltName DNS entries.
  int64_t not_after_unix = 0;
  bool expired = false;
  bool self_signed = false;  // Issued by itself (subject = issuer, own signature verifies).
  // The chain verified against the system's trusted CAs (OpenSSL's default paths).
  bool trusted = false;
  std::string untrusted_reason;  // OpenSSL's reason when !trusted.
  // Checked only when StartTls() was given a DNS name: the certificate is valid for it.
  bool name_checked = false;
  bool name_matches = false;
};

class ProbeConnection {
 public:
  using Clock = std::chrono::steady_clock;

  // Longest line ReadLine() accepts. Default: 64 KiB.
  static constexpr size_t kMaxLine = 64 * 1024;
  // Longest ReadExactly() (IMAP literals in responses). Default: 1 MiB.
  static constexpr size_t kMaxRead = 1024 * 1024;

  ProbeConnection() = default;
  ~ProbeConnection();
  ProbeConnection(const ProbeConnection&) = delete;
  ProbeConnection& operator=(const ProbeConnection&) = delete;

  // Resolves `host` and connects to its addresses in turn until one accepts. Name
  // resolution itself is not bounded by `deadline` (getaddrinfo() blocks).
  [[nodiscard]] common::Status Connect(const std::string& host, uint16_t port,
                                       Clock::time_point deadline);
  // The TLS handshake as a client, TLS 1.2 or newer, over the connected socket. Fails when
  // the server sent bytes that were not read yet (a STARTTLS reply must be the last thing
  // before the handshake). `server_name`, when a DNS name, is sent as SNI and checked
  // against the certificate. The handshake does not require a trusted certificate: see
  // certificate().
  [[nodiscard]] common::Status StartTls(const std::string& server_name, Clock::time_point deadline);
  // Writes all of `data`. Error messages never contain the data.
  [[nodiscard]] common::Status Write(std::string_view data, Clock::time_point deadline);
  // One line without its CRLF (or bare LF). DeadlineExceeded at the deadline, Unavailable
  // when the server closed the connection, OutOfRange for a line over kMaxLine.
  [[nodiscard]] common::StatusOr<std::string> ReadLine(Clock::time_point deadline);
  // Exactly `n` bytes (at most kMaxRead).
  [[nodiscard]] common::StatusOr<std::string> ReadExactly(size_t n, Clock::time_point deadline);
  // Closes without a TLS close_notify wait. Safe to call twice.
  void Close();

  bool connected() const { return fd_ >= 0; }
  bool tls_active() const { return ssl_ != nullptr; }
  // "127.0.0.1:993", "[::1]:993" of the connected peer.
  const std::string& peer_address() const { return peer_address_; }
  // "TLSv1.3" and "TLS_AES_256_GCM_SHA384" once TLS is active.
  std::string tls_version() const;
  std::string tls_cipher() const;
  const PeerCertificate& certificate() const { return certificate_; }

 private:
  // Waits until the socket is readable (`events` POLLIN) or writable (POLLOUT).
  common::Status Wait(short events, Clock::time_point deadline);
  // Reads what is available into buffer_ (at least one byte).
  common::Status Fill(Clock::time_point deadline);
  void InspectCertificate(const std::string& server_name);

  int fd_ = -1;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  std::string buffer_;  // Read and not yet returned.
  std::string peer_address_;
  PeerCertificate certificate_;
};

}  // namespace adminctl
