#include "adminctl/probe.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <memory>
#include <utility>

namespace adminctl {
namespace {

using common::Status;
using common::StatusCode;
using common::StatusOr;

struct SchemeInfo {
  std::string_view scheme;
  uint16_t default_port;
  bool implicit_tls;
};

constexpr SchemeInfo kSchemes[] = {
    {"imap", 143, false}, {"imaps", 993, true}, {"pop3", 110, false},
    {"pop3s", 995, true}, {"smtp", 25, false},  {"smtps", 465, true},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The most recent OpenSSL error as text, or `fallback` when the queue is empty.
std::string OpenSslError(std::string_view fallback) {
  unsigned long code = ERR_get_error();
  if (code == 0) return std::string(fallback);
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  // "error:0A000086:SSL routines::certificate verify failed": keep the reason.
  std::string_view s(text);
  size_t colon = s.rfind(':');
  if (colon != std::string_view::npos && colon + 1 < s.size()) s.remove_prefix(colon + 1);
  return std::string(s);
}

// Writing to a socket the peer has closed raises SIGPIPE, which would end adminctl; OpenSSL
// writes with write(). SIGPIPE for a write is sent to the writing thread, so blocking it here
// and discarding a pending one afterwards leaves the rest of the process alone.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    already_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SigpipeGuard() {
    if (!already_pending_) {
      const timespec zero = {0, 0};
      while (sigtimedwait(&set_, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t set_;
  sigset_t old_;
  bool already_pending_ = false;
};

std::string NameText(const X509_NAME* name) {
  if (name == nullptr) return "";
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    return "";
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : "";
}

std::string Utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return "";
  std::string text(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  OPENSSL_free(out);
  return text;
}

std::string AddressText(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "";
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
  return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
}

Status TimedOut() { return Status(StatusCode::kDeadlineExceeded, "timed out"); }

Status Closed() { return Status(StatusCode::kUnavailable, "the server closed the connection"); }

}  // namespace

std::string ProbeEndpoint::Url() const {
  const bool v6 = host.find(':') != std::string::npos;
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

StatusOr<ProbeEndpoint> ParseProbeEndpoint(std::string_view text) {
  text = Trim(text);
  auto invalid = [&](std::string why) {
    return Status(StatusCode::kInvalidArgument,
                  "'" + std::string(text) + "' is not an endpoint: " + std::move(why));
  };
  ProbeEndpoint ep;
  std::string_view url = text;
  size_t space = text.find_first_of(" \t");
  if (space != std::string_view::npos) {
    url = text.substr(0, space);
    ep.label = std::string(Trim(text.substr(space)));
  }
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return invalid("write it as scheme://host:port, for example imaps://127.0.0.1:993");
  }
  ep.scheme = Lower(url.substr(0, sep));
  const SchemeInfo* scheme = nullptr;
  for (const SchemeInfo& s : kSchemes) {
    if (s.scheme == ep.scheme) scheme = &s;
  }
  if (scheme == nullptr) {
    return invalid("the scheme must be imap, imaps, pop3, pop3s, smtp or smtps");
  }
  ep.implicit_tls = scheme->implicit_tls;
  std::string_view rest = url.substr(sep + 3);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  std::string_view port_text;
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return invalid("the IPv6 address has no closing ]");
    ep.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return invalid("expected :port after the address");
      port_text = after.substr(1);
      if (port_text.empty()) return invalid("the port is empty");
    }
  } else {
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos && rest.find(':', colon + 1) != std::string_view::npos) {
      return invalid("put an IPv6 address in brackets: [::1]:993");
    }
    ep.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) return invalid("the port is empty");
    }
  }
  if (ep.host.empty()) return invalid("the host is empty");
  if (ep.host.find_first_of("/?#@") != std::string::npos) {
    return invalid("only scheme://host:port is allowed");
  }
  ep.port = scheme->default_port;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return invalid("the port must be a number from 1 to 65535");
    }
    ep.port = static_cast<uint16_t>(value);
  }
  return ep;
}

std::string ConnectHost(std::string_view host, std::string_view override_host) {
  if (host == "0.0.0.0" || host == "*") {
    return override_host.empty() ? "127.0.0.1" : std::string(override_host);
  }
  if (host == "::" || host == "[::]") {
    return override_host.empty() ? "::1" : std::string(override_host);
  }
  return std::string(host);
}

bool IsIpLiteral(std::string_view host) {
  std::string h(host);
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

ProbeConnection::~ProbeConnection() { Close(); }

void ProbeConnection::Close() {
  if (ssl_ != nullptr) {
    SigpipeGuard guard;
    ERR_clear_error();
    SSL_shutdown(ssl_);  // Sends close_notify if it can; does not wait for the reply.
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (ctx_ != nullptr) {
    SSL_CTX_free(ctx_);
    ctx_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  buffer_.clear();
  ERR_clear_error();
}

Status ProbeConnection::Wait(short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return TimedOut();
    pollfd p = {fd_, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (n > 0) return Status::Ok();  // Readable, writable, or an error the next call reports.
    if (n == 0) return TimedOut();
    if (errno != EINTR)
      return Status(StatusCode::kInternal, std::string("poll: ") + strerror(errno));
  }
}

Status ProbeConnection::Connect(const std::string& host, uint16_t port,
                                Clock::time_point deadline) {
  Close();
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    return Status(StatusCode::kNotFound,
                  "cannot resolve " + host + ": " + std::string(gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
  Status last = Status(StatusCode::kUnavailable, "no address for " + host);
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const std::string address = AddressText(ai->ai_addr);
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = Status(StatusCode::kUnavailable, address + ": " + strerror(errno));
      continue;
    }
    fd_ = fd;
    int r = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      Status waited = Wait(POLLOUT, deadline);
      if (!waited.ok()) {
        Close();
        return Status(StatusCode::kDeadlineExceeded, address + ": no answer");
      }
      int error = 0;
      socklen_t len = sizeof(error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
      r = error == 0 ? 0 : -1;
      errno = error;
    }
    if (r == 0) {
      peer_address_ = address;
      return Status::Ok();
    }
    last = Status(StatusCode::kUnavailable, address + ": " + strerror(errno));
    Close();
  }
  return last;
}

Status ProbeConnection::StartTls(const std::string& server_name, Clock::time_point deadline) {
  if (fd_ < 0) return Status(StatusCode::kFailedPrecondition, "not connected");
  if (ssl_ != nullptr) return Status(StatusCode::kFailedPrecondition, "TLS is already active");
  if (!buffer_.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "the server sent more data right before TLS started; refusing to go on "
                  "(it could have been injected by a man in the middle)");
  }
  SigpipeGuard guard;
  ERR_clear_error();
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) return Status(StatusCode::kInternal, OpenSslError("SSL_CTX_new failed"));
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_default_verify_paths(ctx_);
  // Verification runs and its result is kept (SSL_get_verify_result), but an untrusted
  // certificate does not end the handshake: the Certificate step reports it.
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  ssl_ = SSL_new(ctx_);
  if (ssl_ == nullptr) return Status(StatusCode::kInternal, OpenSslError("SSL_new failed"));
  SSL_set_fd(ssl_, fd_);
  const bool dns_name = !server_name.empty() && !IsIpLiteral(server_name);
  if (dns_name) SSL_set_tlsext_host_name(ssl_, server_name.c_str());
  for (;;) {
    ERR_clear_error();
    int r = SSL_connect(ssl_);
    if (r == 1) break;
    int error = SSL_get_error(ssl_, r);
    Status waited;
    if (error == SSL_ERROR_WANT_READ) {
      waited = Wait(POLLIN, deadline);
    } else if (error == SSL_ERROR_WANT_WRITE) {
      waited = Wait(POLLOUT, deadline);
    } else {
      std::string why =
          error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
              ? "the server closed the connection during the TLS handshake"
              : "TLS handshake failed: " + OpenSslError("unknown error");
      SSL_free(ssl_);
      ssl_ = nullptr;
      return Status(StatusCode::kUnavailable, why);
    }
    if (!waited.ok()) {
      SSL_free(ssl_);
      ssl_ = nullptr;
      return Status(StatusCode::kDeadlineExceeded, "the TLS handshake did not finish");
    }
  }
  InspectCertificate(dns_name ? server_name : "");
  return Status::Ok();
}

void ProbeConnection::InspectCertificate(const std::string& server_name) {
  certificate_ = PeerCertificate();
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return;
  std::unique_ptr<X509, decltype(&X509_free)> owned(cert, X509_free);
  PeerCertificate& c = certificate_;
  c.present = true;
  c.subject = NameText(X509_get_subject_name(cert));
  c.issuer = NameText(X509_get_issuer_name(cert));
  const X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index >= 0) {
    c.common_name = Utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
  }
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_DNS) c.dns_names.push_back(Utf8(name->d.dNSName));
    }
    GENERAL_NAMES_free(names);
  }
  const ASN1_TIME* not_after = X509_get0_notAfter(cert);
  std::tm tm = {};
  if (not_after != nullptr && ASN1_TIME_to_tm(not_after, &tm) == 1) {
    c.not_after_unix = static_cast<int64_t>(timegm(&tm));
  }
  c.expired = not_after != nullptr && X509_cmp_current_time(not_after) < 0;
  EVP_PKEY* key = X509_get0_pubkey(cert);
  c.self_signed = X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0 &&
                  key != nullptr && X509_verify(cert, key) == 1;
  long verify = SSL_get_verify_result(ssl_);
  c.trusted = verify == X509_V_OK;
  if (!c.trusted) c.untrusted_reason = X509_verify_cert_error_string(verify);
  if (!server_name.empty()) {
    c.name_checked = true;
    c.name_matches = X509_check_host(cert, server_name.data(), server_name.size(), 0, nullptr) == 1;
  }
  ERR_clear_error();
}

Status ProbeConnection::Write(std::string_view data, Clock::time_point deadline) {
  if (fd_ < 0) return Status(StatusCode::kFailedPrecondition, "not connected");
  SigpipeGuard guard;
  while (!data.empty()) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      size_t written = 0;
      int r = SSL_write_ex(ssl_, data.data(), data.size(), &written);
      if (r == 1) {
        data.remove_prefix(written);
        continue;
      }
      int error = SSL_get_error(ssl_, r);
      Status waited;
      if (error == SSL_ERROR_WANT_WRITE) {
        waited = Wait(POLLOUT, deadline);
      } else if (error == SSL_ERROR_WANT_READ) {
        waited = Wait(POLLIN, deadline);
      } else {
        return Status(StatusCode::kUnavailable,
                      "sending failed: " + OpenSslError("the server closed the connection"));
      }
      if (!waited.ok()) return waited;
      continue;
    }
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      MAIL_RETURN_IF_ERROR(Wait(POLLOUT, deadline));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return Status(StatusCode::kUnavailable, std::string("sending failed: ") + strerror(errno));
  }
  return Status::Ok();
}

Status ProbeConnection::Fill(Clock::time_point deadline) {
  char chunk[16384];
  SigpipeGuard guard;
  for (;;) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      size_t got = 0;
      int r = SSL_read_ex(ssl_, chunk, sizeof(chunk), &got);
      if (r == 1) {
        buffer_.append(chunk, got);
        return Status::Ok();
      }
      int error = SSL_get_error(ssl_, r);
      if (error == SSL_ERROR_WANT_READ) {
        MAIL_RETURN_IF_ERROR(Wait(POLLIN, deadline));
      } else if (error == SSL_ERROR_WANT_WRITE) {
        MAIL_RETURN_IF_ERROR(Wait(POLLOUT, deadline));
      } else if (error == SSL_ERROR_ZERO_RETURN ||
                 (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
        return Closed();
      } else {
        return Status(StatusCode::kUnavailable, "receiving failed: " + OpenSslError("TLS error"));
      }
      continue;
    }
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return Status::Ok();
    }
    if (n == 0) return Closed();
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      MAIL_RETURN_IF_ERROR(Wait(POLLIN, deadline));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) {
      return Status(StatusCode::kUnavailable, "the server reset the connection");
    }
    return Status(StatusCode::kUnavailable, std::string("receiving failed: ") + strerror(errno));
  }
}

StatusOr<std::string> ProbeConnection::ReadLine(Clock::time_point deadline) {
  if (fd_ < 0) return Status(StatusCode::kFailedPrecondition, "not connected");
  size_t searched = 0;
  for (;;) {
    size_t nl = buffer_.find('\n', searched);
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    searched = buffer_.size();
    if (buffer_.size() > kMaxLine) {
      return Status(StatusCode::kOutOfRange, "the server sent a line longer than 64 KiB");
    }
    MAIL_RETURN_IF_ERROR(Fill(deadline));
  }
}

StatusOr<std::string> ProbeConnection::ReadExactly(size_t n, Clock::time_point deadline) {
  if (fd_ < 0) return Status(StatusCode::kFailedPrecondition, "not connected");
  if (n > kMaxRead) {
    return Status(StatusCode::kOutOfRange, "the server announced " + std::to_string(n) +
                                               " bytes; more than 1 MiB is not read");
  }
  while (buffer_.size() < n) MAIL_RETURN_IF_ERROR(Fill(deadline));
  std::string data = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return data;
}

std::string ProbeConnection::tls_version() const {
  return ssl_ != nullptr ? SSL_get_version(ssl_) : "";
}

std::string ProbeConnection::tls_cipher() const {
  if (ssl_ == nullptr) return "";
  const char* name = SSL_get_cipher_name(ssl_);
  return name != nullptr ? name : "";
}

}  // namespace adminctl
